package bicep

// Extraction of a module definition from the module's compiled ARM
// template (main.json): parameter and output types with their definitions
// resolved, and the resource types and API versions it deploys.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// maxTypeDepth bounds how deep a type is expanded, so a self-referencing
// definition ends as an object of any shape.
const maxTypeDepth = 12

// ModuleDefFromARM extracts the definition of one module version from its
// compiled ARM template. src is recorded as given, with SHA256 set to the
// digest of mainJSON.
func ModuleDefFromARM(module, version string, mainJSON []byte, src Source) (*ModuleDef, error) {
	var tpl map[string]any
	if err := json.Unmarshal(mainJSON, &tpl); err != nil {
		return nil, fmt.Errorf("%s:%s main.json: %w", module, version, err)
	}
	sum := sha256.Sum256(mainJSON)
	src.SHA256 = hex.EncodeToString(sum[:])
	m := &ModuleDef{
		Module:     module,
		Version:    version,
		Source:     src,
		Parameters: map[string]*TypeDef{},
		Outputs:    map[string]*TypeDef{},
	}
	c := armTypes{defs: asMap(tpl["definitions"])}
	params, ok := tpl["parameters"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s:%s main.json has no parameters object; is it a compiled ARM template?", module, version)
	}
	for name, raw := range params {
		p, err := c.typeOf(asMap(raw), nil)
		if err != nil {
			return nil, fmt.Errorf("%s:%s parameter %s: %w", module, version, name, err)
		}
		_, hasDefault := asMap(raw)["defaultValue"]
		p.Required = !p.Nullable && !hasDefault
		m.Parameters[name] = p
	}
	exprs := scopeStrings(tpl)
	for name, p := range m.Parameters {
		if p.Type == "object" && p.Properties == nil {
			if keys := keysRead(name, exprs); keys != nil {
				p.Properties, p.KeysRead = keys, true
			}
		}
	}
	for name, raw := range asMap(tpl["outputs"]) {
		o, err := c.typeOf(asMap(raw), nil)
		if err != nil {
			return nil, fmt.Errorf("%s:%s output %s: %w", module, version, name, err)
		}
		// Only the output's type is kept: reads of its members are not
		// checked.
		m.Outputs[name] = &TypeDef{Type: o.Type}
	}
	seen := map[ResourceVersion]bool{}
	if err := collectResources(tpl, seen); err != nil {
		return nil, fmt.Errorf("%s:%s resources: %w", module, version, err)
	}
	for r := range seen {
		m.Resources = append(m.Resources, r)
	}
	slices.SortFunc(m.Resources, func(a, b ResourceVersion) int {
		if c := strings.Compare(a.Type, b.Type); c != 0 {
			return c
		}
		return strings.Compare(a.APIVersion, b.APIVersion)
	})
	return m, nil
}

// armTypes resolves the types of one template's parameters, outputs and
// definitions.
type armTypes struct {
	defs map[string]any
}

// typeOf converts one ARM type (a parameter, output, property or item
// schema). stack holds the definitions being expanded, to stop recursion.
func (c armTypes) typeOf(raw map[string]any, stack []string) (*TypeDef, error) {
	t := &TypeDef{}
	if ref, ok := raw["$ref"].(string); ok {
		name, found := strings.CutPrefix(ref, "#/definitions/")
		def, ok := c.defs[name].(map[string]any)
		if !found || !ok {
			return nil, fmt.Errorf("unresolved $ref %q", ref)
		}
		if slices.Contains(stack, name) || len(stack) >= maxTypeDepth {
			t.Type = armType(def["type"])
		} else {
			base, err := c.typeOf(def, append(stack, name))
			if err != nil {
				return nil, fmt.Errorf("definition %s: %w", name, err)
			}
			*t = *base
		}
	}
	if ty, ok := raw["type"]; ok {
		t.Type = armType(ty)
	}
	if t.Type == "" {
		t.Type = "any"
	}
	if n, _ := raw["nullable"].(bool); n {
		t.Nullable = true
	}
	if av, ok := raw["allowedValues"].([]any); ok {
		t.AllowedValues = av
	}
	if _, ok := raw["discriminator"]; ok {
		// A tagged union: its keys depend on the tag, so they are not
		// checked.
		t.Properties, t.Open = nil, false
		return t, nil
	}
	if props, ok := raw["properties"].(map[string]any); ok {
		t.Properties = map[string]*TypeDef{}
		for name, praw := range props {
			if len(stack) >= maxTypeDepth {
				t.Properties = nil
				break
			}
			p, err := c.typeOf(asMap(praw), stack)
			if err != nil {
				return nil, fmt.Errorf("property %s: %w", name, err)
			}
			p.Required = !p.Nullable
			t.Properties[name] = p
		}
	}
	if ap, ok := raw["additionalProperties"]; ok && ap != false {
		t.Open = true
	}
	if items, ok := raw["items"].(map[string]any); ok && len(stack) < maxTypeDepth {
		it, err := c.typeOf(items, stack)
		if err != nil {
			return nil, fmt.Errorf("items: %w", err)
		}
		t.Items = it
	}
	return t, nil
}

