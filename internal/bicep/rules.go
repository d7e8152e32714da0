package bicep

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Rule names, as they appear in a Violation.
const (
	// RuleForExpression: a for-expression where Bicep rejects it (BCP138),
	// or a property loop nested in another (BCP142).
	RuleForExpression = "for-expression"
	// RuleConditionalRead: a read of a condition-false resource or module
	// that is not behind a ternary on the same condition.
	RuleConditionalRead = "conditional-read"
	// RulePrincipalType: a role assignment whose principalType is
	// hard-coded to 'User' or 'Group', or to anything for the principal
	// running azd (AZURE_PRINCIPAL_ID).
	RulePrincipalType = "principal-type"
	// RuleExistingAPIVersion: an existing resource's API version is not a
	// stable date, or one type is read at several API versions.
	RuleExistingAPIVersion = "existing-api-version"
	// RuleLoopDeploymentName: deployment names that collide across the
	// iterations of a module loop.
	RuleLoopDeploymentName = "loop-deployment-name"
	// RuleNameLimit: a resource or deployment name that can break its
	// length or character limits.
	RuleNameLimit = "name-limit"
)

// Violation is one broken rule at a place in a Bicep file.
type Violation struct {
	Path    string // the File's Path
	Line    int
	Rule    string // one of the Rule constants
	Message string
}

// String formats the violation as "path:line: rule: message".
func (v Violation) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", v.Path, v.Line, v.Rule, v.Message)
}

// Options tunes CheckRules.
type Options struct {
	// Inputs binds parameters of the root templates (files that no other
	// file deploys as a module, like main.bicep) to worst-case values for
	// the name rule: string, int, bool, []any or map[string]any. A root
	// parameter not bound here is taken from its @allowed values, then a
	// sample as long as its @maxLength, then its default.
	Inputs map[string]any
}

// Report is what CheckRules found.
type Report struct {
	// Violations are the broken rules, sorted by path and line.
	Violations []Violation
	// Notes say what a rule could not check, such as a name too dynamic
	// to evaluate; they are not failures, but a test should show them.
	Notes []string
	// Names are the names the name rule evaluated, each at every value it
	// can take.
	Names []CheckedName
}

// CheckedName is one value a name can take.
type CheckedName struct {
	Path  string
	Line  int
	Kind  string // "storage account", ...
	Max   int    // the longest allowed
	Value string
}

