//go:build e2e

package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"

	"github.com/mcpfunc/mcpfunc/servers/weather/nws/nwstest"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// newHostileNWS starts the fake NWS API of nwstest with its misbehaving
// forecasts (see nwstest.Server.Hostile): points at latitude 30 link a
// 2 MB forecast, 31 five periods of 400 KB, 32 escapes and control
// characters, 33 a redirect to another host.
func newHostileNWS(t *testing.T) *nwstest.Server {
	t.Helper()
	s := nwstest.Start(t, nwstest.Config{})
	s.Hostile()
	return s
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
		if n := nws.RequestsUnder("/gridpoints/AWAY/"); n != 1 {
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
		fetched := nws.RequestsUnder("/gridpoints/BIG/")
		forecastAt(30, -97)
		if n := nws.RequestsUnder("/gridpoints/BIG/") - fetched; n != 1 {
			t.Errorf("a 2 MB answer was served from the cache (%d new requests)", n)
		}
	})
	checkWorkerLogs(t, host)
}
