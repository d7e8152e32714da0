//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestOriginUnderHost: the weather server behind the fake Functions host,
// whose proxy rewrites Host to 127.0.0.1:<port>, refuses a tools/call
// from a page on another site with 403 before any upstream request, and
// serves native clients (no Origin), same-origin pages and the origin
// listed in MCP_ALLOWED_ORIGINS.
func TestOriginUnderHost(t *testing.T) {
	nws := newFakeNWS(t)
	app := appDir(t, "weather")
	host := startUnderHost(t, app, "app", map[string]string{
		"NWS_API_BASE_URL": nws.URL, "NWS_CACHE_ENTRIES": "0", "MCP_AUTH": "none",
		"MCP_ALLOWED_ORIGINS": "https://chat.example.com",
	}, yarpProxy)
	direct := fmt.Sprintf("http://127.0.0.1:%d", host.WorkerPort)
	client := &http.Client{Timeout: 30 * time.Second}

	tests := []struct {
		name   string
		base   string // default: through the host
		hdr    map[string]string
		want   int
		reason string
	}{
		{name: "cross-site page (the review's case)", hdr: map[string]string{"Origin": "https://evil.example.com", "Sec-Fetch-Site": "cross-site"}, want: 403},
		{name: "cross-site page, straight to the worker", base: direct, hdr: map[string]string{"Origin": "https://evil.example.com", "Sec-Fetch-Site": "cross-site"}, want: 403},
		{name: "other origin, browser without Sec-Fetch-Site", hdr: map[string]string{"Origin": "https://evil.example.com"}, want: 403},
		{name: "same-site subdomain", hdr: map[string]string{"Origin": "https://evil.azurewebsites.net", "Sec-Fetch-Site": "same-site"}, want: 403},
		{name: "sandboxed page (Origin null)", hdr: map[string]string{"Origin": "null", "Sec-Fetch-Site": "cross-site"}, want: 403},
		{name: "no Origin (native client)", want: 200},
		{name: "same-origin page", hdr: map[string]string{"Origin": host.URL, "Sec-Fetch-Site": "same-origin"}, want: 200},
		{name: "listed origin", hdr: map[string]string{"Origin": "https://chat.example.com", "Sec-Fetch-Site": "cross-site"}, want: 200},
		{name: "listed origin, browser without Sec-Fetch-Site", hdr: map[string]string{"Origin": "https://chat.example.com"}, want: 200},
		// A same-origin page in a browser too old to send Sec-Fetch-Site:
		// only Origin vs Host is left, and the proxy rewrote Host. Such a
		// client needs its origin in MCP_ALLOWED_ORIGINS.
		{name: "same-origin page, browser without Sec-Fetch-Site", hdr: map[string]string{"Origin": host.URL}, want: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := host.URL
			if tt.base != "" {
				base = tt.base
			}
			before := nws.requests.Load()
			req := mcpPost(base+"/mcp", strings.NewReader(alerts(`"CA"`)), "2025-11-25")
			for k, v := range tt.hdr {
				req.Header.Set(k, v)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			upstream := nws.requests.Load() - before
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d %.300q, want %d", resp.StatusCode, body, tt.want)
			}
			rs, ok := replies(body)
			switch tt.want {
			case 403:
				if !ok || len(rs) != 1 || rs[0].Error == nil || !strings.Contains(rs[0].Error.Message, "cross-origin request refused") || string(rs[0].ID) != "null" {
					t.Errorf("403 body %.300q is not a JSON-RPC error without id", body)
				}
				if upstream != 0 {
					t.Errorf("a refused request caused %d upstream requests", upstream)
				}
			case 200:
				if !ok || len(rs) != 1 || rs[0].Result == nil || rs[0].Result.IsError {
					t.Errorf("body %.300q is not a tool result", body)
				}
				if upstream == 0 {
					t.Errorf("an allowed call made no upstream request")
				}
			}
		})
	}

	// A native MCP client (no Origin) works end to end.
	cs := connectMCP(t, host.URL+"/mcp", "2025-11-25")
	if res, text := call(t, cs, "get_alerts", map[string]any{"state": "CA"}); res.IsError {
		t.Fatalf("get_alerts from a native client: %s", text)
	}

	// The refusals are logged with the origin to allow if it is legitimate.
	var refused int
	for _, l := range lines(host.Stdout.String()) {
		var rec map[string]any
		if json.Unmarshal([]byte(l), &rec) == nil && rec["msg"] == "request" && rec["rejected"] == "cross_origin" {
			refused++
		}
		if strings.Contains(l, `"msg":"listening"`) && !strings.Contains(l, `"allowed_origins":"https://chat.example.com"`) {
			t.Errorf("listening line does not name the allowed origins: %s", l)
		}
	}
	if refused != 6 {
		t.Errorf("%d request lines with rejected=cross_origin, want 6", refused)
	}
	checkWorkerLogs(t, host)
}
