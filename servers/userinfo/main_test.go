package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfunc/mcpfunc/servers/userinfo/server"
	"github.com/mcpfunc/mcpfunc/shared/auth/authtest"
	"github.com/mcpfunc/mcpfunc/shared/hosting"
)

const (
	tenant   = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	appID    = "11111111-2222-3333-4444-555555555555"
	hostname = "userinfo-app.azurewebsites.net"
)

// fakeGraph serves GET /v1.0/me for the tokens the fake Entra issued.
type fakeGraph struct {
	*httptest.Server
	entra    *authtest.Entra
	requests atomic.Int64
	// behaviour by user assertion: "401", "403", "500", "slow".
	mu      sync.Mutex
	by      map[string]string
	badAuth []string
}

func newFakeGraph(t *testing.T, entra *authtest.Entra) *fakeGraph {
	g := &fakeGraph{entra: entra, by: map[string]string{}}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.requests.Add(1)
		if r.URL.Path != "/v1.0/me" {
			http.NotFound(w, r)
			return
		}
		at, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		user, issued := entra.AssertionFor(at)
		if !ok || !issued {
			g.mu.Lock()
			g.badAuth = append(g.badAuth, r.Header.Get("Authorization"))
			g.mu.Unlock()
			authtest.WriteJSON(w, 401, map[string]any{"error": map[string]any{"code": "InvalidAuthenticationToken", "message": "not a token the fake Entra issued"}})
			return
		}
		g.mu.Lock()
		mode := g.by[user]
		g.mu.Unlock()
		switch mode {
		case "401":
			authtest.WriteJSON(w, 401, map[string]any{"error": map[string]any{"code": "InvalidAuthenticationToken", "message": "Access token has expired."}})
		case "403":
			authtest.WriteJSON(w, 403, map[string]any{"error": map[string]any{"code": "Authorization_RequestDenied", "message": "Insufficient privileges."}})
		case "500":
			authtest.WriteJSON(w, 500, map[string]any{"error": map[string]any{"code": "generalException", "message": "boom"}})
		case "slow":
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
				return
			}
			fallthrough
		default:
			authtest.WriteJSON(w, 200, map[string]any{
				"id": "u-" + authtest.ShortHash(user), "displayName": "Ada Lovelace",
				"mail": "ada@example.com", "userPrincipalName": "ada@example.com",
			})
		}
	}))
	t.Cleanup(func() {
		g.Close()
		for _, a := range g.badAuth {
			t.Errorf("fake Graph got an Authorization it did not issue: %q", a)
		}
	})
	return g
}

func (g *fakeGraph) behave(user, mode string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.by[user] = mode
}

// chain is a userinfo server wired to fake Entra, managed identity and
// Graph, as deployed behind Easy Auth.
type chain struct {
	url   string
	entra *authtest.Entra
	mi    *authtest.ManagedIdentity
	graph *fakeGraph
	logs  *strings.Builder
}

func newChain(t *testing.T, miClientID string) *chain {
	t.Helper()
	entra := authtest.NewEntra(t, tenant, appID)
	mi := authtest.NewManagedIdentity(t, miClientID)
	entra.ExpectClientAssertion(mi.Token)
	g := newFakeGraph(t, entra)
	env := azureEnv(miClientID, entra.URL, g.URL)
	logs := &strings.Builder{}
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), nil))
	return &chain{url: serve(t, env, logger, entra.Client), entra: entra, mi: mi, graph: g, logs: logs}
}

// azureEnv is the environment of a deployed userinfo behind Easy Auth,
// pointed at fakes: the managed identity's client id, the Entra authority
// and the Graph root.
func azureEnv(miClientID, entraURL, graphURL string) map[string]string {
	return map[string]string{
		"MCP_AUTH":                               "easyauth",
		"OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID": miClientID,
		"WEBSITE_AUTH_CLIENT_ID":                 appID,
		"WEBSITE_AUTH_AAD_ALLOWED_TENANTS":       tenant,
		"WEBSITE_HOSTNAME":                       hostname,
		"AZURE_AUTHORITY_HOST":                   entraURL,
		"GRAPH_BASE_URL":                         graphURL + "/v1.0",
		"GRAPH_TIMEOUT":                          "2s", // short for the slow-Graph case, roomy for 100 concurrent calls under -race
	}
}

