package bicep

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// infraDir is the repository's infra/, seen from this package.
const infraDir = "../../infra"

// loadTestDefs loads the pinned definitions in testdata.
func loadTestDefs(t *testing.T) *Defs {
	t.Helper()
	defs, err := LoadDefs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	return defs
}

// parseInfra parses every .bicep file of infra/ with ParseDir, as
// cmd/avmdefs does.
func parseInfra(t *testing.T) []*File {
	t.Helper()
	if os.Getenv(skipNodeEnv) == "1" {
		t.Skipf("%s=1: not parsing Bicep with tree-sitter-bicep (it runs on the Node in clients/)", skipNodeEnv)
	}
	files, err := ParseDir(context.Background(), infraDir)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestAVMDefsProvenance(t *testing.T) {
	defs := loadTestDefs(t)
	if len(defs.Modules) == 0 || len(defs.Graph) == 0 {
		t.Fatalf("testdata has %d module and %d Graph definitions; refresh them with %s", len(defs.Modules), len(defs.Graph), RefreshCommand)
	}
	provenance := func(ref string, s Source) {
		if s.SHA256 == "" || (s.Registry == "" && (s.Repo == "" || s.Commit == "" || s.Path == "")) {
			t.Errorf("%s: incomplete provenance %+v", ref, s)
		}
	}
	for ref, m := range defs.Modules {
		provenance(ref, m.Source)
		if s := m.Source; s.Tag != "" && s.Tag != m.Module+"/"+m.Version {
			t.Errorf("%s: read at tag %s, not the module's release tag", ref, s.Tag)
		}
		if len(m.Parameters) == 0 || len(m.Outputs) == 0 || len(m.Resources) == 0 {
			t.Errorf("%s: %d parameters, %d outputs, %d resources", ref, len(m.Parameters), len(m.Outputs), len(m.Resources))
		}
	}
	for ref, g := range defs.Graph {
		provenance(ref, g.Source)
		if len(g.Resources) == 0 {
			t.Errorf("%s: no resource types", ref)
		}
	}
}

// TestAVMInfra checks infra/ against the pinned definitions. Its
// "covered" part fails when infra/ references a module version or Graph
// extension that testdata has no definition of (a version bump without a
// refresh).
func TestAVMInfra(t *testing.T) {
	defs := loadTestDefs(t)
	files := parseInfra(t)
	t.Run("covered", func(t *testing.T) {
		missing, err := MissingDefinitions(infraDir, files, defs)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range missing {
			t.Errorf("infra/%s", f)
		}
		if len(ModuleRefs(files)) == 0 {
			t.Error("no module references in infra/")
		}
		exts, err := GraphExtensions(infraDir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range exts {
			if defs.Graph[e.Key] == nil {
				t.Errorf("infra/bicepconfig.json: extension %s (%s) has no definition", e.Alias, e.Key)
			}
		}
		if t.Failed() {
			t.Logf("refresh the definitions from the repository root with `%s` (its doc comment says where it reads them)", RefreshCommand)
		}
	})
	t.Run("check", func(t *testing.T) {
		findings, err := CheckDefinitions(infraDir, files, defs)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range findings {
			if !f.Uncovered {
				t.Errorf("infra/%s", f)
			}
		}
	})
}

// fixtureDefs are small definitions for the fixture tests, so they do not
// change when a pinned module does.
func fixtureDefs() *Defs {
	str := func(required bool) *TypeDef { return &TypeDef{Type: "string", Required: required} }
	return &Defs{
		Modules: map[string]*ModuleDef{
			"avm/res/test/thing:1.0.0": {
				Module:  "avm/res/test/thing",
				Version: "1.0.0",
				Parameters: map[string]*TypeDef{
					"name":    str(true),
					"kind":    {Type: "string", AllowedValues: []any{"a", "b"}},
					"enabled": {Type: "bool"},
					"count":   {Type: "int"},
					"tags":    {Type: "object", Nullable: true},
					"blobs": {Type: "object", KeysRead: true, Properties: map[string]*TypeDef{
						"containers": {Type: "any"}, "versioning": {Type: "any"},
					}},
					"identity": {Type: "object", Nullable: true, Properties: map[string]*TypeDef{
						"systemAssigned":          {Type: "bool", Nullable: true},
						"userAssignedResourceIds": {Type: "array", Nullable: true, Items: str(false)},
					}},
					"subnets": {Type: "array", Nullable: true, Items: &TypeDef{Type: "object", Properties: map[string]*TypeDef{
						"name":       str(true),
						"delegation": {Type: "string", Nullable: true},
						"policies":   {Type: "string", Nullable: true, AllowedValues: []any{"Enabled", "Disabled"}},
					}}},
				},
				Outputs:   map[string]*TypeDef{"resourceId": {Type: "string"}, "name": {Type: "string"}},
				Resources: []ResourceVersion{{Type: "Microsoft.Test/things", APIVersion: "2024-01-01"}},
			},
		},
		Graph: map[string]*GraphDef{
			"microsoftgraph/v1.0:1.0.0": {
				Extension: "microsoftgraph/v1.0",
				Version:   "1.0.0",
				Resources: map[string]*TypeDef{
					"Microsoft.Graph/applications@v1.0": {Type: "object", Properties: map[string]*TypeDef{
						"uniqueName":  {Type: "string", Required: true},
						"displayName": {Type: "string", Required: true},
						"appId":       {Type: "string", ReadOnly: true},
						"secret":      {Type: "string", WriteOnly: true},
						"api": {Type: "object", Properties: map[string]*TypeDef{
							"requestedAccessTokenVersion": {Type: "int"},
						}},
					}},
				},
			},
		},
		Extra: []ExtraAPIVersion{{Type: "Microsoft.Test/others", APIVersion: "2023-01-01", Source: "fixture"}},
	}
}

func TestAVMCheckFixtures(t *testing.T) {
	const module = "br/public:avm/res/test/thing:1.0.0"
	tests := []struct {
		name string
		src  string
		// want lists one substring per expected finding, in order.
		want []string
	}{
		{
			name: "clean",
			src: `param n string
param on bool
var subnets = [
  { name: 'a', policies: 'Enabled' }
]
module m '` + module + `' = {
  name: 'm'
  params: {
    name: n
    kind: on ? 'a' : 'b'
    enabled: on
    count: 3
    blobs: { containers: [] }
    identity: { systemAssigned: false, userAssignedResourceIds: [ 'x' ] }
    subnets: concat(subnets, [for i in range(0, 2): { name: 'app-${i}', delegation: 'd' }])
  }
}
resource e 'Microsoft.Test/things@2024-01-01' existing = { name: 'e' }
resource o 'Microsoft.Test/others@2023-01-01' existing = { name: 'o' }
output id string = m.outputs.resourceId
`,
		},
		{
			name: "unknown parameter",
			src: `module m '` + module + `' = {
  name: 'm'
  params: {
    name: 'x'
    enable: true
  }
}
`,
			want: []string{`m.bicep:5: module m (avm/res/test/thing:1.0.0): unknown parameter "enable" (did you mean "enabled"?)`},
		},
		{
			name: "wrong-typed literal",
			src: `module m '` + module + `' = {
  name: 'm'
  params: {
    name: 'x'
    enabled: 'true'
    count: '3'
  }
}
`,
			want: []string{
				`m.bicep:5: module m (avm/res/test/thing:1.0.0) parameter enabled is of type bool, but a string is passed`,
				`m.bicep:6: module m (avm/res/test/thing:1.0.0) parameter count is of type int, but a string is passed`,
			},
		},
		{
			name: "wrong-typed param of ours",
			src: `param c string
module m '` + module + `' = {
  name: 'm'
  params: {
    name: 'x'
    count: c
  }
}
`,
			want: []string{`m.bicep:6: module m (avm/res/test/thing:1.0.0) parameter count is of type int, but a string is passed`},
		},
		{
			name: "key the module never reads",
			src: `module m '` + module + `' = {
  name: 'm'
  params: {
    name: 'x'
    blobs: {
      containers: []
      versionning: true
    }
  }
}
`,
			want: []string{`m.bicep:7: module m (avm/res/test/thing:1.0.0) parameter blobs: the module never reads key "versionning", so it has no effect (it reads: containers, versioning) (did you mean "versioning"?)`},
		},
		{
			name: "missing required parameter",
			src: `module m '` + module + `' = {
  name: 'm'
  params: {
    kind: 'a'
  }
}
`,
			want: []string{`m.bicep:3: module m (avm/res/test/thing:1.0.0): missing required parameter "name"`},
		},
		{
			name: "missing params altogether",
			src: `module m '` + module + `' = if (true) {
  name: 'm'
}
`,
			want: []string{`m.bicep:1: module m (avm/res/test/thing:1.0.0): missing required parameter "name"`},
		},
		{
			name: "value not allowed",
			src: `param on bool
module m '` + module + `' = {
  name: 'm'
  params: {
    name: 'x'
    kind: on ? 'a' : 'c'
  }
}
`,
			want: []string{`m.bicep:6: module m (avm/res/test/thing:1.0.0) parameter kind: "c" is not an allowed value (allowed: "a", "b")`},
		},
		{
			name: "nested object and array items through vars and loops",
			src: `var app = [for i in range(0, 2): {
  name: 'app-${i}'
  delegations: 'd'
}]
module m '` + module + `' = [for i in range(0, 2): {
  name: 'm${i}'
  params: {
    name: 'x'
    identity: {
      systemAssigned: 'no'
      userAssigned: []
    }
    subnets: concat([{ delegation: 'd', policies: 'On' }], app)
  }
}]
`,
			want: []string{
				`m.bicep:3: module m (avm/res/test/thing:1.0.0) parameter subnets[]: unknown property "delegations" (did you mean "delegation"?)`,
				`m.bicep:10: module m (avm/res/test/thing:1.0.0) parameter identity.systemAssigned is of type bool, but a string is passed`,
				`m.bicep:11: module m (avm/res/test/thing:1.0.0) parameter identity: unknown property "userAssigned"`,
				`m.bicep:13: module m (avm/res/test/thing:1.0.0) parameter subnets[].policies: "On" is not an allowed value`,
				`m.bicep:13: module m (avm/res/test/thing:1.0.0) parameter subnets[]: missing required property "name"`,
			},
		},
		{
			name: "unknown output, also of a looped module",
			src: `module m '` + module + `' = [for i in range(0, 2): {
  name: 'm${i}'
  params: { name: 'x' }
}]
output a string = m[0].outputs.resourceID
output b string = m[1].outputs['nam']
output c string = m[1].outputs.name
`,
			want: []string{
				`m.bicep:5: module m (avm/res/test/thing:1.0.0) has no output "resourceID" (did you mean "resourceId"?)`,
				`m.bicep:6: module m (avm/res/test/thing:1.0.0) has no output "nam" (did you mean "name"?)`,
			},
		},
		{
			name: "module version without a definition",
			src: `module m 'br/public:avm/res/test/thing:1.0.1' = {
  name: 'm'
  params: { name: 'x' }
}
module p 'br:example.azurecr.io/bicep/thing:1.0.0' = {
  name: 'p'
}
`,
			want: []string{
				`m.bicep:1: module m: no pinned definition of avm/res/test/thing:1.0.1 (testdata/avm/res/test/thing/1.0.1.json): refresh the definitions with ` + "`go run ./internal/bicep/cmd/avmdefs`",
				`m.bicep:5: module p: "br:example.azurecr.io/bicep/thing:1.0.0" is not a public Azure Verified Module reference`,
			},
		},
		{
			name: "Graph properties",
			src: `extension microsoftGraphV1
resource app 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: 'u'
  displayName: 'd'
  appId: 'x'
  signInAudience: 'AzureADMyOrg'
  api: {
    requestedAccessTokenVersion: '2'
  }
}
resource app2 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: 'u2'
}
resource old 'Microsoft.Graph/applications@v1.0' existing = {
  uniqueName: 'u'
}
resource sp 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: app.appId
}
output id string = app.appId
output bad string = app.applicationId
output secret string = old.secret
`,
			want: []string{
				`m.bicep:5: resource app (Microsoft.Graph/applications@v1.0): property "appId" is read-only`,
				`m.bicep:6: resource app (Microsoft.Graph/applications@v1.0): unknown property "signInAudience"`,
				`m.bicep:8: resource app (Microsoft.Graph/applications@v1.0).api.requestedAccessTokenVersion is of type int, but a string is passed`,
				`m.bicep:11: resource app2 (Microsoft.Graph/applications@v1.0): missing required property "displayName"`,
				`m.bicep:17: resource sp: Graph extension microsoftgraph/v1.0:1.0.0 has no resource type Microsoft.Graph/servicePrincipals@v1.0`,
				`m.bicep:21: Graph resource app has no property "applicationId"`,
				`m.bicep:22: Graph resource old: property "secret" is write-only and cannot be read`,
			},
		},
		{
			name: "existing resource API versions",
			src: `resource a 'Microsoft.Test/things@2024-01-01' existing = { name: 'a' }
resource b 'Microsoft.Test/things@2020-01-01' existing = { name: 'b' }
resource c 'Microsoft.Test/unknown@2020-01-01' existing = { name: 'c' }
resource d 'microsoft.test/others@2023-01-01' existing = { name: 'd' }
resource e 'Microsoft.Test/things@2020-01-01' = { name: 'e' }
`,
			want: []string{
				`m.bicep:2: resource b: no pinned module deploys Microsoft.Test/things at API version 2020-01-01 (known: 2024-01-01), and testdata/avm/extra-api-versions.json does not list it`,
				`m.bicep:3: resource c: no pinned module deploys Microsoft.Test/unknown at API version 2020-01-01 (none for this type)`,
			},
		},
	}
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "bicepconfig.json"),
		[]byte(`{"extensions": {"microsoftGraphV1": "br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:1.0.0"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for i, tt := range tests {
		dir := filepath.Join(root, "case"+string(rune('a'+i)))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "m.bicep"), []byte(tt.src), 0o644); err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, filepath.Join(dir, "m.bicep"))
		paths = append(paths, rel)
	}
	files := parse(t, root, paths...) // one Node process for every case
	defs := fixtureDefs()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CheckDefinitions(root, files[i:i+1], defs)
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, f := range got {
				lines = append(lines, strings.TrimPrefix(f.String(), filepath.Dir(paths[i])+"/"))
			}
			ok := len(lines) == len(tt.want)
			for j := 0; ok && j < len(lines); j++ {
				ok = strings.Contains(lines[j], tt.want[j])
			}
			if !ok {
				t.Errorf("findings:\n  %s\nwant (substrings):\n  %s", strings.Join(lines, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func TestAVMMissingDefinitionsOnly(t *testing.T) {
	root := t.TempDir()
	src := `module m 'br/public:avm/res/test/thing:2.0.0' = {
  name: 'm'
}
module n 'br/public:avm/res/test/thing:1.0.0' = {
  name: 'n'
  params: { name: 'x', bogus: 1 }
}
`
	if err := os.WriteFile(filepath.Join(root, "m.bicep"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	files := parse(t, root, "m.bicep")
	missing, err := MissingDefinitions(root, files, fixtureDefs())
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) != 1 || missing[0].Line != 1 || !strings.Contains(missing[0].Message, RefreshCommand) {
		t.Errorf("MissingDefinitions = %v, want the one for thing:2.0.0 naming %s", missing, RefreshCommand)
	}
}

func TestModuleDefFromARM(t *testing.T) {
	const tpl = `{
  "languageVersion": "2.0",
  "definitions": {
    "lockType": {"type": "object", "nullable": true, "properties": {
      "kind": {"type": "string", "allowedValues": ["CanNotDelete", "None"], "nullable": true},
      "name": {"type": "string"}
    }},
    "subnetType": {"type": "object", "properties": {"name": {"type": "string"}}, "additionalProperties": true},
    "tagged": {"type": "object", "discriminator": {"propertyName": "kind", "mapping": {}}}
  },
  "parameters": {
    "name": {"type": "string"},
    "location": {"type": "string", "defaultValue": "[resourceGroup().location]"},
    "lock": {"$ref": "#/definitions/lockType"},
    "subnets": {"type": "array", "items": {"$ref": "#/definitions/subnetType"}, "nullable": true},
    "secret": {"type": "securestring", "nullable": true},
    "tagged": {"$ref": "#/definitions/tagged", "nullable": true},
    "blobs": {"type": "object", "defaultValue": {}},
    "config": {"type": "object", "defaultValue": {}}
  },
  "resources": {
    "thing": {"type": "Microsoft.Test/things", "apiVersion": "2024-01-01", "properties": {
      "a": "[tryGet(parameters('blobs'), 'containers')]",
      "b": "[if(contains(parameters('blobs'), 'cors'), parameters('blobs').cors, parameters('blobs')['x-y'])]",
      "c": "[if(empty(parameters('blobs')), null(), parameters('config'))]"
    }},
    "old": {"existing": true, "type": "Microsoft.Test/things", "apiVersion": "2023-01-01"},
    "nested": {"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "properties": {"template": {
      "variables": {"$fxv#0": {"resources": [{"type": "Microsoft.Test/fromVariable", "apiVersion": "2021-01-01"}]}},
      "resources": [
        {"type": "Microsoft.Test/things/children", "apiVersion": "2024-01-01"},
        {"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "properties": {"template": "[variables('$fxv#0')]"}}
      ]
    }}}
  },
  "outputs": {"resourceId": {"type": "string", "value": "[resourceId('Microsoft.Test/things', parameters('name'))]"}}
}`
	m, err := ModuleDefFromARM("avm/res/test/thing", "1.0.0", []byte(tpl), Source{Repo: "r"})
	if err != nil {
		t.Fatal(err)
	}
	p := m.Parameters
	if !p["name"].Required || p["location"].Required || p["lock"].Required || p["subnets"].Required {
		t.Errorf("required: name %v location %v lock %v subnets %v", p["name"].Required, p["location"].Required, p["lock"].Required, p["subnets"].Required)
	}
	if !p["lock"].Nullable || p["lock"].Type != "object" || !p["lock"].Properties["name"].Required || p["lock"].Properties["kind"].Required {
		t.Errorf("lock = %+v", p["lock"])
	}
	if got := p["lock"].Properties["kind"].AllowedValues; !slices.Equal(got, []any{"CanNotDelete", "None"}) {
		t.Errorf("lock.kind allowed = %v", got)
	}
	if it := p["subnets"].Items; it == nil || !it.Open || !it.Properties["name"].Required {
		t.Errorf("subnets items = %+v", it)
	}
	if p["secret"].Type != "string" || p["tagged"].Properties != nil {
		t.Errorf("secret %+v tagged %+v", p["secret"], p["tagged"])
	}
	if b := p["blobs"]; !b.KeysRead || !slices.Equal(sortedKeys(b.Properties), []string{"containers", "cors", "x-y"}) {
		t.Errorf("blobs = %+v, want the keys the template reads", b)
	}
	if c := p["config"]; c.KeysRead || c.Properties != nil {
		t.Errorf("config = %+v: it is used whole, so any key may matter", c)
	}
	if m.Outputs["resourceId"].Type != "string" {
		t.Errorf("outputs = %v", m.Outputs)
	}
	want := []ResourceVersion{
		{"Microsoft.Resources/deployments", "2022-09-01"},
		{"Microsoft.Test/fromVariable", "2021-01-01"},
		{"Microsoft.Test/things", "2023-01-01"},
		{"Microsoft.Test/things", "2024-01-01"},
		{"Microsoft.Test/things/children", "2024-01-01"},
	}
	if !slices.Equal(m.Resources, want) {
		t.Errorf("resources = %v, want %v", m.Resources, want)
	}
	if m.Source.Repo != "r" || len(m.Source.SHA256) != 64 {
		t.Errorf("source = %+v", m.Source)
	}
	if _, err := ModuleDefFromARM("m", "1", []byte(`{"parameters": {"x": {"$ref": "#/definitions/nope"}}}`), Source{}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unresolved $ref: err = %v", err)
	}
}

func TestGraphDefFromTypes(t *testing.T) {
	const index = `{"resources": {"Microsoft.Graph/things@v1.0": {"$ref": "types.json#/6"}}}`
	const types = `[
  {"$type": "StringType"},
  {"$type": "StringLiteralType", "value": "Microsoft.Graph/things"},
  {"$type": "ObjectType", "name": "Inner", "properties": {"self": {"type": {"$ref": "#/2"}, "flags": 0}, "n": {"type": {"$ref": "#/4"}, "flags": 0}}},
  {"$type": "UnionType", "elements": [{"$ref": "#/7"}, {"$ref": "#/8"}]},
  {"$type": "IntegerType"},
  {"$type": "ObjectType", "name": "Microsoft.Graph/things", "properties": {
    "type": {"type": {"$ref": "#/1"}, "flags": 10},
    "name": {"type": {"$ref": "#/0"}, "flags": 17},
    "secret": {"type": {"$ref": "#/0"}, "flags": 4},
    "inner": {"type": {"$ref": "#/2"}, "flags": 0},
    "kind": {"type": {"$ref": "#/3"}, "flags": 0}
  }},
  {"$type": "ResourceType", "name": "Microsoft.Graph/things@v1.0", "body": {"$ref": "#/5"}},
  {"$type": "StringLiteralType", "value": "a"},
  {"$type": "StringLiteralType", "value": "b"}
]`
	g, err := GraphDefFromTypes("microsoftgraph/v1.0", "1.0.0", []byte(index), []byte(types), Source{Repo: "r"})
	if err != nil {
		t.Fatal(err)
	}
	body := g.Resources["Microsoft.Graph/things@v1.0"]
	if body == nil {
		t.Fatalf("resources = %v", g.Resources)
	}
	p := body.Properties
	if !p["type"].ReadOnly || !p["name"].Required || p["name"].ReadOnly || !p["secret"].WriteOnly {
		t.Errorf("flags: type %+v name %+v secret %+v", p["type"], p["name"], p["secret"])
	}
	if inner := p["inner"]; inner.Properties["n"].Type != "int" || inner.Properties["self"].Properties != nil {
		t.Errorf("inner = %+v (self-reference must stop expanding)", inner)
	}
	if !slices.Equal(p["kind"].AllowedValues, []any{"a", "b"}) {
		t.Errorf("kind = %+v", p["kind"])
	}
}

func TestGraphExtensions(t *testing.T) {
	exts, err := GraphExtensions(infraDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(exts) == 0 {
		t.Skip("infra/bicepconfig.json configures no Microsoft Graph extension")
	}
	for _, e := range exts {
		if e.API == "" || !strings.HasPrefix(e.Key, "microsoftgraph/"+e.API+":") {
			t.Errorf("%+v", e)
		}
	}
}
