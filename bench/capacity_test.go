package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcpfunc/mcpfunc/servers/weather/nws"
	"github.com/mcpfunc/mcpfunc/servers/weather/nws/nwstest"
)

// TestNWSPerPoint drives the NWS client the weather server uses through a
// delayed front of the fake NWS: every point has a forecast URL of its own
// on the front, which the client accepts and which answers with the
// fixture forecast.
func TestNWSPerPoint(t *testing.T) {
	fake := nwstest.New(nwstest.Config{MaxAge: 30 * time.Second})
	defer fake.Close()
	for _, path := range []string{nwstest.PointPath, nwstest.ForecastPath} {
		req, _ := http.NewRequest(http.MethodGet, fake.URL+path, nil)
		req.Header.Set("User-Agent", "bench test")
		req.Header.Set("Accept", "application/geo+json")
		resp, err := fake.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s is not a route of the fake NWS: status %d", path, resp.StatusCode)
		}
	}
	asked := int64(fake.Requests(""))
	front := startSlowFront(0, func(base string) http.Handler {
		return nwsPerPoint(fake, fake.URL, base)
	})
	defer front.close()
	c, err := nws.New(nws.Config{BaseURL: front.url(), MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}

	forecasts := map[string]bool{}
	for _, id := range []int64{1, 2, 1<<32 | 1} {
		la, lo := distinctPoint(id)
		lat, _ := strconv.ParseFloat(la, 64)
		lon, _ := strconv.ParseFloat(lo, 64)
		pt, err := c.Point(t.Context(), lat, lon)
		if err != nil {
			t.Fatalf("point %s,%s: %v", la, lo, err)
		}
		u := pt.Properties.Forecast
		asked := nws.FormatCoordinate(nws.RoundCoordinate(lat)) + "," + nws.FormatCoordinate(nws.RoundCoordinate(lon))
		if !strings.HasPrefix(u, front.url()+"/gridpoints/BENCH/"+asked+"/") {
			t.Errorf("point %s,%s: forecast URL %q is not its own on the front", la, lo, u)
		}
		forecasts[u] = true
		fc, err := c.Forecast(t.Context(), u)
		if err != nil || len(fc.Properties.Periods) == 0 {
			t.Fatalf("forecast %s: %v, %d periods", u, err, len(fc.Properties.Periods))
		}
	}
	if len(forecasts) != 3 {
		t.Errorf("3 points share forecast URLs: %v", forecasts)
	}
	if got := front.requests.Load(); got != 6 {
		t.Errorf("front counted %d requests, want 6", got)
	}
	if got := int64(fake.Requests("")) - asked; got != 6 {
		t.Errorf("fake NWS answered %d requests, want 6", got)
	}
	if front.peak.Load() < 1 || front.inflight.Load() != 0 {
		t.Errorf("in flight: peak %d, now %d", front.peak.Load(), front.inflight.Load())
	}
}

func TestDistinctPoint(t *testing.T) {
	seen := map[string]int64{}
	for w := range int64(1024) {
		for _, k := range []int64{1, 2, 99, 100, 101, 250, 1 << 20, 9e7 - 1} {
			id := w<<32 | k
			la, lo := distinctPoint(id)
			lat, err1 := strconv.ParseFloat(la, 64)
			lon, err2 := strconv.ParseFloat(lo, 64)
			if err := errors.Join(err1, err2); err != nil || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
				t.Fatalf("id %x: point %s,%s: %v", id, la, lo, err)
			}
			// As the NWS client formats it: rounding must not merge points.
			p := nws.FormatCoordinate(nws.RoundCoordinate(lat)) + "," + nws.FormatCoordinate(nws.RoundCoordinate(lon))
			if prev, dup := seen[p]; dup {
				t.Fatalf("ids %x and %x share the point %s", prev, id, p)
			}
			seen[p] = id
		}
	}
	body, _ := forecastCall(7)
	if !strings.Contains(string(body), `"name":"get_forecast"`) || !strings.Contains(string(body), `"id":7,`) {
		t.Errorf("forecastCall: %s", body)
	}
}

func TestAnswerKind(t *testing.T) {
	for _, c := range []struct {
		status int
		body   string
		want   string
	}{
		{200, `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ok"}]}}`, ""},
		{200, `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"no NWS forecast for 20.0001,-90.0002: timeout\nmore"}],"isError":true}}`,
			"tool error: no NWS forecast for ##.####,-##.####: timeout"},
		{200, `{"jsonrpc":"2.0","id":1,"result":{"content":[],"isError":true}}`, "tool error"},
		{200, `{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"unknown tool"}}`, "JSON-RPC error -32602"},
		{200, `{"jsonrpc":"2.0","id":1}`, "answer without result"},
		{200, `event: message`, "answer not JSON-RPC"},
		{503, `busy`, "HTTP 503"},
	} {
		if got := answerKind(c.status, []byte(c.body)); got != c.want {
			t.Errorf("answerKind(%d, %s) = %q, want %q", c.status, c.body, got, c.want)
		}
	}
}