// serve builds userinfo from env as main does and serves it until the test
// ends; it returns the base URL.
func serve(t *testing.T, env map[string]string, logger *slog.Logger, hc *http.Client) string {
	t.Helper()
	impl := &mcp.Implementation{Name: "userinfo", Version: "test"}
	s, err := server.New(context.Background(), impl, func(k string) string { return env[k] }, logger, hc)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- hosting.Run(ctx, s.MCP, append(s.Options, hosting.WithListener(ln), hosting.WithLogger(logger))...)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// easyAuthRT adds what Easy Auth passes to the app: the caller's
// Authorization header unchanged and X-MS-CLIENT-PRINCIPAL.
type easyAuthRT struct {
	authorization string
	principal     bool
}

func (e easyAuthRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if e.authorization != "" {
		r.Header.Set("Authorization", e.authorization)
	}
	if e.principal {
		p := `{"auth_typ":"aad","name_typ":"name","role_typ":"roles","claims":[{"typ":"name","val":"Ada Lovelace"},{"typ":"http://schemas.microsoft.com/identity/claims/tenantid","val":"` + tenant + `"}]}`
		r.Header.Set("X-MS-CLIENT-PRINCIPAL", base64.StdEncoding.EncodeToString([]byte(p)))
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (c *chain) connect(t *testing.T, rt http.RoundTripper) *mcp.ClientSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(ctx,
		&mcp.StreamableClientTransport{Endpoint: c.url + "/mcp", HTTPClient: &http.Client{Transport: rt}, DisableStandaloneSSE: true, MaxRetries: -1},
		&mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func callUserInfo(t *testing.T, cs *mcp.ClientSession) (*mcp.CallToolResult, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_user_info", Arguments: map[string]any{}})
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return res, b.String()
}

func TestChain(t *testing.T) {
	c := newChain(t, "mi-chain-"+authtest.ShortHash(t.Name()))
	c.entra.SetResponder(func(w http.ResponseWriter, r *http.Request, form url.Values) bool {
		switch form.Get("assertion") {
		case "user-consent":
			return authtest.EntraError(400, "invalid_grant", "consent_required", 65001, "")(w, r, form)
		case "user-mfa":
			return authtest.EntraError(400, "interaction_required", "", 50076, `{"access_token":{"capolids":{"essential":true,"values":["1"]}}}`)(w, r, form)
		case "user-expired":
			return authtest.EntraError(400, "invalid_grant", "", 500133, "")(w, r, form)
		case "user-entra500":
			authtest.WriteJSON(w, 503, map[string]any{"error": "temporarily_unavailable", "error_description": "AADSTS90033: service unavailable", "error_codes": []int{90033}})
			return true
		}
		return false
	})
	for user, mode := range map[string]string{"user-g401": "401", "user-g403": "403", "user-g500": "500", "user-slow": "slow"} {
		c.graph.behave(user, mode)
	}

	tests := []struct {
		name    string
		rt      easyAuthRT
		wantErr bool
		want    []string
	}{
		{"success", easyAuthRT{"Bearer user-ok", true}, false, []string{"Display name: Ada Lovelace", "Email: ada@example.com", "User principal name: ada@example.com", "ID: u-"}},
		{"no token", easyAuthRT{"", true}, true, []string{"no access token reached the server"}},
		{"malformed header", easyAuthRT{"Basic dXNlcjpwdw==", true}, true, []string{"malformed"}},
		{"consent required", easyAuthRT{"Bearer user-consent", true}, true, []string{"https://" + hostname + "/.auth/login/aad?post_login_redirect_uri=/authcomplete"}},
		{"mfa", easyAuthRT{"Bearer user-mfa", true}, true, []string{"AADSTS50076"}},
		{"expired user token", easyAuthRT{"Bearer user-expired", true}, true, []string{"AADSTS500133"}},
		{"entra unavailable", easyAuthRT{"Bearer user-entra500", true}, true, []string{"unavailable"}},
		{"graph 401", easyAuthRT{"Bearer user-g401", true}, true, []string{"HTTP 401", "sign in again"}},
		{"graph 403", easyAuthRT{"Bearer user-g403", true}, true, []string{"HTTP 403", "User.Read"}},
		{"graph 500", easyAuthRT{"Bearer user-g500", true}, true, []string{"unavailable (HTTP 500)"}},
		{"graph slow", easyAuthRT{"Bearer user-slow", true}, true, []string{"did not answer in time"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := c.connect(t, tt.rt)
			start := time.Now()
			res, text := callUserInfo(t, cs)
			if res.IsError != tt.wantErr {
				t.Fatalf("isError = %v, want %v: %q", res.IsError, tt.wantErr, text)
			}
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("text lacks %q:\n%s", w, text)
				}
			}
			for _, secret := range append(c.entra.IssuedTokens(), c.mi.Token, "user-ok", "user-consent", "user-mfa", "user-expired", "user-g401", "dXNlcjpwdw==") {
				if strings.Contains(text, secret) {
					t.Errorf("tool text contains token material %q", secret)
				}
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("call took %s, past its bound", d)
			}
			if !tt.wantErr {
				sc := fmt.Sprint(res.StructuredContent)
				if !strings.Contains(sc, "Ada Lovelace") || !strings.Contains(sc, "userPrincipalName") {
					t.Errorf("structured content = %s", sc)
				}
			}
		})
	}
	if logs := c.logs.String(); strings.Contains(logs, "user-ok") || strings.Contains(logs, c.mi.Token) {
		t.Errorf("logs contain token material:\n%s", logs)
	}

	t.Run("no Easy Auth principal", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, c.url+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", "Bearer user-ok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", resp.StatusCode)
		}
	})

	t.Run("authcomplete", func(t *testing.T) {
		resp, err := http.Get(c.url + "/authcomplete")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), "Sign-in complete") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("/authcomplete = %d %s %.60q", resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
	})
}

