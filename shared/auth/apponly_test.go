package auth

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	mcpauth "github.com/modelcontextprotocol/go-sdk/auth"
)

func TestAppOnly(t *testing.T) {
	tests := []struct {
		name string
		ti   *mcpauth.TokenInfo
		want bool
	}{
		{"nil", nil, false},
		{"v2 app-only: idtyp app, roles, no scp", &mcpauth.TokenInfo{Extra: map[string]any{"idtyp": "app", "roles": []string{"MCP.Invoke"}}}, true},
		{"app-only without idtyp", &mcpauth.TokenInfo{Extra: map[string]any{"roles": []string{"MCP.Invoke"}}}, true},
		{"delegated", &mcpauth.TokenInfo{Scopes: []string{"user_impersonation"}, Extra: map[string]any{"scp": []string{"user_impersonation"}}}, false},
		{"delegated with roles", &mcpauth.TokenInfo{Scopes: []string{"user_impersonation"}, Extra: map[string]any{"scp": []string{"user_impersonation"}, "roles": []string{"MCP.Invoke"}}}, false},
		{"delegated, idtyp user, roles only", &mcpauth.TokenInfo{Extra: map[string]any{"idtyp": "user", "roles": []string{"MCP.Invoke"}}}, false},
		{"idtyp app wins over scp", &mcpauth.TokenInfo{Scopes: []string{"x"}, Extra: map[string]any{"idtyp": "app", "scp": []string{"x"}}}, true},
		{"scopes without Extra", &mcpauth.TokenInfo{Scopes: []string{"user_impersonation"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AppOnly(tt.ti); got != tt.want {
				t.Errorf("AppOnly = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestAppOnlyCallers sends client-credentials tokens (a managed identity's
// or an agent's: roles, idtyp "app", no scp, oid and sub the service
// principal's object ID) to entra and easyauth mode: they pass only with
// an accepted app role, and the tool sees them as app-only.
func TestAppOnlyCallers(t *testing.T) {
	key := newTestKey(t, "k")
	fi := newFakeIssuer(t, key)
	const (
		spOID  = "5e5e5e5e-0000-4000-8000-000000000005" // the caller's service principal
		daemon = "d0d0d0d0-0000-4000-8000-000000000001" // its client ID (azp)
		vscode = "aebc6443-996d-45c2-90f0-388ff96faa56"
	)
	now := time.Now()
	app := map[string]any{
		"iss": fi.issuer(tenantA), "aud": appID, "tid": tenantA,
		"oid": spOID, "sub": spOID, "idtyp": "app", "roles": []string{"MCP.Invoke"}, "azp": daemon, "azpacr": "2",
		"ver": "2.0", "iat": now.Add(-time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	user := fi.claimsFor(tenantA)
	tokens := map[string]string{
		"app":                 rs256(t, key, app),
		"app, no idtyp":       rs256(t, key, with(app, "idtyp", nil)),
		"app, other role":     rs256(t, key, with(app, "roles", []string{"Other.Role"})),
		"app, no role":        rs256(t, key, with(app, "roles", nil)),
		"app, wrong audience": rs256(t, key, with(app, "aud", "api://another-app")),
		"app, other tenant":   rs256(t, key, with(app, "tid", tenantX, "iss", fi.issuer(tenantX))),
		"user":                rs256(t, key, user),
		// A user's token with the optional idtyp claim, an app role and
		// no delegated scope: a user all the same.
		"user, idtyp user, role only": rs256(t, key, with(user, "idtyp", "user", "scp", nil, "roles", []string{"MCP.Invoke"})),
	}
	const scope = appIDURI + "/user_impersonation"
	type want struct {
		status  int
		appOnly bool
	}
	tests := []struct {
		name   string
		mode   Mode
		scopes []string
		roles  []string
		apps   []string
		want   map[string]want
		// principal is the object ID Easy Auth names (easyauth mode); ""
		// means the token's own.
		principal string
	}{
		{
			name: "entra, scopes and roles", mode: ModeEntra, scopes: []string{scope}, roles: []string{"MCP.Invoke"},
			want: map[string]want{"app": {200, true}, "app, no idtyp": {200, true}, "user": {200, false}, "user, idtyp user, role only": {403, false},
				"app, other role": {403, false}, "app, no role": {401, false}, "app, wrong audience": {401, false}, "app, other tenant": {401, false}},
		},
		{
			name: "entra, roles only", mode: ModeEntra, roles: []string{"MCP.Invoke"},
			want: map[string]want{"app": {200, true}, "user": {403, false}, "app, other role": {403, false}, "user, idtyp user, role only": {200, false}},
		},
		{
			name: "entra, roles not configured", mode: ModeEntra, scopes: []string{scope},
			want: map[string]want{"app": {403, false}, "user": {200, false}},
		},
		{
			name: "entra, allowed applications", mode: ModeEntra, scopes: []string{scope}, roles: []string{"MCP.Invoke"}, apps: []string{vscode},
			want: map[string]want{"app": {403, false}, "user": {200, false}},
		},
		{
			name: "entra, allowed applications with the caller", mode: ModeEntra, scopes: []string{scope}, roles: []string{"MCP.Invoke"}, apps: []string{vscode, strings.ToUpper(daemon)},
			want: map[string]want{"app": {200, true}, "user": {200, false}},
		},
		{
			name: "easyauth, scopes and roles", mode: ModeEasyAuth, scopes: []string{scope}, roles: []string{"MCP.Invoke"},
			want: map[string]want{"app": {200, true}, "app, no idtyp": {200, true}, "user": {200, false},
				"app, other role": {403, false}, "app, wrong audience": {401, false}, "app, other tenant": {401, false}},
		},
		{
			name: "easyauth, roles not configured", mode: ModeEasyAuth, scopes: []string{scope},
			want: map[string]want{"app": {403, false}, "user": {200, false}},
		},
		{
			// Neither set: Easy Auth's own policy decided.
			name: "easyauth, neither scopes nor roles", mode: ModeEasyAuth,
			want: map[string]want{"app": {200, true}, "user": {200, false}},
		},
		{
			name: "easyauth, principal of someone else", mode: ModeEasyAuth, scopes: []string{scope}, roles: []string{"MCP.Invoke"}, principal: "user-oid-1",
			want: map[string]want{"app": {401, false}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := fi.verifierConfig()
			cfg.RequiredScopes, cfg.AcceptedRoles, cfg.AllowedApplications = tt.scopes, tt.roles, tt.apps
			p, err := Protect(context.Background(), Config{Mode: tt.mode, Verifier: cfg, PublicURL: "https://mcp.example.com"})
			if err != nil {
				t.Fatal(err)
			}
			var appOnly atomic.Bool
			srv := httptest.NewServer(p.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				appOnly.Store(AppOnly(mcpauth.TokenInfoFromContext(r.Context())))
			})))
			defer srv.Close()
			for name, w := range tt.want {
				appOnly.Store(false)
				req, _ := http.NewRequest("POST", srv.URL+"/mcp", strings.NewReader("{}"))
				req.Header.Set("Authorization", "Bearer "+tokens[name])
				if tt.mode == ModeEasyAuth {
					oid := tt.principal
					if oid == "" {
						oid = spOID
						if name == "user" {
							oid = "user-oid-1"
						}
					}
					req.Header.Set(headerClientPrincipal, principalOf(oid, tenantA))
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != w.status || appOnly.Load() != w.appOnly {
					t.Errorf("%s: status %d (%s), app-only %v; want %d, %v", name, resp.StatusCode, strings.TrimSpace(string(body)), appOnly.Load(), w.status, w.appOnly)
				}
				if w.status == 403 && strings.HasPrefix(name, "app") && strings.Contains(resp.Header.Get("WWW-Authenticate"), "insufficient_scope") {
					t.Errorf("%s: an app-only token was asked for more scopes: %q", name, resp.Header.Get("WWW-Authenticate"))
				}
			}
		})
	}
}
