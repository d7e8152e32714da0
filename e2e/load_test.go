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
	"syscall"
	"testing"
	"time"
)

// This file puts each server under 64 concurrent clients for a fixed time
// (MCP_LOAD_DURATION, default 10s) on loopback, against a local fake
// upstream, and looks for failures and leaks.
//
// The servers have no debug route, so goroutines are not counted while
// they run. The leak signals compared between the end of the warm-up and
// the end of the run are the process's RSS, its OS thread count and its
// open file descriptors (from /proc): a goroutine leaked per request would
// grow RSS by its stack (tens of thousands of requests, several KiB each),
// and one that holds a connection or a file would grow the descriptors.
// At the very end, once the clients have gone, the worker gets SIGQUIT and
// the goroutines in its dump are counted: that is the exact count, taken
// once.

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

// loadRequest is one request body of the mix, and how to check its answer.
type loadRequest struct {
	body  string
	check func(reply rpcReply) string // "" when the answer is right
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
				req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(lr.body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				req.Header.Set("MCP-Protocol-Version", "2025-11-25")
				resp, err := client.Do(req)
				if err != nil {
					res.fail(err.Error())
					continue
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
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

// toolFails accepts a tool error whose text contains want.
func toolFails(want string) func(rpcReply) string {
	return func(r rpcReply) string {
		if r.Result == nil || !r.Result.IsError || len(r.Result.Content) == 0 || !strings.Contains(r.Result.Content[0].Text, want) {
			return fmt.Sprintf("unexpected result %+v", r.Result)
		}
		return ""
	}
}

// buildPlain builds servers/<name> without the race detector into an app
// folder: the load test measures memory, which the race detector inflates
// several times over.
func buildPlain(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("..", "servers", name)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, "app"), ".")
	cmd.Dir = src
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build in %s: %v\n%s", src, err, b)
	}
	hj, err := os.ReadFile(filepath.Join(src, "host.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "host.json"), hj, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// loadTest runs the warm-up and the measured run against h and checks the
// results. closeUpstream, if not nil, drops the upstream's connections so
// that the worker's pooled upstream connections close too.
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

	idle := procStatus(t, pid, h.WorkerPort)
	// A single RSS sample lands anywhere on the garbage collector's
	// sawtooth, so each phase is sampled every 100 ms and its last second
	// is summarised by the peaks.
	ctx, cancel := context.WithTimeout(context.Background(), loadWarmup)
	warmSamples := sampleDuring(t, pid, h.WorkerPort, func() { runLoad(ctx, client, url, mix, res) })
	cancel()
	warm := peak(warmSamples, time.Second)

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
	// upstream drops its side), the worker holds only its listener.
	tr.CloseIdleConnections()
	if closeUpstream != nil {
		closeUpstream()
	}
	var last procSample
	deadline := time.Now().Add(10 * time.Second)
	for {
		last = procStatus(t, pid, h.WorkerPort)
		if last.count("in") == 0 && last.count("out") == 0 && last.fds <= idle.fds {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("connections or descriptors still open 10s after the load stopped: %s (idle: %d fds)", last, idle.fds)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("after closing: %s", last)
	checkWorkerLogs(t, h)

	// The exact goroutine count, from the dump SIGQUIT makes the Go
	// runtime print (GOTRACEBACK=all is set for the load test workers).
	h.Cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-h.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("worker did not exit after SIGQUIT")
	}
	goroutines := len(goroutineHeader.FindAllStringIndex(h.Stderr.String(), -1))
	t.Logf("goroutines in the SIGQUIT dump after the load: %d", goroutines)
	if goroutines == 0 {
		t.Errorf("no goroutine dump on stderr")
	}
	if goroutines > 32 {
		t.Errorf("%d goroutines left after the load (an idle server has about 10)", goroutines)
	}
}

func TestLoadWeather(t *testing.T) {
	nws := newFakeNWS(t)
	app := buildPlain(t, "weather")
	host := startUnderHost(t, app, "app", map[string]string{
		"NWS_API_BASE_URL":  nws.URL,
		"NWS_CACHE_ENTRIES": "0", // every call goes upstream: the whole path, and its connections
		"GOTRACEBACK":       "all",
	}, yarpProxy)
	mix := []loadRequest{
		{toolCall(`"get_alerts"`, `{"state":"CA"}`), toolOK("Event: Wind Advisory")},
		{toolCall(`"get_forecast"`, `{"latitude":39.7456,"longitude":-97.0892}`), toolOK("Temperature: ")},
		{toolCall(`"get_alerts"`, `{"state":"GU"}`), toolOK("No active alerts for GU.")},
	}
	loadTest(t, host, mix, nws.CloseClientConnections)
	t.Logf("fake NWS requests: %d", nws.requests.Load())
}

func TestLoadUserinfo(t *testing.T) {
	app := buildPlain(t, "userinfo")
	host := startUnderHost(t, app, "app", map[string]string{
		"MCP_AUTH":    "none",
		"GOTRACEBACK": "all",
	}, yarpProxy)
	mix := []loadRequest{
		{toolCall(`"get_user_info"`, `{}`), toolFails("AZURE_TENANT_ID")},
		{rpc("tools/list", ""), func(r rpcReply) string {
			if r.Result == nil {
				return "tools/list without a result"
			}
			return ""
		}},
	}
	loadTest(t, host, mix, nil)
}

// goroutineHeader starts each goroutine of a Go traceback.
var goroutineHeader = regexp.MustCompile(`(?m)^goroutine \d+ .*\[`)
