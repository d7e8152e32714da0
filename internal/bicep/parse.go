// Package bicep parses the Bicep files under infra/ with a real Bicep
// grammar (tree-sitter-bicep, run by the pinned Node in clients/) and checks
// them against compiler and Azure Resource Manager rules that a template
// like ours trips over at deploy time: for-expressions where Bicep rejects
// them (BCP138), reads of a condition-false module's outputs, hard-coded
// principal types, API versions of existing resources, deployment names in
// loops, and name-length limits (see Check).
//
// Parse runs one Node process for all files and returns their syntax trees;
// the rules work on those trees. Nothing here needs Azure or the Bicep CLI.
package bicep

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/mcpfunc/mcpfunc/internal/npmclients"
)

//go:embed dump.cjs
var dumpScript string

// File is one parsed Bicep file.
type File struct {
	// Path is the file's path as given to Parse (relative to its root, or
	// absolute), with forward slashes.
	Path string
	// Abs is the file's absolute path.
	Abs string
	// Root is the tree-sitter node of type "infrastructure".
	Root *Node
}

// Node is a named node of a tree-sitter-bicep syntax tree. Comments are left
// out of the tree.
type Node struct {
	// Type is the tree-sitter node type: "module_declaration",
	// "object_property", "for_statement", "identifier", ...
	Type string `json:"t"`
	// Field is the node's field name in its parent, if any ("function",
	// "arguments", "initializer", "body", "condition", ...).
	Field string `json:"f,omitempty"`
	// Text is the node's source text.
	Text string `json:"x"`
	// Line is the 1-based line the node starts on.
	Line int `json:"l"`
	// Children are the named children, comments left out.
	Children []*Node `json:"c,omitempty"`
	// Tokens are the anonymous children in order: keywords and punctuation
	// such as "existing", "!", "?", "==" (the operator of a
	// unary_expression or binary_expression is among them).
	Tokens []string `json:"k,omitempty"`

	parent *Node
}

// Parent returns the node's parent, or nil for the root.
func (n *Node) Parent() *Node { return n.parent }

// Walk calls fn for n and every node below it, depth first in source order.
// parents holds the ancestors of the node, from the root down to its parent;
// fn must not keep or modify it. When fn returns false, Walk does not descend
// into that node's children.
func (n *Node) Walk(fn func(n *Node, parents []*Node) bool) {
	var walk func(n *Node, parents []*Node)
	walk = func(n *Node, parents []*Node) {
		if !fn(n, parents) {
			return
		}
		parents = append(parents, n)
		for _, c := range n.Children {
			walk(c, parents)
		}
	}
	walk(n, nil)
}

// Child returns the first child of the given type, or nil.
func (n *Node) Child(typ string) *Node {
	for _, c := range n.Children {
		if c.Type == typ {
			return c
		}
	}
	return nil
}

// FieldChild returns the child with the given field name, or nil.
func (n *Node) FieldChild(field string) *Node {
	for _, c := range n.Children {
		if c.Field == field {
			return c
		}
	}
	return nil
}

// HasToken reports whether tok is among the node's anonymous children.
func (n *Node) HasToken(tok string) bool {
	for _, t := range n.Tokens {
		if t == tok {
			return true
		}
	}
	return false
}

// Contains reports whether m is n or below n.
func (n *Node) Contains(m *Node) bool {
	for ; m != nil; m = m.parent {
		if m == n {
			return true
		}
	}
	return false
}

func (n *Node) setParents() {
	for _, c := range n.Children {
		c.parent = n
		c.setParents()
	}
}

// reassociate fixes a precedence error of tree-sitter-bicep 1.1.0: it
// binds member access, indexing and `::` more loosely than the operators,
// so `!a.b` parses as `(!a).b`, `c ? x : y.z` as `(c ? x : y).z` and
// `a + b.c` as `(a + b).c`. In Bicep (as in C) the postfix binds tighter,
// so each such access is moved onto the operator's last operand, with the
// texts, lines and field names adjusted. It works bottom-up and returns
// the node that takes n's place.
func reassociate(n *Node) *Node {
	for i, c := range n.Children {
		n.Children[i] = reassociate(c)
	}
	return rotatePostfix(n)
}

func rotatePostfix(p *Node) *Node {
	switch p.Type {
	case "member_expression", "subscript_expression", "resource_expression":
	default:
		return p
	}
	if len(p.Children) == 0 || p.Children[0].Field != "object" {
		return p
	}
	o := p.Children[0]
	switch o.Type {
	case "binary_expression", "unary_expression", "ternary_expression", "lambda_expression":
	default:
		return p
	}
	if len(o.Children) == 0 || !strings.HasPrefix(p.Text, o.Text) {
		return p
	}
	last := len(o.Children) - 1
	r := o.Children[last]
	suffix := p.Text[len(o.Text):]
	pField, rField := p.Field, r.Field
	// p now applies to r, and takes r's place in o; o takes p's place.
	r.Field = "object"
	p.Children[0] = r
	p.Text = r.Text + suffix
	p.Line = r.Line
	p.Field = rField
	o.Children[last] = rotatePostfix(p)
	o.Text += suffix
	o.Field = pField
	return o
}

