package bicep

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// ---- Rule 6: name limits ----
//
// Names are evaluated with their inputs at their worst case: parameters
// bound by the caller's module arguments, by Options.Inputs at the root
// (the longest server name), by @allowed (every value), by @maxLength (a
// sample that long) or by their default; uniqueString() is 13 characters
// and guid() 36. A ternary whose condition is not known yields both
// branches, so every alternative is checked. What cannot be evaluated is
// reported as a Note, not passed over silently.

// nameRule is the length and character rule of one kind of name.
type nameRule struct {
	kind     string // what the name is, for messages: "storage account name"
	min, max int
	chars    *regexp.Regexp // the whole name must match
	charsMsg string
	extra    func(s string) string // further checks; "" when fine
	source   string
}

// resourceNameRules returns the rules by lower-case resource type (plus
// "microsoft.graph/applications#uniquename" for the app registration's
// unique name). Unless noted, the source is "Naming rules and restrictions
// for Azure resources",
// https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules
// (section of the namespace).
func resourceNameRules() map[string]nameRule {
	const names = "learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules"
	noEdgeHyphen := func(s string) string {
		if strings.HasPrefix(s, "-") || strings.HasSuffix(s, "-") {
			return "starts or ends with a hyphen"
		}
		return ""
	}
	return map[string]nameRule{
		// #microsoftweb: sites 2-60, alphanumerics and hyphens, not at
		// either end. The app name is also the label of its default host
		// name, <app>.azurewebsites.net (a DNS label holds 63). Functions
		// truncates it to 32 characters for the host ID, which only
		// collides for apps sharing a storage account (ours do not).
		"microsoft.web/sites": {kind: "Function app (Microsoft.Web/sites) name", min: 2, max: 60,
			chars: regexp.MustCompile(`^[A-Za-z0-9-]+$`), charsMsg: "letters, digits and hyphens", extra: noEdgeHyphen,
			source: names + "#microsoftweb"},
		// #microsoftweb: serverfarms 1-60 (older revisions of the page
		// said 1-40).
		"microsoft.web/serverfarms": {kind: "App Service plan (Microsoft.Web/serverfarms) name", min: 1, max: 60,
			chars: regexp.MustCompile(`^[A-Za-z0-9-]+$`), charsMsg: "letters, digits and hyphens",
			source: names + "#microsoftweb"},
		// #microsoftstorage: storageAccounts 3-24, lowercase letters and
		// numbers.
		"microsoft.storage/storageaccounts": {kind: "storage account name", min: 3, max: 24,
			chars: regexp.MustCompile(`^[a-z0-9]+$`), charsMsg: "lowercase letters and digits",
			source: names + "#microsoftstorage"},
		// #microsoftstorage: blobServices/containers 3-63, lowercase
		// letters, numbers and hyphens, starting with a letter or number,
		// no consecutive hyphens; the Blob service's "Naming and
		// referencing containers, blobs, and metadata" adds that every
		// hyphen is between letters or digits (so none at the end).
		"microsoft.storage/storageaccounts/blobservices/containers": {kind: "blob container name", min: 3, max: 63,
			chars: regexp.MustCompile(`^[a-z0-9-]+$`), charsMsg: "lowercase letters, digits and hyphens",
			extra: func(s string) string {
				if strings.Contains(s, "--") {
					return "has consecutive hyphens"
				}
				return noEdgeHyphen(s)
			},
			source: names + "#microsoftstorage"},
		// #microsoftmanagedidentity: userAssignedIdentities 3-128,
		// alphanumerics, hyphens and underscores, starting with a letter
		// or number.
		"microsoft.managedidentity/userassignedidentities": {kind: "user-assigned identity name", min: 3, max: 128,
			chars: regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`), charsMsg: "letters, digits, hyphens and underscores, starting with a letter or digit",
			source: names + "#microsoftmanagedidentity"},
		// #microsoftnetwork: privateEndpoints 2-64, alphanumerics,
		// underscores, periods and hyphens; start alphanumeric, end
		// alphanumeric or underscore.
		"microsoft.network/privateendpoints": {kind: "private endpoint name", min: 2, max: 64,
			chars: regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9_]$`), charsMsg: "letters, digits, '_', '.' and '-', starting with a letter or digit and ending with one or '_'",
			source: names + "#microsoftnetwork"},
		// #microsoftresources: resourcegroups 1-90, alphanumerics,
		// underscores, parentheses, hyphens and periods, not ending with a
		// period.
		"microsoft.resources/resourcegroups": {kind: "resource group name", min: 1, max: 90,
			chars: regexp.MustCompile(`^[\p{L}\p{N}_().-]+$`), charsMsg: "letters, digits, '_', '(', ')', '-' and '.'",
			extra: func(s string) string {
				if strings.HasSuffix(s, ".") {
					return "ends with a period"
				}
				return ""
			},
			source: names + "#microsoftresources"},
		// #microsoftresources: deployments 1-64, alphanumerics,
		// underscores, parentheses, hyphens and periods. A module's name
		// is its deployment's name.
		"microsoft.resources/deployments": {kind: "deployment name (a module's name)", min: 1, max: 64,
			chars: regexp.MustCompile(`^[A-Za-z0-9_().-]+$`), charsMsg: "letters, digits, '_', '(', ')', '-' and '.'",
			source: names + "#microsoftresources"},
		// Microsoft Graph documents no maximum for an application's
		// uniqueName ("The unique identifier that can be assigned to an
		// application and used as an alternate key. Immutable.", Graph
		// Bicep reference, Microsoft.Graph/applications); we hold it to
		// 120, the limit of a federated credential's name and of an app's
		// display name, so that a longer one is a decision, not an
		// accident.
		"microsoft.graph/applications#uniquename": {kind: "app registration uniqueName", min: 1, max: 120,
			source: "learn.microsoft.com/graph/templates/bicep/reference/applications (no documented maximum; 120 is ours)"},
		// federatedIdentityCredential.name: "has a limit of 120
		// characters and must be URL friendly" (Microsoft Graph
		// federatedIdentityCredential resource type). In Bicep the name
		// is '<application uniqueName>/<credential name>'; the limit is
		// the credential's part.
		"microsoft.graph/applications/federatedidentitycredentials": {kind: "federated identity credential name", min: 1, max: 120,
			chars: regexp.MustCompile(`^[A-Za-z0-9._~-]+$`), charsMsg: "URL-safe characters (letters, digits, '-', '.', '_', '~')",
			source: "learn.microsoft.com/graph/api/resources/federatedidentitycredential"},
	}
}

