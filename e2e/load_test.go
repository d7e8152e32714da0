//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpfunc/mcpfunc/bench/userinfofake"
)

// This file puts each server under 64 concurrent clients for a fixed time
// (MCP_LOAD_DURATION, default 10s) on loopback, against local fake
// upstreams (NWS for weather; Entra ID, managed identity and Graph for
// userinfo), and looks for failures and leaks.
//
// The server runs as its profiled build (bench/profiled/<name>: the same
// wiring plus net/http/pprof on its port), so that goroutines can be
// counted while it runs without a debug route in the product binaries.
// The leak signals compared between the end of the warm-up and the end of
// the run are:
//
//   - under load, the peaks of the process's RSS, OS threads and open file
//     descriptors (from /proc, sampled every 100 ms) over the last second
//     of each phase;
//   - at rest, the goroutine count (/debug/pprof/goroutine), read after the
//     clients have stopped and every connection, to the clients and to the
//     upstreams, has closed: after the warm-up and again after the run. At
//     rest the count does not depend on how many requests were in flight
//     when it was read, so a goroutine left behind per request or per
//     connection shows up as growth.
//
// Finally, no connection may stay open once the clients and upstreams close
// theirs, and SIGTERM must still stop the worker cleanly.

const (
	loadClients     = 64
	loadWarmup      = 3 * time.Second
	defaultLoadTime = 10 * time.Second
)

// loadDuration reads MCP_LOAD_DURATION (a Go duration), default 10s,
// capped at 5 minutes.
func loadDuration(t *testing.T) time.Duration {
	v := os.Getenv("MCP_LOAD_DURATION")
	if v == "" {
		return defaultLoadTime
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 || d > 5*time.Minute {
		t.Fatalf("MCP_LOAD_DURATION=%q: want a duration such as 10s, at most 5m", v)
	}
	return d
}

// procSample is what /proc says about a process.
type procSample struct {
	rssKiB  int64
	threads int64
	fds     int
	// sockets by kind: "listen", "in" (accepted on the worker's port) and
	// "out" (to upstreams), each with its TCP states.
	sockets map[string]map[string]int
}

func (p procSample) count(kind string) int {
	n := 0
	for _, c := range p.sockets[kind] {
		n += c
	}
	return n
}

func (p procSample) String() string {
	return fmt.Sprintf("RSS %.1f MiB, %d threads, %d fds, sockets listen=%v in=%v out=%v",
		float64(p.rssKiB)/1024, p.threads, p.fds, p.sockets["listen"], p.sockets["in"], p.sockets["out"])
}

// tcpStates names /proc/net/tcp's state codes.
var tcpStates = map[string]string{
	"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2",
	"06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING",
}

// procStatus samples pid; listenPort, if not 0, tells accepted connections
// from outgoing ones.
func procStatus(t *testing.T, pid int, listenPort ...int) procSample {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read /proc status (Linux only): %v", err)
	}
	var s procSample
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		switch k {
		case "VmRSS":
			s.rssKiB, _ = strconv.ParseInt(f[0], 10, 64)
		case "Threads":
			s.threads, _ = strconv.ParseInt(f[0], 10, 64)
		}
	}
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.fds = len(ents)
	inodes := map[string]bool{}
	for _, e := range ents {
		if l, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	port := 0
	if len(listenPort) > 0 {
		port = listenPort[0]
	}
	s.sockets = map[string]map[string]int{"listen": {}, "in": {}, "out": {}}
	for _, table := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || !inodes[f[9]] {
				continue
			}
			state := tcpStates[f[3]]
			local, _ := strconv.ParseInt(f[1][strings.LastIndexByte(f[1], ':')+1:], 16, 32)
			kind := "out"
			switch {
			case state == "LISTEN":
				kind = "listen"
			case int(local) == port:
				kind = "in"
			}
			s.sockets[kind][state]++
		}
	}
	return s
}

// timedSample is a procSample and when it was taken.
type timedSample struct {
	at time.Time
	procSample
}

// sampleDuring samples pid every 100 ms while run runs.
func sampleDuring(t *testing.T, pid, port int, run func()) []timedSample {
	done := make(chan struct{})
	out := make(chan []timedSample)
	go func() {
		var samples []timedSample
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				out <- samples
				return
			case <-tick.C:
				samples = append(samples, timedSample{time.Now(), procStatus(t, pid, port)})
			}
		}
	}()
	run()
	close(done)
	return <-out
}

