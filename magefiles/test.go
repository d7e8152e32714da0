//go:build mage

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/magefile/mage/mg"
	"github.com/mcpfunc/mcpfunc/internal/testreport"
)

// Test runs the whole suite: lint, a standalone build and tidy check of
// every module, every module's tests with -race, then the end-to-end tests; it fails if the run changed tracked files.
func Test(ctx context.Context) error {
	before, gitErr := trackedChanges(ctx)
	if err := test(ctx); err != nil {
		return err
	}
	// The workspace's own commands must leave the tree as they found it
	// (a go.work.sum or go.sum they complete means the committed one is not).
	if gitErr != nil {
		fmt.Println("==> clean tree check skipped:", gitErr)
		return nil
	}
	fmt.Println("==> clean tree check (tracked files)")
	after, err := trackedChanges(ctx)
	if err != nil {
		return err
	}
	var changed []string
	for f, h := range after {
		if before[f] != h {
			changed = append(changed, f)
		}
	}
	for f := range before {
		if _, ok := after[f]; !ok {
			changed = append(changed, f)
		}
	}
	if len(changed) > 0 {
		slices.Sort(changed)
		return fmt.Errorf("the run changed tracked files (commit them if right, e.g. a completed go.work.sum):\n  %s", strings.Join(changed, "\n  "))
	}
	return nil
}

// trackedChanges maps each tracked file that differs from HEAD to a hash
// of its content ("" once deleted), so a run's own changes show apart from
// those already there. It fails when this is not a git checkout.
func trackedChanges(ctx context.Context) (map[string]string, error) {
	if _, err := exec.LookPath("git"); err != nil {
		return nil, errors.New("git is not installed")
	}
	if _, err := output(ctx, ".", nil, "git", "rev-parse", "--verify", "HEAD"); err != nil {
		return nil, errors.New("not a git checkout with a commit")
	}
	out, err := output(ctx, ".", nil, "git", "diff", "HEAD", "--name-only", "-z")
	if err != nil {
		return nil, fmt.Errorf("listing changed files: %w", err)
	}
	m := map[string]string{}
	for _, f := range strings.Split(out, "\x00") {
		if f == "" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			m[f] = ""
			continue
		}
		m[f] = fmt.Sprintf("%x", sha256.Sum256(b))
	}
	return m, nil
}

func test(ctx context.Context) error {
	mg.CtxDeps(ctx, Lint)
	if err := checkModules(ctx); err != nil {
		return err
	}
	var total testreport.Summary
	steps := []struct {
		title string
		args  []string
	}{
		{"unit tests (every workspace module, -race)", []string{"test", "-race", "-count=1", "-json", "work"}},
		{"end-to-end tests (-race)", []string{"test", "-race", "-count=1", "-json", "-tags", "e2e", "-timeout", "15m", "./e2e/..."}},
	}
	for i, st := range steps {
		if i == 1 {
			// The end-to-end tests include the MCP clients in clients/
			// (e2e/clients_test.go): install them first, so a missing
			// Node fails early and clearly.
			mg.CtxDeps(ctx, ClientsSetup)
		}
		fmt.Printf("==> %s\n", st.title)
		s, err := goTestJSON(ctx, st.args...)
		total.Add(s)
		if err != nil && s.OK() {
			return err
		}
	}
	for _, sk := range total.Skips {
		fmt.Println("skipped:", sk)
	}
	fmt.Println(total.String())
	if !total.OK() {
		return fmt.Errorf("tests failed in: %s", strings.Join(total.FailedPackages, ", "))
	}
	return nil
}

// Lint checks formatting (gofmt) and runs go vet and staticcheck on every module, including
// the end-to-end tests and the magefiles.
func Lint(ctx context.Context) error {
	dirs, err := moduleDirs(ctx)
	if err != nil {
		return err
	}
	fmt.Println("==> gofmt")
	out, err := output(ctx, ".", nil, "gofmt", append([]string{"-l"}, dirs...)...)
	if err != nil {
		return err
	}
	// The root module's folder holds the others, so gofmt walks their
	// files twice: list each file once.
	var files []string
	for _, f := range strings.Fields(out) {
		if f = filepath.Clean(f); !slices.Contains(files, f) {
			files = append(files, f)
		}
	}
	if len(files) > 0 {
		slices.Sort(files)
		return fmt.Errorf("these files need gofmt -w:\n%s", strings.Join(files, "\n"))
	}
	fmt.Println("==> go vet")
	if err := run(ctx, ".", nil, "go", "vet", "work"); err != nil {
		return err
	}
	if err := run(ctx, ".", nil, "go", "vet", "-tags", "e2e,mage", "./e2e/...", "./magefiles"); err != nil {
		return err
	}
	// staticcheck is a tool of the root module (go.mod), like mage; in
	// workspace mode go tool finds it from every module's folder. It checks
	// one module per run, with the build tags the code uses.
	for _, d := range dirs {
		fmt.Println("==> staticcheck in", d)
		if err := run(ctx, d, nil, "go", "tool", "staticcheck", "-tags", "e2e,mage", "./..."); err != nil {
			return fmt.Errorf("staticcheck in %s: %w", d, err)
		}
	}
	return nil
}

