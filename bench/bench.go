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

	"github.com/mcpfunc/mcpfunc/bench/userinfofake"
	"github.com/mcpfunc/mcpfunc/internal/deploy"
	"github.com/mcpfunc/mcpfunc/servers/weather/nws/nwstest"
)

// serverNames are the servers the bench knows, in report order.
var serverNames = []string{"weather", "userinfo"}

// binary is a program the bench builds and runs.
type binary struct {
	name, pkg string // pkg is relative to the repository root
	server    string // the server whose section it belongs to
	product   bool   // a server of this repository: its package (zip) is measured
}

// binaries in report order.
var binaries = []binary{
	{"weather", "./servers/weather", "weather", true},
	{"sdkfloor", "./bench/baselines/sdkfloor", "weather", false},
	{"nethttp", "./bench/baselines/nethttp", "weather", false},
	{"userinfo", "./servers/userinfo", "userinfo", true},
	{"userinfofloor", "./bench/baselines/userinfofloor", "userinfo", false},
}

// profiledPkgs are the servers with net/http/pprof, built for -profile;
// their binaries are named "profiled-<server>".
var profiledPkgs = map[string]string{
	"weather":  "./bench/profiled/weather",
	"userinfo": "./bench/profiled/userinfo",
}

// config is one server setup put under load: a row of the result tables.
type config struct {
	label  string
	server string
	bin    string
	cache  string // weather's NWS cache: "off", "on" (the default, 512 entries) or "" when not applicable
	log    string // LOG_LEVEL, or "" when not applicable
	fresh  bool   // userinfo: a new user token per call (an OBO cache miss each time)
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
	cfgUserinfofloorOne
	cfgUserinfoOne
	cfgUserinfoOneInfo
	cfgUserinfofloorFresh
	cfgUserinfoFresh
)

var configs = []config{
	cfgNethttp:            {"nethttp  canned answer, no MCP", "weather", "nethttp", "", "", false},
	cfgSdkfloorOff:        {"sdkfloor cache=off log=warn", "weather", "sdkfloor", "off", "warn", false},
	cfgWeatherOff:         {"weather  cache=off log=warn", "weather", "weather", "off", "warn", false},
	cfgWeatherOffInfo:     {"weather  cache=off log=info (production logging)", "weather", "weather", "off", "info", false},
	cfgSdkfloorOn:         {"sdkfloor cache=on  log=warn", "weather", "sdkfloor", "on", "warn", false},
	cfgWeatherOn:          {"weather  cache=on  log=warn", "weather", "weather", "on", "warn", false},
	cfgWeatherOnInfo:      {"weather  cache=on  log=info (production)", "weather", "weather", "on", "info", false},
	cfgUserinfofloorOne:   {"userinfofloor one token  log=warn", "userinfo", "userinfofloor", "", "warn", false},
	cfgUserinfoOne:        {"userinfo      one token  log=warn", "userinfo", "userinfo", "", "warn", false},
	cfgUserinfoOneInfo:    {"userinfo      one token  log=info (production)", "userinfo", "userinfo", "", "info", false},
	cfgUserinfofloorFresh: {"userinfofloor fresh token per call log=warn", "userinfo", "userinfofloor", "", "warn", true},
	cfgUserinfoFresh:      {"userinfo      fresh token per call log=warn", "userinfo", "userinfo", "", "warn", true},
}

// ratio is a row of a server's CPU/request ratio table.
type ratio struct {
	label    string
	num, den int  // config indexes
	target   bool // the like-for-like ratio the target applies to
}

