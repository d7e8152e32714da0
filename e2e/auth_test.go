//go:build e2e

package e2e

// This file runs a server built from servers/weather in MCP_AUTH=entra mode
// against authtest.Entra, a fake Microsoft Entra ID authority (OpenID
// metadata, signing keys, an authorization endpoint that signs in a
// pre-authorized client at once, and a token endpoint for the
// authorization code flow with PKCE), and checks the WWW-Authenticate
// challenges over HTTP and step-up authorization with the official
// TypeScript SDK client.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpfunc/mcpfunc/shared/auth/authtest"
)

// The app registration the fake issues tokens for.
const (
	stepupTenant   = "5c0ffee0-0000-4000-8000-00000000c0de"
	stepupClientID = "0a0a0a0a-0000-4000-8000-0000000000a1" // the MCP server's app
	stepupCaller   = "0b0b0b0b-0000-4000-8000-0000000000b2" // the MCP client's app
	stepupAppURI   = "api://mcp-stepup"
)

// stepupScopes are the scopes the server requires, as clients request them.
var stepupScopes = []string{stepupAppURI + "/tools.read", stepupAppURI + "/tools.write"}

// newStepUpEntra is the fake Entra (authtest's, over plain http: weather
// and the Node client run in other processes) for the app: it exposes the
// two scopes, pre-authorizes stepupCaller with the redirect URI
// http://127.0.0.1/callback (on any port), and its first authorization grants only the
// first scope asked for, as when a user consents to part of what an app
// asks; later ones grant everything asked.
func newStepUpEntra(t *testing.T) *authtest.Entra {
	return authtest.NewEntra(t, stepupTenant, stepupClientID, authtest.PlainHTTP(), authtest.WithOAuth(authtest.OAuthConfig{
		IdentifierURIs:      []string{stepupAppURI},
		Scopes:              []string{"tools.read", "tools.write"},
		PreAuthorized:       []string{stepupCaller},
		Clients:             []authtest.OAuthClient{{ClientID: stepupCaller, RedirectURIs: []string{"http://127.0.0.1/callback"}}},
		PartialFirstConsent: true,
	}))
}

// startEntraWeather runs servers/weather in MCP_AUTH=entra mode on a port
// chosen beforehand (the protected resource metadata names the server's
// own URL), trusting the fake authority at authority. It returns the base
// URL.
func startEntraWeather(t *testing.T, authority string, extra ...string) string {
	t.Helper()
	app := appDir(t, "weather")
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	cmd := exec.Command(filepath.Join(app, "app"))
	cmd.Dir = app
	cmd.Env = append(os.Environ(),
		fmt.Sprintf("FUNCTIONS_CUSTOMHANDLER_PORT=%d", port),
		"GORACE=atexit_sleep_ms=0",
		"WEBSITE_SITE_NAME=", "WEBSITE_HOSTNAME=", "WEBSITE_AUTH_ENABLED=",
		"MCP_AUTH=entra",
		"MCP_AUTH_TENANT_IDS="+stepupTenant,
		"MCP_AUTH_AUDIENCES="+stepupClientID+","+stepupAppURI,
		"MCP_AUTH_SCOPES="+strings.Join(stepupScopes, " "),
		"MCP_PUBLIC_URL="+base,
		"AZURE_AUTHORITY_HOST="+authority,
		"NWS_API_BASE_URL=http://127.0.0.1:1",
	)
	cmd.Env = append(cmd.Env, extra...)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("weather output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(base + "/"); err == nil {
			resp.Body.Close()
			return base
		}
		select {
		case err := <-exited:
			t.Fatalf("weather exited during startup: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("weather did not answer within 30s\n%s", out.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// challengeParams parses the auth-params of a Bearer challenge (quoted
// values, as the server writes them).
func challengeParams(t *testing.T, h string) map[string]string {
	t.Helper()
	rest, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		t.Fatalf("challenge %q is not Bearer with parameters", h)
	}
	out := map[string]string{}
	for rest != "" {
		name, after, ok := strings.Cut(rest, `="`)
		end := strings.Index(after, `"`)
		if !ok || end < 0 {
			t.Fatalf("challenge %q: cannot parse %q", h, rest)
		}
		out[strings.TrimSpace(name)] = after[:end]
		rest = strings.TrimPrefix(strings.TrimSpace(after[end+1:]), ",")
		rest = strings.TrimSpace(rest)
	}
	return out
}

// TestEntraChallenges checks, against the built server over HTTP, the
// WWW-Authenticate challenges RFC 6750 §3.1 and the MCP authorization
// specification call for: none of the error attribute without a token,
// error="invalid_token" for a bad one, and error="insufficient_scope" with
// the scopes for a token without them.
func TestEntraChallenges(t *testing.T) {
	e := newStepUpEntra(t)
	base := startEntraWeather(t, e.URL)
	prm := base + "/.well-known/oauth-protected-resource"
	scope := strings.Join(stepupScopes, " ")
	issuer := e.Issuer()
	token := func(scp string) string {
		c := e.UserClaims("ada")
		c["scp"] = scp
		return e.Sign(c)
	}
	tests := []struct {
		name   string
		auth   string
		status int
		want   map[string]string
	}{
		{"no token", "", 401, map[string]string{"resource_metadata": prm, "scope": scope}},
		{"invalid token", "Bearer garbage.garbage.garbage", 401, map[string]string{"error": "invalid_token", "resource_metadata": prm, "scope": scope}},
		{"missing a scope", "Bearer " + token("tools.read"), 403, map[string]string{"error": "insufficient_scope", "resource_metadata": prm, "scope": scope}},
		{"all scopes", "Bearer " + token("tools.read tools.write"), 200, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(rpc("tools/list", "")))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("MCP-Protocol-Version", "2025-11-25")
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tt.status)
			}
			if tt.want == nil {
				return
			}
			got := challengeParams(t, resp.Header.Get("WWW-Authenticate"))
			delete(got, "error_description")
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("challenge %q\n got %v\nwant %v", resp.Header.Get("WWW-Authenticate"), got, tt.want)
			}
		})
	}
	// The metadata the challenges point at.
	resp, err := http.Get(prm)
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
		ScopesSupported      []string `json:"scopes_supported"`
	}
	json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	if meta.Resource != base+"/mcp" || !slices.Equal(meta.AuthorizationServers, []string{issuer}) || !slices.Equal(meta.ScopesSupported, stepupScopes) {
		t.Fatalf("protected resource metadata %+v", meta)
	}
}

