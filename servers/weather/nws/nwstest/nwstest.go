// Package nwstest provides a fake of the National Weather Service API
// (api.weather.gov) for the weather server's tests, the end-to-end tests
// and the bench: one fake, serving one set of fixtures, on loopback.
//
// The fake follows the API's documented behaviour
// (https://www.weather.gov/documentation/services-web-api): clients send a
// User-Agent and Accept: application/geo+json; GET /alerts/active/area/{state}
// answers a GeoJSON FeatureCollection of alerts, GET /points/{lat},{lon}
// a point whose properties.forecast is the URL of its grid's forecast, and
// GET /gridpoints/{office}/{x},{y}/forecast the forecast periods; errors are
// application/problem+json documents, a point outside coverage a 404.
//
// The fixtures are the files in testdata, embedded: alerts for CA (four)
// and for NY, GM and GU (none), the point 39.7456,-97.0892 and its forecast
// (five periods) at /gridpoints/TOP/32,81/forecast, and problem documents.
// In them {{BASE}} stands for the fake's own URL.
//
// On top of the fixtures a test can override a path's answer (Route,
// RoutePrefix), make a kind of request fail in one of the ways a real
// upstream fails (SetFault), delay every answer (SetDelay), serve
// misbehaving forecasts (Hostile), and read what the fake was asked
// (Requests, Paths, KindRequests, FirstSeen, Connections, Problems).
//
// New starts a fake without a testing.TB (the bench uses it outside
// tests); Start is the same for a test, closed and checked when it ends.
package nwstest

