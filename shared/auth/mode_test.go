package auth

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	mcpauth "github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/mcpfunc/mcpfunc/shared/auth/authtest"
	"github.com/mcpfunc/mcpfunc/shared/auth/internal/azenv"
)

func TestConfigFromEnv(t *testing.T) {
	const tid = "11111111-2222-3333-4444-555555555555"
	entra := map[string]string{
		envMCPAuth:          "entra",
		envMCPAuthTenantIDs: tid,
		envMCPAuthAudiences: "api://app, app-client-id",
		envMCPAuthScopes:    "api://app/user_impersonation",
		envMCPPublicURL:     "https://mcp.example.com/",
	}
	with := authtest.WithEnv
	easy := map[string]string{
		envWebsiteAuthEnabled:    "True",
		azenv.WebsiteSiteName:    "app",
		azenv.WebsiteHostname:    "app.azurewebsites.net",
		azenv.AuthClientID:       "app-client-id",
		azenv.AuthAllowedTenants: tid,
		envWebsiteAuthPRMScopes:  "api://app/user_impersonation",
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    Mode
		wantErr []string
		check   func(t *testing.T, c Config)
	}{
		// Easy Auth: what the platform and the Bicep set for an app with
		// authentication on.
		{
			name: "easy auth detected", env: easy, want: ModeEasyAuth,
			check: func(t *testing.T, c Config) {
				v := c.Verifier
				if !slices.Equal(v.TenantIDs, []string{tid}) || !slices.Equal(v.Audiences, []string{"app-client-id", "api://app"}) ||
					len(v.RequiredScopes) != 0 || c.PublicURL != "https://app.azurewebsites.net" || c.Defaulted {
					t.Errorf("got %+v", c)
				}
			},
		},
		{name: "easy auth detected lower-case", env: with(easy, envWebsiteAuthEnabled, "true"), want: ModeEasyAuth},
		{name: "explicit easyauth", env: with(easy, envMCPAuth, "EasyAuth"), want: ModeEasyAuth},
		{name: "explicit easyauth outside Azure", env: with(easy, envMCPAuth, "easyauth", azenv.WebsiteSiteName, "", envWebsiteAuthEnabled, ""), want: ModeEasyAuth},
		{
			name: "easyauth with its own settings", want: ModeEasyAuth,
			env: with(easy, envMCPAuth, "easyauth", envMCPAuthTenantIDs, tenantA, envMCPAuthAudiences, "api://other", envMCPAuthScopes, "api://app/user_impersonation",
				envMCPAuthAllowedApplications, "client-1", envWebsiteAuthPRMScopes, "", envMCPPublicURL, "https://mcp.example.com/mcp"),
			check: func(t *testing.T, c Config) {
				v := c.Verifier
				if !slices.Equal(v.TenantIDs, []string{tenantA}) || !slices.Equal(v.Audiences, []string{"app-client-id", "api://other"}) ||
					!slices.Equal(v.RequiredScopes, []string{"api://app/user_impersonation"}) || !slices.Equal(v.AllowedApplications, []string{"client-1"}) ||
					c.PublicURL != "https://mcp.example.com" {
					t.Errorf("got %+v", c)
				}
			},
		},
		// The issue: MCP_AUTH=easyauth on Azure with authentication off
		// served without a warning.
		{name: "easyauth on azure with authentication off", env: with(easy, envMCPAuth, "easyauth", envWebsiteAuthEnabled, "False", azenv.WebsiteSiteName, "func-userinfo"),
			wantErr: []string{"refusing", envWebsiteAuthEnabled, `"False"`, "MCP_AUTH=entra", "MCP_REQUIRE_EASYAUTH_ENV=off"}},
		{name: "easyauth on azure, WEBSITE_AUTH_ENABLED unset", env: with(easy, envMCPAuth, "easyauth", envWebsiteAuthEnabled, ""),
			wantErr: []string{"refusing", envWebsiteAuthEnabled}},
		{name: "easyauth on azure, check turned off", env: with(easy, envMCPAuth, "easyauth", envWebsiteAuthEnabled, "", "MCP_REQUIRE_EASYAUTH_ENV", "OFF"), want: ModeEasyAuth},
		{name: "easyauth, bad MCP_REQUIRE_EASYAUTH_ENV", env: with(easy, "MCP_REQUIRE_EASYAUTH_ENV", "maybe"), wantErr: []string{"MCP_REQUIRE_EASYAUTH_ENV", `"maybe"`}},
		{name: "easyauth without client id", env: with(easy, azenv.AuthClientID, ""), wantErr: []string{azenv.AuthClientID, envMCPAuthAudiences}},
		{name: "easyauth without tenants", env: with(easy, azenv.AuthAllowedTenants, " "), wantErr: []string{azenv.AuthAllowedTenants, envMCPAuthTenantIDs}},
		{name: "explicit none locally", env: map[string]string{envMCPAuth: "none"}, want: ModeNone,
			check: func(t *testing.T, c Config) {
				if c.Defaulted {
					t.Error("Defaulted for an explicit none")
				}
			}},
		{name: "explicit none on azure", env: map[string]string{envMCPAuth: "none", azenv.WebsiteSiteName: "app"}, want: ModeNone},
		{name: "explicit none wins over easy auth", env: map[string]string{envMCPAuth: "none", envWebsiteAuthEnabled: "True"}, want: ModeNone},
		{name: "on azure without easy auth", env: map[string]string{azenv.WebsiteSiteName: "app"}, wantErr: []string{"refusing", envWebsiteAuthEnabled, "MCP_AUTH=entra", "MCP_AUTH=none"}},
		{name: "on azure with easy auth off", env: map[string]string{azenv.WebsiteSiteName: "app", envWebsiteAuthEnabled: "False"}, wantErr: []string{"refusing"}},
		// Outside Azure an unset MCP_AUTH means none, and says so.
		{name: "local, nothing set", env: map[string]string{}, want: ModeNone,
			check: func(t *testing.T, c Config) {
				if !c.Defaulted {
					t.Error("not Defaulted")
				}
			}},
		{name: "unknown mode", env: map[string]string{envMCPAuth: "basic"}, wantErr: []string{`"basic"`, "easyauth, entra, key or none"}},
		{
			name: "entra", env: entra, want: ModeEntra,
			check: func(t *testing.T, c Config) {
				if c.PublicURL != "https://mcp.example.com" ||
					!slices.Equal(c.Verifier.TenantIDs, []string{tid}) ||
					!slices.Equal(c.Verifier.Audiences, []string{"api://app", "app-client-id"}) ||
					!slices.Equal(c.Verifier.RequiredScopes, []string{"api://app/user_impersonation"}) || c.Verifier.Authority != "" {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "entra public URL from WEBSITE_HOSTNAME, /mcp stripped", want: ModeEntra,
			env: with(entra, envMCPPublicURL, "", azenv.WebsiteHostname, "app.azurewebsites.net", azenv.AuthorityHost, "https://login.microsoftonline.us"),
			check: func(t *testing.T, c Config) {
				if c.PublicURL != "https://app.azurewebsites.net" || c.Verifier.Authority != "https://login.microsoftonline.us" {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "entra public URL with /mcp", want: ModeEntra, env: with(entra, envMCPPublicURL, "http://localhost:7071/mcp"),
			check: func(t *testing.T, c Config) {
				if c.PublicURL != "http://localhost:7071" {
					t.Errorf("got %q", c.PublicURL)
				}
			},
		},
		{name: "entra missing all", env: map[string]string{envMCPAuth: "entra"}, wantErr: []string{envMCPAuthTenantIDs, envMCPAuthAudiences, envMCPPublicURL, envMCPAuthScopes, envMCPAuthRoles}},
		// Without scopes or roles any token for the app would pass, app-only
		// tokens with unrelated roles included.
		{name: "entra without scopes or roles", env: with(entra, envMCPAuthScopes, ""), wantErr: []string{envMCPAuthScopes, envMCPAuthRoles}},
		{name: "entra without scopes or roles (blank lists)", env: with(entra, envMCPAuthScopes, " , ", envMCPAuthRoles, ","), wantErr: []string{envMCPAuthScopes, envMCPAuthRoles}},
		{
			name: "entra roles only, allowed applications", want: ModeEntra,
			env: with(entra, envMCPAuthScopes, "", envMCPAuthRoles, "Tools.Call, Tools.Admin", envMCPAuthAllowedApplications, "aebc6443-996d-45c2-90f0-388ff96faa56 app-2"),
			check: func(t *testing.T, c Config) {
				if len(c.Verifier.RequiredScopes) != 0 || !slices.Equal(c.Verifier.AcceptedRoles, []string{"Tools.Call", "Tools.Admin"}) ||
					!slices.Equal(c.Verifier.AllowedApplications, []string{"aebc6443-996d-45c2-90f0-388ff96faa56", "app-2"}) {
					t.Errorf("got %+v", c.Verifier)
				}
			},
		},
		{name: "entra missing tenants", env: with(entra, envMCPAuthTenantIDs, " , "), wantErr: []string{envMCPAuthTenantIDs}},
		{name: "entra missing audiences", env: with(entra, envMCPAuthAudiences, ""), wantErr: []string{envMCPAuthAudiences}},
		{name: "entra local hostname is not a public URL", env: with(entra, envMCPPublicURL, "", azenv.WebsiteHostname, "localhost:7071"), wantErr: []string{envMCPPublicURL}},
		{name: "entra bad public URL", env: with(entra, envMCPPublicURL, "mcp.example.com"), wantErr: []string{envMCPPublicURL}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ConfigFromEnv(authtest.Getenv(tt.env))
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("got %+v, want error", c)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Mode != tt.want {
				t.Fatalf("mode = %q, want %q", c.Mode, tt.want)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestProtectNone(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	p, err := Protect(context.Background(), Config{Mode: ModeNone})
	if err != nil || p.PRMHandler != nil || p.PRMPattern != "" {
		t.Fatalf("none: %+v %v", p, err)
	}
	rec := httptest.NewRecorder()
	p.Middleware(ok).ServeHTTP(rec, httptest.NewRequest("POST", "/mcp", nil))
	if rec.Code != 200 {
		t.Fatalf("none: %d", rec.Code)
	}
	if _, err := Protect(context.Background(), Config{Mode: "bogus"}); err == nil {
		t.Fatal("bogus mode accepted")
	}
	if _, err := Protect(context.Background(), Config{Mode: ModeEntra, PublicURL: "https://x"}); err == nil {
		t.Fatal("entra without tenants accepted")
	}
	if _, err := Protect(context.Background(), Config{Mode: ModeEasyAuth}); err == nil {
		t.Fatal("easyauth without tenants and audiences accepted")
	}
}

// principalOf is an X-MS-CLIENT-PRINCIPAL value naming oid (objectidentifier
// claim) and tenant; "" leaves a claim out.
func principalOf(oid, tenant string) string {
	var claims []string
	if oid != "" {
		claims = append(claims, `{"typ":"`+claimTypeObjectID+`","val":"`+oid+`"}`)
	}
	if tenant != "" {
		claims = append(claims, `{"typ":"`+claimTypeTenantID+`","val":"`+tenant+`"}`)
	}
	return base64.StdEncoding.EncodeToString([]byte(`{"auth_typ":"aad","name_typ":"name","role_typ":"roles","claims":[` + strings.Join(claims, ",") + `]}`))
}

// TestEasyAuthMiddleware sends requests as they would reach the app behind
// Easy Auth, and as a caller could send them when Easy Auth is not in
// front: only a verified token whose subject is the principal Easy Auth
// names gets through, and the handler sees that token's TokenInfo.
func TestEasyAuthMiddleware(t *testing.T) {
	key := newTestKey(t, "k")
	fi := newFakeIssuer(t, key)
	p, err := Protect(context.Background(), Config{Mode: ModeEasyAuth, Verifier: fi.verifierConfig()})
	if err != nil {
		t.Fatal(err)
	}
	if p.Mode != ModeEasyAuth || p.PRMHandler != nil || p.verifier == nil {
		t.Fatalf("protection %+v", p)
	}
	var reached atomic.Int64
	var seen atomic.Pointer[mcpauth.TokenInfo]
	srv := httptest.NewServer(p.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		seen.Store(mcpauth.TokenInfoFromContext(r.Context()))
		w.Write([]byte("ok"))
	})))
	defer srv.Close()

	const oid = "user-oid-1" // fi.claimsFor's
	valid := rs256(t, key, fi.claimsFor(tenantA))
	tests := []struct {
		name        string
		principal   string // X-MS-CLIENT-PRINCIPAL
		principalID string // X-MS-CLIENT-PRINCIPAL-ID
		auth        string
		want        int
	}{
		{name: "nothing", want: 401},
		// The issue: a parseable principal was all it took.
		{name: "forged empty principal", principal: "e30", want: 401},
		{name: "forged empty principal, garbage token", principal: "e30", auth: "Bearer garbage.garbage.garbage", want: 401},
		{name: "forged empty principal, valid token", principal: "e30", auth: "Bearer " + valid, want: 401},
		{name: "token for another audience", principal: principalOf(oid, tenantA), auth: "Bearer " + rs256(t, key, with(fi.claimsFor(tenantA), "aud", "api://another-app")), want: 401},
		{name: "token of another tenant's issuer", principal: principalOf(oid, tenantA), auth: "Bearer " + rs256(t, key, with(fi.claimsFor(tenantX))), want: 401},
		{name: "expired token", principal: principalOf(oid, tenantA), auth: "Bearer " + rs256(t, key, with(fi.claimsFor(tenantA), "exp", time.Now().Add(-time.Hour).Unix())), want: 401},
		{name: "token signed by another key", principal: principalOf(oid, tenantA), auth: "Bearer " + rs256(t, newTestKey(t, "k"), fi.claimsFor(tenantA)), want: 401},
		{name: "principal of someone else", principal: principalOf("someone-else", tenantA), auth: "Bearer " + valid, want: 401},
		{name: "principal of another tenant", principal: principalOf(oid, tenantB), auth: "Bearer " + valid, want: 401},
		{name: "principal id header of someone else", principal: principalOf(oid, tenantA), principalID: "someone-else", auth: "Bearer " + valid, want: 401},
		{name: "principal id header only, someone else", principal: principalOf("", ""), principalID: "someone-else", auth: "Bearer " + valid, want: 401},
		{name: "valid token, no principal", auth: "Bearer " + valid, want: 401},
		{name: "valid token, no principal, id header only", principalID: oid, auth: "Bearer " + valid, want: 401},
		{name: "malformed principal", principal: "%%%", auth: "Bearer " + valid, want: 401},
		{name: "principal, no token", principal: principalOf(oid, tenantA), want: 401},
		{name: "principal, another scheme", principal: principalOf(oid, tenantA), auth: "Basic dXNlcjpwdw==", want: 401},
		{name: "valid", principal: principalOf(oid, tenantA), auth: "Bearer " + valid, want: 200},
		{name: "valid, principal without tenant", principal: principalOf(oid, ""), auth: "Bearer " + valid, want: 200},
		{name: "valid, object id in X-MS-CLIENT-PRINCIPAL-ID", principal: principalOf("", tenantA), principalID: oid, auth: "Bearer " + valid, want: 200},
		{name: "valid, both naming the caller", principal: principalOf(oid, tenantA), principalID: strings.ToUpper(oid), auth: "Bearer " + valid, want: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := reached.Load()
			req, _ := http.NewRequest("POST", srv.URL+"/mcp", strings.NewReader("{}"))
			if tt.principal != "" {
				req.Header.Set(headerClientPrincipal, tt.principal)
			}
			if tt.principalID != "" {
				req.Header.Set("X-MS-CLIENT-PRINCIPAL-ID", tt.principalID)
			}
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, strings.TrimSpace(string(body)), tt.want)
			}
			if tt.want != 200 {
				if reached.Load() != before {
					t.Fatal("the request reached the handler")
				}
				if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate = %q", resp.Header.Get("WWW-Authenticate"))
				}
				if len(tt.auth) > 30 && strings.Contains(string(body)+resp.Header.Get("WWW-Authenticate"), tt.auth[7:30]) {
					t.Error("the answer contains the token")
				}
				return
			}
			if ti := seen.Load(); ti == nil || ti.UserID != oid {
				t.Fatalf("TokenInfo %+v", ti)
			}
		})
	}
}
