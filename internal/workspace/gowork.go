package workspace

// go.work: its reader, the sync writer of its servers/* uses and go line,
// and the checks sync cannot fix.

import (
	"fmt"
	"go/version"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// GoWork is what this repository reads from go.work.
type GoWork struct {
	// Go is the go directive's version, e.g. "1.26.0".
	Go string
	// Use lists the use directives' paths as written, e.g. "./servers/weather".
	Use []string
}

// goWorkLine is a directive of interest in go.work, by line.
type goWorkLine struct {
	line    int    // 0-based
	verb    string // "go", "toolchain" or "use"
	arg     string // the version, toolchain name or path
	inBlock bool   // a use inside use ( … )
}

// goWorkSyntax is go.work's lines and where its directives are.
type goWorkSyntax struct {
	lines      []string // each with its "\n", except maybe the last
	directives []goWorkLine
	// useOpen and useClose are the lines of the first use ( … ) block,
	// -1 when there is none.
	useOpen, useClose int
}

// parseGoWork reads the directives of a go.work file. It understands the
// syntax `go work` writes: one directive per line or a parenthesised
// block, // comments, and quoted or bare paths.
func parseGoWork(b []byte) (*goWorkSyntax, error) {
	s := &goWorkSyntax{lines: strings.SplitAfter(string(b), "\n"), useOpen: -1, useClose: -1}
	if s.lines[len(s.lines)-1] == "" {
		s.lines = s.lines[:len(s.lines)-1]
	}
	inUse, inOther := false, false
	for i, raw := range s.lines {
		line := raw
		if c := strings.Index(line, "//"); c >= 0 {
			line = line[:c]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if inUse || inOther {
			if line == ")" {
				if inUse && s.useClose < 0 {
					s.useClose = i
				}
				inUse, inOther = false, false
				continue
			}
			if inUse {
				p, err := unquoteGoWorkPath(line)
				if err != nil {
					return nil, fmt.Errorf("%s:%d: %w", GoWorkFile, i+1, err)
				}
				s.directives = append(s.directives, goWorkLine{line: i, verb: "use", arg: p, inBlock: s.useClose < 0 && s.useOpen >= 0})
			}
			continue
		}
		verb, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch {
		case verb == "go" || verb == "toolchain":
			s.directives = append(s.directives, goWorkLine{line: i, verb: verb, arg: rest})
		case verb == "use" && rest == "(":
			inUse = true
			if s.useOpen < 0 {
				s.useOpen = i
			}
		case verb == "use":
			p, err := unquoteGoWorkPath(rest)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", GoWorkFile, i+1, err)
			}
			s.directives = append(s.directives, goWorkLine{line: i, verb: "use", arg: p})
		case rest == "(":
			inOther = true // replace ( … ), godebug ( … ): not needed here
		}
	}
	if inUse || inOther {
		return nil, fmt.Errorf("%s: unterminated ( block", GoWorkFile)
	}
	return s, nil
}

// ParseGoWork reads the go and use directives of a go.work file.
func ParseGoWork(b []byte) (GoWork, error) {
	var w GoWork
	s, err := parseGoWork(b)
	if err != nil {
		return w, err
	}
	for _, d := range s.directives {
		switch d.verb {
		case "go":
			w.Go = d.arg
		case "use":
			w.Use = append(w.Use, d.arg)
		}
	}
	return w, nil
}

func unquoteGoWorkPath(s string) (string, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, `"`) || strings.HasPrefix(s, "`") {
		u, err := strconv.Unquote(s)
		if err != nil {
			return "", fmt.Errorf("bad path %s: %w", s, err)
		}
		return u, nil
	}
	if s == "" || strings.ContainsAny(s, " \t") {
		return "", fmt.Errorf("bad use path %q", s)
	}
	return s, nil
}

