//go:build e2e

package e2e

// This file runs MCP clients we did not write through the whole Microsoft
// Entra ID sign-in, end to end: servers/weather in MCP_AUTH=entra mode
// against authtest.Entra, a fake Entra that behaves as the real one
// where MCP clients notice (OpenID metadata only, no Dynamic Client
// Registration, pre-registered public clients, PKCE, and AADSTS9010010 for
// an RFC 8707 resource parameter next to the API's scope). The clients are
// mcp-remote, the stdio-to-HTTP bridge that stdio-only hosts (Claude
// Desktop, Cursor, …) run, driven over its stdin and stdout by the Go SDK's
// client with a fake browser, and the TypeScript SDK's client with its
// OAuth provider.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfunc/mcpfunc/internal/clientcfg"
	"github.com/mcpfunc/mcpfunc/internal/npmclients"
	"github.com/mcpfunc/mcpfunc/shared/auth/authtest"
)

// The app registrations of the fake tenant.
const (
	oauthTenant    = "7e57e57e-0000-4000-8000-00000000e2e0"
	oauthAPIClient = "0e0e0e0e-0000-4000-8000-0000000000a2" // the MCP server's app
	oauthAppURI    = "api://mcp-weather-e2e"
	oauthScope     = oauthAppURI + "/user_impersonation"
	// Public client registrations, pre-authorized for user_impersonation.
	mcpRemoteClientID = "0f0f0f0f-0000-4000-8000-0000000000c3"
	tsOAuthClientID   = "0f0f0f0f-0000-4000-8000-0000000000c4"
)

// newClientsEntra is the fake tenant: the weather API exposing
// user_impersonation, pre-authorizing two public clients: mcp-remote's,
// with the redirect URI the recipes tell users to register
// (http://localhost/oauth/callback; Entra ignores the port of a localhost
// redirect URI, so mcp-remote's port matches whatever it is), and
// the TypeScript SDK script's (http://127.0.0.1/callback). Access tokens
// live lifetime (an hour when zero). It serves plain http: weather and the
// Node clients run in other processes, which cannot trust the test's
// certificate.
func newClientsEntra(t *testing.T, lifetime time.Duration) *authtest.Entra {
	return authtest.NewEntra(t, oauthTenant, oauthAPIClient, authtest.PlainHTTP(), authtest.WithOAuth(authtest.OAuthConfig{
		AccessTokenLifetime: lifetime,
		IdentifierURIs:      []string{oauthAppURI},
		Scopes:              []string{"user_impersonation"},
		PreAuthorized:       []string{mcpRemoteClientID, tsOAuthClientID},
		Clients: []authtest.OAuthClient{
			{ClientID: mcpRemoteClientID, RedirectURIs: []string{"http://localhost/oauth/callback"}},
			{ClientID: tsOAuthClientID, RedirectURIs: []string{"http://127.0.0.1/callback"}},
		},
	}))
}

// startOAuthWeather runs weather in MCP_AUTH=entra mode for the fake
// tenant's API, with a fake NWS, and returns its base URL.
func startOAuthWeather(t *testing.T, e *authtest.Entra) string {
	nws := newFakeNWS(t)
	// Later values win over startEntraWeather's.
	return startEntraWeather(t, e.URL,
		"MCP_AUTH_TENANT_IDS="+oauthTenant,
		"MCP_AUTH_AUDIENCES="+oauthAPIClient+","+oauthAppURI,
		"MCP_AUTH_SCOPES="+oauthScope,
		"NWS_API_BASE_URL="+nws.URL,
	)
}

// browserVisit is a line of testdata/fake-browser.mjs's log.
type browserVisit struct {
	Asked            map[string]string `json:"asked"`
	CallbackStatus   int               `json:"callbackStatus"`
	CallbackPath     string            `json:"callbackPath"`
	GotCode          bool              `json:"gotCode"`
	Error            string            `json:"error"`
	ErrorDescription string            `json:"errorDescription"`
}

// mcpRemoteEnv is one user's machine for mcp-remote: a home folder with
// its token store (MCP_REMOTE_CONFIG_DIR), and a browser: the open package
// runs its own xdg-open, which with no desktop (XDG_CURRENT_DESKTOP
// X-Generic, no DISPLAY) runs $BROWSER; an xdg-open first on PATH does the
// same should open use the system's. Both are testdata/fake-browser.mjs.
type mcpRemoteEnv struct {
	home, configDir, browserLog string
	env                         []string
}