func TestTransportKind(t *testing.T) {
	op := func(err error) error { return &net.OpError{Op: "dial", Net: "tcp", Err: err} }
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("Post: %w", context.DeadlineExceeded), "client timeout (30s)"},
		{op(syscall.ECONNREFUSED), "connection refused"},
		{op(syscall.ECONNRESET), "connection reset"},
		{op(syscall.EMFILE), "too many open files"},
		{op(syscall.EADDRNOTAVAIL), "no free local port"},
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), "connection closed by the server"},
		{op(errors.New("other")), "network error (dial)"},
		{errors.New("odd"), "transport error"},
	} {
		if got := transportKind(c.err); got != c.want {
			t.Errorf("transportKind(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// TestClassifying checks that the capacity client counts each failed call
// once, by kind, and passes answers on unchanged.
func TestClassifying(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ok"}]}}`)
		case "/busy":
			http.Error(w, "busy", http.StatusServiceUnavailable)
		case "/hangup":
			c, _, _ := w.(http.Hijacker).Hijack()
			c.Close()
		}
	}))
	defer srv.Close()
	kinds := &kindCounter{}
	hc := newCapacityClient(4, kinds)
	defer hc.CloseIdleConnections()
	for _, path := range []string{"/ok", "/busy", "/busy", "/hangup"} {
		status, body, err := post(t.Context(), hc, srv.URL+path, []byte(`{}`), nil)
		if path == "/ok" && (err != nil || checkToolResult(status, body) != nil) {
			t.Errorf("/ok: %d %s %v", status, body, err)
		}
	}
	got := kinds.snapshot()
	want := map[string]int{"HTTP 503": 2, "connection closed by the server": 1}
	if len(got) != len(want) || got["HTTP 503"] != 2 || got["connection closed by the server"] != 1 {
		t.Errorf("kinds = %v, want %v", got, want)
	}
	if s := formatKinds(got); s != "HTTP 503 ×2, connection closed by the server ×1" {
		t.Errorf("formatKinds = %q", s)
	}
}

// closeRecorder is a RoundTripper that records CloseIdleConnections.
type closeRecorder struct{ closed *bool }

func (closeRecorder) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("not used")
}
func (c closeRecorder) CloseIdleConnections() { *c.closed = true }

// TestClassifyingCloses checks that the client's CloseIdleConnections
// reaches the transport beneath, so that a run's connections are closed
// before the RSS after it is read.
func TestClassifyingCloses(t *testing.T) {
	closed := false
	hc := &http.Client{Transport: classifying{next: closeRecorder{&closed}, kinds: &kindCounter{}}}
	hc.CloseIdleConnections()
	if !closed {
		t.Error("CloseIdleConnections did not reach the transport")
	}
}

func TestParseStatmRSS(t *testing.T) {
	if got, err := parseStatmRSS("5020 1234 800 300 0 900 0\n", 4096); err != nil || got != 1234*4096 {
		t.Errorf("parseStatmRSS = %d, %v", got, err)
	}
	for _, bad := range []string{"", "5020", "5020 x"} {
		if _, err := parseStatmRSS(bad, 4096); err == nil {
			t.Errorf("parseStatmRSS(%q): no error", bad)
		}
	}
}

func TestParseFDLimit(t *testing.T) {
	const limits = "Limit                     Soft Limit           Hard Limit           Units     \n" +
		"Max processes             96362                96362                processes \n" +
		"Max open files            20000                524288               files     \n"
	if got, err := parseFDLimit(limits); err != nil || got != 20000 {
		t.Errorf("parseFDLimit = %d, %v", got, err)
	}
	if got, err := parseFDLimit("Max open files  unlimited  unlimited  files\n"); err != nil || got != -1 {
		t.Errorf("parseFDLimit(unlimited) = %d, %v", got, err)
	}
	if _, err := parseFDLimit("Max processes 1 1 processes\n"); err == nil {
		t.Error("parseFDLimit without the line: no error")
	}
}

func TestSetEnv(t *testing.T) {
	in := []string{"A=1", "GRAPH_BASE_URL=x", "GRAPH_BASE_URL_OTHER=y", "B=2"}
	got := setEnv(in, "GRAPH_BASE_URL", "z")
	want := []string{"A=1", "GRAPH_BASE_URL_OTHER=y", "B=2", "GRAPH_BASE_URL=z"}
	if !slices.Equal(got, want) {
		t.Errorf("setEnv = %v, want %v", got, want)
	}
	if in[1] != "GRAPH_BASE_URL=x" {
		t.Errorf("setEnv changed its input: %v", in)
	}
}
