//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpfunc/mcpfunc/servers/weather/nws/nwstest"
)

// fakeNWS is the fake NWS API of nwstest with its fixtures (alerts for CA
// and GU, the point 39.7456,-97.0892 and its forecast, a 404 problem
// elsewhere), cacheable for a minute.
type fakeNWS struct {
	*nwstest.Server
	requests counter // requests it got
}

// counter is a count read with Load, like an atomic.Int64.
type counter func() int64

// Load returns the count.
func (c counter) Load() int64 { return c() }

func newFakeNWS(t *testing.T) *fakeNWS {
	t.Helper()
	s := nwstest.Start(t, nwstest.Config{MaxAge: time.Minute})
	return &fakeNWS{Server: s, requests: func() int64 { return int64(s.Requests("")) }}
}

func TestWeatherUnderFunctionsHost(t *testing.T) {
	nws := newFakeNWS(t)
	app := appDir(t, "weather")
	host := startUnderHost(t, app, "app", map[string]string{"NWS_API_BASE_URL": nws.URL}, yarpProxy)

	// GET / answers with the server's name, as the host's ping expects.
	resp, err := http.Get(host.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]string
	json.NewDecoder(resp.Body).Decode(&root)
	resp.Body.Close()
	if resp.StatusCode != 200 || root["name"] != "weather" || root["version"] == "" {
		t.Fatalf("GET / = %d %v", resp.StatusCode, root)
	}

	// Today's clients (2025-11-25, initialize) and the SDK's default
	// (2026-07-28, server/discover) both work statelessly.
	for _, protocol := range []string{"2025-06-18", "2025-11-25", ""} {
		t.Run("protocol "+protocol, func(t *testing.T) {
			cs := connectMCP(t, host.URL+"/mcp", protocol)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			tools, err := cs.ListTools(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			names := map[string]bool{}
			for _, tool := range tools.Tools {
				names[tool.Name] = true
				if tool.OutputSchema == nil {
					t.Errorf("tool %s has no output schema", tool.Name)
				}
			}
			if len(tools.Tools) != 2 || !names["get_alerts"] || !names["get_forecast"] {
				t.Fatalf("tools = %v", names)
			}

			res, text := call(t, cs, "get_alerts", map[string]any{"state": "ca"})
			if res.IsError {
				t.Fatalf("get_alerts: %s", text)
			}
			if got := strings.Count(text, "\n---\n"); got != 3 {
				t.Errorf("get_alerts: %d separators, want 3 (4 alerts):\n%s", got, text)
			}
			for _, want := range []string{"Event: Wind Advisory", "Area: ", "Severity: ", "Description: ", "Instructions: No specific instructions provided"} {
				if !strings.Contains(text, want) {
					t.Errorf("get_alerts text lacks %q:\n%s", want, text)
				}
			}
			var alerts struct {
				Area  string `json:"area"`
				Total int    `json:"total"`
			}
			sc, _ := json.Marshal(res.StructuredContent)
			if err := json.Unmarshal(sc, &alerts); err != nil || alerts.Area != "CA" || alerts.Total != 4 {
				t.Errorf("get_alerts structured = %s", sc)
			}

			res, text = call(t, cs, "get_forecast", map[string]any{"latitude": 39.74561234, "longitude": -97.08921234})
			if res.IsError {
				t.Fatalf("get_forecast: %s", text)
			}
			if got := strings.Count(text, "Temperature: "); got != 5 {
				t.Errorf("get_forecast: %d periods, want 5:\n%s", got, text)
			}
			for _, want := range []string{"Tonight:\nTemperature: ", "°F", "Wind: ", "Forecast: "} {
				if !strings.Contains(text, want) {
					t.Errorf("get_forecast text lacks %q:\n%s", want, text)
				}
			}

			// Bad input: a tool error, and no upstream call.
			before := nws.requests.Load()
			for _, bad := range []struct {
				tool string
				args map[string]any
				want string
			}{
				{"get_alerts", map[string]any{"state": "XX"}, `invalid state "XX"`},
				{"get_forecast", map[string]any{"latitude": 91, "longitude": 0}, "latitude"},
				{"get_forecast", map[string]any{"latitude": "north", "longitude": 0}, "latitude"},
			} {
				res, text := call(t, cs, bad.tool, bad.args)
				if !res.IsError || !strings.Contains(text, bad.want) {
					t.Errorf("%s(%v) = error %v %q, want a tool error mentioning %q", bad.tool, bad.args, res.IsError, text, bad.want)
				}
			}
			if n := nws.requests.Load() - before; n != 0 {
				t.Errorf("bad input caused %d upstream requests", n)
			}

			// Outside coverage: the NWS 404 becomes a clear tool error.
			res, text = call(t, cs, "get_forecast", map[string]any{"latitude": 51.5072, "longitude": -0.1276})
			if !res.IsError || !strings.Contains(text, "outside NWS coverage") {
				t.Errorf("London forecast = %v %q", res.IsError, text)
			}
		})
	}

	// Logs: JSON lines on stdout under the host, one per request with the
	// host's invocation id; nothing on stderr.
	took, err := host.Stop(t, 15*time.Second)
	if err != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0", err)
	}
	t.Logf("startup pings: %d; exit after SIGTERM took %s", host.StartupPings, took)
	ids := map[string]bool{}
	var toolCalls int
	for _, l := range lines(host.Stdout.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("stdout line is not JSON: %q", l)
		}
		if id, ok := rec["invocation_id"].(string); ok {
			ids[id] = true
		}
		if rec["mcp_method"] == "tools/call" && rec["tool"] != nil && rec["status"] == float64(200) {
			toolCalls++
		}
	}
	if toolCalls < 3*6 {
		t.Errorf("logged %d tools/call requests, want at least 18", toolCalls)
	}
	for _, id := range host.Invocations("/mcp") {
		if !ids[id] {
			t.Errorf("invocation %s not in the request log", id)
			break
		}
	}
	if s := strings.TrimSpace(host.Stderr.String()); s != "" {
		t.Errorf("stderr (shown red by the host) is not empty:\n%s", s)
	}
}

