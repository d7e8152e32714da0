package nws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// upstream is a fake NWS API that counts requests and checks headers.
type upstream struct {
	t       *testing.T
	srv     *httptest.Server
	count   atomic.Int64
	handler http.HandlerFunc
}

func newUpstream(t *testing.T, h http.HandlerFunc) *upstream {
	t.Helper()
	u := &upstream{t: t, handler: h}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.count.Add(1)
		if r.Header.Get("User-Agent") == "" || strings.HasPrefix(r.Header.Get("User-Agent"), "Go-http-client") {
			t.Errorf("request %s: User-Agent %q, want ours", r.URL.Path, r.Header.Get("User-Agent"))
		}
		if got := r.Header.Get("Accept"); got != "application/geo+json" {
			t.Errorf("request %s: Accept %q, want application/geo+json", r.URL.Path, got)
		}
		h(w, r)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstream) requests() int { return int(u.count.Load()) }

// fakeClock is an injectable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newClient(t *testing.T, base string, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		BaseURL:        base,
		RequestTimeout: 2 * time.Second,
		RetryBaseDelay: 5 * time.Millisecond,
		RetryMaxDelay:  20 * time.Millisecond,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/geo+json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func writeProblem(w http.ResponseWriter, status int, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"correlationId":"abc","title":%q,"type":"https://api.weather.gov/problems/X","status":%d,"detail":%q,"instance":"https://api.weather.gov/requests/abc"}`, title, status, detail)
}

type doc struct {
	Name string `json:"name"`
}

func TestNewDefaultsAndValidation(t *testing.T) {
	c, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL() != DefaultBaseURL || c.userAgent != DefaultUserAgent || c.RequestTimeout() != 8*time.Second ||
		c.MaxAttempts() != 3 || c.cache != nil {
		t.Errorf("defaults: base %q ua %q timeout %v attempts %d cache %v", c.BaseURL(), c.userAgent, c.RequestTimeout(), c.MaxAttempts(), c.cache)
	}
	if c.hc.Timeout != 0 {
		t.Errorf("default client has a global timeout %v", c.hc.Timeout)
	}
	tr, ok := c.hc.Transport.(*http.Transport)
	if !ok || tr.MaxIdleConnsPerHost != 64 || tr.MaxIdleConns != 128 || !tr.ForceAttemptHTTP2 || tr.IdleConnTimeout != 90*time.Second {
		t.Errorf("default transport not tuned: %#v", c.hc.Transport)
	}
	for _, bad := range []string{"api.weather.gov", "ftp://api.weather.gov", "http://", "/relative", "https://u:p@api.weather.gov", "https://api.weather.gov/?q=1", "://x"} {
		if _, err := New(Config{BaseURL: bad}); err == nil {
			t.Errorf("New(BaseURL %q): no error", bad)
		}
	}
	if _, err := New(Config{MaxAttempts: -1}); err == nil {
		t.Error("New(MaxAttempts -1): no error")
	}
	// The caller's HTTP client is not modified.
	hc := &http.Client{}
	if _, err := New(Config{HTTPClient: hc}); err != nil || hc.CheckRedirect != nil {
		t.Errorf("caller's client modified (err %v)", err)
	}
}

func TestGetJSONPathsAndHeaders(t *testing.T) {
	var gotPath, gotQuery string
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotQuery = r.URL.Path, r.URL.RawQuery
		writeJSON(w, 200, `{"name":"ok"}`)
	})
	c := newClient(t, up.srv.URL+"/api/", nil)
	var d doc
	if err := c.GetJSON(t.Context(), "/points/39.7456,-97.0892?x=1", &d); err != nil {
		t.Fatal(err)
	}
	if d.Name != "ok" || gotPath != "/api/points/39.7456,-97.0892" || gotQuery != "x=1" {
		t.Errorf("got %+v path %q query %q", d, gotPath, gotQuery)
	}
	for _, bad := range []string{"points", "http://evil.example/x", "//evil.example/x"} {
		if err := c.GetJSON(t.Context(), bad, &d); err == nil {
			t.Errorf("GetJSON(%q): no error", bad)
		}
	}
	if up.requests() != 1 {
		t.Errorf("upstream requests = %d, want 1", up.requests())
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name         string
		statuses     []int // statuses answered in turn; the last repeats
		retryAfter   string
		wantAttempts int
		wantStatus   int // 0: success
	}{
		{"500 then success", []int{500, 200}, "", 2, 0},
		{"502 503 then success", []int{502, 503, 200}, "", 3, 0},
		{"persistent 503", []int{503}, "", 3, 503},
		{"persistent 429", []int{429}, "0", 3, 429},
		{"400 not retried", []int{400}, "", 1, 400},
		{"403 not retried", []int{403}, "", 1, 403},
		{"404 not retried", []int{404}, "", 1, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int64
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				st := tt.statuses[min(i, len(tt.statuses)-1)]
				if st == 200 {
					writeJSON(w, 200, `{"name":"ok"}`)
					return
				}
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				writeProblem(w, st, http.StatusText(st), "detail for "+http.StatusText(st))
			})
			c := newClient(t, up.srv.URL, nil)
			var d doc
			err := c.GetJSON(t.Context(), "/x", &d)
			if up.requests() != tt.wantAttempts {
				t.Errorf("upstream requests = %d, want %d", up.requests(), tt.wantAttempts)
			}
			if tt.wantStatus == 0 {
				if err != nil || d.Name != "ok" {
					t.Fatalf("got %+v, %v", d, err)
				}
				return
			}
			var se *StatusError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T), want *StatusError", err, err)
			}
			if se.Status != tt.wantStatus || se.Attempts != tt.wantAttempts || se.Path != "/x" ||
				se.Detail != "detail for "+http.StatusText(tt.wantStatus) {
				t.Errorf("StatusError %+v", se)
			}
			if got := errors.Is(err, ErrNotFound); got != (tt.wantStatus == 404) {
				t.Errorf("errors.Is(err, ErrNotFound) = %v", got)
			}
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	var n atomic.Int64
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			writeProblem(w, 429, "Too Many Requests", "slow down")
			return
		}
		writeJSON(w, 200, `{"name":"ok"}`)
	})
	c := newClient(t, up.srv.URL, func(c *Config) { c.RetryMaxDelay = 2 * time.Second })
	start := time.Now()
	var d doc
	if err := c.GetJSON(t.Context(), "/x", &d); err != nil {
		t.Fatal(err)
	}
	// A lower bound only: the client must have waited for Retry-After.
	if el := time.Since(start); el < 900*time.Millisecond {
		t.Errorf("retried after %v, want Retry-After: 1 honoured", el)
	}
	if up.requests() != 2 {
		t.Errorf("upstream requests = %d, want 2", up.requests())
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"1", time.Second, true},
		{" 120 ", 120 * time.Second, true},
		{"0", 0, true},
		{"-1", 0, false},
		{"", 0, false},
		{"soon", 0, false},
		{now.Add(3 * time.Second).Format(http.TimeFormat), 3 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// A retry whose wait would end after the deadline is not attempted.
func TestRetryStopsBeforeDeadline(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "2")
		writeProblem(w, 503, "Service Unavailable", "")
	})
	c := newClient(t, up.srv.URL, func(c *Config) { c.RetryMaxDelay = 2 * time.Second })
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	u, _ := url.Parse(up.srv.URL + "/x")
	_, err := c.fetch(ctx, u)
	var se *StatusError
	if !errors.As(err, &se) || se.Status != 503 || se.Attempts != 1 {
		t.Fatalf("err = %v, want 503 after 1 attempt", err)
	}
	if ctx.Err() != nil {
		t.Error("fetch waited until the deadline instead of giving up early")
	}
	if up.requests() != 1 {
		t.Errorf("upstream requests = %d, want 1", up.requests())
	}
}

func TestErrorBodyBoundedAndNotLeaked(t *testing.T) {
	long := strings.Repeat("very long detail ", 100)
	tests := []struct {
		name    string
		ctype   string
		body    string
		wantErr string
		notIn   string
	}{
		{"problem json", "application/problem+json", fmt.Sprintf(`{"title":"Bad Request","status":400,"detail":%q}`, long), "HTTP 400 Bad Request: very long detail", long[:300]},
		{"html body", "text/html", "<html><body>secret internal page</body></html>", "HTTP 400 Bad Request", "secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.ctype)
				w.WriteHeader(400)
				_, _ = io.WriteString(w, tt.body)
			})
			c := newClient(t, up.srv.URL, nil)
			err := c.GetJSON(t.Context(), "/x", &doc{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), tt.notIn) {
				t.Fatalf("error %q: want it to contain %q and not %q", err, tt.wantErr, tt.notIn)
			}
			var se *StatusError
			if errors.As(err, &se) && len([]rune(se.Detail)) > 200 {
				t.Errorf("detail not truncated: %d runes", len([]rune(se.Detail)))
			}
		})
	}
}

func TestMalformedJSON(t *testing.T) {
	for _, body := range []string{`{"name":`, `<html>oops</html>`, ``, `{"name":"a"} trailing`} {
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, body) })
		c := newClient(t, up.srv.URL, nil)
		err := c.GetJSON(t.Context(), "/x", &doc{})
		if !errors.Is(err, ErrMalformedJSON) {
			t.Errorf("body %q: error %v, want ErrMalformedJSON", body, err)
		}
		if err != nil && !strings.Contains(err.Error(), "malformed JSON") {
			t.Errorf("error %q does not say malformed JSON", err)
		}
	}
}

func TestResponseTooLarge(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/geo+json")
		_, _ = io.WriteString(w, `{"name":"`)
		chunk := strings.Repeat("x", 64<<10)
		for range (maxBodyBytes / len(chunk)) + 2 {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
		_, _ = io.WriteString(w, `"}`)
	})
	c := newClient(t, up.srv.URL, nil)
	err := c.GetJSON(t.Context(), "/x", &doc{})
	if !errors.Is(err, ErrResponseTooLarge) {
		t.Fatalf("error %v, want ErrResponseTooLarge", err)
	}
	if up.requests() != 1 {
		t.Errorf("upstream requests = %d, want 1 (not retried)", up.requests())
	}
}