var ratios = map[string][]ratio{
	"weather": {
		{"weather ÷ sdkfloor, cache=off log=warn (like for like)", cfgWeatherOff, cfgSdkfloorOff, true},
		{"weather log=info ÷ sdkfloor log=warn, cache=off (production logging)", cfgWeatherOffInfo, cfgSdkfloorOff, false},
		{"weather ÷ sdkfloor, cache=on log=warn", cfgWeatherOn, cfgSdkfloorOn, false},
		{"weather log=info ÷ sdkfloor log=warn, cache=on (production)", cfgWeatherOnInfo, cfgSdkfloorOn, false},
		{"sdkfloor cache=off ÷ nethttp (the SDK and tools over bare HTTP)", cfgSdkfloorOff, cfgNethttp, false},
	},
	"userinfo": {
		{"userinfo ÷ userinfofloor, one token log=warn (like for like)", cfgUserinfoOne, cfgUserinfofloorOne, true},
		{"userinfo log=info ÷ userinfofloor log=warn, one token (production)", cfgUserinfoOneInfo, cfgUserinfofloorOne, false},
		{"userinfo ÷ userinfofloor, fresh token per call log=warn", cfgUserinfoFresh, cfgUserinfofloorFresh, false},
		{"userinfofloor fresh token ÷ one token (cost of an OBO cache miss)", cfgUserinfofloorFresh, cfgUserinfofloorOne, false},
	},
}

type runKey struct{ config, clients int }

type bench struct {
	o         options
	tmp       string
	bins      map[string]string // name → path
	sizes     map[string]int64  // name → bytes
	pkgSizes  map[string]int64  // product name → bytes of its deployment zip
	nws       *nwstest.Server
	ids       *userinfofake.Upstreams
	hc        *http.Client // load client, shared by all runs
	respBytes int          // size of a real get_alerts answer, for nethttp
	cold      map[string][]time.Duration
	results   map[runKey]loadStats
	runErrs   []string
}

// selected reports whether the server's rows are measured.
func (b *bench) selected(server string) bool { return slices.Contains(b.o.servers, server) }

// binaries returns the binaries of the selected servers.
func (b *bench) binaries() []binary {
	var out []binary
	for _, bin := range binaries {
		if b.selected(bin.server) {
			out = append(out, bin)
		}
	}
	return out
}

// configs returns the indexes of the configs of the selected servers.
func (b *bench) configs() []int {
	var out []int
	for i, c := range configs {
		if b.selected(c.server) {
			out = append(out, i)
		}
	}
	return out
}

func newBench(ctx context.Context, o options) (*bench, error) {
	tmp, err := os.MkdirTemp("", "mcpfunc-bench-")
	if err != nil {
		return nil, err
	}
	b := &bench{
		o: o, tmp: tmp,
		bins:     map[string]string{},
		sizes:    map[string]int64{},
		pkgSizes: map[string]int64{},
		hc:       newLoadClient(),
		cold:     map[string][]time.Duration{},
		results:  map[runKey]loadStats{},
	}
	pkgs := b.binaries()
	if o.profile != "" {
		for _, s := range o.servers {
			pkgs = append(pkgs, binary{name: "profiled-" + s, pkg: profiledPkgs[s], server: s})
		}
	}
	fmt.Fprintln(os.Stderr, "==> building the servers (CGO_ENABLED=0 -trimpath -ldflags='-s -w')")
	if b.selected("userinfo") {
		fmt.Fprintln(os.Stderr, "    (userinfo compiles the Microsoft Graph SDK: minutes the first time, cached afterwards)")
	}
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
		if p.product {
			// The zip azd deploys: app and host.json, deflated.
			zip := filepath.Join(tmp, p.name+".zip")
			if err := deploy.WritePackage(zip, out, filepath.Join(o.repo, "servers", p.name, "host.json")); err != nil {
				return b, fmt.Errorf("package %s: %w", p.name, err)
			}
			if fi, err = os.Stat(zip); err != nil {
				return b, err
			}
			b.pkgSizes[p.name] = fi.Size()
		}
	}
	if b.selected("weather") {
		b.nws = nwstest.New(nwstest.Config{MaxAge: 30 * time.Second})
	}
	if b.selected("userinfo") {
		if b.ids, err = userinfofake.Start(tmp); err != nil {
			return b, err
		}
	}
	return b, nil
}

