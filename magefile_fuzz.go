//go:build mage

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// fuzzTargets lists every fuzz target: the package folder and the function.
// Each has a seed corpus in <dir>/testdata/fuzz/<name>/, which plain
// `go test` runs too.
var fuzzTargets = []struct{ dir, name string }{
	{"shared/hosting", "FuzzHTTPEntry"},
	{"servers/weather/tools", "FuzzToolArguments"},
	{"servers/weather/nws", "FuzzParseResponses"},
	{"shared/auth", "FuzzParsePrincipal"},
	{"shared/auth", "FuzzVerify"},
}

// defaultFuzzTime is how long each target runs unless -fuzztime or
// FUZZ_TIME says otherwise.
const defaultFuzzTime = 10 * time.Second

// Fuzz runs each fuzz target for a short bounded time (default 10s each; -fuzztime or FUZZ_TIME to change).
func Fuzz(ctx context.Context,
	// how long each target runs, a Go duration (default 10s, or FUZZ_TIME)
	fuzztime *time.Duration,
) error {
	d := defaultFuzzTime
	if v := strings.TrimSpace(os.Getenv("FUZZ_TIME")); v != "" {
		parsed, err := time.ParseDuration(v)
		if err != nil || parsed <= 0 {
			return fmt.Errorf("FUZZ_TIME=%q: want a positive Go duration such as 10s", v)
		}
		d = parsed
	}
	if fuzztime != nil {
		if *fuzztime <= 0 {
			return fmt.Errorf("-fuzztime %s: want a positive duration", *fuzztime)
		}
		d = *fuzztime
	}

	var ran, failed []string
	for _, ft := range fuzzTargets {
		fmt.Printf("==> fuzz %s in %s for %s\n", ft.name, ft.dir, d)
		// go test adds its own time for building and for minimizing an
		// input that fails; the timeout only guards against a hang.
		cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-fuzz", "^"+ft.name+"$",
			"-fuzztime", d.String(), "-timeout", (d + 10*time.Minute).String(), ".")
		cmd.Dir = ft.dir
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		err := cmd.Run()
		took := time.Since(start).Round(time.Second)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			os.Stdout.Write(out.Bytes())
			msg := fmt.Sprintf("%s (%s)", ft.name, ft.dir)
			if crasher := failingInput(out.String()); crasher != "" {
				msg += ": failing input saved in " + filepath.Join(ft.dir, crasher)
			}
			failed = append(failed, msg)
			fmt.Printf("    FAILED after %s\n", took)
			continue
		}
		ran = append(ran, ft.name)
		fmt.Printf("    ok after %s: %s\n", took, lastFuzzLine(out.String()))
	}
	fmt.Printf("==> fuzz targets run: %s\n", strings.Join(ran, ", "))
	if len(failed) > 0 {
		return errors.New("fuzzing found failures in:\n  " + strings.Join(failed, "\n  ") +
			"\nrerun one with: go test -run '<Target>/<file>' in its folder; add the file to the seed corpus once fixed")
	}
	return nil
}

// lastFuzzLine returns go test's last progress line ("fuzz: elapsed: …,
// execs: …"), which says how many inputs ran.
func lastFuzzLine(out string) string {
	last := ""
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "fuzz: elapsed:") {
			last = strings.TrimPrefix(l, "fuzz: ")
		}
	}
	return last
}

// failingInput finds the path go test prints for a new failing input
// ("testdata/fuzz/<Target>/<hash>").
func failingInput(out string) string {
	for _, f := range strings.Fields(out) {
		if strings.HasPrefix(f, "testdata/fuzz/") {
			return strings.Trim(f, `"'`)
		}
	}
	return ""
}