// newSlowUpstream answers only when the client gives up or the test ends.
func newSlowUpstream(t *testing.T) *upstream {
	stop := make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	})
	t.Cleanup(func() { close(stop) }) // runs before the server's Close
	return up
}

func TestAttemptTimeout(t *testing.T) {
	up := newSlowUpstream(t)
	c := newClient(t, up.srv.URL, func(c *Config) { c.RequestTimeout = 150 * time.Millisecond })
	start := time.Now()
	err := c.GetJSON(t.Context(), "/slow", &doc{})
	elapsed := time.Since(start)
	var te *TimeoutError
	if !errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v (%T), want *TimeoutError wrapping DeadlineExceeded", err, err)
	}
	if te.Timeout != 150*time.Millisecond || te.Path != "/slow" {
		t.Errorf("TimeoutError %+v", te)
	}
	// Bounded: the whole request can never take longer than its budget.
	if bound := c.MaxRequestDuration() + 2*time.Second; elapsed > bound {
		t.Errorf("took %v, bound %v", elapsed, bound)
	}
	if up.requests() != 1 {
		t.Errorf("upstream requests = %d, want 1 (a slow upstream is not retried)", up.requests())
	}
}

func TestCallerDeadline(t *testing.T) {
	up := newSlowUpstream(t)
	c := newClient(t, up.srv.URL, func(c *Config) { c.RequestTimeout = 5 * time.Second })
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.GetJSON(ctx, "/slow", &doc{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want DeadlineExceeded", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("returned after %v, want promptly after the caller's deadline", el)
	}
	cancelled, cancel2 := context.WithCancel(t.Context())
	cancel2()
	if err := c.GetJSON(cancelled, "/slow", &doc{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: error %v", err)
	}
}

func TestForecastURLMustBeOnAPIHost(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"properties":{"periods":[{"number":1,"name":"Tonight","temperature":28,"temperatureUnit":"F"}]}}`)
	})
	c := newClient(t, up.srv.URL, nil)
	base, _ := url.Parse(up.srv.URL)
	for _, bad := range []string{
		"https://evil.example.com/gridpoints/TOP/32,81/forecast",
		"https://" + base.Host + "/gridpoints/TOP/32,81/forecast", // other scheme
		"http://" + base.Hostname() + ":1/gridpoints/TOP/32,81/forecast",
		"/gridpoints/TOP/32,81/forecast",
		"http://user@" + base.Host + "/gridpoints/TOP/32,81/forecast",
	} {
		if _, err := c.Forecast(t.Context(), bad); !errors.Is(err, ErrForeignURL) {
			t.Errorf("Forecast(%q): error %v, want ErrForeignURL", bad, err)
		}
	}
	if up.requests() != 0 {
		t.Fatalf("upstream requests = %d, want 0", up.requests())
	}
	f, err := c.Forecast(t.Context(), up.srv.URL+"/gridpoints/TOP/32,81/forecast")
	if err != nil || len(f.Properties.Periods) != 1 || *f.Properties.Periods[0].Temperature != 28 {
		t.Fatalf("Forecast = %+v, %v", f, err)
	}
}

func TestRedirectToOtherHostRefused(t *testing.T) {
	other := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{"name":"other"}`) })
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/points/39.74561,-97.0892" {
			http.Redirect(w, r, "/points/39.7456,-97.0892", http.StatusMovedPermanently)
			return
		}
		if r.URL.Path == "/away" {
			http.Redirect(w, r, other.srv.URL+"/x", http.StatusFound)
			return
		}
		writeJSON(w, 200, `{"name":"`+r.URL.Path+`"}`)
	})
	c := newClient(t, up.srv.URL, nil)
	var d doc
	if err := c.GetJSON(t.Context(), "/points/39.74561,-97.0892", &d); err != nil || d.Name != "/points/39.7456,-97.0892" {
		t.Errorf("same-host redirect: %+v, %v", d, err)
	}
	if err := c.GetJSON(t.Context(), "/away", &d); err == nil {
		t.Error("redirect to another host followed")
	}
	if other.requests() != 0 {
		t.Errorf("other host got %d requests", other.requests())
	}
}

