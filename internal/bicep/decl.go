package bicep

import (
	"strings"
)

// Decl is a top-level declaration of a Bicep file, or a nested resource,
// with its parts picked out of the syntax tree.
type Decl struct {
	// Kind is "param", "var", "output", "resource", "module", "type",
	// "func", "metadata" or "assert".
	Kind string
	// Name is the declared identifier.
	Name string
	// Node is the declaration node (variable_declaration, ...).
	Node *Node
	// Source is, for a module, its path or registry reference and, for a
	// resource, its type and API version ("Microsoft.Web/sites@2023-12-01"),
	// unquoted.
	Source string
	// Existing reports a resource declared with the existing keyword.
	Existing bool
	// Value is the value: the expression of a var, output or param default,
	// or the whole value of a resource or module (an object, if_statement or
	// for_statement).
	Value *Node
	// Loop is the for_statement when Value is a for-expression.
	Loop *Node
	// Condition is the expression of the `if (...)` of a resource or module
	// (inside the loop, if there is one), without its parentheses.
	Condition *Node
	// Body is the object body of a resource or module, under any loop and
	// condition.
	Body *Node
	// Decorators are the decorator nodes written before the declaration.
	Decorators []*Node
}

var declKinds = map[string]string{
	"parameter_declaration": "param",
	"variable_declaration":  "var",
	"output_declaration":    "output",
	"resource_declaration":  "resource",
	"module_declaration":    "module",
	"type_declaration":      "type",
	"user_defined_function": "func",
	"metadata_declaration":  "metadata",
	"assert_statement":      "assert",
}

// Decls returns the file's top-level declarations in source order, each
// with the decorators written before it.
func (f *File) Decls() []*Decl {
	var out []*Decl
	var decorators []*Node
	for _, c := range f.Root.Children {
		if c.Type == "decorators" {
			decorators = append(decorators, c.Children...)
			continue
		}
		if d := DeclOf(c); d != nil {
			d.Decorators = decorators
			out = append(out, d)
		}
		decorators = nil
	}
	return out
}

// Modules returns the file's module declarations.
func (f *File) Modules() []*Decl { return f.declsOf("module") }

// Resources returns the file's resource declarations, nested ones included.
func (f *File) Resources() []*Decl {
	var out []*Decl
	f.Root.Walk(func(n *Node, _ []*Node) bool {
		if n.Type == "resource_declaration" {
			out = append(out, DeclOf(n))
		}
		return true
	})
	return out
}

// Decl returns the top-level declaration named name, or nil.
func (f *File) Decl(name string) *Decl {
	for _, d := range f.Decls() {
		if d.Name == name {
			return d
		}
	}
	return nil
}

func (f *File) declsOf(kind string) []*Decl {
	var out []*Decl
	for _, d := range f.Decls() {
		if d.Kind == kind {
			out = append(out, d)
		}
	}
	return out
}

// DeclOf picks apart a declaration node; it returns nil for other nodes.
func DeclOf(n *Node) *Decl {
	kind, ok := declKinds[n.Type]
	if !ok {
		return nil
	}
	d := &Decl{Kind: kind, Node: n}
	if id := n.Child("identifier"); id != nil {
		d.Name = id.Text
	}
	if n.Type == "user_defined_function" || n.Type == "assert_statement" {
		if id := n.FieldChild("name"); id != nil {
			d.Name = id.Text
		}
	}
	switch kind {
	case "resource", "module":
		if s := n.Child("string"); s != nil {
			d.Source, _ = StringLiteral(s)
		}
		d.Existing = n.HasToken("existing")
		if len(n.Children) > 0 {
			d.Value = n.Children[len(n.Children)-1]
		}
		v := d.Value
		if v != nil && v.Type == "for_statement" {
			d.Loop = v
			_, _, v = ForParts(v)
		}
		if v != nil && v.Type == "if_statement" {
			d.Condition = IfCondition(v)
			v = v.Child("object")
		}
		if v != nil && v.Type == "object" {
			d.Body = v
		}
	case "var", "output", "metadata", "assert":
		if len(n.Children) > 1 {
			d.Value = n.Children[len(n.Children)-1]
		}
	case "param":
		// param name type [= default]
		if len(n.Children) > 2 {
			d.Value = n.Children[len(n.Children)-1]
		}
	}
	if d.Value != nil && d.Value.Type == "for_statement" {
		d.Loop = d.Value
	}
	return d
}

// Property returns the value of the body's property key, or nil.
func (d *Decl) Property(key string) *Node {
	if d.Body == nil {
		return nil
	}
	return Property(d.Body, key)
}

// Params returns a module's params object, or nil.
func (d *Decl) Params() *Node {
	p := d.Property("params")
	if p == nil || p.Type != "object" {
		return nil
	}
	return p
}

// Decorator returns the arguments node of the decorator @name(...), or nil.
func (d *Decl) Decorator(name string) *Node {
	for _, dec := range d.Decorators {
		call := dec.Child("call_expression")
		if call == nil {
			continue
		}
		if fn := call.FieldChild("function"); fn != nil && fn.Text == name {
			return call.FieldChild("arguments")
		}
	}
	return nil
}

