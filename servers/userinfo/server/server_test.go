package server

import (
	"context"
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
		assertion, issued := entra.AssertionFor(at)
		user := authtest.UserOf(assertion)
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
// Graph, as deployed behind Easy Auth; newChain's kv are more settings.
type chain struct {
	url   string
	entra *authtest.Entra
	mi    *authtest.ManagedIdentity
	graph *fakeGraph
	logs  *syncLog
}

func newChain(t *testing.T, miClientID string, kv ...string) *chain {
	t.Helper()
	entra := authtest.NewEntra(t, tenant, appID)
	mi := authtest.NewManagedIdentity(t, miClientID)
	entra.ExpectClientAssertion(mi.Token)
	g := newFakeGraph(t, entra)
	env := authtest.WithEnv(azureEnv(miClientID, entra.URL, g.URL), kv...)
	logs := &syncLog{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
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

// serve builds userinfo from env as Main does and serves it until the test
// ends; it returns the base URL.
func serve(t *testing.T, env map[string]string, logger *slog.Logger, hc *http.Client) string {
	t.Helper()
	impl := &mcp.Implementation{Name: "userinfo", Version: "test"}
	s, err := New(context.Background(), impl, func(k string) string { return env[k] }, logger, hc)
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

// syncLog is a log that the server writes from many goroutines while the
// test reads it.
type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// easyAuthRT adds what Easy Auth passes to the app: the caller's
// Authorization header unchanged and, with principal, X-MS-CLIENT-PRINCIPAL
// and X-MS-CLIENT-PRINCIPAL-ID naming the bearer token's subject.
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
		tok := strings.TrimPrefix(e.authorization, "Bearer ")
		oid := authtest.Claim(tok, "oid")
		r.Header.Set("X-MS-CLIENT-PRINCIPAL", authtest.Principal(oid, authtest.Claim(tok, "tid")))
		if oid != "" {
			r.Header.Set("X-MS-CLIENT-PRINCIPAL-ID", oid)
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// asUser is what Easy Auth passes for the signed-in user named user, with
// a token the fake Entra signed.
func (c *chain) asUser(user string) easyAuthRT {
	return easyAuthRT{"Bearer " + c.entra.UserToken(user), true}
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
		switch authtest.UserOf(form.Get("assertion")) {
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
		{"success", c.asUser("user-ok"), false, []string{"Display name: Ada Lovelace", "Email: ada@example.com", "User principal name: ada@example.com", "ID: u-"}},
		{"consent required", c.asUser("user-consent"), true, []string{"https://" + hostname + "/.auth/login/aad?post_login_redirect_uri=/authcomplete"}},
		{"mfa", c.asUser("user-mfa"), true, []string{"AADSTS50076"}},
		{"expired user token", c.asUser("user-expired"), true, []string{"AADSTS500133"}},
		{"entra unavailable", c.asUser("user-entra500"), true, []string{"unavailable"}},
		{"graph 401", c.asUser("user-g401"), true, []string{"HTTP 401", "sign in again"}},
		{"graph 403", c.asUser("user-g403"), true, []string{"HTTP 403", "User.Read"}},
		{"graph 500", c.asUser("user-g500"), true, []string{"unavailable (HTTP 500)"}},
		{"graph slow", c.asUser("user-slow"), true, []string{"did not answer in time"}},
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
			callerToken := strings.TrimPrefix(tt.rt.authorization, "Bearer ")
			for _, secret := range append(c.entra.IssuedTokens(), c.mi.Token, callerToken, callerToken[strings.LastIndex(callerToken, ".")+1:]) {
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
	if logs := c.logs.String(); authtest.ContainsAny(logs, append(c.entra.IssuedTokens(), c.mi.Token, strings.TrimPrefix(c.asUser("user-ok").authorization, "Bearer "))...) {
		t.Errorf("logs contain token material:\n%s", logs)
	}

	// Requests Easy Auth would not pass on: the endpoint refuses them
	// before any tool runs.
	for _, tt := range []struct {
		name string
		rt   easyAuthRT
	}{
		{"no Easy Auth principal", easyAuthRT{c.asUser("user-ok").authorization, false}},
		{"no token", easyAuthRT{"", true}},
		{"malformed header", easyAuthRT{"Basic dXNlcjpwdw==", true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := c.entra.TokenRequests()
			if status := post(t, c.url, tt.rt); status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", status)
			}
			if n := c.entra.TokenRequests() - before; n != 0 {
				t.Fatalf("%d token requests", n)
			}
		})
	}

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

	cs := c.connect(t, c.asUser("user-repeat"))
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
	cs2 := c.connect(t, c.asUser("user-burst"))
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
	// Once for MSAL and once for the token verifier.
	if n := c.entra.MetadataRequests(); n > 2 {
		t.Errorf("authority metadata fetched %d times, want once per process for each of MSAL and the verifier", n)
	}
	if n := c.entra.KeyRequests(); n != 1 {
		t.Errorf("signing keys fetched %d times, want once", n)
	}
}

func TestManagedIdentityDown(t *testing.T) {
	c := newChain(t, "mi-down-"+authtest.ShortHash(t.Name()))
	c.mi.SetStatus(http.StatusInternalServerError)
	cs := c.connect(t, c.asUser("user-mi"))
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
	s, err := New(context.Background(), &mcp.Implementation{Name: "userinfo", Version: "test"}, func(k string) string { return env[k] }, logger, nil)
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
		{"no auth mode on Azure", map[string]string{"WEBSITE_SITE_NAME": "func-userinfo"}, "MCP_AUTH"},
		// The issue: this started and served without a warning.
		{"easyauth on Azure with authentication off", map[string]string{"MCP_AUTH": "easyauth", "WEBSITE_AUTH_ENABLED": "False", "WEBSITE_SITE_NAME": "func-userinfo",
			"WEBSITE_AUTH_CLIENT_ID": appID, "WEBSITE_AUTH_AAD_ALLOWED_TENANTS": tenant}, "WEBSITE_AUTH_ENABLED"},
		{"easyauth without the app registration", map[string]string{"MCP_AUTH": "easyauth"}, "WEBSITE_AUTH_CLIENT_ID"},
		{"bad graph timeout", map[string]string{"MCP_AUTH": "none", "GRAPH_TIMEOUT": "soon"}, "GRAPH_TIMEOUT"},
		{"bad graph url", map[string]string{"MCP_AUTH": "none", "GRAPH_BASE_URL": "http://graph.example.com/v1.0"}, "GRAPH_BASE_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(context.Background(), &mcp.Implementation{Name: "u", Version: "t"}, func(k string) string { return tt.env[k] }, slog.New(slog.DiscardHandler), nil)
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
	if _, err := New(context.Background(), &mcp.Implementation{Name: "u", Version: "t"}, func(k string) string { return env[k] }, slog.New(slog.DiscardHandler), nil); err != nil {
		t.Fatalf("setup with a loopback http authority and no on-behalf-of: %v", err)
	}
}

// post sends one MCP ping to url's /mcp through rt and returns the status.
func post(t *testing.T, url string, rt http.RoundTripper) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_user_info","arguments":{}}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-11-25")
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestEasyAuthForgery replays the review's finding: with MCP_AUTH=easyauth
// and no Easy Auth in front, a forged X-MS-CLIENT-PRINCIPAL with a token
// for another audience, or no token at all, was passed on to Entra as an
// On-Behalf-Of assertion with the managed identity's client assertion.
// Now nothing that is not a verified token of the principal's caller
// reaches Entra's token endpoint.
func TestEasyAuthForgery(t *testing.T) {
	c := newChain(t, "mi-forgery-"+authtest.ShortHash(t.Name()))
	other := c.entra.UserClaims("mallory")
	other["aud"] = "api://another-app"
	forged := func(auth, principal, principalID string) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			r = r.Clone(r.Context())
			for k, v := range map[string]string{"Authorization": auth, "X-MS-CLIENT-PRINCIPAL": principal, "X-MS-CLIENT-PRINCIPAL-ID": principalID} {
				if v != "" {
					r.Header.Set(k, v)
				}
			}
			return http.DefaultTransport.RoundTrip(r)
		})
	}
	ada := c.entra.UserToken("ada")
	for _, tt := range []struct {
		name string
		rt   http.RoundTripper
	}{
		{"empty principal, garbage token", forged("Bearer garbage.garbage.garbage", "e30", "")},
		{"empty principal, token for another app", forged("Bearer "+c.entra.Sign(other), "e30", "")},
		{"principal of the token's user, token for another app", forged("Bearer "+c.entra.Sign(other), authtest.Principal(authtest.OID("mallory"), tenant), authtest.OID("mallory"))},
		{"empty principal, valid token", forged("Bearer "+ada, "e30", "")},
		{"someone else's principal, valid token", forged("Bearer "+ada, authtest.Principal(authtest.OID("mallory"), tenant), "")},
		{"principal id of someone else, valid token", forged("Bearer "+ada, authtest.Principal("", ""), authtest.OID("mallory"))},
		{"valid token signed by another key", forged("Bearer "+authtest.NewEntra(t, tenant, appID).Sign(c.entra.UserClaims("ada")), authtest.Principal(authtest.OID("ada"), tenant), "")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if status := post(t, c.url, tt.rt); status != http.StatusUnauthorized {
				t.Errorf("status %d, want 401", status)
			}
			if n := c.entra.TokenRequests(); n != 0 {
				t.Fatalf("Entra's token endpoint got %d requests", n)
			}
		})
	}
	// What Easy Auth passes for Ada works, and is the only exchange.
	if res, text := callUserInfo(t, c.connect(t, c.asUser("ada"))); res.IsError {
		t.Fatalf("Ada's call: %q", text)
	}
	if n := c.entra.TokenRequests(); n != 1 {
		t.Fatalf("%d token requests, want 1", n)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestSetupDefaults: outside Azure an unset MCP_AUTH serves without
// authentication and says so on stdout (information, not a warning), and
// get_user_info then refuses to exchange tokens nothing verified.
func TestSetupDefaults(t *testing.T) {
	logs := &syncLog{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	env := map[string]string{"AZURE_TENANT_ID": tenant, "AZURE_CLIENT_ID": appID, "AZURE_CLIENT_SECRET": "local-secret-value"}
	entra := authtest.NewEntra(t, tenant, appID)
	env["AZURE_AUTHORITY_HOST"] = entra.URL
	url := serve(t, env, logger, entra.Client)
	startup := logs.String()
	if !strings.Contains(startup, "level=INFO msg=\"MCP_AUTH is not set") {
		t.Errorf("startup log does not say that MCP_AUTH is unset:\n%s", startup)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(context.Background(),
		&mcp.StreamableClientTransport{Endpoint: url + "/mcp", HTTPClient: &http.Client{Transport: easyAuthRT{"Bearer " + entra.UserToken("ada"), true}}, DisableStandaloneSSE: true, MaxRetries: -1},
		&mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, text := callUserInfo(t, cs)
	if !res.IsError || !strings.Contains(text, "MCP_AUTH=entra") {
		t.Fatalf("get_user_info without verification = %v %q", res.IsError, text)
	}
	if n := entra.TokenRequests(); n != 0 {
		t.Fatalf("an unverified token went to Entra (%d token requests)", n)
	}
}
