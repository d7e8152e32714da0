package main

// The capacity run (-capacity): how much memory and CPU a server needs to
// hold N tool calls in flight at once when its upstream answers slowly, the
// measurement behind the Flex Consumption settings (instance memory,
// perInstanceConcurrency).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mcpfunc/mcpfunc/servers/weather/nws/nwstest"
)

const (
	// capWarmup is the unmeasured load before each capacity window: long
	// enough for every client to finish a call at the highest level.
	capWarmup = 2 * time.Second
	// capSettle is the wait between the end of a load (its connections
	// closed) and the RSS reading after it.
	capSettle = time.Second
	// capClientTimeout bounds one call of the capacity load.
	capClientTimeout = 30 * time.Second
	// capLog is the servers' LOG_LEVEL: production's, one line per request.
	capLog = "info"
)

// capSetup is a binary of the capacity run: a server or its go-sdk floor.
type capSetup struct {
	server, bin string
	product     bool // a server of this repository, not a floor
}

// capSetups in report order: each server beside its floor.
var capSetups = []capSetup{
	{"weather", "weather", true},
	{"weather", "sdkfloor", false},
	{"userinfo", "userinfo", true},
	{"userinfo", "userinfofloor", false},
}

// capUpstreamNames are the column titles of the counters capacity.upstream
// returns for a server, each reported per completed call.
var capUpstreamNames = map[string][]string{
	"weather":  {"NWS req/call", "new NWS conns/call"},
	"userinfo": {"Graph req/call", "new Graph conns/call", "Entra req/call", "new Entra+MI conns/call"},
}

// capResult is one row of the capacity tables: a fresh server process
// under N clients.
type capResult struct {
	st       loadStats
	idleRSS  int64          // VmRSS once the server answers, before any load
	afterRSS int64          // VmRSS capSettle after the load, its connections closed
	inflight int64          // most requests the delayed upstream held at once
	fds      int            // most file descriptors the server had open
	fdLimit  int64          // the server's soft limit on open files (-1: unlimited)
	kinds    map[string]int // failed calls by kind, warm-up included
}

type capKey struct{ setup, n int }

// capacity is the state of a capacity run.
type capacity struct {
	b       *bench
	fronts  map[string]*slowFront // server → its delayed upstream
	results map[capKey]capResult
	idle    []*idleWatch
}

// runCapacity runs the capacity measurements of the selected servers and
// prints their tables.
func runCapacity(ctx context.Context, b *bench) error {
	c := &capacity{b: b, fronts: map[string]*slowFront{}, results: map[capKey]capResult{}}
	defer c.close()
	if b.selected("weather") {
		fake := b.nws
		c.fronts["weather"] = startSlowFront(b.o.upstreamDelay, func(base string) http.Handler {
			return nwsPerPoint(fake, fake.URL, base)
		})
	}
	if b.selected("userinfo") {
		graph := b.ids.Graph.Config.Handler
		c.fronts["userinfo"] = startSlowFront(b.o.upstreamDelay, func(string) http.Handler { return graph })
	}
	if err := c.probe(ctx); err != nil {
		return err
	}
	if err := c.loads(ctx); err != nil {
		return err
	}
	if err := c.waitIdle(ctx); err != nil {
		return err
	}
	c.report(os.Stdout)
	return c.failures()
}

func (c *capacity) close() {
	for _, w := range c.idle {
		w.stop()
	}
	for _, f := range c.fronts {
		f.close()
	}
}

// setups returns the indexes of the capSetups of the selected servers.
func (c *capacity) setups() []int {
	var out []int
	for i, s := range capSetups {
		if c.b.selected(s.server) {
			out = append(out, i)
		}
	}
	return out
}

