package testreport

import "testing"

func TestParseFuzzFailure(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want FuzzFailure
	}{
		{
			name: "coordinator deadline race",
			out: "fuzz: elapsed: 11s, execs: 70172 (5559/sec), new interesting: 26 (total: 35)\n" +
				"--- FAIL: FuzzParsePrincipal (11.03s)\n    context deadline exceeded\nFAIL\nexit status 1\n" +
				"FAIL\tgithub.com/mcpfunc/mcpfunc/shared/auth\t11.065s\n",
			want: FuzzFailure{DeadlineRace: true},
		},
		{
			name: "a failing input",
			out: "--- FAIL: FuzzVerify (0.31s)\n    --- FAIL: FuzzVerify (0.00s)\n        verifier_fuzz_test.go:40: accepted a forged token\n\n" +
				"    Failing input written to testdata/fuzz/FuzzVerify/582528ddfad69eb5\n" +
				"    To re-run:\n    go test -run=FuzzVerify/582528ddfad69eb5\nFAIL\n",
			want: FuzzFailure{Input: "testdata/fuzz/FuzzVerify/582528ddfad69eb5"},
		},
		{
			name: "deadline message and more",
			out:  "--- FAIL: FuzzX (10.5s)\n    context deadline exceeded\n    x_test.go:12: also this\nFAIL\n",
			want: FuzzFailure{},
		},
		{
			name: "a panic with a deadline line",
			out:  "panic: boom\n--- FAIL: FuzzX (10.5s)\n    context deadline exceeded\nFAIL\n",
			want: FuzzFailure{},
		},
		{
			name: "a build failure",
			out:  "# example.com/x\n./x_test.go:3:1: syntax error\nFAIL\texample.com/x [build failed]\n",
			want: FuzzFailure{},
		},
		{
			name: "another error",
			out:  "--- FAIL: FuzzX (0.01s)\n    fuzzing process hung or terminated unexpectedly: exit status 2\nFAIL\n",
			want: FuzzFailure{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseFuzzFailure(tt.out); got != tt.want {
				t.Errorf("ParseFuzzFailure = %+v, want %+v", got, tt.want)
			}
		})
	}
}
