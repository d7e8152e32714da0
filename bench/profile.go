package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Settings of the profiled runs: 16 clients, production logging; weather
// with its NWS cache off, userinfo with one user token (OBO cached, each
// call reaches the fake Graph).
const (
	profileClients = 16
	profileCache   = "off"
	profileLog     = "info"
)

// ourCode picks the lines of pprof -top naming a function of this
// repository or slog's LogAttrs (the name follows the cum% column).
var ourCode = regexp.MustCompile(`%\s+(github\.com/mcpfunc/mcpfunc/|log/slog\.\(\*Logger\)\.LogAttrs)`)

// profileRuns profiles each selected server in turn.
func (b *bench) profileRuns(ctx context.Context) error {
	for _, server := range b.o.servers {
		if err := b.profileRun(ctx, server); err != nil {
			return fmt.Errorf("profile %s: %w", server, err)
		}
	}
	return nil
}

// profileRun loads the profiled build of server (the server plus
// net/http/pprof) and saves a CPU profile of the measured window and the
// allocation profile of the whole process in DIR/<server>, then prints
// their top functions.
func (b *bench) profileRun(ctx context.Context, server string) error {
	dir, err := filepath.Abs(filepath.Join(b.o.profile, server))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	name := "profiled-" + server
	p, err := startProc(ctx, name, b.bins[name], b.env(server, profileCache, profileLog), readyHeader(b.ids, server))
	if err != nil {
		return err
	}
	defer b.hc.CloseIdleConnections()
	defer p.stop()
	if _, err := p.waitReady(ctx, readyLimit); err != nil {
		return err
	}
	setting := "cache=" + profileCache
	if server == "userinfo" {
		setting = "one token"
	}
	setting += " log=" + profileLog
	secs := int(math.Ceil(b.o.duration.Seconds()))
	fmt.Fprintf(os.Stderr, "==> profiling %s (%s) at %d clients for %ds\n", server, setting, profileClients, secs)

	type result struct {
		st  loadStats
		err error
	}
	loaded := make(chan result, 1)
	go func() {
		// The load outlasts the profile by a little.
		st, err := runLoad(ctx, b.hc, p, profileClients, b.o.warmup, time.Duration(secs)*time.Second+500*time.Millisecond,
			newCaller(b.ids, server, false), b.upstream(server))
		loaded <- result{st, err}
	}()
	cpuFile, allocFile := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "allocs.pprof")
	err = sleep(ctx, b.o.warmup)
	if err == nil {
		err = download(ctx, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", p.baseURL(), secs), cpuFile, time.Duration(secs+30)*time.Second)
	}
	r := <-loaded
	if err != nil {
		return fmt.Errorf("CPU profile: %w", err)
	}
	if r.err != nil {
		return r.err
	}
	if r.st.Errors > 0 {
		b.runErrs = append(b.runErrs, fmt.Sprintf("profiled %s run: %d errors, first: %v", server, r.st.Errors, r.st.FirstErr))
	}
	if err := download(ctx, p.baseURL()+"/debug/pprof/allocs", allocFile, 30*time.Second); err != nil {
		return fmt.Errorf("allocation profile: %w", err)
	}

	fmt.Printf("\nProfile of %s (%s, %d clients: %.0f req/s, %.0f µs CPU/req, other load %.2f CPUs), saved in %s\n",
		server, setting, profileClients, r.st.rps(), micros(r.st.cpuPerReq()), r.st.otherLoad(), dir)
	for _, pr := range []struct{ title, file, index string }{
		{"CPU, measured window", cpuFile, ""},
		{"allocated bytes (alloc_space), whole process life", allocFile, "alloc_space"},
	} {
		args := []string{"-top", "-nodecount=15"}
		if pr.index != "" {
			args = append(args, "-sample_index="+pr.index)
		}
		top, err := pprof(ctx, b.o.repo, pr.file, args...)
		if err != nil {
			return err
		}
		fmt.Printf("\n-- %s: top 15 functions (go tool pprof %s %s)\n%s", pr.title, strings.Join(args, " "), filepath.Base(pr.file), top)

		// The same profile sorted by cumulative share, reduced to our code:
		// flat is a function's own share, cum includes what it calls.
		args = []string{"-top", "-cum", "-nodefraction=0", "-edgefraction=0"}
		if pr.index != "" {
			args = append(args, "-sample_index="+pr.index)
		}
		all, err := pprof(ctx, b.o.repo, pr.file, args...)
		if err != nil {
			return err
		}
		fmt.Printf("-- %s: this repository's functions and slog (flat = own, cum = with callees; hosting.serveLogged's cum is the whole request)\n", pr.title)
		for line := range strings.Lines(all) {
			if ourCode.MatchString(line) {
				fmt.Print(line)
			}
		}
	}
	return nil
}

func download(ctx context.Context, url, file string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		return fmt.Errorf("GET %s: HTTP %d: %s", url, resp.StatusCode, msg)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, io.LimitReader(resp.Body, 256<<20))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// pprof runs go tool pprof on file and returns its text output.
func pprof(ctx context.Context, dir, file string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", append(append([]string{"tool", "pprof"}, args...), file)...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go tool pprof %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}
