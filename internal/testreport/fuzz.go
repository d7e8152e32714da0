package testreport

import "strings"

// FuzzFailure describes why a `go test -fuzz` run that exited non-zero
// failed, from its output.
type FuzzFailure struct {
	// Input is the failing input go test saved
	// ("testdata/fuzz/<Target>/<hash>"), or "".
	Input string
	// DeadlineRace is true when the only failure is Go's fuzzing
	// coordinator reporting "context deadline exceeded" as -fuzztime ends,
	// with no input saved: a race in the coordinator, not a finding
	// (golang/go#75804, fixed in Go 1.27; every Go 1.26 release has it).
	DeadlineRace bool
}

// ParseFuzzFailure reads the output of a failed `go test -fuzz` run.
func ParseFuzzFailure(out string) FuzzFailure {
	var f FuzzFailure
	for _, field := range strings.Fields(out) {
		if strings.HasPrefix(field, "testdata/fuzz/") {
			f.Input = strings.Trim(field, `"'`)
			break
		}
	}
	if f.Input != "" {
		return f
	}
	// The coordinator's error is the failing test's only message:
	//   --- FAIL: FuzzX (11.03s)
	//       context deadline exceeded
	lines := strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n")
	fails, races := 0, 0
	for i, l := range lines {
		if !strings.HasPrefix(l, "--- FAIL: ") {
			continue
		}
		fails++
		if i+1 < len(lines) && strings.TrimSpace(lines[i+1]) == "context deadline exceeded" &&
			(i+2 >= len(lines) || !strings.HasPrefix(lines[i+2], "    ")) {
			races++
		}
	}
	f.DeadlineRace = fails > 0 && fails == races && !strings.Contains(out, "panic:")
	return f
}