func TestPointRoundsCoordinates(t *testing.T) {
	var paths []string
	var mu sync.Mutex
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		writeJSON(w, 200, `{"properties":{"gridId":"TOP","gridX":32,"gridY":81,"forecast":"x"}}`)
	})
	c := newClient(t, up.srv.URL, nil)
	for _, tc := range [][2]float64{{39.74561234, -97.08919}, {39.7456, -97.0892}, {-0.00001, 0.00004}, {90, -180}} {
		if _, err := c.Point(t.Context(), tc[0], tc[1]); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"/points/39.7456,-97.0892", "/points/39.7456,-97.0892", "/points/0,0", "/points/90,-180"}
	if fmt.Sprint(paths) != fmt.Sprint(want) {
		t.Errorf("paths %v, want %v", paths, want)
	}
	if _, err := c.Point(t.Context(), 91, 0); err == nil {
		t.Error("Point(91, 0): no error")
	}
}

func TestConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close() // nothing listens there any more
	c := newClient(t, base, nil)
	err := c.GetJSON(t.Context(), "/x", &doc{})
	var re *RequestError
	if !errors.As(err, &re) || re.Attempts != 3 || re.Path != "/x" {
		t.Fatalf("error %v (%T), want *RequestError after 3 attempts", err, err)
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestFailureLoggedOnce(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, 503, "Service Unavailable", "multi\nline detail")
	})
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c := newClient(t, up.srv.URL, func(c *Config) { c.Logger = logger })
	if err := c.GetJSON(t.Context(), "/alerts/active/area/CA", &doc{}); err == nil {
		t.Fatal("no error")
	}
	out := buf.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 1 || !strings.Contains(out, "level=WARN") || !strings.Contains(out, "path=/alerts/active/area/CA") ||
		!strings.Contains(out, "status=503") || !strings.Contains(out, "attempts=3") {
		t.Errorf("log output %q, want one Warn line with path, status and attempts", out)
	}
}

