package hosting

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestOriginCheck: POSTs to /mcp from a browser page on another origin get
// 403 with a JSON-RPC error and never reach a tool; requests with no
// Origin (native clients), same-origin requests, and configured origins
// are served. The Host is 127.0.0.1:<port>, as behind the Functions host's
// proxy, while the page's origin is the public one.
func TestOriginCheck(t *testing.T) {
	var calls atomic.Int64
	newServer := func() *mcp.Server {
		s := mcp.NewServer(&mcp.Implementation{Name: "origin", Version: "1"}, nil)
		mcp.AddTool(s, &mcp.Tool{Name: "echo"}, func(ctx context.Context, req *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, echoOut, error) {
			calls.Add(1)
			return nil, echoOut{Echo: in.Text}, nil
		})
		return s
	}
	plain := startRun(t, newServer())
	configured := startRun(t, newServer(),
		WithAllowedOrigins("https://Option.Example/"),
		withGetenv(env(map[string]string{envAllowedOrigins: " https://allowed.example , http://localhost:6274,https://ported.example:443"})))
	const call = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`
	const public = "https://app.azurewebsites.net" // the page's origin behind the proxy

	tests := []struct {
		name       string
		configured bool
		method     string // default POST
		hdr        map[string]string
		sameHost   bool // set Origin to http://<the listener's host:port>
		want       int
	}{
		{name: "no Origin (native client)", want: 200},
		{name: "cross-site browser request", hdr: map[string]string{"Origin": "https://evil.example.com", "Sec-Fetch-Site": "cross-site"}, want: 403},
		{name: "cross-origin, old browser without Sec-Fetch-Site", hdr: map[string]string{"Origin": "https://evil.example.com"}, want: 403},
		{name: "same-site but other origin", hdr: map[string]string{"Origin": "https://other.azurewebsites.net", "Sec-Fetch-Site": "same-site"}, want: 403},
		{name: "Origin null", hdr: map[string]string{"Origin": "null"}, want: 403},
		{name: "Sec-Fetch-Site cross-site without Origin", hdr: map[string]string{"Sec-Fetch-Site": "cross-site"}, want: 403},
		{name: "same-origin page behind the proxy", hdr: map[string]string{"Origin": public, "Sec-Fetch-Site": "same-origin"}, want: 200},
		{name: "user-initiated (Sec-Fetch-Site none)", hdr: map[string]string{"Sec-Fetch-Site": "none"}, want: 200},
		{name: "Origin equals Host, old browser", sameHost: true, want: 200},
		{name: "same-origin page behind the proxy, old browser", hdr: map[string]string{"Origin": public}, want: 403},
		{name: "configured origin, cross-site", configured: true, hdr: map[string]string{"Origin": "https://allowed.example", "Sec-Fetch-Site": "cross-site"}, want: 200},
		{name: "configured origin, old browser", configured: true, hdr: map[string]string{"Origin": "https://allowed.example"}, want: 200},
		{name: "configured with a port", configured: true, hdr: map[string]string{"Origin": "http://localhost:6274", "Sec-Fetch-Site": "cross-site"}, want: 200},
		{name: "configured with the default port", configured: true, hdr: map[string]string{"Origin": "https://ported.example", "Sec-Fetch-Site": "cross-site"}, want: 200},
		{name: "configured by option, normalized", configured: true, hdr: map[string]string{"Origin": "https://option.example", "Sec-Fetch-Site": "cross-site"}, want: 200},
		{name: "configured origin, other scheme", configured: true, hdr: map[string]string{"Origin": "http://allowed.example", "Sec-Fetch-Site": "cross-site"}, want: 403},
		{name: "configured origin, other port", configured: true, hdr: map[string]string{"Origin": "http://localhost:6275", "Sec-Fetch-Site": "cross-site"}, want: 403},
		{name: "unlisted origin on a configured server", configured: true, hdr: map[string]string{"Origin": "https://evil.example.com", "Sec-Fetch-Site": "cross-site"}, want: 403},
		{name: "GET from another origin is still 405", method: http.MethodGet, hdr: map[string]string{"Origin": "https://evil.example.com", "Sec-Fetch-Site": "cross-site"}, want: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := plain
			if tt.configured {
				st = configured
			}
			before, logsBefore := calls.Load(), len(st.logs.String())
			req := mcpPost(t, st.url+MCPPath, strings.NewReader(call))
			if tt.method != "" {
				req.Method = tt.method
				req.Body, req.ContentLength = http.NoBody, 0
			}
			for k, v := range tt.hdr {
				req.Header.Set(k, v)
			}
			if tt.sameHost {
				req.Header.Set("Origin", st.url)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var reply struct {
				ID    json.RawMessage `json:"id"`
				Error *struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			decodeErr := json.NewDecoder(resp.Body).Decode(&reply)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			ran := calls.Load() - before
			switch tt.want {
			case 200:
				if ran != 1 {
					t.Errorf("the tool ran %d times, want 1", ran)
				}
			case 403:
				if ran != 0 {
					t.Errorf("the tool ran %d times for a refused request", ran)
				}
				if decodeErr != nil || reply.Error == nil || string(reply.ID) != "null" || !strings.Contains(reply.Error.Message, "cross-origin request refused") ||
					!strings.Contains(reply.Error.Message, envAllowedOrigins) {
					t.Errorf("403 body is not a JSON-RPC error naming %s (%v): %+v", envAllowedOrigins, decodeErr, reply.Error)
				}
				if logs := st.logs.String()[logsBefore:]; !strings.Contains(logs, "rejected=cross_origin") {
					t.Errorf("request line lacks rejected=cross_origin:\n%s", logs)
				}
			}
		})
	}
}

// TestAllowedOriginsSetting: origins are checked at startup, and a bad
// one stops the server with an error naming the setting.
func TestAllowedOriginsSetting(t *testing.T) {
	tests := []struct {
		env     string
		option  []string
		want    []string
		wantErr string
	}{
		{},
		{env: "https://a.example", want: []string{"https://a.example"}},
		{env: "https://A.example/, http://b.example:8080 ,,", want: []string{"https://a.example", "http://b.example:8080"}},
		{env: "https://a.example:443,http://b.example:80", want: []string{"https://a.example", "http://b.example"}},
		{option: []string{"https://o.example"}, env: "https://a.example", want: []string{"https://o.example", "https://a.example"}},
		{env: "*", wantErr: envAllowedOrigins + `: "*"`},
		{env: "null", wantErr: envAllowedOrigins + `: "null"`},
		{env: "a.example", wantErr: envAllowedOrigins + `: "a.example"`},
		{env: "https://a.example/app", wantErr: envAllowedOrigins + `: "https://a.example/app"`},
		{env: "https://a.example?x=1", wantErr: envAllowedOrigins},
		{env: "ftp://a.example", wantErr: envAllowedOrigins},
		{option: []string{"https://*.example"}, wantErr: "WithAllowedOrigins"},
	}
	for _, tt := range tests {
		opts := []Option{withGetenv(env(map[string]string{envAllowedOrigins: tt.env})), WithLogger(slog.New(slog.DiscardHandler))}
		if tt.option != nil {
			opts = append(opts, WithAllowedOrigins(tt.option...))
		}
		got, err := newConfig(opts).allowedOrigins()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("env %q option %q: error %v, want one containing %q", tt.env, tt.option, err, tt.wantErr)
			}
			continue
		}
		if err != nil || strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("env %q option %q: %q, %v; want %q", tt.env, tt.option, got, err, tt.want)
		}
	}
	s, _ := testServer(nil, nil)
	err := Run(context.Background(), s, withGetenv(env(map[string]string{envAllowedOrigins: "*"})), WithLogger(slog.New(slog.DiscardHandler)))
	if err == nil || !strings.Contains(err.Error(), envAllowedOrigins) {
		t.Errorf("Run with %s=*: %v, want an error naming the setting", envAllowedOrigins, err)
	}
}