// serverOfPath returns the server a workspace-relative path such as
// "./servers/weather" or "servers/weather/" names, if it has that form.
func serverOfPath(p string) (string, bool) {
	p = path.Clean(filepath.ToSlash(p))
	dir, name := path.Split(p)
	if dir != "servers/" || name == "" {
		return "", false
	}
	return name, true
}

// UsePath is the go.work use path of a server.
func UsePath(server string) string { return "./servers/" + server }

var goModGoRE = regexp.MustCompile(`(?m)^go[ \t]+([^\s/]+)`)

// goModGo returns the go directive of a go.mod file's text ("" if none).
func goModGo(b []byte) string {
	if m := goModGoRE.FindSubmatch(b); m != nil {
		return string(m[1])
	}
	return ""
}

// goLess reports whether Go version a (like "1.26.0") is older than b.
func goLess(a, b string) bool { return version.Compare("go"+a, "go"+b) < 0 }

// syncGoWork makes go.work use exactly the servers among servers/* (other
// uses are left alone) and raises its go line to the highest go line of
// the modules it uses, as `go work use` does; with lowerGo it may also
// lower it to that. A toolchain line the new go line implies is dropped.
func syncGoWork(root string, src []byte, servers []Server, opts SyncOptions) ([]byte, []Edit, error) {
	s, err := parseGoWork(src)
	if err != nil {
		return nil, nil, err
	}
	isServer := map[string]Server{}
	for _, sv := range servers {
		isServer[sv.Name] = sv
	}
	var edits []Edit
	drop := map[int]bool{}
	used := map[string]bool{}
	var uses []goWorkLine // kept use directives
	for _, d := range s.directives {
		if d.verb != "use" {
			continue
		}
		name, ok := serverOfPath(d.arg)
		switch {
		case !ok:
			uses = append(uses, d)
		case isServer[name].Name == "":
			drop[d.line] = true
			edits = append(edits, Edit{Line: d.line + 1, Problem: fmt.Sprintf("use %s, but there is no server servers/%s", d.arg, name), Fix: "remove use " + d.arg})
		case used[name]:
			drop[d.line] = true
			edits = append(edits, Edit{Line: d.line + 1, Problem: fmt.Sprintf("servers/%s is used twice", name), Fix: "remove the second use " + d.arg})
		default:
			used[name] = true
			uses = append(uses, d)
		}
	}
	insert := map[int][]string{} // new lines before line i
	var tail []string            // new lines at the end
	indent := "\t"
	for _, d := range uses {
		if d.inBlock {
			if raw := s.lines[d.line]; len(raw) > len(strings.TrimLeft(raw, " \t")) {
				indent = raw[:len(raw)-len(strings.TrimLeft(raw, " \t"))]
			}
			break
		}
	}
	lastUse := -1
	for _, d := range uses {
		lastUse = max(lastUse, d.line)
	}
	var added []string
	for _, sv := range servers {
		if used[sv.Name] {
			continue
		}
		p := UsePath(sv.Name)
		added = append(added, p)
		edits = append(edits, Edit{Problem: fmt.Sprintf("servers/%s is missing", sv.Name), Fix: "add use " + p})
		switch {
		case s.useOpen >= 0:
			at := s.useClose
			for _, d := range uses {
				if d.inBlock && d.arg > p && d.line < at {
					at = d.line
				}
			}
			insert[at] = append(insert[at], indent+p+"\n")
		case lastUse >= 0:
			insert[lastUse+1] = append(insert[lastUse+1], "use "+p+"\n")
		default:
			tail = append(tail, p)
		}
	}

	// The go line: at least every used module's.
	goIdx, toolIdx := -1, -1
	var curGo, toolchain string
	for _, d := range s.directives {
		switch d.verb {
		case "go":
			goIdx, curGo = d.line, d.arg
		case "toolchain":
			toolIdx, toolchain = d.line, d.arg
		}
	}
	maxGo, maxBy := "", ""
	consider := func(v, by string) {
		if v != "" && (maxGo == "" || goLess(maxGo, v)) {
			maxGo, maxBy = v, by
		}
	}
	for _, d := range uses {
		if name, ok := serverOfPath(d.arg); ok {
			consider(isServer[name].GoVersion, "servers/"+name+"/go.mod")
			continue
		}
		if b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(d.arg), "go.mod")); err == nil {
			consider(goModGo(b), path.Join(path.Clean(filepath.ToSlash(d.arg)), "go.mod"))
		}
	}
	for _, p := range added {
		name, _ := serverOfPath(p)
		consider(isServer[name].GoVersion, "servers/"+name+"/go.mod")
	}
	newGo := curGo
	switch {
	case maxGo == "":
	case curGo == "" || goLess(curGo, maxGo):
		newGo = maxGo
		edits = append(edits, Edit{Line: goIdx + 1, Problem: fmt.Sprintf("go %s is older than go %s in %s (a workspace's go line is at least each module's, as `go work use` makes it)", orNone(curGo), maxGo, maxBy), Fix: "raise the go line to go " + maxGo})
	case opts.LowerGo && goLess(maxGo, curGo):
		newGo = maxGo
		edits = append(edits, Edit{Line: goIdx + 1, Problem: fmt.Sprintf("go %s is newer than any module it uses needs (the highest is go %s, in %s)", curGo, maxGo, maxBy), Fix: "lower the go line to go " + maxGo})
	}
	if newGo != curGo && toolIdx >= 0 && version.Compare(toolchain, "go"+newGo) <= 0 {
		drop[toolIdx] = true
		// and a blank line it leaves doubled
		blank := func(i int) bool { return i < 0 || i >= len(s.lines) || strings.TrimSpace(s.lines[i]) == "" }
		if blank(toolIdx-1) && blank(toolIdx+1) && toolIdx+1 < len(s.lines) {
			drop[toolIdx+1] = true
		}
		edits = append(edits, Edit{Line: toolIdx + 1, Problem: fmt.Sprintf("toolchain %s is implied by go %s", toolchain, newGo), Fix: "remove toolchain " + toolchain})
	}
	if len(edits) == 0 {
		return src, nil, nil
	}

	var out strings.Builder
	if goIdx < 0 && newGo != "" {
		out.WriteString("go " + newGo + "\n\n")
	}
	for i, line := range s.lines {
		for _, l := range insert[i] {
			out.WriteString(l)
		}
		switch {
		case drop[i]:
		case i == goIdx && newGo != curGo:
			nl := ""
			if strings.HasSuffix(line, "\n") {
				nl = "\n"
			}
			ind := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
			out.WriteString(ind + "go " + newGo + nl)
		default:
			out.WriteString(line)
		}
	}
	if l := insert[len(s.lines)]; len(l) > 0 {
		if o := out.String(); o != "" && !strings.HasSuffix(o, "\n") {
			out.WriteString("\n")
		}
		for _, x := range l {
			out.WriteString(x)
		}
	}
	if len(tail) > 0 {
		o := out.String()
		if o != "" && !strings.HasSuffix(o, "\n") {
			out.WriteString("\n")
		}
		out.WriteString("\nuse (\n")
		for _, p := range tail {
			out.WriteString("\t" + p + "\n")
		}
		out.WriteString(")\n")
	}
	return []byte(out.String()), edits, nil
}

func orNone(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

// checkGoWork reports what sync leaves alone in go.work: a use of a folder
// outside servers/ that holds no module.
func checkGoWork(root string, src []byte) []error {
	w, err := ParseGoWork(src)
	if err != nil {
		return []error{err}
	}
	var errs []error
	for _, u := range w.Use {
		if _, ok := serverOfPath(u); ok {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(u), "go.mod")); err != nil {
			errs = append(errs, fmt.Errorf("%s: use %s, but %s has no go.mod: remove the line", GoWorkFile, u, u))
		}
	}
	return errs
}