// avmResourceTypes maps Azure Verified Modules to the type they deploy,
// whose params.name is the resource's name.
func avmResourceTypes() map[string]string {
	return map[string]string{
		"avm/res/web/site":                                "Microsoft.Web/sites",
		"avm/res/web/serverfarm":                          "Microsoft.Web/serverfarms",
		"avm/res/storage/storage-account":                 "Microsoft.Storage/storageAccounts",
		"avm/res/managed-identity/user-assigned-identity": "Microsoft.ManagedIdentity/userAssignedIdentities",
		"avm/res/network/private-endpoint":                "Microsoft.Network/privateEndpoints",
	}
}

// avmModule returns the module path of a registry reference
// ("br/public:avm/res/web/site:0.15.1" -> "avm/res/web/site"), or "".
func avmModule(source string) string {
	s := source
	switch {
	case strings.HasPrefix(s, "br/public:"):
		s = strings.TrimPrefix(s, "br/public:")
	case strings.HasPrefix(s, "br:mcr.microsoft.com/bicep/"):
		s = strings.TrimPrefix(s, "br:mcr.microsoft.com/bicep/")
	default:
		return ""
	}
	if i := strings.LastIndex(s, ":"); i > 0 {
		s = s[:i]
	}
	if !strings.HasPrefix(s, "avm/") {
		return ""
	}
	return s
}

func (c *checker) nameLimits() {
	ev := &evaluator{c: c, rules: resourceNameRules()}
	instantiated := map[string]bool{}
	for _, f := range c.files {
		for _, d := range f.Modules() {
			if t := c.moduleFile(f, d); t != nil {
				instantiated[filepath.Clean(t.Abs)] = true
			}
		}
	}
	for _, f := range c.files {
		if !instantiated[filepath.Clean(f.Abs)] {
			ev.checkScope(ev.newScope(f, nil, "", true), 0)
		}
	}
}

// evaluator evaluates Bicep expressions to their possible values.
type evaluator struct {
	c     *checker
	rules map[string]nameRule
}

// scope is one instance of a file: its parameters' bindings, loop
// variables in effect, and memoised variables.
type scope struct {
	ev     *evaluator
	file   *File
	decls  map[string]*Decl                 // what an identifier can name (no outputs)
	outs   map[string]*Decl                 // outputs
	args   map[string]func() ([]any, error) // module arguments from the caller
	root   bool
	via    string // " (deployed by main.bicep:180)" for a module instance
	locals map[string]func() ([]any, error)
	base   *scope // the scope without locals, for variables
	memo   map[string][]any
	busy   map[string]bool
	kids   map[*Decl]*scope
}

func (ev *evaluator) newScope(f *File, args map[string]func() ([]any, error), via string, root bool) *scope {
	s := &scope{ev: ev, file: f, decls: map[string]*Decl{}, outs: map[string]*Decl{}, args: args, root: root, via: via,
		memo: map[string][]any{}, busy: map[string]bool{}, kids: map[*Decl]*scope{}}
	for _, d := range f.Decls() {
		if d.Kind == "output" {
			s.outs[d.Name] = d
		} else {
			s.decls[d.Name] = d
		}
	}
	s.base = s
	return s
}

// withLocals returns a scope that also binds loop variables.
func (s *scope) withLocals(locals map[string]func() ([]any, error)) *scope {
	c := *s
	c.locals = locals
	return &c
}

// errDynamic marks an expression the evaluator cannot reduce.
var errDynamic = errors.New("too dynamic to evaluate")

func dynamic(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errDynamic, fmt.Sprintf(format, args...))
}

// maxAlternatives bounds the values an expression may have.
const maxAlternatives = 64

// Values the evaluator works with, besides string, int64, bool, nil,
// []any and map[string]any.
type (
	lazyObject struct {
		node *Node
		s    *scope
	}
	lazyArray struct {
		node *Node
		s    *scope
	}
	symbol struct {
		d *Decl
		s *scope
	}
	moduleOutputs struct{ symbol }
)