// IsLocalModule reports whether a module's source is a file path rather
// than a registry or template spec reference.
func (d *Decl) IsLocalModule() bool {
	return d.Kind == "module" && !strings.HasPrefix(d.Source, "br:") && !strings.HasPrefix(d.Source, "br/") &&
		!strings.HasPrefix(d.Source, "ts:") && !strings.HasPrefix(d.Source, "ts/")
}

// Properties returns the object_property children of an object node.
func Properties(obj *Node) []*Node {
	if obj == nil {
		return nil
	}
	var out []*Node
	for _, c := range obj.Children {
		if c.Type == "object_property" {
			out = append(out, c)
		}
	}
	return out
}

// Property returns the value of the property key of an object node, or nil.
func Property(obj *Node, key string) *Node {
	for _, p := range Properties(obj) {
		if PropertyKey(p) == key {
			return PropertyValue(p)
		}
	}
	return nil
}

// PropertyKey returns an object_property's key ("" for a nested resource).
func PropertyKey(prop *Node) string {
	if len(prop.Children) == 0 {
		return ""
	}
	k := prop.Children[0]
	switch k.Type {
	case "identifier":
		return k.Text
	case "compatible_identifier":
		return strings.TrimSuffix(k.Text, "?")
	case "string":
		s, _ := StringLiteral(k)
		return s
	case "resource_declaration":
		return ""
	}
	return k.Text
}

// PropertyValue returns an object_property's value node.
func PropertyValue(prop *Node) *Node {
	if len(prop.Children) < 2 {
		return nil
	}
	return prop.Children[len(prop.Children)-1]
}

// IfCondition returns the condition expression of an if_statement, without
// its parentheses.
func IfCondition(ifStmt *Node) *Node {
	p := ifStmt.Child("parenthesized_expression")
	if p == nil || len(p.Children) == 0 {
		return nil
	}
	return p.Children[0]
}

// ForParts returns the loop variables of a for_statement (item, then index
// if named), the collection it iterates over and its body.
func ForParts(forStmt *Node) (vars []string, collection, body *Node) {
	for _, c := range forStmt.Children {
		switch {
		case c.Field == "initializer":
			vars = append(vars, c.Text)
		case c.Field == "body":
			body = c
		case c.Type == "for_loop_parameters":
			for _, v := range c.Children {
				vars = append(vars, v.Text)
			}
		default:
			if collection == nil {
				collection = c
			}
		}
	}
	return vars, collection, body
}

// StringLiteral returns the value of a string node without interpolation,
// escapes decoded; ok is false for an interpolated string or another node.
func StringLiteral(n *Node) (s string, ok bool) {
	if n == nil || n.Type != "string" {
		return "", false
	}
	parts, ok := stringParts(n)
	if !ok {
		return "", false
	}
	var b strings.Builder
	for _, p := range parts {
		if p.expr != nil {
			return "", false
		}
		b.WriteString(p.lit)
	}
	return b.String(), true
}

// strPart is a piece of a string: literal text or an interpolation.
type strPart struct {
	lit  string
	expr *Node
}

// stringParts splits a string node into literal text (escapes decoded) and
// interpolated expressions.
func stringParts(n *Node) ([]strPart, bool) {
	text := n.Text
	if strings.HasPrefix(text, "'''") && strings.HasSuffix(text, "'''") && len(text) >= 6 {
		return []strPart{{lit: text[3 : len(text)-3]}}, true
	}
	if len(text) < 2 || text[0] != '\'' || text[len(text)-1] != '\'' {
		return nil, false
	}
	body := text[1 : len(text)-1]
	var interps []*Node
	for _, c := range n.Children {
		if c.Type == "interpolation" {
			interps = append(interps, c)
		}
	}
	var parts []strPart
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, strPart{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(body); {
		switch {
		case body[i] == '\\' && i+1 < len(body):
			switch e := body[i+1]; e {
			case 'n':
				lit.WriteByte('\n')
			case 'r':
				lit.WriteByte('\r')
			case 't':
				lit.WriteByte('\t')
			case 'u':
				// \u{...}: keep as written; names never use it.
				lit.WriteString(`\u`)
			default:
				lit.WriteByte(e)
			}
			i += 2
		case strings.HasPrefix(body[i:], "${") && len(interps) > 0 && strings.HasPrefix(body[i:], interps[0].Text):
			flush()
			ip := interps[0]
			interps = interps[1:]
			if len(ip.Children) > 0 {
				parts = append(parts, strPart{expr: ip.Children[0]})
			}
			i += len(ip.Text)
		default:
			lit.WriteByte(body[i])
			i++
		}
	}
	flush()
	if len(interps) > 0 {
		return nil, false
	}
	return parts, true
}

// Unparen strips parentheses around an expression.
func Unparen(n *Node) *Node {
	for n != nil && n.Type == "parenthesized_expression" && len(n.Children) == 1 {
		n = n.Children[0]
	}
	return n
}

// NormalizeExpr returns an expression's text without whitespace outside
// string literals and without enclosing parentheses, for comparing two
// expressions written differently.
func NormalizeExpr(n *Node) string {
	n = Unparen(n)
	if n == nil {
		return ""
	}
	var b strings.Builder
	inString := false
	t := n.Text
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case inString && c == '\\' && i+1 < len(t):
			b.WriteByte(c)
			b.WriteByte(t[i+1])
			i++
			continue
		case c == '\'':
			inString = !inString
		case !inString && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
