package bicep

// The AVM and Graph definition check: what infra/ passes to and reads from
// each Azure Verified Module, and sets on and reads from each Microsoft
// Graph resource, against the pinned definitions (see avm_defs.go), and the
// API versions of our existing resources against those the pinned modules
// deploy.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Finding is one mismatch between a Bicep file and a pinned definition.
type Finding struct {
	// Path is the file's path as parsed, Line the 1-based line.
	Path string
	Line int
	// Message says what is wrong and, where it helps, what the definition
	// declares.
	Message string
	// Uncovered: the definitions do not cover the reference at all
	// (refresh them with RefreshCommand).
	Uncovered bool
}

// String renders the finding as "path:line: message".
func (f Finding) String() string { return fmt.Sprintf("%s:%d: %s", f.Path, f.Line, f.Message) }

// ModuleRef is one module declaration's source.
type ModuleRef struct {
	File *File
	// Decl is the declaration; its Source is the path as written, e.g.
	// br/public:avm/res/web/site:0.15.1.
	Decl *Decl
	// Key is the Azure Verified Module reference, e.g.
	// avm/res/web/site:0.15.1, or "" when Source is not one.
	Key string
}

// ModuleRefs returns every module declaration's source in files.
func ModuleRefs(files []*File) []ModuleRef {
	var refs []ModuleRef
	for _, f := range files {
		for _, d := range f.Modules() {
			if d.Source != "" {
				refs = append(refs, ModuleRef{File: f, Decl: d, Key: avmKey(d.Source)})
			}
		}
	}
	return refs
}

// avmKey maps a registry module path to its AVM reference key.
func avmKey(src string) string {
	for _, prefix := range []string{"br/public:", "br:mcr.microsoft.com/bicep/"} {
		if rest, ok := strings.CutPrefix(src, prefix); ok && strings.HasPrefix(rest, "avm/") {
			if m, v, ok := strings.Cut(rest, ":"); ok && v != "" && !strings.Contains(v, ":") {
				return m + ":" + v
			}
		}
	}
	return ""
}

// GraphExtension is a Microsoft Graph extension named in a bicepconfig.json.
type GraphExtension struct {
	// Alias is the key in bicepconfig.json's extensions, Source its value.
	Alias, Source string
	// API is the Graph API version its resource types carry (v1.0, beta),
	// Key the definition reference, e.g. microsoftgraph/v1.0:1.0.0.
	API, Key string
}