func TestChainCache(t *testing.T) {
	c := newChain(t, "mi-cache-"+authtest.ShortHash(t.Name()))

	cs := c.connect(t, easyAuthRT{"Bearer user-repeat", true})
	for i := range 2 {
		if res, text := callUserInfo(t, cs); res.IsError {
			t.Fatalf("call %d: %s", i, text)
		}
	}
	if n := c.entra.TokenRequests(); n != 1 {
		t.Errorf("two calls with one token made %d token exchanges, want 1", n)
	}

	// 100 concurrent calls with one new token: one exchange.
	before := c.entra.TokenRequests()
	c.entra.SetDelay(200 * time.Millisecond) // keep the first exchange in flight
	cs2 := c.connect(t, easyAuthRT{"Bearer user-burst", true})
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := cs2.CallTool(ctx, &mcp.CallToolParams{Name: "get_user_info", Arguments: map[string]any{}})
			switch {
			case err != nil:
				failed.Add(1)
				t.Errorf("concurrent call: %v", err)
			case res.IsError:
				failed.Add(1)
				t.Errorf("concurrent call: tool error %q", res.Content[0].(*mcp.TextContent).Text)
			}
		}()
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Errorf("%d of 100 concurrent calls failed", failed.Load())
	}
	if n := c.entra.TokenRequests() - before; n != 1 {
		t.Errorf("100 concurrent calls with one new token made %d exchanges, want 1", n)
	}
	if n := c.entra.MetadataRequests(); n > 1 {
		t.Errorf("authority metadata fetched %d times, want once per process", n)
	}
}

func TestManagedIdentityDown(t *testing.T) {
	c := newChain(t, "mi-down-"+authtest.ShortHash(t.Name()))
	c.mi.SetStatus(http.StatusInternalServerError)
	cs := c.connect(t, easyAuthRT{"Bearer user-mi", true})
	res, text := callUserInfo(t, cs)
	if !res.IsError || !strings.Contains(text, "OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID") {
		t.Fatalf("managed identity down: isError %v %q", res.IsError, text)
	}
	if n := c.entra.TokenRequests(); n != 0 {
		t.Errorf("Entra got %d token requests without a client assertion", n)
	}
}

func TestSetupWithoutOBO(t *testing.T) {
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	env := map[string]string{"MCP_AUTH": "none"}
	s, err := server.New(context.Background(), &mcp.Implementation{Name: "userinfo", Version: "test"}, func(k string) string { return env[k] }, logger, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "AZURE_CLIENT_SECRET") {
		t.Errorf("startup log does not say what to set:\n%s", logs.String())
	}
	ct, st := mcp.NewInMemoryTransports()
	ctx := context.Background()
	if _, err := s.MCP.Connect(ctx, st, nil); err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_user_info", Arguments: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	text := res.Content[0].(*mcp.TextContent).Text
	if !res.IsError || !strings.Contains(text, "AZURE_TENANT_ID") {
		t.Fatalf("tool without OBO = %v %q", res.IsError, text)
	}
}

func TestSetupErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no auth mode", map[string]string{}, "MCP_AUTH"},
		{"bad graph timeout", map[string]string{"MCP_AUTH": "none", "GRAPH_TIMEOUT": "soon"}, "GRAPH_TIMEOUT"},
		{"bad graph url", map[string]string{"MCP_AUTH": "none", "GRAPH_BASE_URL": "http://graph.example.com/v1.0"}, "GRAPH_BASE_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := server.New(context.Background(), &mcp.Implementation{Name: "u", Version: "t"}, func(k string) string { return tt.env[k] }, slog.New(slog.DiscardHandler), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("setup = %v, want an error mentioning %s", err, tt.want)
			}
		})
	}
}

// TestSetupAuthorityHost: the token verifier accepts a loopback http
// authority (a fake in tests), and on-behalf-of, which is not configured
// here, must not stop the server over it.
func TestSetupAuthorityHost(t *testing.T) {
	env := map[string]string{
		"MCP_AUTH":             "entra",
		"MCP_AUTH_TENANT_IDS":  tenant,
		"MCP_AUTH_AUDIENCES":   appID,
		"MCP_AUTH_SCOPES":      "api://" + appID + "/user_impersonation",
		"MCP_PUBLIC_URL":       "http://localhost:7072",
		"AZURE_AUTHORITY_HOST": "http://127.0.0.1:9",
	}
	if _, err := server.New(context.Background(), &mcp.Implementation{Name: "u", Version: "t"}, func(k string) string { return env[k] }, slog.New(slog.DiscardHandler), nil); err != nil {
		t.Fatalf("setup with a loopback http authority and no on-behalf-of: %v", err)
	}
}
