package obo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/mcpfunc/mcpfunc/shared/auth"
	"github.com/mcpfunc/mcpfunc/shared/auth/authtest"
	"github.com/mcpfunc/mcpfunc/shared/auth/internal/azenv"
)

func TestConfigFromEnv(t *testing.T) {
	azure := map[string]string{
		envMIClientID:            "mi-client",
		azenv.AuthClientID:       "app-client",
		azenv.AuthAllowedTenants: "tenant-1",
		azenv.WebsiteHostname:    "app.azurewebsites.net",
		azenv.WebsiteSiteName:    "app",
	}
	with := authtest.WithEnv
	tests := []struct {
		name        string
		env         map[string]string
		want        Config
		wantMissing []string // NotConfiguredError.Missing
		wantAzure   bool
		wantErr     string // other error
	}{
		{
			name: "azure",
			env:  azure,
			want: Config{Mode: ModeManagedIdentity, TenantID: "tenant-1", ClientID: "app-client", ManagedIdentityClientID: "mi-client",
				TokenExchangeAudience: defaultTokenExchangeAudience, PublicHostname: "app.azurewebsites.net"},
		},
		{
			name: "azure first of several tenants, custom audience, authority",
			env:  with(azure, azenv.AuthAllowedTenants, " tenant-2 , tenant-3", envTokenExchangeAudience, "api://AzureADTokenExchangeUSGov", azenv.AuthorityHost, "https://login.microsoftonline.us/"),
			want: Config{Mode: ModeManagedIdentity, TenantID: "tenant-2", ClientID: "app-client", ManagedIdentityClientID: "mi-client",
				TokenExchangeAudience: "api://AzureADTokenExchangeUSGov", AuthorityHost: "https://login.microsoftonline.us/", PublicHostname: "app.azurewebsites.net"},
		},
		{
			name: "azure wins over AZURE_CLIENT_ID used for other SDKs",
			env:  with(azure, envClientID, "other", envTenantID, "t"),
			want: Config{Mode: ModeManagedIdentity, TenantID: "tenant-1", ClientID: "app-client", ManagedIdentityClientID: "mi-client",
				TokenExchangeAudience: defaultTokenExchangeAudience, PublicHostname: "app.azurewebsites.net"},
		},
		{name: "azure missing app client id", env: with(azure, azenv.AuthClientID, ""), wantMissing: []string{azenv.AuthClientID}, wantAzure: true},
		{name: "azure missing tenant", env: with(azure, azenv.AuthAllowedTenants, ""), wantMissing: []string{azenv.AuthAllowedTenants}, wantAzure: true},
		{name: "azure missing tenant (only commas)", env: with(azure, azenv.AuthAllowedTenants, " , x"), wantMissing: []string{azenv.AuthAllowedTenants}, wantAzure: true},
		{name: "azure missing MI", env: with(azure, envMIClientID, ""), wantMissing: []string{envMIClientID}, wantAzure: true},
		{name: "on azure, nothing set", env: map[string]string{azenv.WebsiteSiteName: "app"}, wantMissing: []string{envMIClientID, azenv.AuthClientID, azenv.AuthAllowedTenants}, wantAzure: true},
		{name: "azure bad tenant", env: with(azure, azenv.AuthAllowedTenants, "a/b"), wantErr: azenv.AuthAllowedTenants},
		{
			name: "local secret",
			env:  map[string]string{envTenantID: "t1", envClientID: "c1", envClientSecret: "s3cret"},
			want: Config{Mode: ModeClientSecret, TenantID: "t1", ClientID: "c1", ClientSecret: "s3cret"},
		},
		{
			name: "local secret on azure without MI",
			env:  map[string]string{envTenantID: "t1", envClientID: "c1", envClientSecret: "s3cret", azenv.WebsiteSiteName: "app"},
			want: Config{Mode: ModeClientSecret, TenantID: "t1", ClientID: "c1", ClientSecret: "s3cret"},
		},
		{
			name: "local certificate",
			env:  map[string]string{envTenantID: "t1", envClientID: "c1", envClientCertPath: "/x.pem", envClientCertPassword: "pw"},
			want: Config{Mode: ModeClientCertificate, TenantID: "t1", ClientID: "c1", CertificatePath: "/x.pem", CertificatePassword: "pw"},
		},
		{
			name: "local secret wins over certificate",
			env:  map[string]string{envTenantID: "t1", envClientID: "c1", envClientSecret: "s", envClientCertPath: "/x.pem"},
			want: Config{Mode: ModeClientSecret, TenantID: "t1", ClientID: "c1", ClientSecret: "s"},
		},
		{name: "nothing set", env: map[string]string{}, wantMissing: []string{envTenantID, envClientID, envClientSecret + " or " + envClientCertPath}},
		{name: "local tenant only", env: map[string]string{envTenantID: "t1"}, wantMissing: []string{envClientID, envClientSecret + " or " + envClientCertPath}},
		{name: "local tenant and client", env: map[string]string{envTenantID: "t1", envClientID: "c"}, wantMissing: []string{envClientSecret + " or " + envClientCertPath}},
		{name: "local secret only", env: map[string]string{envClientSecret: "local-secret-value"}, wantMissing: []string{envTenantID, envClientID}},
		{name: "local cert, no tenant", env: map[string]string{envClientID: "c", envClientCertPath: "/x"}, wantMissing: []string{envTenantID}},
		{name: "bad authority", env: map[string]string{envTenantID: "t1", envClientID: "c1", envClientSecret: "s", azenv.AuthorityHost: "http://login.example"}, wantErr: azenv.AuthorityHost},
		{name: "bad authority, on-behalf-of not configured", env: map[string]string{azenv.AuthorityHost: "http://login.example"},
			wantMissing: []string{envTenantID, envClientID, envClientSecret + " or " + envClientCertPath}},
		// The verifier accepts a loopback http authority (tests); with
		// on-behalf-of not configured it must not stop the server.
		{name: "loopback http authority, on-behalf-of not configured", env: map[string]string{azenv.AuthorityHost: "http://127.0.0.1:8080"},
			wantMissing: []string{envTenantID, envClientID, envClientSecret + " or " + envClientCertPath}},
		{name: "loopback http authority, azure on-behalf-of not configured", env: map[string]string{azenv.AuthorityHost: "http://localhost:8080", azenv.WebsiteSiteName: "app"},
			wantMissing: []string{envMIClientID, azenv.AuthClientID, azenv.AuthAllowedTenants}, wantAzure: true},
		// MSAL needs https: configured on-behalf-of says so.
		{name: "loopback http authority, on-behalf-of configured", env: map[string]string{envTenantID: "t1", envClientID: "c1", envClientSecret: "s", azenv.AuthorityHost: "http://127.0.0.1:8080"}, wantErr: "https"},
		{name: "loopback http authority, azure on-behalf-of configured", env: with(azure, azenv.AuthorityHost, "http://127.0.0.1:8080"), wantErr: "https"},
		{name: "local bad tenant", env: map[string]string{envTenantID: "t 1", envClientID: "c", envClientSecret: "local-secret-value"}, wantErr: envTenantID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConfigFromEnv(authtest.Getenv(tt.env))
			var nce *NotConfiguredError
			switch {
			case tt.wantMissing != nil:
				if !errors.As(err, &nce) {
					t.Fatalf("err = %v, want *NotConfiguredError", err)
				}
				if !slices.Equal(nce.Missing, tt.wantMissing) || nce.Azure != tt.wantAzure {
					t.Fatalf("Missing = %q (azure %v), want %q (azure %v)", nce.Missing, nce.Azure, tt.wantMissing, tt.wantAzure)
				}
				for _, m := range tt.wantMissing {
					for _, name := range strings.Split(m, " or ") {
						if !strings.Contains(err.Error(), name) || !strings.Contains(nce.Help(), name) {
							t.Errorf("error/help does not name %s:\n%s\n%s", name, err, nce.Help())
						}
					}
				}
				if v := tt.env[envClientSecret]; v != "" && (strings.Contains(err.Error(), v) || strings.Contains(nce.Help(), v)) {
					t.Errorf("secret in error")
				}
			case tt.wantErr != "":
				if err == nil || errors.As(err, &nce) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if got != tt.want {
					t.Fatalf("got  %#v\nwant %#v", got, tt.want)
				}
				if err := got.validate(); err != nil {
					t.Fatalf("validate: %v", err)
				}
			}
		})
	}
}