func (ev *evaluator) checkScope(s *scope, depth int) {
	if depth > 8 {
		return
	}
	f := s.file
	for _, d := range f.Decls() {
		switch d.Kind {
		case "resource":
			if d.Existing {
				continue
			}
			typ, _, _ := strings.Cut(d.Source, "@")
			ltyp := strings.ToLower(typ)
			if ltyp == "microsoft.graph/applications" {
				ev.checkName(s, d, d.Property("uniqueName"), ltyp+"#uniquename", false)
			}
			if _, ok := ev.rules[ltyp]; ok {
				ev.checkName(s, d, d.Property("name"), ltyp, true)
			}
		case "module":
			if name := d.Property("name"); name != nil {
				ev.checkName(s, d, name, "microsoft.resources/deployments", false)
			}
			if typ := avmResourceTypes()[avmModule(d.Source)]; typ != "" {
				params := d.Params()
				ev.checkName(s, d, Property(params, "name"), strings.ToLower(typ), false)
				if typ == "Microsoft.Storage/storageAccounts" {
					if containers := Property(Property(params, "blobServices"), "containers"); containers != nil && containers.Type == "array" {
						for _, ct := range containers.Children {
							if ct.Type == "object" {
								ev.checkName(s, d, Property(ct, "name"), "microsoft.storage/storageaccounts/blobservices/containers", false)
							}
						}
					}
				}
			}
			if t := ev.c.moduleFile(f, d); t != nil {
				ev.checkScope(s.instance(d, t), depth+1)
			}
		}
	}
}

// checkName evaluates a name expression and checks every value it can
// take against the rule; lastSegment checks only the part after the last
// '/' (child resources named 'parent/child').
func (ev *evaluator) checkName(s *scope, d *Decl, name *Node, ruleKey string, lastSegment bool) {
	if name == nil {
		return
	}
	rule := ev.rules[ruleKey]
	if d.Loop != nil {
		s = s.loopScope(d.Loop)
	}
	values, err := s.eval(name)
	if err != nil {
		ev.c.note(s.file, name, "%s of %s %s not checked%s: %v", rule.kind, d.Kind, d.Name, s.via, err)
		return
	}
	for _, v := range values {
		str, err := toString(v)
		if err != nil {
			ev.c.note(s.file, name, "%s of %s %s not checked%s: %v", rule.kind, d.Kind, d.Name, s.via, err)
			continue
		}
		if ruleKey == "microsoft.graph/applications/federatedidentitycredentials" || lastSegment {
			if i := strings.LastIndex(str, "/"); i >= 0 {
				str = str[i+1:]
			}
		}
		ev.c.report.Names = append(ev.c.report.Names, CheckedName{Path: s.file.Path, Line: name.Line, Kind: rule.kind, Max: rule.max, Value: str})
		var problems []string
		if n := len([]rune(str)); n > rule.max || n < rule.min {
			problems = append(problems, fmt.Sprintf("is %d characters, outside %d-%d", n, rule.min, rule.max))
		}
		if rule.chars != nil && !rule.chars.MatchString(str) {
			problems = append(problems, "is not only "+rule.charsMsg)
		}
		if rule.extra != nil {
			if p := rule.extra(str); p != "" {
				problems = append(problems, p)
			}
		}
		if len(problems) > 0 {
			// One violation per name: its first bad value.
			ev.c.violate(s.file, name, RuleNameLimit, "%s of %s %s can be %q%s, which %s (%s)",
				rule.kind, d.Kind, d.Name, str, s.via, strings.Join(problems, " and "), rule.source)
			return
		}
	}
}

// instance returns the scope of the file t as deployed by module d of s.
func (s *scope) instance(d *Decl, t *File) *scope {
	if k := s.kids[d]; k != nil {
		return k
	}
	caller := s
	if d.Loop != nil {
		caller = s.loopScope(d.Loop)
	}
	args := map[string]func() ([]any, error){}
	for _, p := range Properties(d.Params()) {
		key, val := PropertyKey(p), PropertyValue(p)
		var memo []any
		var memoErr error
		done := false
		args[key] = func() ([]any, error) {
			if !done {
				done = true
				memo, memoErr = caller.eval(val)
			}
			return memo, memoErr
		}
	}
	k := s.ev.newScope(t, args, fmt.Sprintf(" (deployed by %s:%d)", s.file.Path, d.Node.Line), false)
	s.kids[d] = k
	return k
}

// loopScope binds a loop's item and index to every element of its
// collection (and index 0 and the last, for the index).
func (s *scope) loopScope(loop *Node) *scope {
	vars, coll, _ := ForParts(loop)
	elems := func() ([]any, int, error) {
		colls, err := s.eval(coll)
		if err != nil {
			return nil, 0, err
		}
		var items []any
		longest := 0
		for _, c := range colls {
			list, err := s.ev.elements(c)
			if err != nil {
				return nil, 0, err
			}
			items = append(items, list...)
			longest = max(longest, len(list))
		}
		return items, longest, nil
	}
	locals := map[string]func() ([]any, error){}
	for k, v := range s.locals {
		locals[k] = v
	}
	if len(vars) > 0 {
		locals[vars[0]] = func() ([]any, error) {
			items, _, err := elems()
			if err == nil && len(items) == 0 {
				return nil, dynamic("the loop over %s has no items", coll.Text)
			}
			return items, err
		}
	}
	if len(vars) > 1 {
		locals[vars[1]] = func() ([]any, error) {
			_, n, err := elems()
			if err != nil {
				return nil, err
			}
			if n <= 1 {
				return []any{int64(0)}, nil
			}
			return []any{int64(0), int64(n - 1)}, nil
		}
	}
	return s.withLocals(locals)
}

