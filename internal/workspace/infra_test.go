package workspace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRepositoryInfra runs the static Bicep checks on this repository
// (the Bicep compiler is not available to the tests).
func TestRepositoryInfra(t *testing.T) {
	if err := CheckInfra(repoRoot); err != nil {
		t.Fatal(err)
	}
}

// TestReadmeDocumentsParameters checks that every azd environment variable
// the Bicep parameters read is explained in the README.
func TestReadmeDocumentsParameters(t *testing.T) {
	vars, err := ParameterEnvVars(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vars {
		if strings.HasPrefix(v, "AZURE_") {
			continue // set by azd itself
		}
		if !strings.Contains(string(readme), v) {
			t.Errorf("README.md does not mention %s, which %s reads", v, MainParametersFile)
		}
	}
}

func TestCheckInfraBrokenCopies(t *testing.T) {
	tests := []struct {
		name    string
		breakIt func(t *testing.T, root string)
		want    []string
	}{
		{
			name: "local module path missing",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, ServerBicepFile, "module rbac 'rbac.bicep'", "module rbac 'roles.bicep'")
			},
			want: []string{`infra/app/server.bicep:`, `module path "roles.bicep" does not exist`},
		},
		{
			name: "AVM module not pinned",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, ServerBicepFile, "user-assigned-identity:0.4.1'", "user-assigned-identity:0.4'")
				edit(t, root, ServerBicepFile, "'br/public:avm/res/web/site:0.15.1'", "'br/public:avm/res/web/site'")
			},
			want: []string{`module "br/public:avm/res/managed-identity/user-assigned-identity:0.4" is not pinned`, `infra/app/server.bicep:`, `module "br/public:avm/res/web/site" is not pinned`},
		},
		{
			name: "extension not declared or not pinned",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, BicepConfigFile, `"microsoftGraphV1": "br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:1.0.0"`,
					`"graph": "br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:latest"`)
			},
			want: []string{"infra/bicepconfig.json: extension graph", "is not pinned", "infra/app/entra.bicep:", "extension microsoftGraphV1 is not declared in infra/bicepconfig.json"},
		},
		{
			name: "parameter file names a param main.bicep lacks",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, MainParametersFile, `"vnetEnabled"`, `"vnetEnable"`)
			},
			want: []string{`infra/main.parameters.json: parameter "vnetEnable" is not a param of infra/main.bicep`},
		},
		{
			name: "required param without a value",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, MainBicepFile, "param principalId string = ''", "param principalId string")
				edit(t, root, MainParametersFile, `"principalId"`, `"principalID"`)
			},
			want: []string{"infra/main.bicep: param principalId has no default and no value in infra/main.parameters.json"},
		},
		{
			name: "azure.yaml service without a server list entry",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, AzureYAMLFile, "services:\n", "services:\n  ghost:\n    project: ./servers/ghost\n    language: go\n    host: function\n")
				editList(t, root, func(l []ServerEntry) []ServerEntry { return append(l, ServerEntry{Name: "zzz"}) })
			},
			want: []string{`infra/servers.json: azure.yaml service "ghost" has no entry`, `infra/servers.json: "zzz" has no service in azure.yaml`},
		},
		{
			name: "app not tagged with the service name",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, ServerBicepFile, "'azd-service-name': serverName", "'azd-service': serverName")
			},
			want: []string{"infra/app/server.bicep: the Function app must be tagged 'azd-service-name': serverName"},
		},
		{
			name: "main.bicep no longer loops over the server list",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, MainBicepFile, "loadJsonContent('servers.json')", "[]")
			},
			want: []string{`infra/main.bicep: expected "loadJsonContent('servers.json')"`},
		},
		{
			name: "app setting renamed",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, ServerBicepFile, "  MCP_LOCALHOST_PROTECTION: localhostProtection", "  MCP_LOCALHOST_PROTECT: localhostProtection")
			},
			want: []string{"infra/app/server.bicep: app setting MCP_LOCALHOST_PROTECTION is not set, but [shared/hosting/hosting.go] read it", "app setting MCP_LOCALHOST_PROTECT is read by no code"},
		},
		{
			name: "auth app setting dropped",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, ServerBicepFile, "      WEBSITE_AUTH_AAD_ALLOWED_TENANTS: tenant().tenantId\n", "")
			},
			want: []string{"app setting WEBSITE_AUTH_AAD_ALLOWED_TENANTS is not set"},
		},
		{
			name: "MCP_AUTH value the code does not accept",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, ServerBicepFile, "entra: 'easyauth'", "entra: 'easy-auth'")
			},
			want: []string{"MCP_AUTH value 'easy-auth' is not a mode the code in [shared/auth] accepts"},
		},
		{
			name: "feature flag missing",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, ServerBicepFile, "AzureWebJobsFeatureFlags: 'EnableMcpCustomHandlerPreview'", "AzureWebJobsFeatureFlags: ''")
			},
			want: []string{"AzureWebJobsFeatureFlags must be 'EnableMcpCustomHandlerPreview'"},
		},
		{
			name: "alwaysOn left to the site module's default",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, ServerBicepFile, "alwaysOn: false", "alwaysOn: true")
			},
			want: []string{"pass siteConfig: { alwaysOn: false } to the site module"},
		},
		{
			name: "app naming changed",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, ServerBicepFile, "var appName = 'func-${serverName}-${resourceToken}'", "var appName = 'fn-${serverName}-${resourceToken}'")
			},
			want: []string{"infra/app/server.bicep: expected \"var appName", "update ResourceNames in internal/workspace/infra.go"},
		},
		{
			name: "server name that makes invalid Azure names",
			breakIt: func(t *testing.T, root string) {
				editList(t, root, func(l []ServerEntry) []ServerEntry {
					return append([]ServerEntry{{Name: strings.Repeat("a", 50)}}, l...)
				})
			},
			want: []string{`infra/servers.json: server "` + strings.Repeat("a", 50) + `": function app name "func-` + strings.Repeat("a", 50) + `-abcdefghij012" is not valid`},
		},
		{
			name: "code reads a setting no more",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, "shared/hosting/hosting.go", `envLocalhostProtection = "MCP_LOCALHOST_PROTECTION"`, `envLocalhostProtection = "MCP_HOST_GUARD"`)
			},
			want: []string{"no code in shared/ or servers/ reads MCP_LOCALHOST_PROTECTION", "app setting MCP_LOCALHOST_PROTECTION is read by no code"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := copyRepo(t)
			if err := CheckInfra(root); err != nil {
				t.Fatalf("intact copy: %v", err)
			}
			tt.breakIt(t, root)
			err := CheckInfra(root)
			if err == nil {
				t.Fatal("CheckInfra = nil, want errors")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("CheckInfra errors lack %q:\n%v", want, err)
				}
			}
		})
	}
}

