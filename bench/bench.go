package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// binaries built by the bench, in report order, and the packages they come
// from (relative to the repository root).
var binaries = []struct{ name, pkg string }{
	{"weather", "./servers/weather"},
	{"sdkfloor", "./bench/baselines/sdkfloor"},
	{"nethttp", "./bench/baselines/nethttp"},
}

// profiledPkg is the weather server with net/http/pprof, built for -profile.
const profiledPkg = "./bench/profiled"

// config is one server setup put under load: a row of the result tables.
type config struct {
	label string
	bin   string
	cache string // NWS cache: "off", "on" (the default, 512 entries) or "" when not applicable
	log   string // LOG_LEVEL, or "" when not applicable
}

// Indexes of configs.
const (
	cfgNethttp = iota
	cfgSdkfloorOff
	cfgWeatherOff
	cfgWeatherOffInfo
	cfgSdkfloorOn
	cfgWeatherOn
	cfgWeatherOnInfo
)

var configs = []config{
	cfgNethttp:        {"nethttp  canned answer, no MCP", "nethttp", "", ""},
	cfgSdkfloorOff:    {"sdkfloor cache=off log=warn", "sdkfloor", "off", "warn"},
	cfgWeatherOff:     {"weather  cache=off log=warn", "weather", "off", "warn"},
	cfgWeatherOffInfo: {"weather  cache=off log=info (production logging)", "weather", "off", "info"},
	cfgSdkfloorOn:     {"sdkfloor cache=on  log=warn", "sdkfloor", "on", "warn"},
	cfgWeatherOn:      {"weather  cache=on  log=warn", "weather", "on", "warn"},
	cfgWeatherOnInfo:  {"weather  cache=on  log=info (production)", "weather", "on", "info"},
}

type runKey struct{ config, clients int }

type bench struct {
	o         options
	tmp       string
	bins      map[string]string // name → path
	sizes     map[string]int64  // name → bytes
	nws       *fakeNWS
	hc        *http.Client // load client, shared by all runs
	respBytes int          // size of a real get_alerts answer, for nethttp
	cold      map[string][]time.Duration
	results   map[runKey]loadStats
	runErrs   []string
}

func newBench(ctx context.Context, o options) (*bench, error) {
	tmp, err := os.MkdirTemp("", "mcpfunc-bench-")
	if err != nil {
		return nil, err
	}
	b := &bench{
		o: o, tmp: tmp,
		bins:    map[string]string{},
		sizes:   map[string]int64{},
		hc:      newLoadClient(),
		cold:    map[string][]time.Duration{},
		results: map[runKey]loadStats{},
	}
	pkgs := binaries
	if o.profile != "" {
		pkgs = append(pkgs[:len(pkgs):len(pkgs)], struct{ name, pkg string }{"profiled", profiledPkg})
	}
	fmt.Fprintln(os.Stderr, "==> building the servers (CGO_ENABLED=0 -trimpath -ldflags='-s -w')")
	for _, p := range pkgs {
		out := filepath.Join(tmp, p.name)
		if err := goBuild(ctx, o.repo, p.pkg, out); err != nil {
			return b, err
		}
		fi, err := os.Stat(out)
		if err != nil {
			return b, err
		}
		b.bins[p.name], b.sizes[p.name] = out, fi.Size()
	}
	b.nws, err = startFakeNWS(filepath.Join(o.repo, "servers", "weather", "tools", "testdata"))
	return b, err
}

func (b *bench) close() {
	if b.nws != nil {
		b.nws.close()
	}
	b.hc.CloseIdleConnections()
	os.RemoveAll(b.tmp)
}

func goBuild(ctx context.Context, dir, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, msg)
	}
	return nil
}

// env is the environment of a server process for cache and log settings.
// Settings of the same names in the bench's own environment are dropped.
func (b *bench) env(cache, level string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "NWS_") && !strings.HasPrefix(k, "LOG_") && !strings.HasPrefix(k, "MCP_") &&
			!strings.HasPrefix(k, "FUNCTIONS_") && !strings.HasPrefix(k, "NETHTTP_") {
			env = append(env, kv)
		}
	}
	env = append(env, "NWS_API_BASE_URL="+b.nws.url(), "NETHTTP_RESPONSE_BYTES="+strconv.Itoa(b.respBytes))
	if cache == "off" {
		env = append(env, "NWS_CACHE_ENTRIES=0")
	}
	if level != "" {
		env = append(env, "LOG_LEVEL="+level)
	}
	return env
}