// SyntaxError lists the places where tree-sitter-bicep could not parse a
// file (ERROR and MISSING nodes).
type SyntaxError struct {
	Problems []string // "path:line: ..."
}

func (e *SyntaxError) Error() string {
	return "Bicep syntax errors (fix the file, or, if the Bicep CLI accepts it, the grammar in tree-sitter-bicep lacks the construct):\n" +
		strings.Join(e.Problems, "\n")
}

// Parse parses the Bicep files (paths relative to root, or absolute) with
// tree-sitter-bicep in one Node process, first installing the clients/
// folder's packages with npmclients.Install if they are not installed. The
// clients/ folder is looked for upwards from root, then from the working
// directory. A file that does not parse yields a *SyntaxError naming each
// file:line.
func Parse(ctx context.Context, root string, paths ...string) ([]*File, error) {
	clients, err := FindClients(root)
	if err != nil {
		return nil, err
	}
	return ParseWith(ctx, clients, root, paths...)
}

// FindClients returns the clients/ folder (the one with package-lock.json)
// found upwards from dir, or else upwards from the working directory.
func FindClients(dir string) (string, error) {
	starts := []string{dir}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, start := range starts {
		d, err := filepath.Abs(start)
		if err != nil {
			continue
		}
		for {
			c := filepath.Join(d, "clients")
			if _, err := os.Stat(filepath.Join(c, "package-lock.json")); err == nil {
				return c, nil
			}
			up := filepath.Dir(d)
			if up == d {
				break
			}
			d = up
		}
	}
	return "", fmt.Errorf("no clients/package-lock.json above %s or the working directory: run from the mcpfunc repository, whose clients/ pins tree-sitter-bicep", dir)
}

// ParseWith is Parse with the clients/ folder given.
func ParseWith(ctx context.Context, clientsDir, root string, paths ...string) ([]*File, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	abs := make([]string, len(paths))
	var err error
	for i, p := range paths {
		if !filepath.IsAbs(p) {
			p = filepath.Join(root, p)
		}
		if abs[i], err = filepath.Abs(p); err != nil {
			return nil, fmt.Errorf("bicep file %s: %w", paths[i], err)
		}
	}
	// Go reads the files (so go test's cache sees them) and hands them to
	// Node on stdin.
	type input struct {
		Path   string `json:"path"`
		Source string `json:"source"`
	}
	inputs := make([]input, len(abs))
	for i, p := range abs {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("bicep file: %w", err)
		}
		inputs[i] = input{Path: p, Source: string(b)}
	}
	if _, err := npmclients.Install(ctx, clientsDir); err != nil {
		return nil, fmt.Errorf("install tree-sitter-bicep: %w", err)
	}
	node, err := npmclients.NodeBinary(clientsDir)
	if err != nil {
		return nil, fmt.Errorf("find Node to run tree-sitter-bicep: %w", err)
	}
	in, err := json.Marshal(inputs)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, node, "-e", dumpScript)
	cmd.Dir = clientsDir
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("tree-sitter-bicep (%s in %s): %w\n%s\n(if tree-sitter is missing from node_modules, delete %s and run again to reinstall)",
			node, clientsDir, err, stderr.String(), filepath.Join(clientsDir, "node_modules", ".lock-hash"))
	}
	var out []struct {
		Path   string `json:"path"`
		Root   *Node  `json:"root"`
		Errors []struct {
			Line    int    `json:"line"`
			Text    string `json:"text"`
			Missing bool   `json:"missing"`
			Type    string `json:"type"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("read tree-sitter-bicep's output: %w", err)
	}
	if len(out) != len(paths) {
		return nil, fmt.Errorf("tree-sitter-bicep returned %d trees for %d files", len(out), len(paths))
	}
	var syntax SyntaxError
	files := make([]*File, len(out))
	for i, o := range out {
		f := &File{Path: filepath.ToSlash(paths[i]), Abs: abs[i], Root: o.Root}
		if f.Root == nil {
			return nil, errors.New("tree-sitter-bicep returned no tree for " + paths[i])
		}
		f.Root = reassociate(f.Root)
		f.Root.setParents()
		for _, e := range o.Errors {
			what := "cannot parse " + fmt.Sprintf("%q", e.Text)
			if e.Missing {
				what = "missing " + e.Type
			}
			syntax.Problems = append(syntax.Problems, fmt.Sprintf("%s:%d: %s", f.Path, e.Line, what))
		}
		files[i] = f
	}
	if len(syntax.Problems) > 0 {
		return nil, &syntax
	}
	return files, nil
}