// Tidy runs go mod tidy in every module.
func Tidy(ctx context.Context) error {
	dirs, err := moduleDirs(ctx)
	if err != nil {
		return err
	}
	for _, d := range dirs {
		fmt.Println("==> go mod tidy in", d)
		if err := run(ctx, d, []string{"GOWORK=off"}, "go", "mod", "tidy"); err != nil {
			return err
		}
	}
	return nil
}

// checkModules proves that each module builds and is tidy on its own, as
// azd builds a server from its own folder.
func checkModules(ctx context.Context) error {
	dirs, err := moduleDirs(ctx)
	if err != nil {
		return err
	}
	for _, d := range dirs {
		fmt.Printf("==> standalone build and tidy check: %s\n", d)
		env := []string{"GOWORK=off"}
		if err := run(ctx, d, env, "go", "build", "./..."); err != nil {
			return fmt.Errorf("%s does not build on its own (GOWORK=off): %w", d, err)
		}
		if err := run(ctx, d, env, "go", "mod", "tidy", "-diff"); err != nil {
			return fmt.Errorf("%s/go.mod is not tidy: run `go tool mage tidy`: %w", d, err)
		}
	}
	return nil
}

// goTestJSON runs go test with -json and prints a condensed report.
func goTestJSON(ctx context.Context, args ...string) (testreport.Summary, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Stderr = os.Stderr
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	if err := cmd.Start(); err != nil {
		return testreport.Summary{}, err
	}
	done := make(chan struct{})
	var sum testreport.Summary
	var readErr error
	go func() {
		defer close(done)
		sum, readErr = testreport.Read(pr, os.Stdout)
		io.Copy(io.Discard, pr)
	}()
	err := cmd.Wait()
	pw.Close()
	<-done
	if readErr != nil {
		return sum, readErr
	}
	if err != nil && sum.OK() {
		// go test failed without a failing test: report it as a package failure.
		sum.FailedPackages = append(sum.FailedPackages, "go "+strings.Join(args, " "))
	}
	return sum, err
}

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
		out, took, err := fuzzOnce(ctx, ft, d)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// Go 1.26's fuzzing coordinator can report "context deadline
		// exceeded" as -fuzztime ends, with no failing input
		// (golang/go#75804, fixed in Go 1.27): not a finding. Run the
		// target once more; a second race is reported, not failed.
		for attempt := 2; err != nil && testreport.ParseFuzzFailure(out).DeadlineRace; attempt++ {
			if attempt > 2 {
				fmt.Printf("    the coordinator's deadline race again, with no failing input: not counted as a failure (golang/go#75804)\n")
				err = nil
				break
			}
			fmt.Printf("    the fuzzing coordinator ended with \"context deadline exceeded\" and no failing input after %s (golang/go#75804, fixed in Go 1.27): running %s again\n", took, ft.name)
			out, took, err = fuzzOnce(ctx, ft, d)
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		if err != nil {
			os.Stdout.Write([]byte(out))
			msg := fmt.Sprintf("%s (%s)", ft.name, ft.dir)
			if crasher := testreport.ParseFuzzFailure(out).Input; crasher != "" {
				msg += ": failing input saved in " + filepath.Join(ft.dir, crasher)
			}
			failed = append(failed, msg)
			fmt.Printf("    FAILED after %s\n", took)
			continue
		}
		ran = append(ran, ft.name)
		fmt.Printf("    ok after %s: %s\n", took, lastFuzzLine(out))
	}
	fmt.Printf("==> fuzz targets run: %s\n", strings.Join(ran, ", "))
	if len(failed) > 0 {
		return errors.New("fuzzing found failures in:\n  " + strings.Join(failed, "\n  ") +
			"\nrerun one with: go test -run '<Target>/<file>' in its folder; add the file to the seed corpus once fixed")
	}
	return nil
}

// fuzzOnce runs target ft for d and returns its output, how long it took
// and go test's error.
func fuzzOnce(ctx context.Context, ft fuzzTarget, d time.Duration) (string, time.Duration, error) {
	// go test adds its own time for building and for minimizing an input
	// that fails; the timeout only guards against a hang.
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-fuzz", "^"+ft.name+"$",
		"-fuzztime", d.String(), "-timeout", (d + 10*time.Minute).String(), ".")
	cmd.Dir = ft.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	return out.String(), time.Since(start).Round(time.Second), err
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