func TestAppSettingsParser(t *testing.T) {
	src := `param x string
var a = {
  // comment: not a key
  ONE: 'v1'
  TWO: cond ? 'x' : 'y'
}

var b = flag
  ? {
      THREE: 'https://x'
    }
  : {}
var c = empty(x) ? {} : { FOUR: x, FIVE: 'y' }

resource r 'x@1' = {
  properties: {
    appSettingsKeyValuePairs: union(a, b, c)
  }
}
`
	got, err := appSettings(src)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"ONE": "'v1'", "TWO": "cond ? 'x' : 'y'", "THREE": "'https://x'"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	for _, k := range []string{"FOUR", "FIVE"} {
		if _, ok := got[k]; !ok {
			t.Errorf("%s missing from %v", k, got)
		}
	}
	if len(got) != 5 {
		t.Errorf("got %d settings, want 5: %v", len(got), got)
	}
	if _, err := appSettings("var a = {}\n"); err == nil {
		t.Error("no appSettingsKeyValuePairs: want an error")
	}
	if _, err := appSettings("x: { appSettingsKeyValuePairs: union(a, nope) }\nvar a = {}\n"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown var: %v", err)
	}
}

// TestResourceNamesForEveryValidName proves that every name ValidName
// accepts gives a valid Function app name.
func TestResourceNamesForEveryValidName(t *testing.T) {
	for n := 2; n <= 32; n++ {
		for hyphen := 0; hyphen < n; hyphen++ {
			b := []byte(strings.Repeat("a", n))
			if hyphen > 0 && hyphen < n-1 {
				b[hyphen] = '-'
			}
			name := string(b)
			if !ValidName(name) {
				t.Fatalf("ValidName(%q) = false", name)
			}
			if err := CheckResourceName(name); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	for _, bad := range []string{"a--b", "ab--", "--ab"} {
		if ValidName(bad) {
			t.Errorf("ValidName(%q) = true, want false (\"--\" is not allowed in Azure container names)", bad)
		}
	}
}