func TestPathEscapesKept(t *testing.T) {
	var got []string
	var mu sync.Mutex
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.EscapedPath())
		mu.Unlock()
		writeJSON(w, 200, `{"type":"FeatureCollection","features":[]}`)
	})
	c := newClient(t, up.srv.URL+"/base", nil)
	if err := c.GetJSON(t.Context(), "/alerts/active/area/"+url.PathEscape("../x y"), &doc{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Alerts(t.Context(), "TX"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "tx", "T", "TXX", "..", "T/"} {
		if _, err := c.Alerts(t.Context(), bad); err == nil {
			t.Errorf("Alerts(%q): no error", bad)
		}
	}
	want := []string{"/base/alerts/active/area/..%2Fx%20y", "/base/alerts/active/area/TX"}
	if !slices.Equal(got, want) {
		t.Errorf("paths %q, want %q", got, want)
	}
}

// TestRefusedRedirectNotRetried: a redirect the client refuses (to another
// host or scheme, or one too many) fails at once with ErrRedirectRefused
// after a single attempt: asking again gets the same redirect.
func TestRefusedRedirectNotRetried(t *testing.T) {
	other := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{"name":"other"}`) })
	tests := []struct {
		name         string
		to           func(up *upstream, r *http.Request) string
		wantRequests int // to the API, all on the one attempt
	}{
		{name: "another host", to: func(*upstream, *http.Request) string { return other.srv.URL + "/x" }, wantRequests: 1},
		{name: "another scheme", to: func(up *upstream, _ *http.Request) string {
			return "https://" + strings.TrimPrefix(up.srv.URL, "http://") + "/x"
		}, wantRequests: 1},
		{name: "endless same-host redirects", to: func(_ *upstream, r *http.Request) string { return r.URL.Path + "x" }, wantRequests: maxRedirects},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var up *upstream
			up = newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, tt.to(up, r), http.StatusFound)
			})
			c := newClient(t, up.srv.URL, func(cfg *Config) { cfg.MaxAttempts = 3 })
			var d doc
			err := c.GetJSON(t.Context(), "/away", &d)
			if !errors.Is(err, ErrRedirectRefused) {
				t.Fatalf("error %v, want ErrRedirectRefused", err)
			}
			var re *RequestError
			if !errors.As(err, &re) || re.Attempts != 1 {
				t.Errorf("error %v: want a *RequestError after 1 attempt", err)
			}
			if up.requests() != tt.wantRequests {
				t.Errorf("API requests = %d, want %d (one attempt, no retry)", up.requests(), tt.wantRequests)
			}
		})
	}
	if other.requests() != 0 {
		t.Errorf("the other host got %d requests", other.requests())
	}
}