func TestNotConfiguredHelp(t *testing.T) {
	_, err := ConfigFromEnv(authtest.Getenv(nil))
	var nce *NotConfiguredError
	if !errors.As(err, &nce) {
		t.Fatal(err)
	}
	help := nce.Help()
	for _, want := range []string{envTenantID, envClientID, envClientSecret, envClientCertPath, envClientCertPassword, "local.settings.json", envMIClientID, azenv.AuthClientID, azenv.AuthAllowedTenants} {
		if !strings.Contains(help, want) {
			t.Errorf("Help() lacks %s:\n%s", want, help)
		}
	}
}

func TestConfigRedacts(t *testing.T) {
	c := Config{Mode: ModeClientSecret, TenantID: "t", ClientID: "c", ClientSecret: "super-secret-value", CertificatePassword: "pw-secret-value"}
	for _, s := range []string{c.String(), fmt.Sprint(c), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), c.LogValue().String()} {
		if authtest.ContainsAny(s, c.ClientSecret, c.CertificatePassword) {
			t.Fatalf("secret shown: %s", s)
		}
	}
}

func TestConsentURL(t *testing.T) {
	for host, want := range map[string]string{
		"app.azurewebsites.net": "https://app.azurewebsites.net/.auth/login/aad?post_login_redirect_uri=/authcomplete",
		"":                      "",
		"localhost:7071":        "",
		"127.0.0.1:7071":        "",
		"localhost":             "",
	} {
		if got := (Config{PublicHostname: host}).consentURL(); got != want {
			t.Errorf("consentURL(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestKnownAuthority(t *testing.T) {
	for host, want := range map[string]bool{
		"https://login.microsoftonline.com":      true,
		"https://LOGIN.microsoftonline.us/":      true,
		"https://login.chinacloudapi.cn":         true,
		"https://127.0.0.1:8443":                 false,
		"https://login.microsoftonline.com.evil": false,
		"::not a url":                            false,
	} {
		if got := knownAuthority(host); got != want {
			t.Errorf("knownAuthority(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestAuthorityHostOneParser: the token verifier (package auth) and
// on-behalf-of read AZURE_AUTHORITY_HOST with one parser, so they accept the
// same values; only on-behalf-of, once configured, also needs https (MSAL).
func TestAuthorityHostOneParser(t *testing.T) {
	local := map[string]string{envTenantID: "t1", envClientID: "c1", envClientSecret: "s"}
	entra := map[string]string{
		"MCP_AUTH":            "entra",
		"MCP_AUTH_TENANT_IDS": testTenant,
		"MCP_AUTH_AUDIENCES":  testClientID,
		"MCP_AUTH_SCOPES":     "api://app/user_impersonation",
		"MCP_PUBLIC_URL":      "https://mcp.example.com",
	}
	tests := []struct {
		value     string
		want      string // "" = refused
		oboHTTPS  bool
		verifyErr bool
	}{
		{value: "", want: azenv.DefaultAuthorityHost, oboHTTPS: true},
		{value: "https://login.microsoftonline.us/", want: "https://login.microsoftonline.us", oboHTTPS: true},
		{value: " https://login.chinacloudapi.cn ", want: "https://login.chinacloudapi.cn", oboHTTPS: true},
		{value: "http://127.0.0.1:8080", want: "http://127.0.0.1:8080"},
		{value: "http://localhost:8080/", want: "http://localhost:8080"},
		{value: "http://[::1]:8080", want: "http://[::1]:8080"},
		{value: "http://127.evil.example", verifyErr: true},
		{value: "http://login.example.com", verifyErr: true},
		{value: "https://login.example.com?x=1", verifyErr: true},
		{value: "https://user:pw@login.example.com", verifyErr: true},
		{value: "login.microsoftonline.com", verifyErr: true},
		{value: "ftp://login.microsoftonline.com", verifyErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := azenv.ParseAuthorityHost(tt.value)
			if (err != nil) != tt.verifyErr || got != tt.want {
				t.Fatalf("ParseAuthorityHost = %q, %v; want %q (error %v)", got, err, tt.want, tt.verifyErr)
			}
			_, verr := auth.ProtectFromEnv(context.Background(), authtest.Getenv(authtest.WithEnv(entra, azenv.AuthorityHost, tt.value)), nil)
			if (verr != nil) != tt.verifyErr {
				t.Errorf("auth.ProtectFromEnv (entra): %v, want error %v", verr, tt.verifyErr)
			}
			// Not configured: never a hard error, whatever the value.
			_, err = ConfigFromEnv(authtest.Getenv(map[string]string{azenv.AuthorityHost: tt.value}))
			if !errors.As(err, new(*NotConfiguredError)) {
				t.Errorf("ConfigFromEnv without on-behalf-of settings: %v, want *NotConfiguredError", err)
			}
			// Configured: accepted exactly when the parser accepts it and
			// it is https.
			c, err := ConfigFromEnv(authtest.Getenv(authtest.WithEnv(local, azenv.AuthorityHost, tt.value)))
			if (err == nil) != tt.oboHTTPS {
				t.Fatalf("ConfigFromEnv configured: %+v, %v; want accepted %v", c, err, tt.oboHTTPS)
			}
			if err == nil {
				if err := c.validate(); err != nil {
					t.Errorf("validate: %v", err)
				}
			} else if !strings.Contains(err.Error(), azenv.AuthorityHost) {
				t.Errorf("error %q does not name %s", err, azenv.AuthorityHost)
			}
		})
	}
}