// env is the environment of a server process of the capacity run: as the
// bench's (weather's NWS cache off), with the delayed upstream in place of
// the fake it fronts.
func (c *capacity) env(server string) []string {
	env := c.b.env(server, "off", capLog)
	switch server {
	case "weather":
		env = setEnv(env, "NWS_API_BASE_URL", c.fronts[server].url())
	case "userinfo":
		env = setEnv(env, "GRAPH_BASE_URL", c.fronts[server].url()+"/v1.0")
	}
	return env
}

// setEnv sets key to value in env, replacing an earlier value.
func setEnv(env []string, key, value string) []string {
	env = slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, key+"=") })
	return append(env, key+"="+value)
}

// caller returns the calls of server's capacity load: get_forecast for a
// new point each call (weather), get_user_info with a new user token each
// call, so an On-Behalf-Of cache miss (userinfo).
func (c *capacity) caller(server string) caller {
	if server == "userinfo" {
		return newCaller(c.b.ids, server, true)
	}
	return forecastCall
}

// forecastCall is a tools/call get_forecast for a point of its own.
func forecastCall(id int64) ([]byte, http.Header) {
	lat, lon := distinctPoint(id)
	return fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"get_forecast","arguments":{"latitude":%s,"longitude":%s}}}`,
		id, lat, lon), nil
}

// distinctPoint maps the ids runLoad gives (client << 32 | call number) to
// points, 4 decimals each as the NWS client rounds them, that differ for
// every client below 4096 and call number below 9×10⁷.
func distinctPoint(id int64) (lat, lon string) {
	w, k := id>>32, id&0xffffffff
	latE4 := 200000 + w%4096*100 + k%100
	lonE4 := -900000 - k/100%900000
	return strconv.FormatFloat(float64(latE4)/1e4, 'f', 4, 64), strconv.FormatFloat(float64(lonE4)/1e4, 'f', 4, 64)
}

// upstream returns the counters of server's upstreams (see
// capUpstreamNames).
func (c *capacity) upstream(server string) func() []int64 {
	f := c.fronts[server]
	if server == "userinfo" {
		ids := c.b.ids
		return func() []int64 {
			n := ids.Counts()
			return []int64{f.requests.Load(), f.conns.Load(), n.Token, n.EntraConns + n.ManagedIdentityConns}
		}
	}
	return func() []int64 { return []int64{f.requests.Load(), f.conns.Load()} }
}

// probe checks one call of the capacity load against each setup, and that
// it went through the delayed upstream.
func (c *capacity) probe(ctx context.Context) error {
	for _, i := range c.setups() {
		s := capSetups[i]
		if err := c.probeOne(ctx, s); err != nil {
			return fmt.Errorf("%s: a capacity call failed before the load started: %w", s.bin, err)
		}
	}
	return nil
}

func (c *capacity) probeOne(ctx context.Context, s capSetup) error {
	p, err := startProc(ctx, s.bin, c.b.bins[s.bin], c.env(s.server), readyHeader(c.b.ids, s.server))
	if err != nil {
		return err
	}
	defer p.stop()
	if _, err := p.waitReady(ctx, readyLimit); err != nil {
		return err
	}
	hc := &http.Client{Timeout: capClientTimeout}
	defer hc.CloseIdleConnections()
	f := c.fronts[s.server]
	before := f.requests.Load()
	body, hdr := c.caller(s.server)(1)
	status, resp, err := post(ctx, hc, p.url, body, hdr)
	if err == nil {
		err = checkToolResult(status, resp)
	}
	if err != nil {
		return fmt.Errorf("%w\n%s", err, p.stderrTail())
	}
	if f.requests.Load() == before {
		return errors.New("the call did not reach the delayed upstream")
	}
	return nil
}

// loads runs every setup at every level, a fresh process each, highest
// level first so that the servers' processes kept idle after it (see
// idleWatch) are watched while the other levels run.
func (c *capacity) loads(ctx context.Context) error {
	levels := slices.Sorted(slices.Values(c.b.o.capLevels))
	slices.Reverse(levels)
	fmt.Fprintf(os.Stderr, "==> capacity: %d level(s) × %d setups, %s warm-up + %s each, upstream delay %s\n",
		len(levels), len(c.setups()), capWarmup, c.b.o.duration, c.b.o.upstreamDelay)
	for _, n := range levels {
		for _, i := range c.setups() {
			s := capSetups[i]
			keep := s.product && n == levels[0] && c.b.o.capIdle > 0
			r, err := c.run(ctx, s, n, keep)
			if err != nil {
				return err
			}
			c.results[capKey{i, n}] = r
			fmt.Fprintf(os.Stderr, "    %-14s %5d in flight: %6.0f calls/s, p99 %s, %5.0f µs CPU/call, peak RSS %s, %d errors, other load %.2f CPUs\n",
				s.bin, n, r.st.rps(), ms(percentile(r.st.Latencies, 99)), micros(r.st.cpuPerReq()), mib(r.st.PeakRSS), r.st.Errors, r.st.otherLoad())
		}
	}
	return nil
}

// run measures s under n clients in a fresh process. When keep is set the
// process is not stopped but watched idle (see idleWatch).
func (c *capacity) run(ctx context.Context, s capSetup, n int, keep bool) (capResult, error) {
	var r capResult
	p, err := startProc(ctx, s.bin, c.b.bins[s.bin], c.env(s.server), readyHeader(c.b.ids, s.server))
	if err != nil {
		return r, err
	}
	kept := false
	defer func() {
		if !kept {
			p.stop()
		}
	}()
	if _, err := p.waitReady(ctx, readyLimit); err != nil {
		return r, err
	}
	if err := sleep(ctx, 250*time.Millisecond); err != nil {
		return r, err
	}
	if r.idleRSS, err = rss(p.pid()); err != nil {
		return r, err
	}
	if r.fdLimit, err = fdLimit(p.pid()); err != nil {
		return r, err
	}
	f := c.fronts[s.server]
	f.resetPeak()
	kinds := &kindCounter{}
	hc := newCapacityClient(slices.Max(c.b.o.capLevels), kinds)
	defer hc.CloseIdleConnections()
	stopFDs := watchFDs(p.pid())
	r.st, err = runLoad(ctx, hc, p, n, capWarmup, c.b.o.duration, c.caller(s.server), c.upstream(s.server))
	ended := time.Now()
	r.fds = stopFDs()
	r.inflight = f.peak.Load()
	r.kinds = kinds.snapshot()
	if err != nil {
		return r, fmt.Errorf("%s at %d clients: %w", s.bin, n, err)
	}
	if p.exitedEarly() {
		return r, fmt.Errorf("%s exited during the load at %d clients: %s", s.bin, n, p.stderrTail())
	}
	hc.CloseIdleConnections()
	if err := sleep(ctx, capSettle); err != nil {
		return r, err
	}
	if r.afterRSS, err = rss(p.pid()); err != nil {
		return r, err
	}
	if keep {
		kept = true
		c.idle = append(c.idle, watchIdle(s.bin, n, p, ended, r))
	}
	return r, nil
}

// waitIdle waits until every watched process has been idle for -capacity-idle,
// then stops them.
func (c *capacity) waitIdle(ctx context.Context) error {
	for _, w := range c.idle {
		if d := c.b.o.capIdle - time.Since(w.ended); d > 0 {
			fmt.Fprintf(os.Stderr, "==> watching %s idle after its %d-client load: %s more\n", w.bin, w.n, d.Round(time.Second))
			if err := sleep(ctx, d); err != nil {
				return err
			}
		}
	}
	for _, w := range c.idle {
		w.stop()
	}
	return nil
}

// failures is the error the capacity run ends with. Failed calls are a
// measurement here (reported by kind), but a fake refusing a request means
// the setup is wrong.
func (c *capacity) failures() error {
	if c.b.ids != nil {
		return c.b.ids.ErrProblems()
	}
	return nil
}

// newCapacityClient is the load client of a capacity run: one keep-alive
// connection per client up to maxConns, so that the client holds every
// call in flight and reuses its connection, and failed calls counted into
// kinds.
func newCapacityClient(maxConns int, kinds *kindCounter) *http.Client {
	return &http.Client{
		Transport: classifying{
			next: &http.Transport{
				DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
				MaxIdleConns:        maxConns,
				MaxIdleConnsPerHost: maxConns,
				IdleConnTimeout:     30 * time.Second,
				DisableCompression:  true,
			},
			kinds: kinds,
		},
		Timeout: capClientTimeout,
	}
}

// kindCounter counts failed calls by kind.
type kindCounter struct {
	mu sync.Mutex
	m  map[string]int
}

func (k *kindCounter) add(kind string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string]int{}
	}
	k.m[kind]++
}

func (k *kindCounter) snapshot() map[string]int {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make(map[string]int, len(k.m))
	for kind, n := range k.m {
		out[kind] = n
	}
	return out
}

// classifying is an http.RoundTripper that reads each answer whole and
// counts the failed calls by kind: the same failures runLoad counts
// (errors and answers checkToolResult refuses), which it does not name.
type classifying struct {
	next  http.RoundTripper
	kinds *kindCounter
}

func (c classifying) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		c.kinds.add(transportKind(err))
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	resp.Body.Close()
	if err != nil {
		c.kinds.add(transportKind(err))
		return nil, fmt.Errorf("read answer: %w", err)
	}
	if kind := answerKind(resp.StatusCode, body); kind != "" {
		c.kinds.add(kind)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// CloseIdleConnections closes the idle connections of the transport
// beneath (http.Client.CloseIdleConnections reaches only a transport with
// this method).
func (c classifying) CloseIdleConnections() {
	if t, ok := c.next.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
}

// transportKind names a call that got no complete answer.
func transportKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("client timeout (%s)", capClientTimeout)
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "too many open files"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no free local port"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed by the server"
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return "network error (" + oe.Op + ")"
	}
	return "transport error"
}

// answerKind names a failed answer, "" for a success (see
// checkToolResult). Digits in a tool's error text become '#', so that
// the same failure for different points or users is one kind.
func answerKind(status int, body []byte) string {
	if checkToolResult(status, body) == nil {
		return ""
	}
	if status != http.StatusOK {
		return "HTTP " + strconv.Itoa(status)
	}
	var r struct {
		Error *struct {
			Code int `json:"code"`
		} `json:"error"`
		Result *struct {
			Content []struct {
				Text string `json:"text"`
			} `json:"content"`
		} `json:"result"`
	}
	switch err := json.Unmarshal(body, &r); {
	case err != nil:
		return "answer not JSON-RPC"
	case r.Error != nil:
		return "JSON-RPC error " + strconv.Itoa(r.Error.Code)
	case r.Result == nil:
		return "answer without result"
	case len(r.Result.Content) == 0:
		return "tool error"
	}
	text, _, _ := strings.Cut(r.Result.Content[0].Text, "\n")
	text = strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return '#'
		}
		return r
	}, text)
	if r := []rune(text); len(r) > 80 {
		text = string(r[:80]) + "…"
	}
	return "tool error: " + text
}

// slowFront is a loopback server that answers for one of the bench's fakes
// after a fixed delay, counting requests, connections and the most
// requests it held at once.
type slowFront struct {
	srv      *httptest.Server
	delay    time.Duration
	next     http.Handler
	requests atomic.Int64
	conns    atomic.Int64
	inflight atomic.Int64
	peak     atomic.Int64 // most in flight since resetPeak
}

// startSlowFront starts a front whose handler, after the delay, is what
// next returns for the front's own base URL.
func startSlowFront(delay time.Duration, next func(base string) http.Handler) *slowFront {
	f := &slowFront{delay: delay}
	f.srv = httptest.NewUnstartedServer(f) // listens on 127.0.0.1
	f.next = next("http://" + f.srv.Listener.Addr().String())
	f.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			f.conns.Add(1)
		}
	}
	f.srv.Start()
	return f
}

func (f *slowFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	n := f.inflight.Add(1)
	defer f.inflight.Add(-1)
	for {
		m := f.peak.Load()
		if n <= m || f.peak.CompareAndSwap(m, n) {
			break
		}
	}
	if sleep(r.Context(), f.delay) != nil {
		return // the caller gave up
	}
	f.next.ServeHTTP(w, r)
}

func (f *slowFront) url() string { return f.srv.URL }
func (f *slowFront) resetPeak()  { f.peak.Store(f.inflight.Load()) }
func (f *slowFront) close()      { f.srv.Close() }

// nwsPerPoint serves every point from the fake NWS (its handler fake, its
// URL fakeBase), so that each call of the capacity load can ask for a point
// of its own: a point is the fixture point with its URLs on base and a
// forecast URL of its own, /gridpoints/BENCH/<point>/forecast, which
// answers with the fixture forecast. Distinct points and forecast URLs
// keep the NWS client from collapsing concurrent calls into one request.
// Other paths go to the fake unchanged.
func nwsPerPoint(fake http.Handler, fakeBase, base string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /points/{point}", func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		fake.ServeHTTP(rec, withPath(r, nwstest.PointPath))
		body := bytes.ReplaceAll(rec.Body.Bytes(), []byte(fakeBase+nwstest.GridPath), []byte(base+"/gridpoints/BENCH/"+r.PathValue("point")))
		body = bytes.ReplaceAll(body, []byte(fakeBase), []byte(base))
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		w.Write(body)
	})
	mux.HandleFunc("GET /gridpoints/BENCH/{point}/forecast", func(w http.ResponseWriter, r *http.Request) {
		fake.ServeHTTP(w, withPath(r, nwstest.ForecastPath))
	})
	mux.Handle("/", fake)
	return mux
}

// withPath is r for another path.
func withPath(r *http.Request, path string) *http.Request {
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = path, ""
	return r2
}

// idleWatch samples the RSS of a server process left idle after its load,
// once a second, until stop.
type idleWatch struct {
	bin     string
	n       int
	p       *proc
	ended   time.Time // when the load ended
	run     capResult
	done    chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	samples []rssSample
	once    sync.Once
}

type rssSample struct {
	at  time.Duration // since the load ended
	rss int64
}

func watchIdle(bin string, n int, p *proc, ended time.Time, run capResult) *idleWatch {
	w := &idleWatch{bin: bin, n: n, p: p, ended: ended, run: run, done: make(chan struct{})}
	w.wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-w.done:
				return
			case <-t.C:
			}
			if v, err := rss(p.pid()); err == nil {
				w.mu.Lock()
				w.samples = append(w.samples, rssSample{time.Since(ended), v})
				w.mu.Unlock()
			}
		}
	})
	return w
}

// stop ends the sampling and the process.
func (w *idleWatch) stop() {
	w.once.Do(func() {
		close(w.done)
		w.wg.Wait()
		w.p.stop()
	})
}

// at returns the first sample taken at least d after the load ended.
func (w *idleWatch) at(d time.Duration) (rssSample, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.samples {
		if s.at >= d {
			return s, true
		}
	}
	return rssSample{}, false
}

// last returns the last sample.
func (w *idleWatch) last() (rssSample, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.samples) == 0 {
		return rssSample{}, false
	}
	return w.samples[len(w.samples)-1], true
}

// watchFDs samples the number of open file descriptors of pid every
// 100 ms until the returned function is called, which returns the most
// seen.
func watchFDs(pid int) func() int {
	done := make(chan struct{})
	most := 0 // read only after wg.Wait
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if n, err := openFDs(pid); err == nil {
				most = max(most, n)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() int {
		close(done)
		wg.Wait()
		return most
	}
}