// elements returns the items of an array value.
func (ev *evaluator) elements(v any) ([]any, error) {
	switch a := v.(type) {
	case []any:
		return a, nil
	case *lazyArray:
		var out []any
		for _, e := range a.node.Children {
			if e.Type == "decorators" {
				continue
			}
			vs, err := a.s.eval(e)
			if err != nil {
				return nil, err
			}
			if len(vs) != 1 {
				return nil, dynamic("an array element with %d possible values", len(vs))
			}
			out = append(out, vs[0])
		}
		return out, nil
	}
	return nil, dynamic("not an array: %s", describe(v))
}

// eval returns every value n can have.
func (s *scope) eval(n *Node) ([]any, error) {
	n = Unparen(n)
	if n == nil {
		return nil, dynamic("missing expression")
	}
	switch n.Type {
	case "string":
		return s.evalString(n)
	case "number":
		i, err := strconv.ParseInt(n.Text, 10, 64)
		if err != nil {
			return nil, dynamic("number %s", n.Text)
		}
		return []any{i}, nil
	case "boolean":
		return []any{n.Text == "true"}, nil
	case "null":
		return []any{nil}, nil
	case "object":
		return []any{&lazyObject{n, s}}, nil
	case "array":
		return []any{&lazyArray{n, s}}, nil
	case "identifier":
		return s.lookup(n.Text)
	case "member_expression":
		objs, err := s.eval(n.FieldChild("object"))
		if err != nil {
			return nil, err
		}
		prop := n.FieldChild("property")
		if prop == nil {
			return nil, dynamic("%s", n.Text)
		}
		safe := n.HasToken(".?")
		return s.each1(objs, func(o any) ([]any, error) { return s.member(o, prop.Text, safe) })
	case "subscript_expression":
		objs, err := s.eval(n.FieldChild("object"))
		if err != nil {
			return nil, err
		}
		idx, err := s.eval(n.FieldChild("index"))
		if err != nil {
			return nil, err
		}
		return product([][]any{objs, idx}, func(v []any) ([]any, error) { return s.index(v[0], v[1]) })
	case "call_expression":
		return s.call(n)
	case "ternary_expression":
		conds, err := s.eval(n.FieldChild("condition"))
		if err != nil {
			// Unknown condition: either branch.
			conds = []any{true, false}
		}
		var out []any
		for _, c := range dedupeValues(conds) {
			branches := []*Node{n.FieldChild("consequence"), n.FieldChild("alternative")}
			switch c {
			case true:
				branches = branches[:1]
			case false:
				branches = branches[1:]
			}
			for _, b := range branches {
				vs, err := s.eval(b)
				if err != nil {
					return nil, err
				}
				out = append(out, vs...)
			}
		}
		return limit(out)
	case "unary_expression":
		args, err := s.eval(n.FieldChild("argument"))
		if err != nil {
			return nil, err
		}
		neg := n.HasToken("-")
		return s.each1(args, func(a any) ([]any, error) {
			switch v := a.(type) {
			case bool:
				if !neg {
					return []any{!v}, nil
				}
			case int64:
				if neg {
					return []any{-v}, nil
				}
			}
			return nil, dynamic("%s", n.Text)
		})
	case "binary_expression":
		return s.binary(n)
	}
	return nil, dynamic("%s (a %s)", clip(n.Text), n.Type)
}

func (s *scope) evalString(n *Node) ([]any, error) {
	parts, ok := stringParts(n)
	if !ok {
		return nil, dynamic("string %s", clip(n.Text))
	}
	lists := make([][]any, len(parts))
	for i, p := range parts {
		if p.expr == nil {
			lists[i] = []any{p.lit}
			continue
		}
		vs, err := s.eval(p.expr)
		if err != nil {
			return nil, err
		}
		lists[i] = vs
	}
	return product(lists, func(v []any) ([]any, error) {
		var b strings.Builder
		for _, x := range v {
			str, err := toString(x)
			if err != nil {
				return nil, err
			}
			b.WriteString(str)
		}
		return []any{b.String()}, nil
	})
}

// lookup resolves an identifier: a loop variable, then a declaration.
func (s *scope) lookup(name string) ([]any, error) {
	if l, ok := s.locals[name]; ok {
		return l()
	}
	d := s.decls[name]
	if d == nil {
		return nil, dynamic("%s is not declared in %s", name, s.file.Path)
	}
	switch d.Kind {
	case "param", "var":
		b := s.base
		key := d.Kind + " " + name
		if v, ok := b.memo[key]; ok {
			return v, nil
		}
		if b.busy[key] {
			return nil, dynamic("%s refers to itself", name)
		}
		b.busy[key] = true
		defer delete(b.busy, key)
		var v []any
		var err error
		if d.Kind == "param" {
			v, err = b.param(d)
		} else {
			v, err = b.eval(d.Value)
		}
		if err != nil {
			return nil, err
		}
		b.memo[key] = v
		return v, nil
	case "resource", "module":
		return []any{&symbol{d, s.base}}, nil
	}
	return nil, dynamic("%s is a %s", name, d.Kind)
}

