package testreport

import (
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	tests := []struct {
		name         string
		in           string
		want         Summary
		wantOut      []string
		wantNotInOut []string
	}{
		{
			name: "pass fail skip",
			in: `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"output","Package":"p","Test":"TestA","Output":"quiet pass output\n"}
{"Action":"pass","Package":"p","Test":"TestA","Elapsed":0.01}
{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:9: want 1, got 2\n"}
{"Action":"fail","Package":"p","Test":"TestB","Elapsed":0.02}
{"Action":"output","Package":"p","Test":"TestC","Output":"=== RUN   TestC\n"}
{"Action":"output","Package":"p","Test":"TestC","Output":"    c_test.go:3: needs func: install Core Tools\n"}
{"Action":"output","Package":"p","Test":"TestC","Output":"--- SKIP: TestC (0.00s)\n"}
{"Action":"skip","Package":"p","Test":"TestC"}
{"Action":"fail","Package":"p","Elapsed":0.5}
`,
			want:         Summary{Passed: 1, Failed: 1, Skipped: 1, FailedPackages: []string{"p"}, Skips: []string{"p TestC: needs func: install Core Tools"}},
			wantOut:      []string{"--- FAIL: p TestB", "want 1, got 2", "FAIL  p (0.5s)"},
			wantNotInOut: []string{"quiet pass output"},
		},
		{
			name: "build failure passes through",
			in: `# example.com/p
p.go:3:1: syntax error
{"Action":"output","Package":"example.com/p","Output":"FAIL\texample.com/p [build failed]\n"}
{"Action":"fail","Package":"example.com/p","Elapsed":0}
`,
			want:    Summary{FailedPackages: []string{"example.com/p"}},
			wantOut: []string{"p.go:3:1: syntax error", "FAIL  example.com/p", "[build failed]"},
		},
		{
			name: "package without tests",
			in: `{"Action":"skip","Package":"q","Elapsed":0}
`,
			wantOut: []string{"--    q (no tests)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			got, err := Read(strings.NewReader(tt.in), &out)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tt.want.String() || strings.Join(got.FailedPackages, ",") != strings.Join(tt.want.FailedPackages, ",") ||
				strings.Join(got.Skips, "|") != strings.Join(tt.want.Skips, "|") {
				t.Errorf("summary = %+v, want %+v", got, tt.want)
			}
			if got.OK() != tt.want.OK() {
				t.Errorf("OK() = %v", got.OK())
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tt.wantNotInOut {
				if strings.Contains(out.String(), w) {
					t.Errorf("output has %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestSummaryString(t *testing.T) {
	var s Summary
	s.Add(Summary{Passed: 3, Skipped: 1})
	s.Add(Summary{Passed: 2, Failed: 1})
	if got := s.String(); got != "5 passed, 1 failed, 1 skipped" {
		t.Fatalf("String() = %q", got)
	}
}
