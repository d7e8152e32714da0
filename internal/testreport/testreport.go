// Package testreport condenses `go test -json` output for people: a line per
// package, the full output of every failing test, and a closing count.
package testreport

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Summary counts test results.
type Summary struct {
	Passed, Failed, Skipped int
	// FailedPackages lists packages that failed, including build failures
	// and failures outside any test (such as a panic in TestMain).
	FailedPackages []string
	// Skips lists each skipped test with the reason it gave.
	Skips []string
}

// Add adds o's counts to s.
func (s *Summary) Add(o Summary) {
	s.Passed += o.Passed
	s.Failed += o.Failed
	s.Skipped += o.Skipped
	s.FailedPackages = append(s.FailedPackages, o.FailedPackages...)
	s.Skips = append(s.Skips, o.Skips...)
}

// OK reports whether nothing failed.
func (s Summary) OK() bool { return s.Failed == 0 && len(s.FailedPackages) == 0 }

// String is the closing line, in the form "N passed, N failed, N skipped".
func (s Summary) String() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", s.Passed, s.Failed, s.Skipped)
}

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

// Read consumes `go test -json` output from r and writes a condensed report
// to w. Lines that are not JSON events (build errors) are copied through.
func Read(r io.Reader, w io.Writer) (Summary, error) {
	var s Summary
	outputs := map[string]*strings.Builder{} // package/test -> output
	pkgOut := map[string]*strings.Builder{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(w, "%s\n", line)
			continue
		}
		key := e.Package + "\x00" + e.Test
		switch e.Action {
		case "output":
			m := outputs
			if e.Test == "" {
				m, key = pkgOut, e.Package
			}
			b := m[key]
			if b == nil {
				b = &strings.Builder{}
				m[key] = b
			}
			b.WriteString(e.Output)
		case "pass", "fail", "skip":
			if e.Test == "" {
				out := pkgOut[e.Package]
				delete(pkgOut, e.Package)
				switch e.Action {
				case "pass":
					fmt.Fprintf(w, "ok    %s (%.1fs)\n", e.Package, e.Elapsed)
				case "skip":
					fmt.Fprintf(w, "--    %s (no tests)\n", e.Package)
				case "fail":
					s.FailedPackages = append(s.FailedPackages, e.Package)
					fmt.Fprintf(w, "FAIL  %s (%.1fs)\n", e.Package, e.Elapsed)
					if out != nil {
						w.Write([]byte(indent(out.String())))
					}
				}
				continue
			}
			out := outputs[key]
			delete(outputs, key)
			switch e.Action {
			case "pass":
				s.Passed++
			case "skip":
				s.Skipped++
				s.Skips = append(s.Skips, e.Package+" "+e.Test+": "+skipReason(out))
			case "fail":
				s.Failed++
				fmt.Fprintf(w, "--- FAIL: %s %s (%.2fs)\n", e.Package, e.Test, e.Elapsed)
				if out != nil {
					w.Write([]byte(indent(out.String())))
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return s, fmt.Errorf("read go test output: %w", err)
	}
	return s, nil
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" {
			b.WriteString("    " + l)
		}
	}
	return b.String()
}

// skipReason picks the message a skipped test gave from its output.
func skipReason(out *strings.Builder) string {
	if out == nil {
		return "no reason given"
	}
	for _, l := range strings.Split(out.String(), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- SKIP") {
			continue
		}
		if i := strings.Index(l, ": "); i >= 0 && strings.Contains(l[:i], ".go:") {
			l = l[i+2:]
		}
		return l
	}
	return "no reason given"
}