// armType normalizes an ARM type name.
func armType(v any) string {
	s, _ := v.(string)
	switch strings.ToLower(s) {
	case "string", "securestring":
		return "string"
	case "int":
		return "int"
	case "bool":
		return "bool"
	case "object", "secureobject":
		return "object"
	case "array":
		return "array"
	case "":
		return ""
	}
	return "any"
}

// scopeStrings returns every string of a template evaluated in its own
// scope: resources, variables, outputs and parameter defaults, but not the
// templates of nested deployments (which have their own parameters).
func scopeStrings(tpl map[string]any) []string {
	var out []string
	var walk func(v any, deployment bool)
	walk = func(v any, deployment bool) {
		switch v := v.(type) {
		case map[string]any:
			isDeployment := false
			if t, _ := v["type"].(string); strings.EqualFold(t, "Microsoft.Resources/deployments") {
				isDeployment = true
			}
			for k, x := range v {
				if deployment && k == "template" {
					continue
				}
				walk(x, isDeployment && k == "properties")
			}
		case []any:
			for _, x := range v {
				walk(x, false)
			}
		case string:
			out = append(out, v)
		}
	}
	walk(tpl["resources"], false)
	walk(tpl["variables"], false)
	walk(tpl["outputs"], false)
	for _, p := range asMap(tpl["parameters"]) {
		walk(asMap(p)["defaultValue"], false)
	}
	return out
}

// keysRead returns the keys a template reads from its object parameter
// name, when every use of the parameter in exprs is a key access
// (tryGet(parameters('name'), 'key'), contains(parameters('name'), 'key'),
// parameters('name').key, parameters('name')['key']) or empty(); else nil.
func keysRead(name string, exprs []string) map[string]*TypeDef {
	ref := "parameters('" + name + "')"
	keys := map[string]*TypeDef{}
	uses := 0
	for _, e := range exprs {
		for i := strings.Index(e, ref); i >= 0; {
			uses++
			pre, post := e[:i], e[i+len(ref):]
			switch {
			case (strings.HasSuffix(pre, "tryGet(") || strings.HasSuffix(pre, "contains(")) && keyArg.MatchString(post):
				keys[keyArg.FindStringSubmatch(post)[1]] = &TypeDef{Type: "any"}
			case memberKey.MatchString(post):
				m := memberKey.FindStringSubmatch(post)
				keys[m[1]+m[2]] = &TypeDef{Type: "any"}
			case strings.HasSuffix(pre, "empty(") && strings.HasPrefix(post, ")"):
			default:
				return nil // used whole: any key may matter
			}
			next := strings.Index(post, ref)
			if next < 0 {
				break
			}
			i = len(e) - len(post) + next
		}
	}
	if uses == 0 {
		return nil
	}
	return keys
}

// keyArg matches the key argument after parameters('x') in tryGet and
// contains; memberKey a member or string index access.
var (
	keyArg    = regexp.MustCompile(`^\s*,\s*'([^']+)'`)
	memberKey = regexp.MustCompile(`^(?:\.([A-Za-z_][A-Za-z0-9_]*)|\['([^']+)'\])`)
)

var variableRef = regexp.MustCompile(`^\[variables\('([^']+)'\)\]$`)

// collectResources adds every resource type and API version of a template
// and of the templates of its nested deployments.
func collectResources(tpl map[string]any, seen map[ResourceVersion]bool) error {
	var list []any
	switch r := tpl["resources"].(type) {
	case []any:
		list = r
	case map[string]any:
		for _, v := range r {
			list = append(list, v)
		}
	}
	for _, raw := range list {
		res := asMap(raw)
		ty, _ := res["type"].(string)
		ver, _ := res["apiVersion"].(string)
		if ty == "" || ver == "" {
			return fmt.Errorf("resource without a literal type and apiVersion: %.200v", raw)
		}
		seen[ResourceVersion{Type: ty, APIVersion: ver}] = true
		if !strings.EqualFold(ty, "Microsoft.Resources/deployments") {
			continue
		}
		var nested map[string]any
		switch t := asMap(res["properties"])["template"].(type) {
		case map[string]any:
			nested = t
		case string:
			// A template loaded into a variable (loadJsonContent).
			m := variableRef.FindStringSubmatch(t)
			if m == nil {
				return fmt.Errorf("nested deployment template %q is neither an object nor a variable", t)
			}
			nested = asMap(asMap(tpl["variables"])[m[1]])
			if nested == nil {
				return fmt.Errorf("nested deployment template variable %s is not an object", m[1])
			}
		}
		if nested != nil {
			if err := collectResources(nested, seen); err != nil {
				return err
			}
		}
	}
	return nil
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