import (
	"cmp"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

//go:embed testdata/*.json
var testdata embed.FS

// The fixtures' paths.
const (
	// AlertsPath answers the four CA alerts of alerts_CA.json.
	AlertsPath = "/alerts/active/area/CA"
	// PointPath answers points_39.7456_-97.0892.json, which links
	// ForecastPath.
	PointPath = "/points/39.7456,-97.0892"
	// GridPath is the point's forecast grid.
	GridPath = "/gridpoints/TOP/32,81"
	// ForecastPath answers the five periods of forecast_TOP_32_81.json.
	ForecastPath = GridPath + "/forecast"
)

// fixtureRoutes maps the fake's paths to the fixtures they answer with.
func fixtureRoutes() map[string]string {
	return map[string]string{
		AlertsPath:               "alerts_CA.json",
		"/alerts/active/area/NY": "alerts_empty.json",
		"/alerts/active/area/GM": "alerts_empty.json",
		"/alerts/active/area/GU": "alerts_empty.json",
		PointPath:                "points_39.7456_-97.0892.json",
		ForecastPath:             "forecast_TOP_32_81.json",
	}
}

// Fixture returns the named file of testdata as it is, {{BASE}} unreplaced.
func Fixture(name string) ([]byte, error) {
	return testdata.ReadFile("testdata/" + name)
}

// Kind is a kind of NWS request: alerts, points or forecast.
type Kind string

// The kinds of request, as KindOf classifies paths.
const (
	KindAlerts   Kind = "alerts"
	KindPoints   Kind = "points"
	KindForecast Kind = "forecast"
	KindOther    Kind = "other"
)

// KindOf classifies a request path.
func KindOf(path string) Kind {
	switch {
	case strings.HasPrefix(path, "/alerts/"):
		return KindAlerts
	case strings.HasPrefix(path, "/points/"):
		return KindPoints
	case strings.HasSuffix(path, "/forecast"):
		return KindForecast
	}
	return KindOther
}

// Fault is a way for the fake to fail a kind of request (see SetFault).
type Fault string

// The faults.
const (
	// Fault500 answers a 500 problem.
	Fault500 Fault = "500"
	// Fault429 answers a 429 problem with Retry-After: 1.
	Fault429 Fault = "429"
	// Fault429Once answers every other request (the 1st, 3rd, …) of the
	// kind with a 429 problem with Retry-After: 1, the others normally.
	Fault429Once Fault = "429 once"
	// FaultSlow answers after 5 seconds, past any client timeout.
	FaultSlow Fault = "slow"
	// FaultTruncated promises the whole body, sends half and hangs up.
	FaultTruncated Fault = "truncated"
	// FaultCutJSON answers 200 with half the body.
	FaultCutJSON Fault = "cut JSON"
	// FaultHTML answers 200 with an HTML page.
	FaultHTML Fault = "HTML"
	// FaultEmpty answers 200 with no body.
	FaultEmpty Fault = "empty"
	// FaultReset resets the connection (RST, not FIN) without answering.
	FaultReset Fault = "reset"
)

// maxPaths bounds what Paths remembers, and maxTracked the distinct paths
// Requests and FirstSeen know, so that a long bench or fuzz run does not
// grow the fake without limit.
const (
	maxPaths   = 10_000
	maxTracked = 100_000
)

// Config configures a fake.
type Config struct {
	// MaxAge is the Cache-Control max-age of the fixtures' answers; 0
	// sends no Cache-Control.
	MaxAge time.Duration
	// ByKind answers every path of a kind with the kind's fixture: any
	// /alerts/ path the CA alerts, any /points/ path the one point (which
	// links the one forecast), any …/forecast path the forecast.
	ByKind bool
}

// Server is a fake NWS API serving on a loopback port. The embedded
// httptest.Server's URL is its base URL; its handler is the Server itself.
type Server struct {
	*httptest.Server
	cfg      Config
	fixtures map[string][]byte // name -> body, {{BASE}} replaced
	hits     atomic.Int64
	conns    atomic.Int64
	delay    atomic.Int64 // nanoseconds

	mu       sync.Mutex
	routes   map[string]http.HandlerFunc
	prefixes []prefixRoute
	faults   map[Kind]Fault
	paths    []string
	counts   map[string]int
	kinds    map[Kind]int
	seen     map[string]time.Time
	problems []string
}

type prefixRoute struct {
	prefix string
	h      http.HandlerFunc
}

// New starts a fake NWS API on loopback; Close stops it.
func New(cfg Config) *Server {
	s := &Server{
		cfg:      cfg,
		fixtures: map[string][]byte{},
		routes:   map[string]http.HandlerFunc{},
		faults:   map[Kind]Fault{},
		counts:   map[string]int{},
		kinds:    map[Kind]int{},
		seen:     map[string]time.Time{},
	}
	s.Server = httptest.NewUnstartedServer(s) // listens on 127.0.0.1
	base := "http://" + s.Listener.Addr().String()
	entries, _ := testdata.ReadDir("testdata") // embedded: cannot fail
	for _, e := range entries {
		b, _ := testdata.ReadFile("testdata/" + e.Name())
		s.fixtures[e.Name()] = []byte(strings.ReplaceAll(string(b), "{{BASE}}", base))
	}
	for path, name := range fixtureRoutes() {
		s.routes[path] = s.FixtureHandler(name, http.StatusOK)
	}
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	return s
}

// Start is New for a test: the fake closes when the test ends, and the
// test fails if the fake got a request without the headers the NWS
// requires (see Problems).
func Start(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	s := New(cfg)
	tb.Cleanup(func() {
		s.Close()
		for _, p := range s.Problems() {
			tb.Errorf("fake NWS: %s", p)
		}
	})
	return s
}

// Fixture returns the named fixture with {{BASE}} replaced by the fake's
// URL. It panics if there is no such fixture.
func (s *Server) Fixture(name string) []byte {
	b, ok := s.fixtures[name]
	if !ok {
		panic("nwstest: no fixture " + name)
	}
	return slices.Clone(b)
}

// FixtureHandler answers with the named fixture (see Fixture) and status,
// as application/problem+json for problem_* fixtures and
// application/geo+json otherwise, with Config.MaxAge.
func (s *Server) FixtureHandler(name string, status int) http.HandlerFunc {
	body := s.Fixture(name)
	ctype := "application/geo+json"
	if strings.HasPrefix(name, "problem_") {
		ctype = "application/problem+json"
	}
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ctype)
		s.cacheControl(w)
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
}

func (s *Server) cacheControl(w http.ResponseWriter) {
	if s.cfg.MaxAge > 0 {
		w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(s.cfg.MaxAge.Seconds())))
	}
}

// StatusHandler answers status with a problem document, and Retry-After
// unless retryAfter is "".
func StatusHandler(status int, retryAfter string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, `{"title":%q,"status":%d,"detail":"an upstream problem"}`, http.StatusText(status), status)
	}
}

// Sequence answers with the handlers in turn; the last one repeats.
func Sequence(hs ...http.HandlerFunc) http.HandlerFunc {
	var n atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		hs[min(i, len(hs)-1)](w, r)
	}
}

// Route makes h answer for path, in place of its fixture.
func (s *Server) Route(path string, h http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes[path] = h
}

// RoutePrefix makes h answer for the paths under prefix that have no
// route of their own; the first prefix added that matches wins.
func (s *Server) RoutePrefix(prefix string, h http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prefixes = append(s.prefixes, prefixRoute{prefix, h})
}