// CheckRules runs every rule over the files, which should be all the
// Bicep files of one deployment (main.bicep and the modules it uses), so
// that modules can be followed and API versions compared.
func CheckRules(files []*File, opt Options) Report {
	c := &checker{files: files, opt: opt}
	for _, f := range files {
		c.forExpressions(f)
		c.conditionalReads(f)
		c.principalTypes(f)
	}
	c.existingAPIVersions()
	c.loopDeploymentNames()
	c.nameLimits()
	sort.SliceStable(c.report.Violations, func(i, j int) bool {
		a, b := c.report.Violations[i], c.report.Violations[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Line < b.Line
	})
	c.report.Violations = dedupe(c.report.Violations)
	c.report.Notes = dedupe(c.report.Notes)
	return c.report
}

type checker struct {
	files  []*File
	opt    Options
	report Report
}

func (c *checker) violate(f *File, n *Node, rule, format string, args ...any) {
	c.report.Violations = append(c.report.Violations, Violation{Path: f.Path, Line: n.Line, Rule: rule, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) note(f *File, n *Node, format string, args ...any) {
	c.report.Notes = append(c.report.Notes, fmt.Sprintf("%s:%d: %s", f.Path, n.Line, fmt.Sprintf(format, args...)))
}

func dedupe[T comparable](s []T) []T {
	seen := make(map[T]bool, len(s))
	out := s[:0]
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// ---- Rule 1: for-expressions (BCP138, BCP142) ----
//
// The compiler's ForSyntaxValidatorVisitor (Azure/bicep,
// src/Bicep.Core/Emit/ForSyntaxValidatorVisitor.cs) allows a for-expression
// only
//   - as the whole value of a resource, module, variable or output
//     declaration, or
//   - inside a resource or module, as the value of an object property that
//     is reached from the declaration through object and array literals
//     only: a function call, operator, ternary or parentheses on the way
//     (`subnets: concat([...], [for ...])`, `cond ? [for ...] : []`) is
//     BCP138, and so is a loop in a variable or output other than its
//     whole value, or one that is an array element;
//   - with at most one such property loop on the way down (BCP142).

func (c *checker) forExpressions(f *File) {
	f.Root.Walk(func(n *Node, parents []*Node) bool {
		if n.Type != "for_statement" {
			return true
		}
		if msg := forProblem(n, parents); msg != "" {
			c.violate(f, n, RuleForExpression, "%s", msg)
		}
		return true
	})
}

// forProblem explains why the for-expression n (with its ancestors) does
// not compile, or returns "".
func forProblem(n *Node, parents []*Node) string {
	const fix = "; build the array in its own `var name = [for ...]` and use the variable here"
	var decl *Node
	declAt := -1
	for i := len(parents) - 1; i >= 0; i-- {
		if _, ok := declKinds[parents[i].Type]; ok || parents[i].Type == "decorators" {
			decl, declAt = parents[i], i
			break
		}
	}
	parent := parents[len(parents)-1]
	switch {
	case decl == nil || decl.Type == "decorators":
		return "BCP138: for-expressions are not supported in this context (outside a declaration's value)"
	case decl.Type != "resource_declaration" && decl.Type != "module_declaration" &&
		decl.Type != "variable_declaration" && decl.Type != "output_declaration":
		return fmt.Sprintf("BCP138: for-expressions are not supported in a %s", strings.ReplaceAll(decl.Type, "_", " "))
	case parent == decl:
		return "" // the whole value of the declaration
	case decl.Type == "variable_declaration" || decl.Type == "output_declaration":
		return fmt.Sprintf("BCP138: for-expressions are not supported in this context: in a %s only the whole value may be a for-expression, and this one is inside %s%s",
			strings.TrimSuffix(decl.Type, "_declaration"), describeContext(parent), fix)
	case parent.Type != "object_property" || PropertyValue(parent) != n:
		return fmt.Sprintf("BCP138: for-expressions are not supported in this context: this one is inside %s, not the whole value of a property%s", describeContext(parent), fix)
	}
	// A property loop: every node between the declaration and the loop
	// must be an object or array literal (loops and conditions pass).
	loops := 1
	for i := len(parents) - 1; i > declAt; i-- {
		p := parents[i]
		switch p.Type {
		case "object", "object_property", "array", "if_statement":
		case "for_statement":
			if i > 0 && parents[i-1].Type == "object_property" && PropertyValue(parents[i-1]) == p {
				loops++
			}
		default:
			return fmt.Sprintf("BCP138: for-expressions are not supported in this context: the property is inside %s%s", describeContext(p), fix)
		}
	}
	if loops > 1 {
		return "BCP142: property value for-expressions cannot be nested; build the inner array in a variable"
	}
	return ""
}

// describeContext names the kind of node a for-expression sits in.
func describeContext(p *Node) string {
	switch p.Type {
	case "arguments":
		if call := p.Parent(); call != nil {
			if fn := call.FieldChild("function"); fn != nil {
				return "the arguments of " + fn.Text + "()"
			}
		}
		return "a function call's arguments"
	case "call_expression":
		if fn := p.FieldChild("function"); fn != nil {
			return "a call of " + fn.Text + "()"
		}
		return "a function call"
	case "array":
		return "an array literal (as an element)"
	case "ternary_expression":
		return "a ternary (?:)"
	case "binary_expression", "unary_expression":
		return "an operator expression"
	case "parenthesized_expression":
		return "parentheses"
	case "object_property":
		return "the value of property " + PropertyKey(p)
	case "for_statement":
		return "another for-expression"
	}
	return "a " + strings.ReplaceAll(p.Type, "_", " ")
}

// ---- Rule 2: reads of conditional resources and modules ----
//
// For `module X '...' = if (cond) {...}` (or a resource), ARM evaluates the
// reference() behind X.outputs.* and X.properties.* wherever it is used,
// even when X is not deployed, and the deployment fails (DeploymentNotFound
// for a module). That includes the properties and params of another
// declaration with the very same `if (cond)`: Azure/bicep#3990 shows a
// resource `if (condition)` reading `test.properties.someProp` of a
// resource with the same condition fail validation, and Azure/bicep#8022
// the same for one module reading another's outputs; the Bicep docs
// ("Conditional deployment", runtime functions) say to guard the read with
// the condition itself. So the only guard this rule accepts is a ternary on
// the same condition: `cond ? X.outputs.a : ''` (or `!cond ? '' : X...`).
// Being inside a declaration with the same condition is not enough, which
// is exactly how server.bicep failed before a6676a4 (easyAuth read
// entra.outputs.applicationId; both were `if (useEasyAuth)`).
// Every member access of X is checked (.id and .name do not call
// reference(), but they name a resource this deployment may not create).

func (c *checker) conditionalReads(f *File) {
	conds := map[string]*Decl{}
	for _, d := range f.Decls() {
		if (d.Kind == "resource" || d.Kind == "module") && d.Condition != nil && d.Loop == nil {
			conds[d.Name] = d
		}
	}
	if len(conds) == 0 {
		return
	}
	f.Root.Walk(func(n *Node, parents []*Node) bool {
		if n.Type != "member_expression" {
			return true
		}
		obj := n.FieldChild("object")
		if obj == nil || obj.Type != "identifier" {
			return true
		}
		d := conds[obj.Text]
		if d == nil || d.Node.Contains(n) || shadowed(obj.Text, parents) {
			return true
		}
		key, neg := condKey(d.Condition)
		if guarded(n, parents, key, neg) {
			return true
		}
		// Show the whole access chain, like entra.outputs.applicationId.
		read := n
		for p := read.Parent(); p != nil && read.Field == "object" &&
			(p.Type == "member_expression" || p.Type == "subscript_expression"); p = read.Parent() {
			read = p
		}
		cond := NormalizeExpr(d.Condition)
		c.violate(f, n, RuleConditionalRead,
			"%s reads %s %s, which is deployed only if (%s) (line %d), outside a ternary on that condition: ARM evaluates the read even when %s is not deployed, also inside a declaration with the same condition (Azure/bicep#3990), and the deployment fails; write `%s ? %s : <fallback>`",
			clip(read.Text), d.Kind, d.Name, cond, d.Node.Line, d.Name, cond, clip(read.Text))
		return true
	})
}

// condKey returns a condition without parentheses and leading negations,
// whitespace-normalised, and whether an odd number of `!` was stripped.
func condKey(n *Node) (key string, negated bool) {
	for {
		n = Unparen(n)
		if n != nil && n.Type == "unary_expression" && n.HasToken("!") {
			negated = !negated
			n = n.FieldChild("argument")
			continue
		}
		return NormalizeExpr(n), negated
	}
}

// guarded reports whether n sits in the branch of a ternary that runs only
// when the condition (key, neg) holds.
func guarded(n *Node, parents []*Node, key string, neg bool) bool {
	child := n
	for i := len(parents) - 1; i >= 0; i-- {
		p := parents[i]
		if p.Type == "ternary_expression" {
			if k, ng := condKey(p.FieldChild("condition")); k == key {
				switch child.Field {
				case "consequence":
					if ng == neg {
						return true
					}
				case "alternative":
					if ng != neg {
						return true
					}
				}
			}
		}
		child = p
	}
	return false
}

// shadowed reports whether name is bound by an enclosing loop or lambda.
func shadowed(name string, parents []*Node) bool {
	for _, p := range parents {
		switch p.Type {
		case "for_statement":
			vars, _, _ := ForParts(p)
			for _, v := range vars {
				if v == name {
					return true
				}
			}
		case "lambda_expression":
			if len(p.Children) > 0 {
				for _, id := range identifiers(p.Children[0]) {
					if id == name {
						return true
					}
				}
			}
		}
	}
	return false
}

// identifiers returns the identifiers (variable references, not property
// names) in n, in source order.
func identifiers(n *Node) []string {
	var out []string
	n.Walk(func(m *Node, _ []*Node) bool {
		if m.Type == "identifier" {
			// An object key is an identifier too: skip it.
			if p := m.Parent(); p != nil && p.Type == "object_property" && p.Children[0] == m {
				return false
			}
			out = append(out, m.Text)
		}
		return true
	})
	return out
}

// ---- Rule 3: hard-coded principal types ----
//
// azd passes the signed-in principal's id and type as AZURE_PRINCIPAL_ID
// and AZURE_PRINCIPAL_TYPE: User after `azd auth login`, ServicePrincipal
// after `azd auth login --client-id`. A role assignment that hard-codes the
// type fails with UnmatchedPrincipalType under the other login. The rule
// flags
//   - a string literal other than 'ServicePrincipal' as a principalType,
//     or as the `type` of an object in a variable that flows into a
//     principalType (as rbac.bicep did: `principals = concat([...],
//     [{ id: userPrincipalId, type: 'User' }])`, then `principalType:
//     p.type` in a loop over principals);
//   - also 'ServicePrincipal' there when the id next to it comes from
//     AZURE_PRINCIPAL_ID (followed through module parameters up to the
//     root template's <name>.parameters.json).
// 'ServicePrincipal' is otherwise allowed: it is the one type a template
// can know, since managed identities and app registrations are service
// principals.

// azdPrincipalID is the azd variable with the signed-in principal's id.
const azdPrincipalID = "AZURE_PRINCIPAL_ID"

func (c *checker) principalTypes(f *File) {
	vars := map[string]*Decl{}
	for _, d := range f.Decls() {
		if d.Kind == "var" {
			vars[d.Name] = d
		}
	}
	// fromAzd reports whether the id property of obj comes from azd's
	// signed-in principal.
	fromAzd := func(obj *Node, keys ...string) bool {
		for _, k := range keys {
			if id := Property(obj, k); id != nil && c.fromEnv(f, id, azdPrincipalID, 0) {
				return true
			}
		}
		return false
	}
	flagged := map[*Node]bool{}
	f.Root.Walk(func(n *Node, parents []*Node) bool {
		if n.Type != "object_property" || PropertyKey(n) != "principalType" {
			return true
		}
		v := PropertyValue(n)
		if s, ok := StringLiteral(v); ok {
			switch {
			case s != "ServicePrincipal":
				c.violate(f, v, RulePrincipalType, "principalType is hard-coded to '%s': the principal running azd is a User or a ServicePrincipal depending on the login; pass AZURE_PRINCIPAL_TYPE through a parameter (main.parameters.json: \"${AZURE_PRINCIPAL_TYPE=User}\")", s)
			case fromAzd(n.Parent(), "principalId"):
				c.violate(f, v, RulePrincipalType, "principalType is hard-coded to 'ServicePrincipal' for a principalId that comes from %s, which is a User after `azd auth login`: pass AZURE_PRINCIPAL_TYPE through a parameter", azdPrincipalID)
			}
			return true
		}
		// Where does a non-literal principalType come from?
		for _, name := range principalTypeSources(v, parents, vars) {
			d := vars[name]
			d.Value.Walk(func(m *Node, _ []*Node) bool {
				if m.Type != "object_property" || PropertyKey(m) != "type" || flagged[m] {
					return true
				}
				s, ok := StringLiteral(PropertyValue(m))
				switch {
				case !ok:
				case s != "ServicePrincipal":
					flagged[m] = true
					c.violate(f, m, RulePrincipalType, "type '%s' in var %s reaches principalType at line %d: the principal running azd is a User or a ServicePrincipal depending on the login; take the type from a parameter that azd sets from AZURE_PRINCIPAL_TYPE", s, d.Name, n.Line)
				case fromAzd(m.Parent(), "id", "principalId"):
					flagged[m] = true
					c.violate(f, m, RulePrincipalType, "type 'ServicePrincipal' in var %s reaches principalType at line %d for an id from %s, which is a User after `azd auth login`: take the type from a parameter that azd sets from AZURE_PRINCIPAL_TYPE", d.Name, n.Line, azdPrincipalID)
				}
				return true
			})
		}
		return true
	})
}

// fromEnv reports whether the expression n of file f can take its value
// from the azd environment variable env: through variables, ternary
// branches and module parameters, up to a root template's parameters file.
func (c *checker) fromEnv(f *File, n *Node, env string, depth int) bool {
	n = Unparen(n)
	if n == nil || depth > 16 {
		return false
	}
	switch n.Type {
	case "ternary_expression":
		return c.fromEnv(f, n.FieldChild("consequence"), env, depth+1) || c.fromEnv(f, n.FieldChild("alternative"), env, depth+1)
	case "binary_expression":
		if n.HasToken("??") {
			return c.fromEnv(f, n.FieldChild("left"), env, depth+1) || c.fromEnv(f, n.FieldChild("right"), env, depth+1)
		}
		return false
	case "identifier":
	default:
		return false
	}
	d := f.Decl(n.Text)
	if d == nil {
		return false
	}
	switch d.Kind {
	case "var":
		return d.Value != nil && c.fromEnv(f, d.Value, env, depth+1)
	case "param":
	default:
		return false
	}
	callers := c.callers(f)
	if len(callers) == 0 {
		return c.parametersFileEnv(f, d.Name)[env]
	}
	for _, call := range callers {
		if arg := Property(call.d.Params(), d.Name); arg != nil && c.fromEnv(call.f, arg, env, depth+1) {
			return true
		}
	}
	return false
}

// caller is a module declaration of file f.
type caller struct {
	f *File
	d *Decl
}

// callers returns the module declarations that deploy file t.
func (c *checker) callers(t *File) []caller {
	var out []caller
	for _, f := range c.files {
		for _, d := range f.Modules() {
			if c.moduleFile(f, d) == t {
				out = append(out, caller{f, d})
			}
		}
	}
	return out
}

var envRefRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(=[^}]*)?\}`)

// parametersFileEnv returns the azd variables that <root>.parameters.json
// (azd's main.parameters.json) puts into the root template's parameter.
func (c *checker) parametersFileEnv(root *File, param string) map[string]bool {
	p := strings.TrimSuffix(root.Abs, ".bicep") + ".parameters.json"
	b, err := os.ReadFile(p)
	if err != nil {
		return nil
	}
	var doc struct {
		Parameters map[string]struct {
			Value any `json:"value"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		c.report.Notes = append(c.report.Notes, fmt.Sprintf("%s: not read: %v", filepath.Base(p), err))
		return nil
	}
	out := map[string]bool{}
	if v, ok := doc.Parameters[param].Value.(string); ok {
		for _, m := range envRefRE.FindAllStringSubmatch(v, -1) {
			out[m[1]] = true
		}
	}
	return out
}