// param returns the values of a parameter: from the caller's module
// argument, Options.Inputs at a root, @allowed, @maxLength, @maxValue,
// the default, or both booleans.
func (s *scope) param(d *Decl) ([]any, error) {
	if th, ok := s.args[d.Name]; ok {
		return th()
	}
	if s.root {
		if v, ok := s.ev.c.opt.Inputs[d.Name]; ok {
			return []any{normalizeJSON(v)}, nil
		}
	}
	typ := ""
	if t := d.Node.Child("type"); t != nil {
		typ = t.Text
	}
	if args := d.Decorator("allowed"); args != nil && len(args.Children) == 1 {
		vs, err := s.eval(args.Children[0])
		if err == nil && len(vs) == 1 {
			return s.ev.elements(vs[0])
		}
	}
	if args := d.Decorator("maxLength"); args != nil && len(args.Children) == 1 && typ == "string" {
		if n, err := strconv.Atoi(args.Children[0].Text); err == nil {
			return []any{sampleString(n)}, nil
		}
	}
	if args := d.Decorator("maxValue"); args != nil && len(args.Children) == 1 && typ == "int" {
		if n, err := strconv.ParseInt(args.Children[0].Text, 10, 64); err == nil {
			return []any{n}, nil
		}
	}
	if d.Value != nil {
		return s.eval(d.Value)
	}
	if typ == "bool" {
		return []any{true, false}, nil
	}
	return nil, dynamic("parameter %s has no value here, and no @allowed, @maxLength or default to take the worst case from", d.Name)
}

// sampleString is a worst-case stand-in of n characters for a string
// parameter: mixed case, digits and hyphens, ending with a letter.
func sampleString(n int) string {
	var b strings.Builder
	for b.Len() < n {
		b.WriteString("Ab1-")
	}
	s := b.String()[:n]
	if n > 1 && strings.HasSuffix(s, "-") {
		s = s[:n-1] + "z"
	}
	return s
}

func (s *scope) member(o any, prop string, safe bool) ([]any, error) {
	switch v := o.(type) {
	case nil:
		if safe {
			return []any{nil}, nil
		}
	case map[string]any:
		if x, ok := lookupKey(v, prop); ok {
			return []any{x}, nil
		}
		if safe {
			return []any{nil}, nil
		}
		return nil, dynamic("no property %s", prop)
	case *lazyObject:
		for _, p := range Properties(v.node) {
			if strings.EqualFold(PropertyKey(p), prop) {
				return v.s.eval(PropertyValue(p))
			}
		}
		if safe {
			return []any{nil}, nil
		}
		return nil, dynamic("no property %s", prop)
	case *symbol:
		return v.member(prop)
	case *moduleOutputs:
		return v.output(prop)
	}
	return nil, dynamic("property %s of %s", prop, describe(o))
}

func lookupKey(m map[string]any, key string) (any, bool) {
	if x, ok := m[key]; ok {
		return x, true
	}
	for k, x := range m {
		if strings.EqualFold(k, key) {
			return x, true
		}
	}
	return nil, false
}

// member reads a property of a resource or module symbol: what the
// template itself sets (name and top-level inputs), a module's outputs,
// but not runtime properties.
func (sym *symbol) member(prop string) ([]any, error) {
	d := sym.d
	if d.Loop != nil {
		return nil, dynamic("%s.%s of a loop", d.Name, prop)
	}
	switch {
	case d.Kind == "module" && prop == "outputs":
		return []any{&moduleOutputs{*sym}}, nil
	case prop == "properties" || prop == "id":
		return nil, dynamic("%s.%s is known only at deployment", d.Name, prop)
	}
	v := d.Property(prop)
	if v == nil {
		return nil, dynamic("%s.%s", d.Name, prop)
	}
	return sym.s.eval(v)
}

// output evaluates a module's output: a local module's output declaration
// in the module's instance, or an AVM resource module's name (its
// params.name, which AVM modules output as `name`).
func (mo *moduleOutputs) output(name string) ([]any, error) {
	d, s := mo.d, mo.s
	if t := s.ev.c.moduleFile(s.file, d); t != nil {
		k := s.instance(d, t)
		out := k.outs[name]
		if out == nil {
			return nil, dynamic("%s has no output %s", t.Path, name)
		}
		return k.eval(out.Value)
	}
	if avmResourceTypes()[avmModule(d.Source)] != "" && name == "name" {
		if n := Property(d.Params(), "name"); n != nil {
			return s.eval(n)
		}
	}
	return nil, dynamic("%s.outputs.%s comes from %s", d.Name, name, d.Source)
}

func (s *scope) index(o, i any) ([]any, error) {
	switch idx := i.(type) {
	case string:
		return s.member(o, idx, false)
	case int64:
		list, err := s.ev.elements(o)
		if err != nil {
			return nil, err
		}
		if idx < 0 || int(idx) >= len(list) {
			return nil, dynamic("index %d out of range", idx)
		}
		return []any{list[idx]}, nil
	}
	return nil, dynamic("index %s", describe(i))
}

