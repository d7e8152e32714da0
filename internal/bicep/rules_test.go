package bicep

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// rulesFixtures holds one folder per rule, each with bad/ (every violation
// marked on its line with `// want: <rule>`) and good/ (none).
const rulesFixtures = "testdata/rules"

var wantRE = regexp.MustCompile(`//.*\bwant: ([a-z-]+(?:, *[a-z-]+)*)`)

// wantedViolations returns "path:line: rule" for each marker in the files.
func wantedViolations(t *testing.T, root string, files []*File) []string {
	t.Helper()
	var want []string
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root, f.Path))
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if m := wantRE.FindStringSubmatch(line); m != nil {
				for _, rule := range strings.Split(m[1], ",") {
					want = append(want, fmt.Sprintf("%s:%d: %s", f.Path, i+1, strings.TrimSpace(rule)))
				}
			}
		}
	}
	slices.Sort(want)
	return want
}

func TestRules(t *testing.T) {
	cases := []struct {
		dir   string  // under testdata/rules
		opt   Options // Inputs for the name rule
		notes []string
	}{
		{dir: "for-expression/bad"},
		{dir: "for-expression/good"},
		{dir: "conditional-read/bad"},
		{dir: "conditional-read/good"},
		{dir: "principal-type/bad"},
		{dir: "principal-type/good"},
		{dir: "existing-api-version/bad"},
		{dir: "existing-api-version/good"},
		{dir: "loop-deployment-name/bad"},
		{dir: "loop-deployment-name/good"},
		{dir: "name-limit/bad", notes: []string{"name-limit/bad/main.bicep:", "resourceGroup() is not evaluated"}},
		{dir: "name-limit/good", opt: Options{Inputs: map[string]any{"servers": []any{map[string]any{"name": "s" + strings.Repeat("-9", 15) + "z"}}}}},
	}
	// One Node process parses every fixture.
	byDir := map[string][]string{}
	var all []string
	for _, c := range cases {
		for _, p := range bicepFiles(t, filepath.Join(rulesFixtures, c.dir)) {
			p = path.Join(c.dir, p)
			byDir[c.dir] = append(byDir[c.dir], p)
			all = append(all, p)
		}
	}
	parsed := parse(t, rulesFixtures, all...)
	files := map[string]*File{}
	for _, f := range parsed {
		files[f.Path] = f
	}
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			var fs []*File
			for _, p := range byDir[c.dir] {
				fs = append(fs, files[p])
			}
			rep := CheckRules(fs, c.opt)
			var got []string
			for _, v := range rep.Violations {
				got = append(got, fmt.Sprintf("%s:%d: %s", v.Path, v.Line, v.Rule))
			}
			slices.Sort(got)
			want := wantedViolations(t, rulesFixtures, fs)
			if strings.HasSuffix(c.dir, "/bad") && len(want) == 0 {
				t.Fatal("a bad fixture marks no violation")
			}
			if !slices.Equal(got, want) {
				var full []string
				for _, v := range rep.Violations {
					full = append(full, v.String())
				}
				t.Errorf("violations differ from the `want:` markers\n got: %q\nwant: %q\nall:\n%s", got, want, strings.Join(full, "\n"))
			}
			for _, n := range c.notes {
				if !slices.ContainsFunc(rep.Notes, func(s string) bool { return strings.Contains(s, n) }) {
					t.Errorf("no note contains %q; notes: %q", n, rep.Notes)
				}
			}
			if c.notes == nil && len(rep.Notes) > 0 {
				t.Errorf("unexpected notes: %q", rep.Notes)
			}
			for _, v := range rep.Violations {
				t.Log(v)
			}
		})
	}
}