// principalTypeSources returns the variables whose contents can reach the
// expression v (like `p.type` in a loop over a variable, or
// `identityPrincipal[0].type`), following variables that use variables.
func principalTypeSources(v *Node, parents []*Node, vars map[string]*Decl) []string {
	root := Unparen(v)
	for root != nil && (root.Type == "member_expression" || root.Type == "subscript_expression") {
		root = Unparen(root.FieldChild("object"))
	}
	if root == nil || root.Type != "identifier" {
		return nil
	}
	start := []string{root.Text}
	// A loop variable: its values come from the loop's collection.
loops:
	for i := len(parents) - 1; i >= 0; i-- {
		if parents[i].Type != "for_statement" {
			continue
		}
		loopVars, coll, _ := ForParts(parents[i])
		for _, lv := range loopVars {
			if lv == root.Text && coll != nil {
				start = identifiers(coll)
				break loops
			}
		}
	}
	seen := map[string]bool{}
	var out []string
	var visit func(name string)
	visit = func(name string) {
		d := vars[name]
		if d == nil || seen[name] || d.Value == nil {
			return
		}
		seen[name] = true
		out = append(out, name)
		for _, id := range identifiers(d.Value) {
			visit(id)
		}
	}
	for _, s := range start {
		visit(s)
	}
	return out
}