func (b *bench) close() {
	if b.nws != nil {
		b.nws.Close()
	}
	if b.ids != nil {
		b.ids.Close()
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

// dropPrefixes are environment variables of the bench's own environment
// that would change how a server behaves; they are not passed on.
var dropPrefixes = append([]string{"NWS_", "LOG_", "FUNCTIONS_", "NETHTTP_"}, userinfofake.EnvPrefixes...)

// env is the environment of a server process of server with the given
// weather cache and log settings.
func (b *bench) env(server, cache, level string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.ContainsFunc(dropPrefixes, func(p string) bool { return strings.HasPrefix(k, p) }) {
			env = append(env, kv)
		}
	}
	switch server {
	case "weather":
		env = append(env, "NWS_API_BASE_URL="+b.nws.URL, "NETHTTP_RESPONSE_BYTES="+strconv.Itoa(b.respBytes))
		if cache == "off" {
			env = append(env, "NWS_CACHE_ENTRIES=0")
		}
	case "userinfo":
		env = append(env, b.ids.Env()...)
	}
	if level != "" {
		env = append(env, "LOG_LEVEL="+level)
	}
	return env
}

// probe checks one real tools/call against each selected server before
// any measurement, and records the size of weather's answer, which nethttp
// then imitates.
func (b *bench) probe(ctx context.Context) error {
	for _, server := range b.o.servers {
		p, err := startProc(ctx, server, b.bins[server], b.env(server, "off", "warn"), readyHeader(b.ids, server))
		if err != nil {
			return err
		}
		err = func() error {
			defer p.stop()
			if _, err := p.waitReady(ctx, readyLimit); err != nil {
				return err
			}
			body, hdr := newCaller(b.ids, server, false)(1)
			status, resp, err := post(ctx, b.hc, p.url, body, hdr)
			if err == nil {
				err = checkToolResult(status, resp)
			}
			if err == nil && server == "userinfo" && !strings.Contains(string(resp), "Ada Lovelace") {
				err = fmt.Errorf("the answer lacks the fake Graph's profile: %s", clip(resp))
			}
			if err != nil {
				return fmt.Errorf("%s: tools/call failed before the load started: %w\n%s", server, err, p.stderrTail())
			}
			if server == "weather" {
				b.respBytes = len(resp)
			}
			return nil
		}()
		b.hc.CloseIdleConnections()
		if err != nil {
			return err
		}
	}
	return nil
}

// coldStarts measures exec → first 200 to initialize, interleaving the
// binaries so that drift on the machine hits them alike.
func (b *bench) coldStarts(ctx context.Context) error {
	fmt.Fprintf(os.Stderr, "==> cold starts: %d per binary\n", b.o.coldRuns)
	for range b.o.coldRuns {
		for _, bin := range b.binaries() {
			p, err := startProc(ctx, bin.name, b.bins[bin.name], b.env(bin.server, "", ""), readyHeader(b.ids, bin.server))
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
	cfgs := b.configs()
	fmt.Fprintf(os.Stderr, "==> load: %d level(s) × %d server setups × %d round(s), %s + %s each\n",
		len(b.o.levels), len(cfgs), b.o.rounds, b.o.warmup, b.o.duration)
	for _, n := range b.o.levels {
		runs := map[int][]loadStats{}
		for range b.o.rounds {
			for _, i := range cfgs {
				c := configs[i]
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
	p, err := startProc(ctx, c.bin, b.bins[c.bin], b.env(c.server, c.cache, c.log), readyHeader(b.ids, c.server))
	if err != nil {
		return loadStats{}, err
	}
	defer b.hc.CloseIdleConnections() // after stop: the next run talks to another server
	defer p.stop()
	if _, err := p.waitReady(ctx, readyLimit); err != nil {
		return loadStats{}, err
	}
	st, err := runLoad(ctx, b.hc, p, clients, b.o.warmup, b.o.duration, newCaller(b.ids, c.server, c.fresh), b.upstream(c.server))
	if err != nil {
		return st, fmt.Errorf("%s at %d clients: %w", c.label, clients, err)
	}
	if p.exitedEarly() {
		return st, fmt.Errorf("%s exited during the load run: %s", c.label, p.stderrTail())
	}
	return st, nil
}

// failures is the error the run ends with: the benchmark itself failed when
// any request failed, or a fake refused a request.
func (b *bench) failures() error {
	errs := b.runErrs
	if b.ids != nil {
		if err := b.ids.ErrProblems(); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errors.New("failed requests (the measurements above are not valid):\n  " + strings.Join(errs, "\n  "))
}