// TestHostHeaderGuard checks the one setting that depends on how Azure
// forwards: with YARP proxying the SDK's DNS-rebinding guard passes; if a
// host forwarded the public Host header, the guard answers 403 unless
// MCP_LOCALHOST_PROTECTION=off.
func TestHostHeaderGuard(t *testing.T) {
	nws := newFakeNWS(t)
	app := appDir(t, "weather")
	tests := []struct {
		name    string
		mode    proxyMode
		env     map[string]string
		want403 bool
	}{
		{"yarp proxy, guard on", yarpProxy, nil, false},
		{"legacy forwarding, guard on", legacyForwarding, nil, true},
		{"legacy forwarding, guard off", legacyForwarding, map[string]string{"MCP_LOCALHOST_PROTECTION": "off"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"NWS_API_BASE_URL": nws.URL}
			for k, v := range tt.env {
				env[k] = v
			}
			host := startUnderHost(t, app, "app", env, tt.mode)
			req := mcpPost(host.URL+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`), "")
			req.Host = "myapp.azurewebsites.net"
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if got := resp.StatusCode == http.StatusForbidden; got != tt.want403 {
				t.Fatalf("status %d %q; want 403: %v", resp.StatusCode, body, tt.want403)
			}
			if !tt.want403 && resp.StatusCode != 200 {
				t.Fatalf("status %d %q", resp.StatusCode, body)
			}
		})
	}
}

// TestResponseModesUnderHost runs weather under the fake Functions host
// with each MCP_RESPONSE_MODE: the answer to a tool call has the mode's
// content type through the host's proxy, and an MCP client gets the same
// result either way.
func TestResponseModesUnderHost(t *testing.T) {
	nws := newFakeNWS(t)
	app := appDir(t, "weather")
	tests := []struct {
		mode            string
		wantContentType string
	}{
		{"", "application/json"}, // the default
		{"json", "application/json"},
		{"sse", "text/event-stream"},
	}
	for _, tt := range tests {
		t.Run("mode "+tt.mode, func(t *testing.T) {
			host := startUnderHost(t, app, "app", map[string]string{"NWS_API_BASE_URL": nws.URL, "MCP_RESPONSE_MODE": tt.mode}, yarpProxy)
			resp, err := http.DefaultClient.Do(mcpPost(host.URL+"/mcp", strings.NewReader(
				`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_alerts","arguments":{"state":"CA"}}}`), "2025-11-25"))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || !strings.HasPrefix(ct, tt.wantContentType) {
				t.Fatalf("status %d, Content-Type %q, want 200 %s: %q", resp.StatusCode, ct, tt.wantContentType, body)
			}
			if !strings.Contains(string(body), "Event: Wind Advisory") {
				t.Errorf("answer lacks the alerts: %q", body)
			}

			cs := connectMCP(t, host.URL+"/mcp", "2025-11-25")
			if res, text := call(t, cs, "get_forecast", map[string]any{"latitude": 39.7456, "longitude": -97.0892}); res.IsError || !strings.Contains(text, "Temperature: ") {
				t.Errorf("get_forecast: error %v %q", res.IsError, text)
			}
			want := tt.mode
			if want == "" {
				want = "json"
			}
			if !strings.Contains(host.Stdout.String(), `"responses":"`+want+`"`) {
				t.Errorf("the startup line does not say responses %q:\n%s", want, host.Stdout.String())
			}
		})
	}
	// A wrong value stops the server at startup with a message naming it.
	// (Port 0 is refused too, but later: the process cannot start serving.)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(app, "app"))
	cmd.Env = append(os.Environ(), "FUNCTIONS_CUSTOMHANDLER_PORT=0", "MCP_RESPONSE_MODE=stream")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), `MCP_RESPONSE_MODE=\"stream\": use json or sse`) {
		t.Errorf("MCP_RESPONSE_MODE=stream: exit %v, output %q", err, out)
	}
}