// ---- Rule 4: API versions of existing resources ----
//
// An `existing` resource only reads, so its API version should be a stable
// (non-preview) one, well-formed, and the same for one type across infra/
// (two versions of one type read differently shaped properties).

var apiVersionRE = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2})(-preview)?$`)

func (c *checker) existingAPIVersions() {
	type use struct {
		f       *File
		d       *Decl
		version string
	}
	byType := map[string][]use{}
	var types []string
	for _, f := range c.files {
		for _, d := range f.Resources() {
			if !d.Existing {
				continue
			}
			at := d.Node.Child("string")
			typ, version, ok := strings.Cut(d.Source, "@")
			if !ok || typ == "" {
				c.violate(f, at, RuleExistingAPIVersion, "resource %s: type %q has no @<api-version>", d.Name, d.Source)
				continue
			}
			if msg := apiVersionProblem(typ, version); msg != "" {
				c.violate(f, at, RuleExistingAPIVersion, "existing %s: %s", d.Source, msg)
			}
			key := strings.ToLower(typ)
			if _, ok := byType[key]; !ok {
				types = append(types, key)
			}
			byType[key] = append(byType[key], use{f, d, version})
		}
	}
	for _, key := range types {
		uses := byType[key]
		for _, u := range uses {
			for _, o := range uses {
				if o.version != u.version {
					c.violate(u.f, u.d.Node.Child("string"), RuleExistingAPIVersion,
						"existing %s is read at %s here but at %s in %s:%d: use one API version for a type",
						u.d.Source[:strings.Index(u.d.Source, "@")], u.version, o.version, o.f.Path, o.d.Node.Line)
					break
				}
			}
		}
	}
}

// apiVersionProblem checks one API version of a resource type.
func apiVersionProblem(typ, version string) string {
	if strings.HasPrefix(strings.ToLower(typ), "microsoft.graph/") {
		// Microsoft Graph Bicep types are versioned v1.0 or beta.
		switch version {
		case "v1.0":
			return ""
		case "beta":
			return "the Graph beta API is a preview; use v1.0"
		}
		return fmt.Sprintf("API version %q is neither v1.0 nor beta", version)
	}
	m := apiVersionRE.FindStringSubmatch(version)
	if m == nil {
		return fmt.Sprintf("API version %q is not yyyy-mm-dd (with an optional -preview)", version)
	}
	if _, err := time.Parse("2006-01-02", m[1]); err != nil {
		return fmt.Sprintf("API version %q is not a date", version)
	}
	if m[2] != "" {
		return fmt.Sprintf("API version %s is a preview: read existing resources with a stable version", version)
	}
	return ""
}

// ---- Rule 5: deployment names in module loops ----
//
// Deployment names are unique per resource group (or subscription): two
// deployments with one name in the same scope overwrite each other, and
// the deployment that loses is reported as canceled or its outputs are the
// other's. So a module declared with a loop needs a name that uses the loop
// item or index, and every module inside a file that is deployed once per
// loop iteration (or inside a file that such a file deploys) needs a name
// that depends on one of that file's parameters.

func (c *checker) loopDeploymentNames() {
	multi := map[string]string{} // file Abs -> where it is looped, "main.bicep:12"
	var queue []string
	for _, f := range c.files {
		for _, d := range f.Modules() {
			if d.Loop == nil {
				continue
			}
			vars, _, _ := ForParts(d.Loop)
			name := d.Property("name")
			switch {
			case name == nil:
				c.violate(f, d.Node, RuleLoopDeploymentName, "module %s is deployed in a loop without a name: give it one that uses %s", d.Name, strings.Join(vars, " or "))
			case !usesAny(name, vars):
				c.violate(f, name, RuleLoopDeploymentName, "module %s is deployed in a loop, but its name %s uses neither %s: every iteration gets the same deployment name", d.Name, strings.TrimSpace(name.Text), strings.Join(vars, " nor "))
			}
			if t := c.moduleFile(f, d); t != nil && multi[t.Abs] == "" {
				multi[t.Abs] = fmt.Sprintf("%s:%d", f.Path, d.Node.Line)
				queue = append(queue, t.Abs)
			}
		}
	}
	for len(queue) > 0 {
		abs := queue[0]
		queue = queue[1:]
		f := c.fileByAbs(abs)
		params := map[string]bool{}
		vars := map[string]*Decl{}
		for _, d := range f.Decls() {
			switch d.Kind {
			case "param":
				params[d.Name] = true
			case "var":
				vars[d.Name] = d
			}
		}
		for _, d := range f.Modules() {
			if d.Loop == nil { // loops are checked above
				name := d.Property("name")
				switch {
				case name == nil:
					c.violate(f, d.Node, RuleLoopDeploymentName, "module %s has no name, but this file is deployed once per iteration of the loop at %s: give it a name that depends on a parameter", d.Name, multi[abs])
				case !dependsOnParam(name, params, vars):
					c.violate(f, name, RuleLoopDeploymentName, "module %s is named %s in every instance of this file, which is deployed once per iteration of the loop at %s: make the name depend on a parameter (like '...-${serverName}')", d.Name, strings.TrimSpace(name.Text), multi[abs])
				}
			}
			if t := c.moduleFile(f, d); t != nil && multi[t.Abs] == "" {
				multi[t.Abs] = multi[abs]
				queue = append(queue, t.Abs)
			}
		}
	}
}

// usesAny reports whether n refers to one of the names.
func usesAny(n *Node, names []string) bool {
	for _, id := range identifiers(n) {
		for _, v := range names {
			if id == v {
				return true
			}
		}
	}
	return false
}

// dependsOnParam reports whether n uses a parameter, directly or through
// variables.
func dependsOnParam(n *Node, params map[string]bool, vars map[string]*Decl) bool {
	seen := map[string]bool{}
	var uses func(n *Node) bool
	uses = func(n *Node) bool {
		for _, id := range identifiers(n) {
			if params[id] {
				return true
			}
			if d := vars[id]; d != nil && !seen[id] && d.Value != nil {
				seen[id] = true
				if uses(d.Value) {
					return true
				}
			}
		}
		return false
	}
	return uses(n)
}

// moduleFile returns the parsed file a local module declaration deploys,
// or nil.
func (c *checker) moduleFile(f *File, d *Decl) *File {
	if !d.IsLocalModule() || d.Source == "" {
		return nil
	}
	return c.fileByAbs(filepath.Join(filepath.Dir(f.Abs), filepath.FromSlash(d.Source)))
}

func (c *checker) fileByAbs(abs string) *File {
	abs = filepath.Clean(abs)
	for _, f := range c.files {
		if filepath.Clean(f.Abs) == abs {
			return f
		}
	}
	return nil
}
