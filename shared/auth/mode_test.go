package auth

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestAuthModeFromEnv(t *testing.T) {
	const tid = "11111111-2222-3333-4444-555555555555"
	entra := map[string]string{
		EnvMCPAuth:          "entra",
		EnvMCPAuthTenantIDs: tid,
		EnvMCPAuthAudiences: "api://app, app-client-id",
		EnvMCPAuthScopes:    "api://app/user_impersonation",
		EnvMCPPublicURL:     "https://mcp.example.com/",
	}
	with := withEnv
	tests := []struct {
		name    string
		env     map[string]string
		want    AuthMode
		wantErr []string
		check   func(t *testing.T, c AuthConfig)
	}{
		{name: "easy auth detected", env: map[string]string{EnvWebsiteAuthEnabled: "True", EnvWebsiteSiteName: "app"}, want: ModeEasyAuth},
		{name: "easy auth detected lower-case", env: map[string]string{EnvWebsiteAuthEnabled: "true"}, want: ModeEasyAuth},
		{name: "explicit easyauth", env: map[string]string{EnvMCPAuth: "EasyAuth"}, want: ModeEasyAuth},
		{name: "explicit none locally", env: map[string]string{EnvMCPAuth: "none"}, want: ModeNone},
		{name: "explicit none on azure", env: map[string]string{EnvMCPAuth: "none", EnvWebsiteSiteName: "app"}, want: ModeNone},
		{name: "explicit none wins over easy auth", env: map[string]string{EnvMCPAuth: "none", EnvWebsiteAuthEnabled: "True"}, want: ModeNone},
		{name: "on azure without easy auth", env: map[string]string{EnvWebsiteSiteName: "app"}, wantErr: []string{"refusing", EnvWebsiteAuthEnabled, "MCP_AUTH=entra", "MCP_AUTH=none"}},
		{name: "on azure with easy auth off", env: map[string]string{EnvWebsiteSiteName: "app", EnvWebsiteAuthEnabled: "False"}, wantErr: []string{"refusing"}},
		{name: "local, nothing set", env: map[string]string{}, wantErr: []string{"MCP_AUTH=none", "MCP_AUTH=entra"}},
		{name: "unknown mode", env: map[string]string{EnvMCPAuth: "basic"}, wantErr: []string{`"basic"`, "easyauth, entra or none"}},
		{
			name: "entra", env: entra, want: ModeEntra,
			check: func(t *testing.T, c AuthConfig) {
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
			env: with(entra, EnvMCPPublicURL, "", EnvWebsiteHostname, "app.azurewebsites.net", EnvAuthorityHost, "https://login.microsoftonline.us"),
			check: func(t *testing.T, c AuthConfig) {
				if c.PublicURL != "https://app.azurewebsites.net" || c.Verifier.Authority != "https://login.microsoftonline.us" {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "entra public URL with /mcp", want: ModeEntra, env: with(entra, EnvMCPPublicURL, "http://localhost:7071/mcp"),
			check: func(t *testing.T, c AuthConfig) {
				if c.PublicURL != "http://localhost:7071" {
					t.Errorf("got %q", c.PublicURL)
				}
			},
		},
		{name: "entra missing all", env: map[string]string{EnvMCPAuth: "entra"}, wantErr: []string{EnvMCPAuthTenantIDs, EnvMCPAuthAudiences, EnvMCPPublicURL, EnvMCPAuthScopes, EnvMCPAuthRoles}},
		// Without scopes or roles any token for the app would pass, app-only
		// tokens with unrelated roles included.
		{name: "entra without scopes or roles", env: with(entra, EnvMCPAuthScopes, ""), wantErr: []string{EnvMCPAuthScopes, EnvMCPAuthRoles}},
		{name: "entra without scopes or roles (blank lists)", env: with(entra, EnvMCPAuthScopes, " , ", EnvMCPAuthRoles, ","), wantErr: []string{EnvMCPAuthScopes, EnvMCPAuthRoles}},
		{
			name: "entra roles only, allowed applications", want: ModeEntra,
			env: with(entra, EnvMCPAuthScopes, "", EnvMCPAuthRoles, "Tools.Call, Tools.Admin", EnvMCPAuthAllowedApplications, "aebc6443-996d-45c2-90f0-388ff96faa56 app-2"),
			check: func(t *testing.T, c AuthConfig) {
				if len(c.Verifier.RequiredScopes) != 0 || !slices.Equal(c.Verifier.AcceptedRoles, []string{"Tools.Call", "Tools.Admin"}) ||
					!slices.Equal(c.Verifier.AllowedApplications, []string{"aebc6443-996d-45c2-90f0-388ff96faa56", "app-2"}) {
					t.Errorf("got %+v", c.Verifier)
				}
			},
		},
		{name: "entra missing tenants", env: with(entra, EnvMCPAuthTenantIDs, " , "), wantErr: []string{EnvMCPAuthTenantIDs}},
		{name: "entra missing audiences", env: with(entra, EnvMCPAuthAudiences, ""), wantErr: []string{EnvMCPAuthAudiences}},
		{name: "entra local hostname is not a public URL", env: with(entra, EnvMCPPublicURL, "", EnvWebsiteHostname, "localhost:7071"), wantErr: []string{EnvMCPPublicURL}},
		{name: "entra bad public URL", env: with(entra, EnvMCPPublicURL, "mcp.example.com"), wantErr: []string{EnvMCPPublicURL}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := AuthModeFromEnv(envMap(tt.env))
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

func TestProtectNoneAndEasyAuth(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })

	p, err := Protect(context.Background(), AuthConfig{Mode: ModeNone})
	if err != nil || p.PRMHandler != nil || p.PRMPattern != "" {
		t.Fatalf("none: %+v %v", p, err)
	}
	rec := httptest.NewRecorder()
	p.Middleware(ok).ServeHTTP(rec, httptest.NewRequest("POST", "/mcp", nil))
	if rec.Code != 200 {
		t.Fatalf("none: %d", rec.Code)
	}

	p, err = Protect(context.Background(), AuthConfig{Mode: ModeEasyAuth})
	if err != nil || p.PRMHandler != nil {
		t.Fatalf("easyauth: %+v %v", p, err)
	}
	h := p.Middleware(ok)
	for _, tc := range []struct {
		name      string
		principal string
		want      int
	}{
		{"missing", "", 401},
		{"malformed", "%%%", 401},
		{"present", base64.StdEncoding.EncodeToString([]byte(principalJSON)), 200},
	} {
		req := httptest.NewRequest("POST", "/mcp", nil)
		if tc.principal != "" {
			req.Header.Set(HeaderClientPrincipal, tc.principal)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, rec.Code, tc.want, rec.Body)
		}
		if tc.want == 401 && rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%s: no WWW-Authenticate", tc.name)
		}
	}

	if _, err := Protect(context.Background(), AuthConfig{Mode: "bogus"}); err == nil {
		t.Fatal("bogus mode accepted")
	}
	if _, err := Protect(context.Background(), AuthConfig{Mode: ModeEntra, PublicURL: "https://x"}); err == nil {
		t.Fatal("entra without tenants accepted")
	}
}