// probe checks one real tools/call against weather and records the size of
// its answer, which nethttp then imitates.
func (b *bench) probe(ctx context.Context) error {
	p, err := startProc(ctx, "weather", b.bins["weather"], b.env("off", "warn"))
	if err != nil {
		return err
	}
	defer p.stop()
	if _, err := p.waitReady(ctx, readyLimit); err != nil {
		return err
	}
	status, body, err := post(ctx, b.hc, p.url, callBody(1))
	if err == nil {
		err = checkToolResult(status, body)
	}
	if err != nil {
		return fmt.Errorf("weather: tools/call get_alerts failed before the load started: %w", err)
	}
	b.respBytes = len(body)
	return nil
}

// coldStarts measures exec → first 200 to initialize, interleaving the
// binaries so that drift on the machine hits them alike.
func (b *bench) coldStarts(ctx context.Context) error {
	fmt.Fprintf(os.Stderr, "==> cold starts: %d per binary\n", b.o.coldRuns)
	for range b.o.coldRuns {
		for _, bin := range binaries {
			p, err := startProc(ctx, bin.name, b.bins[bin.name], b.env("", ""))
			if err != nil {
				return err
			}
			d, err := p.waitReady(ctx, readyLimit)
			p.stop()
			if err != nil {
				return err
			}
			b.cold[bin.name] = append(b.cold[bin.name], d)
		}
	}
	return nil
}

// loads runs every config at every level, -rounds times, each time with a
// fresh server process, and keeps the round with the median CPU/request.
// Levels and rounds are outermost so that the rows compared with each other
// run close in time.
func (b *bench) loads(ctx context.Context) error {
	fmt.Fprintf(os.Stderr, "==> load: %d level(s) × %d server setups × %d round(s), %s + %s each\n",
		len(b.o.levels), len(configs), b.o.rounds, b.o.warmup, b.o.duration)
	for _, n := range b.o.levels {
		runs := make([][]loadStats, len(configs))
		for range b.o.rounds {
			for i, c := range configs {
				st, err := b.load(ctx, c, n)
				if err != nil {
					return err
				}
				runs[i] = append(runs[i], st)
				fmt.Fprintf(os.Stderr, "    %-50s %3d clients: %6.0f req/s, %5.0f µs CPU/req, other load %.2f CPUs, %d errors\n",
					c.label, n, st.rps(), micros(st.cpuPerReq()), st.otherLoad(), st.Errors)
				if st.Errors > 0 {
					b.runErrs = append(b.runErrs, fmt.Sprintf("%s at %d clients: %d errors, first: %v", c.label, n, st.Errors, st.FirstErr))
				}
			}
		}
		for i, r := range runs {
			slices.SortFunc(r, func(x, y loadStats) int { return cmp.Compare(x.cpuPerReq(), y.cpuPerReq()) })
			b.results[runKey{i, n}] = r[len(r)/2]
		}
	}
	return nil
}

func (b *bench) load(ctx context.Context, c config, clients int) (loadStats, error) {
	p, err := startProc(ctx, c.bin, b.bins[c.bin], b.env(c.cache, c.log))
	if err != nil {
		return loadStats{}, err
	}
	defer b.hc.CloseIdleConnections() // after stop: the next run talks to another server
	defer p.stop()
	if _, err := p.waitReady(ctx, readyLimit); err != nil {
		return loadStats{}, err
	}
	st, err := runLoad(ctx, b.hc, p, clients, b.o.warmup, b.o.duration, b.nws.requests)
	if err != nil {
		return st, fmt.Errorf("%s at %d clients: %w", c.label, clients, err)
	}
	if p.exitedEarly() {
		return st, fmt.Errorf("%s exited during the load run: %s", c.label, p.stderrTail())
	}
	return st, nil
}

// failures is the error the run ends with: the benchmark itself failed when
// any request failed.
func (b *bench) failures() error {
	if len(b.runErrs) == 0 {
		return nil
	}
	return errors.New("failed requests (the measurements above are not valid):\n  " + strings.Join(b.runErrs, "\n  "))
}