func (s *scope) binary(n *Node) ([]any, error) {
	op := ""
	if len(n.Tokens) > 0 {
		op = n.Tokens[0]
	}
	left, err := s.eval(n.FieldChild("left"))
	if err != nil {
		return nil, err
	}
	if op == "??" {
		var out []any
		for _, l := range left {
			if l != nil {
				out = append(out, l)
				continue
			}
			r, err := s.eval(n.FieldChild("right"))
			if err != nil {
				return nil, err
			}
			out = append(out, r...)
		}
		return limit(out)
	}
	right, err := s.eval(n.FieldChild("right"))
	if err != nil {
		return nil, err
	}
	return product([][]any{left, right}, func(v []any) ([]any, error) {
		l, r := v[0], v[1]
		switch op {
		case "==":
			return []any{equal(l, r)}, nil
		case "!=":
			return []any{!equal(l, r)}, nil
		case "=~":
			ls, lok := l.(string)
			rs, rok := r.(string)
			return []any{lok && rok && strings.EqualFold(ls, rs)}, nil
		case "!~":
			ls, lok := l.(string)
			rs, rok := r.(string)
			return []any{!(lok && rok && strings.EqualFold(ls, rs))}, nil
		case "&&", "||":
			lb, lok := l.(bool)
			rb, rok := r.(bool)
			if !lok || !rok {
				break
			}
			if op == "&&" {
				return []any{lb && rb}, nil
			}
			return []any{lb || rb}, nil
		}
		li, lok := l.(int64)
		ri, rok := r.(int64)
		if !lok || !rok {
			return nil, dynamic("%s", clip(n.Text))
		}
		switch op {
		case "+":
			return []any{li + ri}, nil
		case "-":
			return []any{li - ri}, nil
		case "*":
			return []any{li * ri}, nil
		case "/", "%":
			if ri == 0 {
				return nil, dynamic("division by zero in %s", clip(n.Text))
			}
			if op == "/" {
				return []any{li / ri}, nil
			}
			return []any{li % ri}, nil
		case "<":
			return []any{li < ri}, nil
		case "<=":
			return []any{li <= ri}, nil
		case ">":
			return []any{li > ri}, nil
		case ">=":
			return []any{li >= ri}, nil
		}
		return nil, dynamic("operator %s", op)
	})
}