// TestStepUpTypeScriptSDK: the TypeScript SDK client signs in, gets a
// token with one of the two required scopes, is answered 403 with
// error="insufficient_scope", authorizes again for the scopes of the
// challenge, and then lists the tools.
func TestStepUpTypeScriptSDK(t *testing.T) {
	nc := needNodeClients(t)
	e := newStepUpEntra(t)
	base := startEntraWeather(t, e.URL)
	script, err := filepath.Abs(filepath.Join("testdata", "ts-oauth.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	// The script reads the code from the redirect itself: the port is
	// never listened on.
	res := nc.run(t, time.Minute, nil, script, "--url", base+"/mcp", "--client-id", stepupCaller, "--redirect", "http://127.0.0.1:1/callback", "--no-resource")
	var sum tsOAuthSummary
	if err := json.Unmarshal([]byte(res.stdout), &sum); err != nil {
		t.Fatalf("ts-oauth.mjs (exit %d) printed no summary: %v\nstdout:\n%s\nstderr:\n%s", res.code, err, res.stdout, res.stderr)
	}
	t.Logf("steps: %q; authorizations: %+v; MCP answers: %+v", sum.Steps, sum.Authorizations, sum.MCPResponses)
	if res.code != 0 {
		t.Fatalf("ts-oauth.mjs exit status %d: authorization errors %+v\nstderr:\n%s", res.code, sum.AuthorizationErrors, res.stderr)
	}
	if errs := e.OAuthErrors(); len(errs) > 0 {
		t.Fatalf("the fake Entra answered errors: %+v", errs)
	}
	// The scope parameter of each authorization request, and the scp of
	// each access token issued.
	var requested []string
	var granted [][]string
	for _, ev := range e.OAuthEvents() {
		switch ev.Endpoint {
		case "authorize":
			requested = append(requested, ev.Params.Get("scope"))
		case "token":
			granted = append(granted, ev.Granted)
		}
	}

	want := strings.Join(stepupScopes, " ")
	if len(requested) != 2 || requested[0] != want || requested[1] != want {
		t.Fatalf("authorization requests asked for %q, want two asking for %q (the second after the 403)", requested, want)
	}
	if len(granted) != 2 || !slices.Equal(granted[0], []string{"tools.read"}) || !slices.Equal(granted[1], []string{"tools.read", "tools.write"}) {
		t.Fatalf("tokens issued with scp %q", granted)
	}
	var saw403 bool
	for _, r := range sum.MCPResponses {
		if r.Status == http.StatusForbidden {
			p := challengeParams(t, r.Challenge)
			saw403 = p["error"] == "insufficient_scope" && p["scope"] == want
		}
	}
	if !saw403 {
		t.Fatalf("the client never got 403 insufficient_scope for %q: %+v", want, sum.MCPResponses)
	}
	if last := sum.MCPResponses[len(sum.MCPResponses)-1]; last.Status != http.StatusOK && last.Status != http.StatusAccepted {
		t.Fatalf("last MCP answer %d", last.Status)
	}
	if !slices.Contains(sum.Tools, "get_forecast") || !slices.Contains(sum.Tools, "get_alerts") {
		t.Fatalf("tools %q after step-up", sum.Tools)
	}
}
