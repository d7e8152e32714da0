package bicep

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mcpfunc/mcpfunc/internal/npmclients"
)

// skipNodeEnv, set to 1, skips the tests that need Node (the same switch
// as the MCP client tests).
const skipNodeEnv = "MCP_SKIP_NODE_CLIENTS"

// parse parses files under root, skipping the test when skipNodeEnv=1 and
// failing it, saying what to install, when Node is missing.
func parse(t *testing.T, root string, paths ...string) []*File {
	t.Helper()
	files, err := parseErr(t, root, paths...)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return files
}

func parseErr(t *testing.T, root string, paths ...string) ([]*File, error) {
	t.Helper()
	if os.Getenv(skipNodeEnv) == "1" {
		t.Skipf("%s=1: not parsing Bicep with tree-sitter-bicep (it runs on the Node in clients/)", skipNodeEnv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	files, err := Parse(ctx, root, paths...)
	if err != nil && !errors.As(err, new(*SyntaxError)) && strings.Contains(err.Error(), "not on PATH") {
		t.Fatalf("%v\n%s", err, npmclients.Hint)
	}
	t.Logf("parsed %d files in %s", len(paths), time.Since(start).Round(time.Millisecond))
	return files, err
}

func TestParse(t *testing.T) {
	files := parse(t, "testdata/parse", "extension.bicep")
	f := files[0]
	if f.Path != "extension.bicep" || f.Root.Type != "infrastructure" {
		t.Fatalf("file %q root %q", f.Path, f.Root.Type)
	}
	decls := f.Decls()
	var kinds []string
	for _, d := range decls {
		kinds = append(kinds, d.Kind+" "+d.Name)
	}
	if got, want := strings.Join(kinds, ", "), "param name, var greeting, resource app, resource site, module loop"; got != want {
		t.Fatalf("declarations: %s, want %s", got, want)
	}

	name := decls[0]
	if args := name.Decorator("maxLength"); args == nil || args.Children[0].Text != "10" {
		t.Errorf("@maxLength of param name: %v", args)
	}
	if name.Value == nil || name.Value.Text != "'x'" || name.Node.Line != 6 {
		t.Errorf("param name: default %v, line %d", name.Value, name.Node.Line)
	}

	greeting := decls[1]
	parts, ok := stringParts(greeting.Value)
	if !ok || len(parts) != 3 || parts[0].lit != "it's " || parts[1].expr == nil || parts[1].expr.Text != "name" || parts[2].lit != " ${literal}" {
		t.Errorf("string parts of %s: %+v", greeting.Value.Text, parts)
	}

	app, site := decls[2], decls[3]
	if app.Source != "Microsoft.Graph/applications@v1.0" || app.Existing || app.Property("uniqueName").Text != "name" {
		t.Errorf("resource app: %+v", app)
	}
	if !site.Existing || site.Source != "Microsoft.Web/sites@2023-12-01" {
		t.Errorf("resource site: existing %v, source %q", site.Existing, site.Source)
	}

	loop := decls[4]
	vars, coll, _ := ForParts(loop.Loop)
	if loop.Loop == nil || strings.Join(vars, ",") != "s,i" || coll.Text != "[1, 2]" {
		t.Errorf("module loop: vars %v, collection %v", vars, coll)
	}
	if loop.Condition == nil || NormalizeExpr(loop.Condition) != "s>1" || loop.Body == nil {
		t.Errorf("module loop: condition %v, body %v", loop.Condition, loop.Body)
	}
	if p := Property(loop.Params(), "n"); p == nil || p.Text != "s" || p.Line != 23 {
		t.Errorf("module loop params.n = %+v", p)
	}
	if s, ok := StringLiteral(loop.Property("name")); ok {
		t.Errorf("interpolated name read as literal %q", s)
	}
	if !loop.IsLocalModule() {
		t.Error("app/x.bicep is a local module")
	}

	// Walk visits in source order with the ancestors.
	var seen []string
	f.Root.Walk(func(n *Node, parents []*Node) bool {
		if n.Type == "binary_expression" {
			seen = append(seen, n.Text+" under "+parents[len(parents)-1].Type)
			if !n.HasToken(">") {
				t.Errorf("operator of %s: tokens %v", n.Text, n.Tokens)
			}
		}
		return n.Type != "object" // not into objects
	})
	if strings.Join(seen, ";") != "s > 1 under parenthesized_expression" {
		t.Errorf("Walk saw %v", seen)
	}
	for _, c := range f.Root.Children {
		if c.Parent() != f.Root || !f.Root.Contains(c.Children[0]) {
			t.Fatal("parent links")
		}
	}
}

func TestParseSyntaxError(t *testing.T) {
	_, err := parseErr(t, "testdata/parse", "broken.bicep", "extension.bicep")
	var syntax *SyntaxError
	if !errors.As(err, &syntax) {
		t.Fatalf("Parse(broken.bicep) = %v, want a *SyntaxError", err)
	}
	if len(syntax.Problems) == 0 || !strings.HasPrefix(syntax.Problems[0], "broken.bicep:3: ") {
		t.Errorf("problems %q, want one at broken.bicep:3", syntax.Problems)
	}
	for _, p := range syntax.Problems {
		if strings.HasPrefix(p, "extension.bicep") {
			t.Errorf("extension.bicep parses, but: %s", p)
		}
	}
}

func TestParseMissingFile(t *testing.T) {
	if _, err := Parse(context.Background(), "testdata/parse", "nope.bicep"); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Parse(nope.bicep) = %v, want a not-exist error", err)
	}
}

// tree prints a node as an S-expression of types and field names.
func tree(n *Node) string {
	var b strings.Builder
	if n.Field != "" {
		b.WriteString(n.Field + ": ")
	}
	b.WriteString("(" + n.Type)
	for _, c := range n.Children {
		b.WriteString(" " + tree(c))
	}
	b.WriteString(")")
	return b.String()
}

// TestParsePostfixPrecedence checks that member access and indexing bind
// tighter than operators (tree-sitter-bicep 1.1.0 has it the other way).
func TestParsePostfixPrecedence(t *testing.T) {
	cases := []struct{ expr, want, text string }{
		{"!c.d", "(unary_expression argument: (member_expression object: (identifier) property: (property_identifier)))", "c.d"},
		{"a ? b : c.d.e", "(ternary_expression condition: (identifier) consequence: (identifier) alternative: (member_expression object: (member_expression object: (identifier) property: (property_identifier)) property: (property_identifier)))", "c.d.e"},
		{"a + !b[0].c", "(binary_expression left: (identifier) right: (unary_expression argument: (member_expression object: (subscript_expression object: (identifier) index: (number)) property: (property_identifier))))", "b[0].c"},
		{"a || b.c ? d : e", "(ternary_expression condition: (binary_expression left: (identifier) right: (member_expression object: (identifier) property: (property_identifier))) consequence: (identifier) alternative: (identifier))", "b.c"},
		{"map(l, i => i.name)", "(call_expression function: (identifier) arguments: (arguments (identifier) (lambda_expression (identifier) (member_expression object: (identifier) property: (property_identifier)))))", "i.name"},
		{"c.d ? a.b : e.f", "(ternary_expression condition: (member_expression object: (identifier) property: (property_identifier)) consequence: (member_expression object: (identifier) property: (property_identifier)) alternative: (member_expression object: (identifier) property: (property_identifier)))", "e.f"},
	}
	dir := t.TempDir()
	var src strings.Builder
	for _, c := range cases {
		src.WriteString("var x = " + c.expr + "\n")
	}
	if err := os.WriteFile(dir+"/p.bicep", []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	f := parse(t, dir, "p.bicep")[0]
	for i, c := range cases {
		d := f.Decls()[i]
		if got := tree(d.Value); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.expr, got, c.want)
		}
		if d.Value.Text != c.expr {
			t.Errorf("%s: text %q", c.expr, d.Value.Text)
		}
		// The rightmost whole member access has the right text.
		var last *Node
		d.Value.Walk(func(n *Node, _ []*Node) bool {
			if n.Type == "member_expression" {
				last = n
				return false
			}
			return true
		})
		if last == nil || last.Text != c.text || last.Parent() == nil {
			t.Errorf("%s: last member access %v, want text %q", c.expr, last, c.text)
		}
	}
}