func newMCPRemoteEnv(t *testing.T, nc *nodeClients) *mcpRemoteEnv {
	t.Helper()
	home := t.TempDir()
	m := &mcpRemoteEnv{home: home, configDir: filepath.Join(home, ".mcp-auth"), browserLog: filepath.Join(home, "browser.log")}
	script, err := filepath.Abs(filepath.Join("testdata", "fake-browser.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(home, "bin")
	browser := filepath.Join(bin, "fake-browser")
	sh := fmt.Sprintf("#!/bin/sh\nexec %q %q \"$1\"\n", nc.node, script)
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{browser, filepath.Join(bin, "xdg-open")} {
		if err := os.WriteFile(p, []byte(sh), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	m.env = []string{
		"HOME=" + home,
		"MCP_REMOTE_CONFIG_DIR=" + m.configDir,
		"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"BROWSER=" + browser,
		"XDG_CURRENT_DESKTOP=X-Generic",
		"DISPLAY=", "WAYLAND_DISPLAY=",
		"FAKE_BROWSER_LOG=" + m.browserLog,
	}
	return m
}

// visits reads the fake browser's log.
func (m *mcpRemoteEnv) visits(t *testing.T) []browserVisit {
	t.Helper()
	f, err := os.Open(m.browserLog)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []browserVisit
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var v browserVisit
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("fake browser log line %q: %v", sc.Text(), err)
		}
		out = append(out, v)
	}
	return out
}

// connect starts mcp-remote for url with args and connects the Go SDK's
// client to it over stdio (protocol 2025-11-25, the newest mcp-remote
// 0.1.49 knows), within ctx. It returns the session and mcp-remote's
// stderr.
func (m *mcpRemoteEnv) connect(ctx context.Context, t *testing.T, nc *nodeClients, url string, args ...string) (*mcp.ClientSession, *syncBuffer, error) {
	t.Helper()
	proxy := filepath.Join(nc.dir, "node_modules", "mcp-remote", "dist", "proxy.js")
	cmd := exec.Command(nc.node, append([]string{proxy, url}, args...)...)
	cmd.Dir = m.home
	cmd.Env = clientsNodeEnv(m.env)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	c := mcp.NewClient(&mcp.Implementation{Name: "e2e-stdio-host", Version: "1"}, nil)
	cs, err := c.Connect(ctx, &mcp.CommandTransport{Command: cmd, TerminateDuration: 5 * time.Second}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		return nil, stderr, err
	}
	t.Cleanup(func() { cs.Close() })
	return cs, stderr, nil
}

// storedTokens reads what mcp-remote keeps in its token store: which
// files hold an access token and which a refresh token (never the tokens).
func (m *mcpRemoteEnv) storedTokens(t *testing.T) (access, refresh bool) {
	t.Helper()
	// {MCP_REMOTE_CONFIG_DIR}/mcp-remote-{version}/{server hash}_tokens.json
	files, _ := filepath.Glob(filepath.Join(m.configDir, "*", "*_tokens.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var tok struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
		}
		if json.Unmarshal(b, &tok) == nil {
			access = access || tok.AccessToken != ""
			refresh = refresh || tok.RefreshToken != ""
		}
	}
	return access, refresh
}

// resourceRefusals are the fake Entra's AADSTS9010010 answers.
func resourceRefusals(e *authtest.Entra) []authtest.OAuthEvent {
	var out []authtest.OAuthEvent
	for _, ev := range e.OAuthErrors() {
		if ev.AADSTS == 9010010 {
			out = append(out, ev)
		}
	}
	return out
}

// mcpRemoteRecipe returns the Entra recipe internal/clientcfg writes for
// stdio hosts (Claude Desktop: npx -y mcp-remote@<version> <url> <flags>)
// for weather at url signing in with clientID: the npx package, and
// mcp-remote's arguments after the URL, with port as the callback port
// (mcp-remote's own choice, derived from the URL, might be taken on a test
// machine, and it does not move to another).
func mcpRemoteRecipe(t *testing.T, url, clientID string, port int) (pkg string, args []string) {
	t.Helper()
	recipes, err := clientcfg.Recipes(clientcfg.Server{Name: "weather", URL: url, Auth: clientcfg.Entra, Scope: oauthScope, ClientID: clientID})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recipes {
		if r.Client != "claude-desktop" {
			continue
		}
		var doc struct {
			MCPServers map[string]struct {
				Command string   `json:"command"`
				Args    []string `json:"args"`
			} `json:"mcpServers"`
		}
		if err := json.Unmarshal([]byte(r.Text), &doc); err != nil || len(doc.MCPServers) != 1 {
			t.Fatalf("the claude-desktop recipe is not one mcpServers entry (%v):\n%s", err, r.Text)
		}
		for _, entry := range doc.MCPServers {
			a := entry.Args
			if entry.Command != "npx" || len(a) < 4 || a[0] != "-y" || a[2] != url {
				t.Fatalf("the claude-desktop recipe is not npx -y <mcp-remote> %s …:\n%s", url, r.Text)
			}
			return a[1], append([]string{fmt.Sprint(port)}, a[3:]...)
		}
	}
	t.Fatal("clientcfg has no claude-desktop recipe")
	return "", nil
}

// TestOAuthMCPRemote: mcp-remote, started with the arguments of the Entra
// recipe internal/clientcfg writes for stdio hosts (README's "Claude
// Desktop" recipe), signs in to weather through the fake Entra with a
// pre-registered public client (--static-oauth-client-info: Entra has no
// Dynamic Client Registration), the scope and offline_access
// (--static-oauth-client-metadata) and --disable-resource-parameter, then
// lists and calls the tools over stdio, refreshing its short-lived token;
// its next start uses the stored token without a browser. Without
// --disable-resource-parameter it sends the server's URL as resource next
// to the API's scope, and Entra refuses the sign-in with AADSTS9010010:
// the reason for the flag.
func TestOAuthMCPRemote(t *testing.T) {
	nc := needNodeClients(t)
	// Access tokens of 30 s: mcp-remote refreshes a token that expires
	// within a minute before it uses it.
	e := newClientsEntra(t, 30*time.Second)
	base := startOAuthWeather(t, e)
	pkg, recipe := mcpRemoteRecipe(t, base+"/mcp", mcpRemoteClientID, freePort(t))
	pinned := pinnedClientVersion(t, "mcp-remote")
	if pkg != "mcp-remote@"+pinned {
		t.Errorf("the recipes run %s; this test runs the release clients/package.json pins, %s", pkg, pinned)
	}
	t.Logf("mcp-remote %s", strings.Join(recipe, " "))
	if !slices.Contains(recipe, "--disable-resource-parameter") || !slices.Contains(recipe, "--static-oauth-client-info") {
		t.Fatalf("the recipe's mcp-remote arguments %q lack --static-oauth-client-info or --disable-resource-parameter", recipe)
	}

	t.Run("the recipe", func(t *testing.T) {
		m := newMCPRemoteEnv(t, nc)
		args := recipe
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cs, stderr, err := m.connect(ctx, t, nc, base+"/mcp", args...)
		if err != nil {
			t.Fatalf("mcp-remote: %v\nfake browser: %+v\nEntra errors: %+v\nmcp-remote stderr:\n%s", err, m.visits(t), e.OAuthErrors(), stderr)
		}
		visits := m.visits(t)
		if len(visits) != 1 || !visits[0].GotCode || visits[0].CallbackStatus != 200 || visits[0].CallbackPath != "/oauth/callback" {
			t.Fatalf("browser visits %+v, want one that brought a code to /oauth/callback", visits)
		}
		asked := visits[0].Asked
		if _, sent := asked["resource"]; sent || asked["scope"] != oauthScope+" offline_access" || asked["client_id"] != mcpRemoteClientID || asked["code_challenge_method"] != "S256" {
			t.Fatalf("authorization request asked %v", asked)
		}
		t.Logf("mcp-remote asked Entra for %v", asked)
		checkWeatherOverStdio(t, cs)
		if errs := e.OAuthErrors(); len(errs) > 0 {
			t.Fatalf("Entra answered errors: %+v", errs)
		}
		access, refresh := m.storedTokens(t)
		if !access || !refresh {
			t.Fatalf("token store under MCP_REMOTE_CONFIG_DIR: access token %t, refresh token %t", access, refresh)
		}
		if n := refreshes(e); n == 0 {
			t.Fatalf("mcp-remote never refreshed its 30 s token; token endpoint events: %+v", e.OAuthEvents())
		}
		cs.Close()

		// A second start (the host restarting it) uses the stored token.
		cs, stderr, err = m.connect(ctx, t, nc, base+"/mcp", args...)
		if err != nil {
			t.Fatalf("mcp-remote, second start: %v\n%s", err, stderr)
		}
		checkWeatherOverStdio(t, cs)
		if n := len(m.visits(t)); n != 1 {
			t.Fatalf("the second start opened the browser again (%d visits)", n)
		}
	})

	t.Run("the recipe without --disable-resource-parameter", func(t *testing.T) {
		m := newMCPRemoteEnv(t, nc)
		args := slices.DeleteFunc(slices.Clone(recipe), func(a string) bool { return a == "--disable-resource-parameter" })
		// mcp-remote 0.1.49 goes on waiting for a code that never comes
		// (its callback answers 400 to the error redirect, and
		// --auth-timeout does not bound that wait): stop it once the
		// browser has been sent back with Entra's answer.
		ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
		defer cancel()
		type result struct {
			cs     *mcp.ClientSession
			stderr *syncBuffer
			err    error
		}
		done := make(chan result, 1)
		go func() {
			cs, stderr, err := m.connect(ctx, t, nc, base+"/mcp", args...)
			done <- result{cs, stderr, err}
		}()
		var r result
		for r.err == nil && r.cs == nil {
			select {
			case r = <-done:
			case <-time.After(100 * time.Millisecond):
				if len(m.visits(t)) > 0 && len(resourceRefusals(e)) > 0 {
					time.Sleep(time.Second) // what mcp-remote does next, if anything
					cancel()
					r = <-done
				}
			}
		}
		cs, stderr, err := r.cs, r.stderr, r.err
		if err == nil {
			cs.Close()
			t.Fatalf("mcp-remote connected although Entra refuses its resource parameter; Entra answered %+v", e.OAuthErrors())
		}
		visits := m.visits(t)
		if len(visits) != 1 {
			t.Fatalf("browser visits %+v, want 1\nmcp-remote stderr:\n%s", visits, stderr)
		}
		v := visits[0]
		if v.Asked["resource"] != base+"/mcp" || v.Asked["scope"] != oauthScope+" offline_access" {
			t.Fatalf("authorization request asked %v: mcp-remote no longer sends the server URL as resource with the scope; record that and revisit the flag", v.Asked)
		}
		const want = "AADSTS9010010: The resource parameter provided in the request doesn't match with the requested scopes."
		if v.GotCode || v.Error != "invalid_target" || !strings.HasPrefix(v.ErrorDescription, want) {
			t.Fatalf("Entra's answer through the browser: %+v, want invalid_target %q", v, want)
		}
		if refusals := resourceRefusals(e); len(refusals) != 1 || refusals[0].Endpoint != "authorize" || refusals[0].Params.Get("resource") != base+"/mcp" {
			t.Fatalf("fake Entra's AADSTS9010010 answers: %+v", refusals)
		}
		t.Logf("without --disable-resource-parameter, mcp-remote asked for scope %q with resource %q and Entra answered %s: %s; mcp-remote's callback answered %d; stderr:\n%s",
			v.Asked["scope"], v.Asked["resource"], v.Error, want, v.CallbackStatus, stderr)
	})
}

// refreshes counts the refresh_token grants the fake Entra answered with
// tokens.
func refreshes(e *authtest.Entra) int {
	n := 0
	for _, ev := range e.OAuthEvents() {
		if ev.Endpoint == "token" && ev.Params.Get("grant_type") == "refresh_token" && ev.Error == "" {
			n++
		}
	}
	return n
}

// pinnedClientVersion is the exact version clients/package.json pins pkg
// at.
func pinnedClientVersion(t *testing.T, pkg string) string {
	t.Helper()
	v, err := npmclients.Pinned(filepath.Join("..", "clients"), pkg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// checkWeatherOverStdio lists weather's tools and calls get_alerts through
// cs.
func checkWeatherOverStdio(t *testing.T, cs *mcp.ClientSession) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("tools/list through mcp-remote: %v", err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"get_alerts", "get_forecast"}) {
		t.Fatalf("tools through mcp-remote: %q", names)
	}
	res, text := call(t, cs, "get_alerts", map[string]any{"state": "CA"})
	if res.IsError || !strings.Contains(text, "Event: Wind Advisory") {
		t.Fatalf("get_alerts through mcp-remote: error %t\n%s", res.IsError, text)
	}
}

// tsOAuthSummary is what testdata/ts-oauth.mjs prints.
type tsOAuthSummary struct {
	Authorizations []struct {
		Scope    string  `json:"scope"`
		Resource *string `json:"resource"`
	} `json:"authorizations"`
	AuthorizationErrors []struct {
		Error       string `json:"error"`
		Description string `json:"description"`
	} `json:"authorizationErrors"`
	MCPResponses []struct {
		Status    int    `json:"status"`
		Challenge string `json:"challenge"`
	} `json:"mcpResponses"`
	Tools       []string `json:"tools"`
	CallText    string   `json:"callText"`
	CallIsError bool     `json:"callIsError"`
	Steps       []string `json:"steps"`
}

// TestOAuthTypeScriptSDK: the TypeScript SDK client, with a pre-registered
// public client and its provider's validateResourceURL returning
// undefined, signs in through the fake Entra, lists weather's tools and
// calls one. With the SDK's default (the protected resource metadata's
// resource), Entra refuses the sign-in with AADSTS9010010.
func TestOAuthTypeScriptSDK(t *testing.T) {
	nc := needNodeClients(t)
	e := newClientsEntra(t, 0)
	base := startOAuthWeather(t, e)
	script, err := filepath.Abs(filepath.Join("testdata", "ts-oauth.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	// The script reads the code from the redirect itself: the port is
	// never listened on, but it must be a loopback one the fake accepts.
	redirect := fmt.Sprintf("http://127.0.0.1:%d/callback", freePort(t))
	run := func(t *testing.T, extra ...string) (tsOAuthSummary, nodeResult) {
		res := nc.run(t, time.Minute, nil, script, append([]string{"--url", base + "/mcp", "--client-id", tsOAuthClientID, "--redirect", redirect}, extra...)...)
		var sum tsOAuthSummary
		if err := json.Unmarshal([]byte(res.stdout), &sum); err != nil {
			t.Fatalf("ts-oauth.mjs (exit %d) printed no summary: %v\nstdout:\n%s\nstderr:\n%s", res.code, err, res.stdout, res.stderr)
		}
		return sum, res
	}

	t.Run("without the resource parameter", func(t *testing.T) {
		sum, res := run(t, "--no-resource", "--call", `get_alerts={"state":"CA"}`)
		if res.code != 0 {
			t.Fatalf("ts-oauth.mjs exit %d: steps %q, authorization errors %+v\nstderr:\n%s", res.code, sum.Steps, sum.AuthorizationErrors, res.stderr)
		}
		if len(sum.Authorizations) != 1 || sum.Authorizations[0].Resource != nil || sum.Authorizations[0].Scope != oauthScope {
			t.Fatalf("authorization requests %+v", sum.Authorizations)
		}
		if !slices.Equal(sum.Tools, []string{"get_alerts", "get_forecast"}) && !slices.Equal(sum.Tools, []string{"get_forecast", "get_alerts"}) {
			t.Fatalf("tools %q", sum.Tools)
		}
		if sum.CallIsError || !strings.Contains(sum.CallText, "Event: Wind Advisory") {
			t.Fatalf("get_alerts: error %t\n%s", sum.CallIsError, sum.CallText)
		}
	})

	t.Run("with the SDK's default resource", func(t *testing.T) {
		before := len(resourceRefusals(e))
		sum, res := run(t)
		if res.code == 0 {
			t.Fatalf("ts-oauth.mjs connected although Entra refuses the resource parameter: %+v", sum)
		}
		if len(sum.Authorizations) != 1 || sum.Authorizations[0].Resource == nil || *sum.Authorizations[0].Resource != base+"/mcp" {
			t.Fatalf("authorization requests %+v: the SDK no longer sends the metadata's resource by default; record that", sum.Authorizations)
		}
		if len(sum.AuthorizationErrors) != 1 || sum.AuthorizationErrors[0].Error != "invalid_target" || !strings.HasPrefix(sum.AuthorizationErrors[0].Description, "AADSTS9010010") {
			t.Fatalf("authorization errors %+v", sum.AuthorizationErrors)
		}
		if len(resourceRefusals(e)) != before+1 {
			t.Fatalf("fake Entra's AADSTS9010010 answers: %+v", resourceRefusals(e))
		}
	})
}