// peak returns the highest RSS, threads and descriptors among the samples
// of the last window of the phase.
func peak(samples []timedSample, window time.Duration) procSample {
	var p procSample
	if len(samples) == 0 {
		return p
	}
	from := samples[len(samples)-1].at.Add(-window)
	for _, s := range samples {
		if s.at.Before(from) {
			continue
		}
		p.rssKiB = max(p.rssKiB, s.rssKiB)
		p.threads = max(p.threads, s.threads)
		if s.fds > p.fds {
			p.fds, p.sockets = s.fds, s.sockets
		}
	}
	return p
}

// loadRequest is one request of the mix, and how to check its answer.
type loadRequest struct {
	body   string
	header http.Header                 // added to the request; nil for none
	check  func(reply rpcReply) string // "" when the answer is right
	status int                         // the HTTP status expected; 0 means 200 with a reply for check
}

// loadResult counts what the clients saw.
type loadResult struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	firstFail  []string
}

func (r *loadResult) fail(msg string) {
	r.failed.Add(1)
	r.mu.Lock()
	if len(r.firstFail) < 5 {
		r.firstFail = append(r.firstFail, msg)
	}
	r.mu.Unlock()
}

// runLoad runs loadClients clients against url with mix until stop, on
// one shared transport.
func runLoad(ctx context.Context, client *http.Client, url string, mix []loadRequest, res *loadResult) {
	var wg sync.WaitGroup
	for i := range loadClients {
		wg.Go(func() {
			for n := i; ctx.Err() == nil; n++ {
				lr := mix[n%len(mix)]
				req := mcpPost(url, strings.NewReader(lr.body), "2025-11-25")
				for k, v := range lr.header {
					req.Header[k] = v
				}
				resp, err := client.Do(req)
				if err != nil {
					res.fail(err.Error())
					continue
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if lr.status != 0 && err == nil && resp.StatusCode == lr.status {
					res.ok.Add(1)
					continue
				}
				if err != nil || resp.StatusCode != http.StatusOK {
					res.fail(fmt.Sprintf("HTTP %d %.200q %v", resp.StatusCode, b, err))
					continue
				}
				var reply rpcReply
				if err := json.Unmarshal(b, &reply); err != nil {
					res.fail(fmt.Sprintf("bad JSON %.200q", b))
					continue
				}
				if reply.Error != nil {
					res.fail("JSON-RPC error: " + reply.Error.Message)
					continue
				}
				if msg := lr.check(reply); msg != "" {
					res.fail(msg)
					continue
				}
				res.ok.Add(1)
			}
		})
	}
	wg.Wait()
}

// toolOK accepts a successful tool result whose text contains want.
func toolOK(want string) func(rpcReply) string {
	return func(r rpcReply) string {
		if r.Result == nil || r.Result.IsError || len(r.Result.Content) == 0 || !strings.Contains(r.Result.Content[0].Text, want) {
			return fmt.Sprintf("unexpected result %+v", r.Result)
		}
		return ""
	}
}

// buildProfiled builds bench/profiled/<name> (servers/<name> with
// net/http/pprof) without the race detector into an app folder, next to
// servers/<name>/host.json: the load test measures memory, which the race
// detector inflates several times over.
func buildProfiled(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	pkg := "./bench/profiled/" + name
	cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, "app"), pkg)
	cmd.Dir = ".."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	hj, err := os.ReadFile(filepath.Join("..", "servers", name, "host.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "host.json"), hj, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// goroutineTotal reads the worker's goroutine count from the first line of
// /debug/pprof/goroutine?debug=1, "goroutine profile: total N". The
// connection is not kept: it would count as a connection left open.
func goroutineTotal(t *testing.T, port int) int {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := hc.Get(fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/goroutine?debug=1", port))
	if err != nil {
		t.Fatalf("goroutine profile: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	m := goroutineTotalLine.FindSubmatch(b)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("goroutine profile: HTTP %d %.200q", resp.StatusCode, b)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

var goroutineTotalLine = regexp.MustCompile(`^goroutine profile: total (\d+)\n`)

// restingGoroutines reads the goroutine count every 100 ms until three
// readings in a row agree, for at most 3 s, and returns the lowest reading:
// goroutines that are still finishing (a closed connection's, a timer's)
// only ever raise a reading, while leaked ones stay in every reading.
func restingGoroutines(t *testing.T, port int) int {
	t.Helper()
	lowest, last, same := -1, -1, 0
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		n := goroutineTotal(t, port)
		if lowest < 0 || n < lowest {
			lowest = n
		}
		if n == last {
			same++
		} else {
			last, same = n, 1
		}
		if same == 3 || time.Now().After(deadline) {
			return lowest
		}
	}
}

// quiesce closes the clients' idle connections and, with closeUpstream,
// the upstreams' side of the worker's outgoing ones, then waits up to 10 s
// until the worker holds only its listener and no more descriptors than
// when idle. It reports the last sample and whether that happened.
func quiesce(pid, port int, idle procSample, tr *http.Transport, closeUpstream func(), sample func() procSample) (procSample, bool) {
	tr.CloseIdleConnections()
	if closeUpstream != nil {
		closeUpstream()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		last := sample()
		if last.count("in") == 0 && last.count("out") == 0 && last.fds <= idle.fds {
			return last, true
		}
		if time.Now().After(deadline) {
			return last, false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// loadTest runs the warm-up and the measured run against h and checks the
// results. closeUpstream drops the upstreams' connections so that the
// worker's pooled upstream connections close too.
func loadTest(t *testing.T, h *fakeHost, mix []loadRequest, closeUpstream func()) {
	d := loadDuration(t)
	pid := h.Cmd.Process.Pid
	url := fmt.Sprintf("http://127.0.0.1:%d/mcp", h.WorkerPort)
	tr := &http.Transport{
		MaxIdleConns:        loadClients,
		MaxIdleConnsPerHost: loadClients,
		MaxConnsPerHost:     loadClients,
		IdleConnTimeout:     30 * time.Second,
	}
	client := &http.Client{Transport: tr, Timeout: 15 * time.Second}
	res := &loadResult{}
	sample := func() procSample { return procStatus(t, pid, h.WorkerPort) }

	idle := sample()
	idleG := restingGoroutines(t, h.WorkerPort)
	// A single RSS sample lands anywhere on the garbage collector's
	// sawtooth, so each phase is sampled every 100 ms and its last second
	// is summarised by the peaks.
	ctx, cancel := context.WithTimeout(context.Background(), loadWarmup)
	warmSamples := sampleDuring(t, pid, h.WorkerPort, func() { runLoad(ctx, client, url, mix, res) })
	cancel()
	warm := peak(warmSamples, time.Second)
	rest, ok := quiesce(pid, h.WorkerPort, idle, tr, closeUpstream, sample)
	if !ok {
		t.Errorf("connections or descriptors still open 10s after the warm-up: %s (idle: %d fds)", rest, idle.fds)
	}
	warmG := restingGoroutines(t, h.WorkerPort)

	start := time.Now()
	before := res.ok.Load()
	ctx, cancel = context.WithTimeout(context.Background(), d)
	runSamples := sampleDuring(t, pid, h.WorkerPort, func() { runLoad(ctx, client, url, mix, res) })
	cancel()
	elapsed := time.Since(start)
	end := peak(runSamples, time.Second)
	n := res.ok.Load() - before

	t.Logf("%d clients for %s: %d requests, %.0f req/s, %d failed", loadClients, elapsed.Round(time.Millisecond), n, float64(n)/elapsed.Seconds(), res.failed.Load())
	t.Logf("idle:                  %s", idle)
	t.Logf("end of warm-up (peak): %s", warm)
	t.Logf("end of run (peak):     %s", end)
	if f := res.failed.Load(); f != 0 {
		t.Errorf("%d failed requests, first: %q", f, res.firstFail)
	}
	if n == 0 {
		t.Fatal("no request succeeded")
	}
	// Within 10%; for the small counts, at least 2 more are allowed: the
	// runtime keeps every OS thread it ever started, so one blocking
	// syscall late in the run adds a thread for good.
	within := func(what string, a, b, atLeast int64) {
		if b > a+max(a/10, atLeast) {
			t.Errorf("%s grew from %d to %d (more than 10%%) between the end of the warm-up and the end of the run", what, a, b)
		}
	}
	within("RSS (KiB)", warm.rssKiB, end.rssKiB, 0)
	within("threads", warm.threads, end.threads, 2)
	within("open file descriptors", int64(warm.fds), int64(end.fds), 2)

	// No leaked connections: once the clients close theirs (and the
	// upstreams drop their side), the worker holds only its listener.
	last, ok := quiesce(pid, h.WorkerPort, idle, tr, closeUpstream, sample)
	if !ok {
		t.Errorf("connections or descriptors still open 10s after the load stopped: %s (idle: %d fds)", last, idle.fds)
	}
	t.Logf("after closing: %s", last)

	// Goroutines at rest, after the warm-up and after the run: within 10%,
	// and at least 2 more allowed. At rest both servers have 6 goroutines
	// (main, the accept loop, two signal watchers, the pprof request being
	// served and its connection's reader), where 10% is less than one. The
	// 2 cover a goroutine still finishing on a slow machine when the
	// settled reading is taken (a just-closed connection's, a timer's) and
	// one a library might start on first use of a path the warm-up did not
	// take and then keep; a leak per request or per connection would add
	// thousands or at least 64 over a run of some 10,000 requests on
	// 64 connections.
	endG := restingGoroutines(t, h.WorkerPort)
	t.Logf("goroutines at rest: idle %d, after the warm-up %d, after the run %d", idleG, warmG, endG)
	within("goroutines at rest", int64(warmG), int64(endG), 2)

	checkWorkerLogs(t, h)
	if took, err := h.Stop(t, 15*time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v (after %s), want 0", err, took)
	}
}

func TestLoadWeather(t *testing.T) {
	nws := newFakeNWS(t)
	app := buildProfiled(t, "weather")
	host := startUnderHost(t, app, "app", map[string]string{
		"NWS_API_BASE_URL":  nws.URL,
		"NWS_CACHE_ENTRIES": "0", // every call goes upstream: the whole path, and its connections
	}, yarpProxy)
	mix := []loadRequest{
		{body: toolCall(`"get_alerts"`, `{"state":"CA"}`), check: toolOK("Event: Wind Advisory")},
		{body: toolCall(`"get_forecast"`, `{"latitude":39.7456,"longitude":-97.0892}`), check: toolOK("Temperature: ")},
		{body: toolCall(`"get_alerts"`, `{"state":"GU"}`), check: toolOK("No active alerts for GU.")},
	}
	loadTest(t, host, mix, nws.CloseClientConnections)
	t.Logf("fake NWS requests: %d", nws.requests.Load())
}

// TestLoadUserinfo drives userinfo as deployed: Easy Auth mode, each call
// with a user's token and an Easy Auth principal, On-Behalf-Of with a
// managed identity against fake Entra (TLS), managed identity and Graph
// (bench/userinfofake). Eight users make the calls: their first calls
// exchange tokens, the rest are served from the OBO cache and each reads
// the fake Graph; tools/list and a call without a token are mixed in.
func TestLoadUserinfo(t *testing.T) {
	ids, err := userinfofake.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer ids.Close()
	app := buildProfiled(t, "userinfo")
	env := map[string]string{}
	for _, k := range []string{"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "WEBSITE_SITE_NAME", "WEBSITE_HOSTNAME", "SSL_CERT_DIR"} {
		env[k] = ""
	}
	for _, kv := range ids.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	host := startUnderHost(t, app, "app", env, yarpProxy)
	var mix []loadRequest
	for i := range 8 {
		hdr := userinfofake.Headers(ids.UserToken(fmt.Sprintf("load-user-%d", i)))
		mix = append(mix, loadRequest{body: toolCall(`"get_user_info"`, `{}`), header: hdr, check: toolOK("Display name: Ada Lovelace")})
		if i%4 == 0 {
			mix = append(mix, loadRequest{body: rpc("tools/list", ""), header: hdr, check: func(r rpcReply) string {
				if r.Result == nil {
					return "tools/list without a result"
				}
				return ""
			}})
		}
	}
	// A caller whose token did not reach the server: refused with 401
	// before any tool runs, with no upstream call.
	mix = append(mix, loadRequest{body: toolCall(`"get_user_info"`, `{}`), header: http.Header{"X-Ms-Client-Principal": {userinfofake.Principal}},
		status: http.StatusUnauthorized})
	loadTest(t, host, mix, ids.CloseClientConnections)
	c := ids.Counts()
	t.Logf("fake upstream requests: Entra metadata %d, token %d; managed identity %d; Graph %d; connections accepted: Entra %d, managed identity %d, Graph %d",
		c.Metadata, c.Token, c.ManagedIdentity, c.Graph, c.EntraConns, c.ManagedIdentityConns, c.GraphConns)
	if err := ids.ErrProblems(); err != nil {
		t.Error(err)
	}
	if c.Token == 0 || c.Token > 8*2 {
		t.Errorf("%d token exchanges for 8 users, want 1 to 2 each (the OBO cache serves the rest)", c.Token)
	}
}