// SetFault makes requests of kind fail with fault; "" restores them.
func (s *Server) SetFault(kind Kind, fault Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if fault == "" {
		delete(s.faults, kind)
	} else {
		s.faults[kind] = fault
	}
}

// SetDelay delays every answer by d (0: none). A request whose client
// gives up during the delay gets no answer.
func (s *Server) SetDelay(d time.Duration) { s.delay.Store(int64(d)) }

// Requests returns the number of requests for path, or for all paths if
// path is "" (per path, for the first 100,000 distinct paths).
func (s *Server) Requests(path string) int {
	if path == "" {
		return int(s.hits.Load())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[path]
}

// RequestsUnder returns the number of requests for paths under prefix.
func (s *Server) RequestsUnder(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for p, c := range s.counts {
		if strings.HasPrefix(p, prefix) {
			n += c
		}
	}
	return n
}

// KindRequests returns the number of requests of kind.
func (s *Server) KindRequests(kind Kind) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.kinds[kind]
}

// Paths returns the paths asked, escaped as sent, in order (the first
// 10,000 since the last TakePaths).
func (s *Server) Paths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.paths)
}

// TakePaths returns the paths asked, as Paths does, and forgets them.
func (s *Server) TakePaths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.paths
	s.paths = nil
	return p
}

// FirstSeen returns when path was first asked for.
func (s *Server) FirstSeen(path string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.seen[path]
	return at, ok
}

// Connections returns the number of connections the fake accepted.
func (s *Server) Connections() int64 { return s.conns.Load() }

// Problems returns what was wrong with the requests the fake got:
// requests without a User-Agent of their own (none, or Go's default) or
// without Accept: application/geo+json, which it answered 403.
func (s *Server) Problems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.problems)
}

// ServeHTTP counts the request, checks its headers, waits for the delay,
// and answers with its kind's fault, its route or the fallback.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.hits.Add(1)
	path := r.URL.Path
	kind := KindOf(path)
	s.mu.Lock()
	if len(s.paths) < maxPaths {
		s.paths = append(s.paths, r.URL.EscapedPath())
	}
	if _, ok := s.counts[path]; ok || len(s.counts) < maxTracked {
		s.counts[path]++
	}
	if _, ok := s.seen[path]; !ok && len(s.seen) < maxTracked {
		s.seen[path] = time.Now()
	}
	s.kinds[kind]++
	n := s.kinds[kind]
	ua, accept := r.Header.Get("User-Agent"), r.Header.Get("Accept")
	badHeaders := ua == "" || strings.HasPrefix(ua, "Go-http-client") || accept != "application/geo+json"
	if badHeaders {
		s.problems = append(s.problems, fmt.Sprintf("%s: User-Agent %q, Accept %q; want the client's own User-Agent and application/geo+json", path, ua, accept))
	}
	fault := s.faults[kind]
	h := s.handler(path, kind)
	s.mu.Unlock()
	if badHeaders {
		http.Error(w, "missing User-Agent or Accept", http.StatusForbidden)
		return
	}
	if d := time.Duration(s.delay.Load()); d > 0 && !sleep(r, d) {
		return
	}
	if fault != "" && s.fail(w, r, kind, fault, n) {
		return
	}
	h(w, r)
}

// handler returns what answers path; s.mu is held.
func (s *Server) handler(path string, kind Kind) http.HandlerFunc {
	if h, ok := s.routes[path]; ok {
		return h
	}
	for _, p := range s.prefixes {
		if strings.HasPrefix(path, p.prefix) {
			return p.h
		}
	}
	if s.cfg.ByKind {
		if name := kindFixture(kind); name != "" {
			return s.FixtureHandler(name, http.StatusOK)
		}
	}
	if kind == KindPoints {
		return s.FixtureHandler("problem_404_points.json", http.StatusNotFound)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = fmt.Fprintf(w, `{"title":"Not Found","status":404,"detail":"'%s' is not a valid resource path"}`, r.URL.Path)
	}
}

// kindFixture is the fixture that answers a kind's requests with ByKind,
// and whose body the faults that send part of a body cut.
func kindFixture(kind Kind) string {
	switch kind {
	case KindAlerts:
		return "alerts_CA.json"
	case KindPoints:
		return "points_39.7456_-97.0892.json"
	case KindForecast:
		return "forecast_TOP_32_81.json"
	}
	return ""
}

