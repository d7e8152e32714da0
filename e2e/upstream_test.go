//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// hostileNWS is an NWS API that misbehaves by forecast grid: the point
// /points/{lat},{lon} names grid "{kind}{n}", where the latitude's integer
// part picks the kind, and the forecast for that grid misbehaves so.
type hostileNWS struct {
	*httptest.Server
	mu     sync.Mutex
	counts map[string]int // requests per path
}

// Hostile forecast kinds, by the latitude's integer part.
var hostileKinds = map[string]string{"30": "BIG", "31": "HUGE", "32": "ESC", "33": "AWAY"}

func newHostileNWS(t *testing.T) *hostileNWS {
	t.Helper()
	h := &hostileNWS{counts: map[string]int{}}
	period := func(n int, name, detail string) map[string]any {
		return map[string]any{"number": n, "name": name, "startTime": "2026-11-24T18:00:00-06:00", "endTime": "2026-11-25T06:00:00-06:00",
			"temperature": 28, "temperatureUnit": "F", "windSpeed": "5 mph", "windDirection": "NW", "shortForecast": "Clear", "detailedForecast": detail}
	}
	forecast := func(periods ...map[string]any) []byte {
		b, _ := json.Marshal(map[string]any{"type": "Feature", "properties": map[string]any{"periods": periods}})
		return b
	}
	big := forecast(period(1, "Tonight", strings.Repeat("Snow. ", 2_000_000/6)))
	var hugePeriods []map[string]any
	for i := range 5 {
		hugePeriods = append(hugePeriods, period(i+1, "Day", strings.Repeat("Rain. ", 400_000/6)))
	}
	huge := forecast(hugePeriods...)
	esc := forecast(period(1, "To\x1b[31mnight\x1b[0m", "Clear\x1b]0;pwned\x07 skies.\r\nCold\u009b2J\x00."))
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.counts[r.URL.Path]++
		h.mu.Unlock()
		var lat, lon string
		if p, ok := strings.CutPrefix(r.URL.Path, "/points/"); ok {
			lat, lon, _ = strings.Cut(p, ",")
			kind := hostileKinds[strings.SplitN(lat, ".", 2)[0]]
			if kind == "" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/geo+json")
			w.Header().Set("Cache-Control", "public, max-age=3600")
			fmt.Fprintf(w, `{"properties":{"forecast":"%s/gridpoints/%s/%s,%s/forecast"}}`, h.URL, kind, strings.ReplaceAll(lat, ".", ""), strings.TrimPrefix(lon, "-"))
			return
		}
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
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hostileNWS) requests(prefix string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for p, c := range h.counts {
		if strings.HasPrefix(p, prefix) {
			n += c
		}
	}
	return n
}

// TestHostileUpstream: the weather server under the fake Functions host,
// against an NWS that misbehaves. Terminal escapes and control characters
// never reach the tool result; 5 × 400 KB of forecast text gives a result
// of under 128 KiB that says what was cut; a redirect to another host is
// one request, not three; and 60 distinct points answering 2 MB with
// max-age=3600 do not grow the worker by the 2 MB each that the cache used
// to keep (the review measured 22 → 291 MB).
func TestHostileUpstream(t *testing.T) {
	nws := newHostileNWS(t)
	app := appDir(t, "weather")
	host := startUnderHost(t, app, "app", map[string]string{"NWS_API_BASE_URL": nws.URL, "MCP_AUTH": "none"}, yarpProxy)
	cs := connectMCP(t, host.URL+"/mcp", "2025-11-25")
	forecastAt := func(lat float64, lon float64) (*mcp.CallToolResult, string) {
		t.Helper()
		return call(t, cs, "get_forecast", map[string]any{"latitude": lat, "longitude": lon})
	}

	t.Run("escapes and control characters", func(t *testing.T) {
		res, text := forecastAt(32.5, -97)
		if res.IsError {
			t.Fatalf("tool error: %s", text)
		}
		whole, _ := json.Marshal(res)
		for _, r := range string(whole) + text {
			if r != '\n' && r != '\t' && unicode.IsControl(r) {
				t.Errorf("control character %U in the result", r)
			}
		}
		for _, bad := range []string{"[31m", "[0m", "pwned", "2J", `\u001b`, `\u0000`} {
			if strings.Contains(string(whole), bad) {
				t.Errorf("result contains %q: %.300s", bad, whole)
			}
		}
		if !strings.Contains(text, "Tonight:") || !strings.Contains(text, "Forecast: Clear skies.\nCold.") {
			t.Errorf("text %q", text)
		}
	})

	t.Run("five 400 KB details", func(t *testing.T) {
		res, text := forecastAt(31.5, -97)
		if res.IsError {
			t.Fatalf("tool error: %.300s", text)
		}
		whole, _ := json.Marshal(res)
		t.Logf("result of %d bytes for 2 MB of forecast text", len(whole))
		if len(whole) > 128<<10 || !strings.Contains(text, "cut to fit size limits") {
			t.Errorf("result of %d bytes (want at most 128 KiB) with note %v", len(whole), strings.Contains(text, "cut to fit"))
		}
	})

	t.Run("redirect to another host", func(t *testing.T) {
		res, text := forecastAt(33.5, -97)
		if !res.IsError || !strings.Contains(text, "redirected to another host") {
			t.Errorf("result %v %q, want a tool error about the redirect", res.IsError, text)
		}
		if n := nws.requests("/gridpoints/AWAY/"); n != 1 {
			t.Errorf("%d requests for the redirecting forecast, want 1 (no retry)", n)
		}
	})

	t.Run("60 points answering 2 MB", func(t *testing.T) {
		pid := host.Cmd.Process.Pid
		before := procStatus(t, pid)
		for i := range 60 {
			if res, text := forecastAt(30+float64(i)/100, -97); res.IsError {
				t.Fatalf("point %d: %.300s", i, text)
			}
		}
		after := procStatus(t, pid)
		grew := after.rssKiB - before.rssKiB
		t.Logf("worker RSS %d -> %d KiB (+%d MiB) over 60 distinct 2 MB answers", before.rssKiB, after.rssKiB, grew>>10)
		if grew > 96<<10 {
			t.Errorf("worker RSS grew by %d MiB for 60 distinct 2 MB answers; the cache must not keep them", grew>>10)
		}
		// Not cached: asking again fetches again.
		fetched := nws.requests("/gridpoints/BIG/")
		forecastAt(30, -97)
		if n := nws.requests("/gridpoints/BIG/") - fetched; n != 1 {
			t.Errorf("a 2 MB answer was served from the cache (%d new requests)", n)
		}
	})
	checkWorkerLogs(t, host)
}