// call evaluates the functions that names are built with.
func (s *scope) call(n *Node) ([]any, error) {
	fn := n.FieldChild("function")
	argsNode := n.FieldChild("arguments")
	if fn == nil || argsNode == nil || fn.Type != "identifier" {
		return nil, dynamic("call %s", clip(n.Text))
	}
	name := strings.ToLower(fn.Text)
	if name == "loadjsoncontent" && len(argsNode.Children) == 1 {
		path, ok := StringLiteral(argsNode.Children[0])
		if !ok {
			return nil, dynamic("%s", clip(n.Text))
		}
		b, err := os.ReadFile(filepath.Join(filepath.Dir(s.file.Abs), filepath.FromSlash(path)))
		if err != nil {
			return nil, dynamic("%s: %v", clip(n.Text), err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, dynamic("%s: %v", clip(n.Text), err)
		}
		return []any{normalizeJSON(v)}, nil
	}
	if name == "map" || name == "filter" || name == "toobject" {
		return s.callLambda(name, argsNode.Children)
	}
	lists := make([][]any, len(argsNode.Children))
	for i, a := range argsNode.Children {
		vs, err := s.eval(a)
		if err != nil {
			return nil, err
		}
		lists[i] = vs
	}
	return product(lists, func(args []any) ([]any, error) {
		v, err := s.ev.builtin(name, args)
		if err != nil && strings.Contains(err.Error(), name+"() is not evaluated") {
			return nil, dynamic("%s() is not evaluated by this check", fn.Text)
		}
		if err != nil {
			if errors.Is(err, errDynamic) {
				return nil, err
			}
			return nil, dynamic("%s: %v", clip(n.Text), err)
		}
		return v, nil
	})
}

// callLambda evaluates map(array, lambda), filter(array, lambda) and
// toObject(array, keyLambda[, valueLambda]) over an array with one known
// value: each lambda must give one value per element.
func (s *scope) callLambda(name string, args []*Node) ([]any, error) {
	if len(args) < 2 {
		return nil, dynamic("%s() with %d arguments", name, len(args))
	}
	arrays, err := s.eval(args[0])
	if err != nil {
		return nil, err
	}
	if len(arrays) != 1 {
		return nil, dynamic("%s() over an array with %d possible values", name, len(arrays))
	}
	list, err := s.ev.elements(arrays[0])
	if err != nil {
		return nil, err
	}
	var fns []func(elem any, i int) (any, error)
	for _, a := range args[1:] {
		fn, err := s.lambda(a)
		if err != nil {
			return nil, err
		}
		fns = append(fns, fn)
	}
	switch name {
	case "map":
		out := make([]any, len(list))
		for i, e := range list {
			if out[i], err = fns[0](e, i); err != nil {
				return nil, err
			}
		}
		return []any{out}, nil
	case "filter":
		out := []any{}
		for i, e := range list {
			keep, err := fns[0](e, i)
			if err != nil {
				return nil, err
			}
			if b, ok := keep.(bool); !ok {
				return nil, dynamic("filter() predicate gave %s", describe(keep))
			} else if b {
				out = append(out, e)
			}
		}
		return []any{out}, nil
	}
	out := map[string]any{}
	for i, e := range list {
		k, err := fns[0](e, i)
		if err != nil {
			return nil, err
		}
		key, ok := k.(string)
		if !ok {
			return nil, dynamic("toObject() key %s", describe(k))
		}
		v := e
		if len(fns) > 1 {
			if v, err = fns[1](e, i); err != nil {
				return nil, err
			}
		}
		out[key] = v
	}
	return []any{out}, nil
}

// lambda returns a function that applies the lambda_expression n to an
// element (and its index, for a lambda with two parameters) in s; it
// must have one value.
func (s *scope) lambda(n *Node) (func(elem any, i int) (any, error), error) {
	if n == nil || n.Type != "lambda_expression" || len(n.Children) < 2 {
		return nil, dynamic("not a lambda: %s", clip(textOf(n)))
	}
	var names []string
	for _, p := range n.Children[:len(n.Children)-1] {
		if p.Type == "identifier" {
			names = append(names, p.Text)
			continue
		}
		for _, c := range p.Children {
			if c.Type == "identifier" {
				names = append(names, c.Text)
			}
		}
	}
	body := n.Children[len(n.Children)-1]
	return func(elem any, i int) (any, error) {
		locals := map[string]func() ([]any, error){}
		for k, v := range s.locals {
			locals[k] = v
		}
		for j, name := range names {
			v := any(int64(i))
			if j == 0 {
				v = elem
			}
			locals[name] = func() ([]any, error) { return []any{v}, nil }
		}
		vs, err := s.withLocals(locals).eval(body)
		if err != nil {
			return nil, err
		}
		if vs = dedupeValues(vs); len(vs) != 1 {
			return nil, dynamic("%s has %d possible values", clip(n.Text), len(vs))
		}
		return vs[0], nil
	}, nil
}

func textOf(n *Node) string {
	if n == nil {
		return ""
	}
	return n.Text
}

// builtin applies a Bicep function to known arguments.
func (ev *evaluator) builtin(name string, args []any) ([]any, error) {
	str := func(i int) (string, error) {
		if i >= len(args) {
			return "", errors.New("missing argument")
		}
		return toString(args[i])
	}
	num := func(i int) (int64, error) {
		if i >= len(args) {
			return 0, errors.New("missing argument")
		}
		if n, ok := args[i].(int64); ok {
			return n, nil
		}
		return 0, fmt.Errorf("argument %d is not an int", i+1)
	}
	one := func(v any, err error) ([]any, error) {
		if err != nil {
			return nil, err
		}
		return []any{v}, nil
	}
	switch name {
	case "tolower", "toupper", "trim":
		s, err := str(0)
		switch name {
		case "tolower":
			s = strings.ToLower(s)
		case "toupper":
			s = strings.ToUpper(s)
		default:
			s = strings.TrimSpace(s)
		}
		return one(s, err)
	case "take", "skip":
		count, err := num(1)
		if err != nil {
			return nil, err
		}
		if list, lerr := ev.elements(args[0]); lerr == nil {
			count = min(max(count, 0), int64(len(list)))
			if name == "take" {
				return one(list[:count], nil)
			}
			return one(list[count:], nil)
		}
		s, err := str(0)
		r := []rune(s)
		count = min(max(count, 0), int64(len(r)))
		if name == "take" {
			return one(string(r[:count]), err)
		}
		return one(string(r[count:]), err)
	case "replace":
		s, err1 := str(0)
		old, err2 := str(1)
		repl, err3 := str(2)
		return one(strings.ReplaceAll(s, old, repl), errors.Join(err1, err2, err3))
	case "substring":
		s, err := str(0)
		start, err2 := num(1)
		if err = errors.Join(err, err2); err != nil {
			return nil, err
		}
		r := []rune(s)
		end := int64(len(r))
		if len(args) > 2 {
			l, err := num(2)
			if err != nil {
				return nil, err
			}
			end = start + l
		}
		if start < 0 || end > int64(len(r)) || start > end {
			return nil, fmt.Errorf("substring out of range of %q", s)
		}
		return one(string(r[start:end]), nil)
	case "uniquestring":
		// Always 13 characters, lowercase letters and digits. One sample
		// for all arguments: only the length and the alphabet matter here,
		// and a value per argument would multiply the alternatives.
		return one(uniqueStringSample, nil)
	case "guid":
		return one(guidSample("guid"), nil)
	case "concat":
		allStrings := true
		for _, a := range args {
			if _, ok := a.(string); !ok {
				allStrings = false
			}
		}
		if allStrings {
			var b strings.Builder
			for i := range args {
				s, _ := str(i)
				b.WriteString(s)
			}
			return one(b.String(), nil)
		}
		var out []any
		for _, a := range args {
			list, err := ev.elements(a)
			if err != nil {
				return nil, err
			}
			out = append(out, list...)
		}
		return one(out, nil)
	case "format":
		f, err := str(0)
		if err != nil {
			return nil, err
		}
		for i := 1; i < len(args); i++ {
			s, err := str(i)
			if err != nil {
				return nil, err
			}
			f = strings.ReplaceAll(f, "{"+strconv.Itoa(i-1)+"}", s)
		}
		return one(f, nil)
	case "string":
		return one(str(0))
	case "length":
		if list, err := ev.elements(args[0]); err == nil {
			return one(int64(len(list)), nil)
		}
		s, err := str(0)
		return one(int64(len([]rune(s))), err)
	case "empty":
		if list, err := ev.elements(args[0]); err == nil {
			return one(len(list) == 0, nil)
		}
		if args[0] == nil {
			return one(true, nil)
		}
		s, err := str(0)
		return one(s == "", err)
	case "range":
		start, err1 := num(0)
		count, err2 := num(1)
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		if count < 0 || count > 1000 {
			return nil, fmt.Errorf("range of %d", count)
		}
		out := make([]any, count)
		for i := range out {
			out[i] = start + int64(i)
		}
		return one(out, nil)
	case "first", "last":
		list, err := ev.elements(args[0])
		if err != nil {
			s, serr := str(0)
			if serr != nil || s == "" {
				return nil, err
			}
			r := []rune(s)
			if name == "first" {
				return one(string(r[0]), nil)
			}
			return one(string(r[len(r)-1]), nil)
		}
		if len(list) == 0 {
			return one(nil, nil)
		}
		if name == "first" {
			return one(list[0], nil)
		}
		return one(list[len(list)-1], nil)
	case "coalesce":
		for _, a := range args {
			if a != nil {
				return one(a, nil)
			}
		}
		return one(nil, nil)
	case "padleft":
		s, err := str(0)
		width, err2 := num(1)
		pad := " "
		if len(args) > 2 {
			pad, _ = str(2)
		}
		if err := errors.Join(err, err2); err != nil {
			return nil, err
		}
		for int64(len([]rune(s))) < width && pad != "" {
			s = pad + s
		}
		return one(s, nil)
	case "join":
		list, err := ev.elements(args[0])
		if err != nil {
			return nil, err
		}
		sep, err := str(1)
		if err != nil {
			return nil, err
		}
		parts := make([]string, len(list))
		for i, x := range list {
			if parts[i], err = toString(x); err != nil {
				return nil, err
			}
		}
		return one(strings.Join(parts, sep), nil)
	case "split":
		s, err1 := str(0)
		sep, err2 := str(1)
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		var out []any
		for _, p := range strings.Split(s, sep) {
			out = append(out, p)
		}
		return one(out, nil)
	case "contains":
		if len(args) < 2 {
			return nil, errors.New("missing argument")
		}
		if list, err := ev.elements(args[0]); err == nil {
			for _, x := range list {
				if equal(x, args[1]) {
					return one(true, nil)
				}
			}
			return one(false, nil)
		}
		if m, ok := args[0].(map[string]any); ok {
			key, err := str(1)
			_, found := lookupKey(m, key)
			return one(found, err)
		}
		s, err1 := str(0)
		sub, err2 := str(1)
		return one(strings.Contains(s, sub), errors.Join(err1, err2))
	case "fail":
		// Bicep's fail(): reached only when the deployment would stop.
		msg, _ := str(0)
		return nil, dynamic("fail(%q)", msg)
	case "tenant":
		return one(map[string]any{"tenantId": guidSample("tenant")}, nil)
	case "subscription":
		id := guidSample("subscription")
		return one(map[string]any{"subscriptionId": id, "id": "/subscriptions/" + id, "tenantId": guidSample("tenant")}, nil)
	case "environment":
		// Each cloud's storage suffix, the longest last.
		var out []any
		for _, suffix := range []string{"core.windows.net", "core.chinacloudapi.cn", "core.usgovcloudapi.net"} {
			out = append(out, map[string]any{"name": "AzureCloud", "suffixes": map[string]any{"storage": suffix}})
		}
		return out, nil
	}
	return nil, dynamic("%s() is not evaluated by this check", name)
}

// uniqueStringSample stands for any uniqueString() result.
const uniqueStringSample = "u7k2m4p6q8r3t"

func hash(args []any) []byte {
	h := sha256.New()
	for _, a := range args {
		fmt.Fprintf(h, "%v\x00", a)
	}
	return h.Sum(nil)
}

func guidSample(seed string) string {
	h := hex.EncodeToString(hash([]any{seed}))
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// each1 applies f to every value and gathers the results.
func (s *scope) each1(vs []any, f func(any) ([]any, error)) ([]any, error) {
	var out []any
	for _, v := range vs {
		r, err := f(v)
		if err != nil {
			return nil, err
		}
		out = append(out, r...)
	}
	return limit(out)
}

// product applies f to every combination of the lists' values.
func product(lists [][]any, f func([]any) ([]any, error)) ([]any, error) {
	combos := 1
	for _, l := range lists {
		l = dedupeValues(l)
		combos *= max(len(l), 1)
		if combos > maxAlternatives {
			return nil, dynamic("more than %d combinations of values", maxAlternatives)
		}
	}
	var out []any
	cur := make([]any, len(lists))
	var rec func(i int) error
	rec = func(i int) error {
		if i == len(lists) {
			r, err := f(append([]any(nil), cur...))
			out = append(out, r...)
			return err
		}
		for _, v := range dedupeValues(lists[i]) {
			cur[i] = v
			if err := rec(i + 1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := rec(0); err != nil {
		return nil, err
	}
	return limit(out)
}

// limit dedupes values and fails past maxAlternatives.
func limit(vs []any) ([]any, error) {
	vs = dedupeValues(vs)
	if len(vs) > maxAlternatives {
		return nil, dynamic("more than %d possible values", maxAlternatives)
	}
	return vs, nil
}

func dedupeValues(vs []any) []any {
	seen := map[any]bool{}
	var out []any
	for _, v := range vs {
		switch v.(type) {
		case string, int64, bool, nil:
			if seen[v] {
				continue
			}
			seen[v] = true
		}
		out = append(out, v)
	}
	return out
}

func equal(a, b any) bool {
	switch a.(type) {
	case string, int64, bool, nil:
		switch b.(type) {
		case string, int64, bool, nil:
			return a == b
		}
	}
	return false
}

func toString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", dynamic("%s is not a string", describe(v))
}

// normalizeJSON turns decoded JSON (and Options.Inputs) into evaluator
// values: whole numbers become int64.
func normalizeJSON(v any) any {
	switch x := v.(type) {
	case float64:
		if x == float64(int64(x)) {
			return int64(x)
		}
	case int:
		return int64(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeJSON(e)
		}
		return out
	case []map[string]any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeJSON(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalizeJSON(e)
		}
		return out
	}
	return v
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case *lazyObject:
		return "an object"
	case *lazyArray, []any:
		return "an array"
	case map[string]any:
		return "an object"
	case *symbol:
		return x.d.Kind + " " + x.d.Name
	case *moduleOutputs:
		return x.d.Name + ".outputs"
	}
	return fmt.Sprintf("%T %v", v, v)
}

func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