// sleep waits d, or until the request's client gives up (false).
func sleep(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// fail answers with fault, the nth request of kind; false if the request
// is to be answered normally after all.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, kind Kind, fault Fault, n int) bool {
	body := string(s.fixtures[kindFixture(kind)])
	problem := func(status int, retryAfter string) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"title":%q,"status":%d,"detail":"injected fault"}`, http.StatusText(status), status)
	}
	switch fault {
	case Fault500:
		problem(http.StatusInternalServerError, "")
	case Fault429:
		problem(http.StatusTooManyRequests, "1")
	case Fault429Once:
		if n%2 == 0 {
			return false
		}
		problem(http.StatusTooManyRequests, "1")
	case FaultSlow:
		return !sleep(r, 5*time.Second) // far past any client timeout
	case FaultTruncated:
		w.Header().Set("Content-Type", "application/geo+json")
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, body[:len(body)/2])
		w.(http.Flusher).Flush()
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			c.Close()
		}
	case FaultCutJSON:
		w.Header().Set("Content-Type", "application/geo+json")
		io.WriteString(w, body[:len(body)/2])
	case FaultHTML:
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
	case FaultEmpty:
		w.Header().Set("Content-Type", "application/geo+json")
	case FaultReset:
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetLinger(0) // RST, not FIN
			}
			c.Close()
		}
	default:
		return false
	}
	return true
}

// Period is one forecast period, for Forecast.
type Period struct {
	Name, Detail string
	// Wind and Short, if not "", replace the wind speed "5 mph" and the
	// short forecast "Clear".
	Wind, Short string
}

// Forecast is a forecast document of the periods, numbered from 1, each
// for tonight at 28 °F with a north-west wind.
func Forecast(periods ...Period) []byte {
	var ps []map[string]any
	for i, p := range periods {
		wind, short := cmp.Or(p.Wind, "5 mph"), cmp.Or(p.Short, "Clear")
		ps = append(ps, map[string]any{"number": i + 1, "name": p.Name, "startTime": "2026-11-24T18:00:00-06:00", "endTime": "2026-11-25T06:00:00-06:00",
			"temperature": 28, "temperatureUnit": "F", "windSpeed": wind, "windDirection": "NW", "shortForecast": short, "detailedForecast": p.Detail})
	}
	b, _ := json.Marshal(map[string]any{"type": "Feature", "properties": map[string]any{"periods": ps}})
	return b
}

// hostileGrid is the grid of Hostile for the integer part of a point's
// latitude, or "".
func hostileGrid(lat string) string {
	switch lat {
	case "30":
		return "BIG"
	case "31":
		return "HUGE"
	case "32":
		return "ESC"
	case "33":
		return "AWAY"
	}
	return ""
}

// Hostile makes the points at latitudes from 30 to 33 (not including 34)
// link forecasts that misbehave: the point /points/{lat},{lon} links the
// forecast of grid {kind}/{lat without its dot},{lon without its sign},
// where the latitude's integer part picks the kind, and the forecast
// answers with max-age=3600:
//
//   - 30, BIG: one period with 2 MB of detail;
//   - 31, HUGE: five periods with 400 KB of detail each;
//   - 32, ESC: a period whose name and detail carry ANSI escapes, control
//     characters, a C1 CSI and NUL;
//   - 33, AWAY: a redirect to another host (127.0.0.1:1).
//
// Other points under /points/ answer 404.
func (s *Server) Hostile() {
	big := Forecast(Period{Name: "Tonight", Detail: strings.Repeat("Snow. ", 2_000_000/6)})
	var hugePeriods []Period
	for range 5 {
		hugePeriods = append(hugePeriods, Period{Name: "Day", Detail: strings.Repeat("Rain. ", 400_000/6)})
	}
	huge := Forecast(hugePeriods...)
	esc := Forecast(Period{Name: "To\x1b[31mnight\x1b[0m", Detail: "Clear\x1b]0;pwned\x07 skies.\r\nCold\u009b2J\x00."})
	s.RoutePrefix("/points/", func(w http.ResponseWriter, r *http.Request) {
		lat, lon, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/points/"), ",")
		grid := hostileGrid(strings.SplitN(lat, ".", 2)[0])
		if grid == "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/geo+json")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fmt.Fprintf(w, `{"properties":{"forecast":"%s/gridpoints/%s/%s,%s/forecast"}}`, s.URL, grid, strings.ReplaceAll(lat, ".", ""), strings.TrimPrefix(lon, "-"))
	})
	s.RoutePrefix("/gridpoints/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/geo+json")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		switch grid := strings.Split(r.URL.Path, "/")[2]; grid {
		case "BIG":
			w.Write(big)
		case "HUGE":
			w.Write(huge)
		case "ESC":
			w.Write(esc)
		case "AWAY":
			http.Redirect(w, r, "http://127.0.0.1:1/gridpoints/AWAY/1,1/forecast", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	})
}
