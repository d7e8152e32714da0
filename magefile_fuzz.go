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

// fuzzTarget is a fuzz test: the package folder and the function. Each
// has a seed corpus in <dir>/testdata/fuzz/<name>/, which plain `go test`
// runs too.
type fuzzTarget struct{ dir, name string }

// fuzzTargets finds every fuzz test of the workspace's packages with
// `go test -list '^Fuzz'`, so a new server's fuzz tests run without being
// listed here.
func fuzzTargets(ctx context.Context) ([]fuzzTarget, error) {
	// Only packages with test files: the others have nothing to list.
	out, err := output(ctx, ".", nil, "go", "list", "-f",
		"{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}} {{.Dir}}{{end}}", "work")
	if err != nil {
		return nil, fmt.Errorf("listing the workspace's packages: %w", err)
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	dirs := map[string]string{}
	var pkgs []string
	for _, l := range strings.Split(out, "\n") {
		path, dir, ok := strings.Cut(strings.TrimSpace(l), " ")
		if !ok {
			continue
		}
		rel, err := filepath.Rel(wd, dir)
		if err != nil {
			return nil, err
		}
		dirs[path] = filepath.ToSlash(rel)
		pkgs = append(pkgs, path)
	}
	if len(pkgs) == 0 {
		return nil, nil
	}
	// go test -list prints each package's matching names, then a line
	// "ok  <import path>  <time>".
	out, err = output(ctx, ".", nil, "go", append([]string{"test", "-run", "^$", "-list", "^Fuzz"}, pkgs...)...)
	if err != nil {
		return nil, fmt.Errorf("listing fuzz tests: %w", err)
	}
	var targets []fuzzTarget
	var names []string
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 1 && strings.HasPrefix(f[0], "Fuzz"):
			names = append(names, f[0])
		case len(f) >= 2 && f[0] == "ok":
			dir, ok := dirs[f[1]]
			if !ok {
				return nil, fmt.Errorf("go test -list: unknown package %s", f[1])
			}
			for _, n := range names {
				targets = append(targets, fuzzTarget{dir, n})
			}
			names = nil
		}
	}
	return targets, nil
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

	targets, err := fuzzTargets(ctx)
	if err != nil {
		return err
	}
	if len(targets) == 0 {
		return errors.New("no fuzz tests found in the workspace (go test -list '^Fuzz')")
	}
	fmt.Printf("==> %d fuzz targets, %s each\n", len(targets), d)
	var ran, failed []string
	for i, ft := range targets {
		fmt.Printf("==> [%d/%d] fuzz %s in %s for %s\n", i+1, len(targets), ft.name, ft.dir, d)
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