// GraphExtensions returns the Microsoft Graph extensions configured in
// dir/bicepconfig.json (none when there is no such file).
func GraphExtensions(dir string) ([]GraphExtension, error) {
	p := filepath.Join(dir, "bicepconfig.json")
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var cfg struct {
		Extensions map[string]any `json:"extensions"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	var out []GraphExtension
	for _, alias := range sortedKeys(cfg.Extensions) {
		src, _ := cfg.Extensions[alias].(string)
		for _, prefix := range []string{"br:mcr.microsoft.com/bicep/extensions/", "br/public:extensions/"} {
			rest, ok := strings.CutPrefix(src, prefix)
			if !ok || !strings.HasPrefix(rest, "microsoftgraph/") {
				continue
			}
			ext, ver, ok := strings.Cut(rest, ":")
			if !ok {
				return nil, fmt.Errorf("%s: extension %s = %q has no version", p, alias, src)
			}
			out = append(out, GraphExtension{Alias: alias, Source: src, API: strings.TrimPrefix(ext, "microsoftgraph/"), Key: ext + ":" + ver})
		}
	}
	return out, nil
}

// ParseDir parses every .bicep file under dir (paths relative to dir).
func ParseDir(ctx context.Context, dir string) ([]*File, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(p, ".bicep") {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		paths = append(paths, rel)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing Bicep files under %s: %w", dir, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no .bicep files under %s", dir)
	}
	return Parse(ctx, dir, paths...)
}

// CheckDefinitions checks files, parsed from root (where bicepconfig.json
// is looked for, from each file's folder up to root), against defs:
//
//   - every module from the public registry (br/public:avm/...) has a
//     pinned definition; every key of its params is a parameter of that
//     version, of a compatible type where the value's type can be seen
//     (literals, our params and vars, outputs of other modules), within its
//     allowed values; every required parameter is passed; object and array
//     literals are checked the same way against the parameter's own
//     definition, as deep as the definition goes;
//   - every X.outputs.<name> (and X[i].outputs.<name>) of such a module is
//     one of its outputs;
//   - every Microsoft.Graph resource's type is in the pinned extension;
//     every property set exists there and is not read-only (required ones
//     are set), and every property read exists;
//   - every `resource X 'Type@version' existing` uses an API version that a
//     pinned module deploys for that type, or that the hand-kept list
//     names.
//
// Values whose type cannot be seen statically are skipped, not guessed.
func CheckDefinitions(root string, files []*File, defs *Defs) ([]Finding, error) {
	var out []Finding
	versions := defs.apiVersions()
	for _, f := range files {
		c := &defCheck{
			file:     f,
			defs:     defs,
			versions: versions,
			params:   map[string]string{},
			vars:     map[string]*Node{},
			modules:  map[string]*ModuleDef{},
			graph:    map[string]*TypeDef{},
			shadowed: map[string]bool{},
		}
		exts, err := graphExtensionsFor(root, f)
		if err != nil {
			return nil, err
		}
		c.exts = exts
		c.run()
		slices.SortStableFunc(c.out, func(a, b Finding) int { return a.Line - b.Line })
		out = append(out, c.out...)
	}
	return out, nil
}

// MissingDefinitions returns the findings of CheckDefinitions about
// references that defs does not cover at all: a module version or Graph
// extension without its definition file.
func MissingDefinitions(root string, files []*File, defs *Defs) ([]Finding, error) {
	all, err := CheckDefinitions(root, files, defs)
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, f := range all {
		if f.Uncovered {
			out = append(out, f)
		}
	}
	return out, nil
}

// graphExtensionsFor returns the Graph extensions of the bicepconfig.json
// nearest to f, looking from f's folder up to root.
func graphExtensionsFor(root string, f *File) ([]GraphExtension, error) {
	rootAbs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(f.Abs)
	for {
		if _, err := os.Stat(filepath.Join(dir, "bicepconfig.json")); err == nil {
			return GraphExtensions(dir)
		}
		if dir == rootAbs || !strings.HasPrefix(dir, rootAbs) {
			return nil, nil
		}
		dir = filepath.Dir(dir)
	}
}

// defCheck is the check of one file.
type defCheck struct {
	file     *File
	defs     *Defs
	versions map[string]map[string]bool
	exts     []GraphExtension
	// params maps our parameters to their declared primitive type; vars
	// our variables to their value.
	params map[string]string
	vars   map[string]*Node
	// modules maps module symbols to their definitions, graph Graph
	// resource symbols to their body types.
	modules map[string]*ModuleDef
	graph   map[string]*TypeDef
	// shadowed holds names that loop variables or lambda parameters take
	// somewhere in the file: a reference to them is not followed.
	shadowed map[string]bool
	out      []Finding
}

func (c *defCheck) report(n *Node, uncovered bool, format string, args ...any) {
	c.out = append(c.out, Finding{Path: c.file.Path, Line: n.Line, Message: fmt.Sprintf(format, args...), Uncovered: uncovered})
}

func (c *defCheck) run() {
	c.file.Root.Walk(func(n *Node, _ []*Node) bool {
		switch n.Type {
		case "loop_variable", "loop_enumerator":
			c.shadowed[n.Text] = true
		case "for_statement":
			if i := n.FieldChild("initializer"); i != nil && i.Type == "identifier" {
				c.shadowed[i.Text] = true
			}
		case "lambda_expression":
			for _, p := range n.Children[:max(len(n.Children)-1, 0)] {
				if p.Type == "identifier" {
					c.shadowed[p.Text] = true
				}
			}
		}
		return true
	})
	type pending struct {
		decl *Decl
		def  any
	}
	var todo []pending
	for _, d := range c.file.Decls() {
		switch d.Kind {
		case "param":
			if t := d.Node.Child("type"); t != nil && len(t.Children) == 1 && t.Children[0].Type == "primitive_type" {
				c.params[d.Name] = armType(t.Children[0].Text)
			}
		case "var":
			if d.Value != nil {
				c.vars[d.Name] = d.Value
			}
		case "module":
			key := avmKey(d.Source)
			switch {
			case key != "":
				def := c.defs.Modules[key]
				if def == nil {
					m, v, _ := strings.Cut(key, ":")
					c.report(d.Node, true, "module %s: no pinned definition of %s (testdata/%s): refresh the definitions with `%s` (see internal/bicep/cmd/avmdefs)",
						d.Name, key, AVMDefPath(m, v), RefreshCommand)
					continue
				}
				c.modules[d.Name] = def
				todo = append(todo, pending{d, def})
			case d.Source != "" && !d.IsLocalModule():
				c.report(d.Node, true, "module %s: %q is not a public Azure Verified Module reference (br/public:avm/...), so no definition covers it", d.Name, d.Source)
			}
		case "resource":
			t, ver, _ := strings.Cut(d.Source, "@")
			switch {
			case strings.HasPrefix(t, "Microsoft.Graph/"):
				if body := c.graphType(d, ver); body != nil {
					c.graph[d.Name] = body
					todo = append(todo, pending{d, body})
				}
			case d.Existing && ver != "" && !c.versions[strings.ToLower(t)][ver]:
				c.report(d.Node, false, "resource %s: no pinned module deploys %s at API version %s (%s), and testdata/%s does not list it",
					d.Name, t, ver, knownVersions(c.versions[strings.ToLower(t)]), ExtraAPIVersionsFile)
			}
		}
	}
	for _, p := range todo {
		switch def := p.def.(type) {
		case *ModuleDef:
			c.checkModule(p.decl, def)
		case *TypeDef:
			c.checkGraphResource(p.decl, def)
		}
	}
	c.file.Root.Walk(func(n *Node, _ []*Node) bool {
		c.checkRead(n)
		return true
	})
}

func knownVersions(m map[string]bool) string {
	if len(m) == 0 {
		return "none for this type"
	}
	return "known: " + strings.Join(sortedKeys(m), ", ")
}

// graphType returns the body type of a Graph resource declaration, or nil
// (reported) when no pinned extension defines it.
func (c *defCheck) graphType(d *Decl, api string) *TypeDef {
	name, typ := d.Name, d.Source
	var keys []string
	for _, e := range c.exts {
		if e.API != api {
			continue
		}
		keys = append(keys, e.Key)
		g := c.defs.Graph[e.Key]
		if g == nil {
			ext, ver, _ := strings.Cut(e.Key, ":")
			c.report(d.Node, true, "resource %s: no pinned definition of Graph extension %s (%s, testdata/%s): refresh the definitions with `%s`",
				name, e.Key, e.Alias, GraphDefPath(ext, ver), RefreshCommand)
			return nil
		}
		if body := g.Resources[typ]; body != nil {
			return body
		}
	}
	if len(keys) == 0 {
		c.report(d.Node, true, "resource %s: %s needs a Microsoft Graph %s extension in bicepconfig.json, and none is configured", name, typ, api)
	} else {
		c.report(d.Node, false, "resource %s: Graph extension %s has no resource type %s", name, strings.Join(keys, ", "), typ)
	}
	return nil
}

// checkModule checks one AVM module declaration's params.
func (c *defCheck) checkModule(d *Decl, def *ModuleDef) {
	what := fmt.Sprintf("module %s (%s)", d.Name, def.Ref())
	params := d.Property("params")
	t := &TypeDef{Type: "object", Properties: def.Parameters}
	if params == nil {
		c.checkRequired(d.Node, nil, t, what, "parameter")
		return
	}
	c.checkValue(params, t, what, "parameter", 0)
}

// checkGraphResource checks the body of one Graph resource declaration.
func (c *defCheck) checkGraphResource(d *Decl, t *TypeDef) {
	if d.Body == nil {
		return
	}
	what := fmt.Sprintf("resource %s (%s)", d.Name, d.Source)
	// Bicep's own resource keywords are not properties of the type.
	open := *t
	open.Properties = map[string]*TypeDef{}
	for k, v := range t.Properties {
		open.Properties[k] = v
	}
	for _, k := range []string{"dependsOn", "parent", "scope"} {
		if open.Properties[k] == nil {
			open.Properties[k] = &TypeDef{Type: "any"}
		}
	}
	if d.Existing {
		for k, v := range open.Properties {
			if v.Required {
				cp := *v
				cp.Required = false
				open.Properties[k] = &cp
			}
		}
	}
	c.checkObject(d.Body, &open, what, "property", 0)
}

// checkRead checks a read of a module output or a Graph resource property.
func (c *defCheck) checkRead(n *Node) {
	var obj *Node
	var prop string
	switch n.Type {
	case "member_expression":
		obj = n.FieldChild("object")
		if p := n.FieldChild("property"); p != nil {
			prop = p.Text
		}
	case "subscript_expression":
		obj = n.FieldChild("object")
		s, ok := StringLiteral(n.FieldChild("index"))
		if !ok {
			return
		}
		prop = s
	default:
		return
	}
	if obj == nil || prop == "" {
		return
	}
	// X.outputs.<prop> and X[i].outputs.<prop>
	if obj.Type == "member_expression" {
		if p := obj.FieldChild("property"); p != nil && p.Text == "outputs" {
			if sym := symbolOf(obj.FieldChild("object")); sym != "" && !c.shadowed[sym] {
				if def := c.modules[sym]; def != nil && def.Outputs[prop] == nil {
					c.report(n, false, "module %s (%s) has no output %q%s", sym, def.Ref(), prop, suggest(prop, sortedKeys(def.Outputs)))
				}
			}
		}
		return
	}
	// X.<prop> and X[i].<prop> of a Graph resource.
	if sym := symbolOf(obj); sym != "" && !c.shadowed[sym] {
		if t := c.graph[sym]; t != nil && t.Properties != nil {
			switch p := t.Properties[prop]; {
			case p == nil:
				c.report(n, false, "Graph resource %s has no property %q%s", sym, prop, suggest(prop, sortedKeys(t.Properties)))
			case p.WriteOnly:
				c.report(n, false, "Graph resource %s: property %q is write-only and cannot be read", sym, prop)
			}
		}
	}
}

// symbolOf returns the identifier of X or X[i], or "".
func symbolOf(n *Node) string {
	if n != nil && n.Type == "subscript_expression" {
		n = n.FieldChild("object")
	}
	if n != nil && n.Type == "identifier" {
		return n.Text
	}
	return ""
}

// checkValue checks every value v may take against t. what names the
// place (module or resource and the path below it); noun is "parameter" at
// a module's top level, else "property".
func (c *defCheck) checkValue(v *Node, t *TypeDef, what, noun string, depth int) {
	if t == nil || depth > maxTypeDepth {
		return
	}
	for _, alt := range c.alternatives(v, 0) {
		c.checkOne(alt, t, what, noun, depth)
	}
}

func (c *defCheck) checkOne(v *Node, t *TypeDef, what, noun string, depth int) {
	got := c.typeOf(v)
	switch {
	case got == "null":
		if t.Required {
			c.report(v, false, "%s is required: null cannot be passed", what)
		}
		return
	case got != "" && t.Type != "any" && got != t.Type:
		c.report(v, false, "%s is of type %s, but %s %s is passed", what, t.Type, article(got), got)
		return
	}
	if len(t.AllowedValues) > 0 && t.Type != "array" {
		c.checkAllowed(v, t, what)
	}
	switch v.Type {
	case "object":
		if t.Type == "object" || t.Type == "any" {
			c.checkObject(v, t, what, noun, depth)
		}
	case "array":
		for _, e := range v.Children {
			if len(t.AllowedValues) > 0 && t.Type == "array" {
				for _, alt := range c.alternatives(e, 0) {
					c.checkAllowed(alt, t, what+" item")
				}
			}
			c.checkValue(e, t.Items, what+"[]", "property", depth+1)
		}
	case "for_statement":
		if b := v.FieldChild("body"); b != nil {
			c.checkValue(b, t.Items, what+"[]", "property", depth+1)
		}
	case "call_expression":
		// concat(a, b, ...) of arrays is an array of their items.
		if fn := v.FieldChild("function"); fn != nil && fn.Text == "concat" && t.Type == "array" {
			if args := v.FieldChild("arguments"); args != nil {
				for _, a := range args.Children {
					c.checkValue(a, t, what, noun, depth+1)
				}
			}
		}
	}
}

// checkAllowed checks a string or number literal against t's allowed values.
func (c *defCheck) checkAllowed(v *Node, t *TypeDef, what string) {
	var lit any
	if s, ok := StringLiteral(v); ok {
		lit = s
	} else if v.Type == "number" {
		n, err := strconv.ParseFloat(v.Text, 64)
		if err != nil {
			return
		}
		lit = n
	} else {
		return
	}
	for _, a := range t.AllowedValues {
		if a == lit {
			return
		}
	}
	allowed := make([]string, len(t.AllowedValues))
	for i, a := range t.AllowedValues {
		b, _ := json.Marshal(a)
		allowed[i] = string(b)
	}
	b, _ := json.Marshal(lit)
	c.report(v, false, "%s: %s is not an allowed value (allowed: %s)", what, b, strings.Join(allowed, ", "))
}

// checkObject checks an object literal's keys and values against t.
func (c *defCheck) checkObject(obj *Node, t *TypeDef, what, noun string, depth int) {
	if t.Properties == nil {
		return
	}
	for _, p := range Properties(obj) {
		k := PropertyKey(p)
		if k == "" {
			continue
		}
		pt := t.Properties[k]
		if pt == nil {
			switch {
			case t.KeysRead:
				c.report(p, false, "%s: the module never reads key %q, so it has no effect (it reads: %s)%s",
					what, k, strings.Join(sortedKeys(t.Properties), ", "), suggest(k, sortedKeys(t.Properties)))
			case !t.Open:
				c.report(p, false, "%s: unknown %s %q%s", what, noun, k, suggest(k, sortedKeys(t.Properties)))
			}
			continue
		}
		if pt.ReadOnly {
			c.report(p, false, "%s: %s %q is read-only", what, noun, k)
			continue
		}
		sub := what + "." + k
		if noun == "parameter" {
			sub = what + " " + noun + " " + k
		}
		c.checkValue(PropertyValue(p), pt, sub, "property", depth+1)
	}
	c.checkRequired(obj, obj, t, what, noun)
}

// checkRequired reports t's required properties that obj (nil: an empty
// object) lacks, at at's line.
func (c *defCheck) checkRequired(at, obj *Node, t *TypeDef, what, noun string) {
	have := map[string]bool{}
	for _, p := range Properties(obj) {
		k := PropertyKey(p)
		if k == "" {
			return // a computed key may be any of them
		}
		have[k] = true
	}
	for _, k := range sortedKeys(t.Properties) {
		if t.Properties[k].Required && !have[k] {
			c.report(at, false, "%s: missing required %s %q", what, noun, k)
		}
	}
}

// alternatives returns the expressions v may evaluate to, following
// parentheses, both branches of a ternary, the filtered body of an if, and
// references to our variables.
func (c *defCheck) alternatives(v *Node, depth int) []*Node {
	if v == nil || depth > 32 {
		return nil
	}
	switch v.Type {
	case "parenthesized_expression", "expression", "primary_expression":
		if len(v.Children) == 1 {
			return c.alternatives(v.Children[0], depth+1)
		}
	case "ternary_expression":
		return append(c.alternatives(v.FieldChild("consequence"), depth+1), c.alternatives(v.FieldChild("alternative"), depth+1)...)
	case "if_statement":
		if len(v.Children) > 0 {
			return c.alternatives(v.Children[len(v.Children)-1], depth+1)
		}
	case "identifier":
		if val := c.vars[v.Text]; val != nil && !c.shadowed[v.Text] {
			return c.alternatives(val, depth+1)
		}
	}
	return []*Node{v}
}

// typeOf returns the type of an expression when it can be seen statically
// (string, int, bool, object, array, null), else "".
func (c *defCheck) typeOf(v *Node) string {
	switch v.Type {
	case "string":
		return "string"
	case "number":
		return "int"
	case "boolean":
		return "bool"
	case "null":
		return "null"
	case "object":
		return "object"
	case "array", "for_statement":
		return "array"
	case "unary_expression":
		switch {
		case v.HasToken("!"):
			return "bool"
		case v.HasToken("-"):
			if a := v.Children; len(a) == 1 && a[0].Type == "number" {
				return "int"
			}
		}
	case "binary_expression":
		for _, op := range []string{"==", "!=", "=~", "!~", "<", "<=", ">", ">=", "&&", "||"} {
			if v.HasToken(op) {
				return "bool"
			}
		}
	case "identifier":
		if !c.shadowed[v.Text] {
			return c.params[v.Text]
		}
	case "member_expression":
		// X.outputs.<name> of a pinned module.
		obj := v.FieldChild("object")
		if obj != nil && obj.Type == "member_expression" {
			if p := obj.FieldChild("property"); p != nil && p.Text == "outputs" {
				if def := c.modules[symbolOf(obj.FieldChild("object"))]; def != nil {
					if p := v.FieldChild("property"); p != nil {
						if o := def.Outputs[p.Text]; o != nil && o.Type != "any" {
							return o.Type
						}
					}
				}
			}
		}
	case "call_expression":
		if fn := v.FieldChild("function"); fn != nil && fn.Type == "identifier" {
			return functionType(fn.Text)
		}
	}
	return ""
}

// functionType returns the result type of a Bicep function whose result
// type does not depend on its arguments, else "".
func functionType(name string) string {
	switch name {
	case "base64", "base64ToString", "dataUri", "dataUriToString", "extensionResourceId", "format",
		"guid", "join", "managementGroupResourceId", "newGuid", "padLeft", "replace", "resourceId",
		"string", "subscriptionResourceId", "substring", "tenantResourceId", "toLower", "toUpper",
		"trim", "uniqueString", "uri", "uriComponent", "uriComponentToString", "utcNow":
		return "string"
	case "bool", "contains", "empty", "endsWith", "startsWith":
		return "bool"
	case "int", "indexOf", "lastIndexOf", "length":
		return "int"
	case "filter", "flatten", "items", "map", "range", "sort", "split":
		return "array"
	}
	return ""
}

func article(t string) string {
	if t == "int" || t == "object" || t == "array" {
		return "an"
	}
	return "a"
}

// suggest returns ` (did you mean "x"?)` for the closest of names, or ""
// when none is close.
func suggest(name string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return fmt.Sprintf(" (did you mean %q?)", n)
		}
		if d := editDistance(strings.ToLower(n), strings.ToLower(name)); d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = slices.Min([]int{prev[j] + 1, cur[j-1] + 1, prev[j-1] + cost})
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
