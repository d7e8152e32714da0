package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestOBOConfigFromEnv(t *testing.T) {
	azure := map[string]string{
		EnvMIClientID:         "mi-client",
		EnvAuthClientID:       "app-client",
		EnvAuthAllowedTenants: "tenant-1",
		EnvWebsiteHostname:    "app.azurewebsites.net",
		EnvWebsiteSiteName:    "app",
	}
	with := withEnv
	tests := []struct {
		name        string
		env         map[string]string
		want        OBOConfig
		wantMissing []string // NotConfiguredError.Missing
		wantAzure   bool
		wantErr     string // other error
	}{
		{
			name: "azure",
			env:  azure,
			want: OBOConfig{Mode: OBOModeManagedIdentity, TenantID: "tenant-1", ClientID: "app-client", ManagedIdentityClientID: "mi-client",
				TokenExchangeAudience: DefaultTokenExchangeAudience, PublicHostname: "app.azurewebsites.net"},
		},
		{
			name: "azure first of several tenants, custom audience, authority",
			env:  with(azure, EnvAuthAllowedTenants, " tenant-2 , tenant-3", EnvTokenExchangeAudience, "api://AzureADTokenExchangeUSGov", EnvAuthorityHost, "https://login.microsoftonline.us/"),
			want: OBOConfig{Mode: OBOModeManagedIdentity, TenantID: "tenant-2", ClientID: "app-client", ManagedIdentityClientID: "mi-client",
				TokenExchangeAudience: "api://AzureADTokenExchangeUSGov", AuthorityHost: "https://login.microsoftonline.us/", PublicHostname: "app.azurewebsites.net"},
		},
		{
			name: "azure wins over AZURE_CLIENT_ID used for other SDKs",
			env:  with(azure, EnvClientID, "other", EnvTenantID, "t"),
			want: OBOConfig{Mode: OBOModeManagedIdentity, TenantID: "tenant-1", ClientID: "app-client", ManagedIdentityClientID: "mi-client",
				TokenExchangeAudience: DefaultTokenExchangeAudience, PublicHostname: "app.azurewebsites.net"},
		},
		{name: "azure missing app client id", env: with(azure, EnvAuthClientID, ""), wantMissing: []string{EnvAuthClientID}, wantAzure: true},
		{name: "azure missing tenant", env: with(azure, EnvAuthAllowedTenants, ""), wantMissing: []string{EnvAuthAllowedTenants}, wantAzure: true},
		{name: "azure missing tenant (only commas)", env: with(azure, EnvAuthAllowedTenants, " , x"), wantMissing: []string{EnvAuthAllowedTenants}, wantAzure: true},
		{name: "azure missing MI", env: with(azure, EnvMIClientID, ""), wantMissing: []string{EnvMIClientID}, wantAzure: true},
		{name: "on azure, nothing set", env: map[string]string{EnvWebsiteSiteName: "app"}, wantMissing: []string{EnvMIClientID, EnvAuthClientID, EnvAuthAllowedTenants}, wantAzure: true},
		{name: "azure bad tenant", env: with(azure, EnvAuthAllowedTenants, "a/b"), wantErr: EnvAuthAllowedTenants},
		{
			name: "local secret",
			env:  map[string]string{EnvTenantID: "t1", EnvClientID: "c1", EnvClientSecret: "s3cret"},
			want: OBOConfig{Mode: OBOModeClientSecret, TenantID: "t1", ClientID: "c1", ClientSecret: "s3cret"},
		},
		{
			name: "local secret on azure without MI",
			env:  map[string]string{EnvTenantID: "t1", EnvClientID: "c1", EnvClientSecret: "s3cret", EnvWebsiteSiteName: "app"},
			want: OBOConfig{Mode: OBOModeClientSecret, TenantID: "t1", ClientID: "c1", ClientSecret: "s3cret"},
		},
		{
			name: "local certificate",
			env:  map[string]string{EnvTenantID: "t1", EnvClientID: "c1", EnvClientCertPath: "/x.pem", EnvClientCertPassword: "pw"},
			want: OBOConfig{Mode: OBOModeClientCertificate, TenantID: "t1", ClientID: "c1", CertificatePath: "/x.pem", CertificatePassword: "pw"},
		},
		{
			name: "local secret wins over certificate",
			env:  map[string]string{EnvTenantID: "t1", EnvClientID: "c1", EnvClientSecret: "s", EnvClientCertPath: "/x.pem"},
			want: OBOConfig{Mode: OBOModeClientSecret, TenantID: "t1", ClientID: "c1", ClientSecret: "s"},
		},
		{name: "nothing set", env: map[string]string{}, wantMissing: []string{EnvTenantID, EnvClientID, EnvClientSecret + " or " + EnvClientCertPath}},
		{name: "local tenant only", env: map[string]string{EnvTenantID: "t1"}, wantMissing: []string{EnvClientID, EnvClientSecret + " or " + EnvClientCertPath}},
		{name: "local tenant and client", env: map[string]string{EnvTenantID: "t1", EnvClientID: "c"}, wantMissing: []string{EnvClientSecret + " or " + EnvClientCertPath}},
		{name: "local secret only", env: map[string]string{EnvClientSecret: "local-secret-value"}, wantMissing: []string{EnvTenantID, EnvClientID}},
		{name: "local cert, no tenant", env: map[string]string{EnvClientID: "c", EnvClientCertPath: "/x"}, wantMissing: []string{EnvTenantID}},
		{name: "bad authority", env: map[string]string{EnvTenantID: "t1", EnvClientID: "c1", EnvClientSecret: "s", EnvAuthorityHost: "http://login.example"}, wantErr: EnvAuthorityHost},
		{name: "bad authority, on-behalf-of not configured", env: map[string]string{EnvAuthorityHost: "http://login.example"},
			wantMissing: []string{EnvTenantID, EnvClientID, EnvClientSecret + " or " + EnvClientCertPath}},
		// The verifier accepts a loopback http authority (tests); with
		// on-behalf-of not configured it must not stop the server.
		{name: "loopback http authority, on-behalf-of not configured", env: map[string]string{EnvAuthorityHost: "http://127.0.0.1:8080"},
			wantMissing: []string{EnvTenantID, EnvClientID, EnvClientSecret + " or " + EnvClientCertPath}},
		{name: "loopback http authority, azure on-behalf-of not configured", env: map[string]string{EnvAuthorityHost: "http://localhost:8080", EnvWebsiteSiteName: "app"},
			wantMissing: []string{EnvMIClientID, EnvAuthClientID, EnvAuthAllowedTenants}, wantAzure: true},
		// MSAL needs https: configured on-behalf-of says so.
		{name: "loopback http authority, on-behalf-of configured", env: map[string]string{EnvTenantID: "t1", EnvClientID: "c1", EnvClientSecret: "s", EnvAuthorityHost: "http://127.0.0.1:8080"}, wantErr: "https"},
		{name: "loopback http authority, azure on-behalf-of configured", env: with(azure, EnvAuthorityHost, "http://127.0.0.1:8080"), wantErr: "https"},
		{name: "local bad tenant", env: map[string]string{EnvTenantID: "t 1", EnvClientID: "c", EnvClientSecret: "local-secret-value"}, wantErr: EnvTenantID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := OBOConfigFromEnv(envMap(tt.env))
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
				if v := tt.env[EnvClientSecret]; v != "" && (strings.Contains(err.Error(), v) || strings.Contains(nce.Help(), v)) {
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
	_, err := OBOConfigFromEnv(envMap(nil))
	var nce *NotConfiguredError
	if !errors.As(err, &nce) {
		t.Fatal(err)
	}
	help := nce.Help()
	for _, want := range []string{EnvTenantID, EnvClientID, EnvClientSecret, EnvClientCertPath, EnvClientCertPassword, "local.settings.json", EnvMIClientID, EnvAuthClientID, EnvAuthAllowedTenants} {
		if !strings.Contains(help, want) {
			t.Errorf("Help() lacks %s:\n%s", want, help)
		}
	}
}

func TestOBOConfigRedacts(t *testing.T) {
	c := OBOConfig{Mode: OBOModeClientSecret, TenantID: "t", ClientID: "c", ClientSecret: "super-secret-value", CertificatePassword: "pw-secret-value"}
	for _, s := range []string{c.String(), fmt.Sprint(c), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), c.LogValue().String()} {
		if containsAny(s, c.ClientSecret, c.CertificatePassword) {
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
		if got := (OBOConfig{PublicHostname: host}).consentURL(); got != want {
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

// TestAuthorityHostOneParser: the verifier and on-behalf-of read
// AZURE_AUTHORITY_HOST with one parser, so they accept the same values; only
// on-behalf-of, once configured, also needs https (MSAL).
func TestAuthorityHostOneParser(t *testing.T) {
	local := map[string]string{EnvTenantID: "t1", EnvClientID: "c1", EnvClientSecret: "s"}
	tests := []struct {
		value     string
		want      string // "" = refused
		oboHTTPS  bool
		verifyErr bool
	}{
		{value: "", want: DefaultAuthorityHost, oboHTTPS: true},
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
			got, err := ParseAuthorityHost(tt.value)
			if (err != nil) != tt.verifyErr || got != tt.want {
				t.Fatalf("ParseAuthorityHost = %q, %v; want %q (error %v)", got, err, tt.want, tt.verifyErr)
			}
			_, verr := NewVerifier(context.Background(), VerifierConfig{TenantIDs: []string{tenantA}, Audiences: []string{appID}, Authority: tt.value})
			if (verr != nil) != tt.verifyErr {
				t.Errorf("NewVerifier: %v, want error %v", verr, tt.verifyErr)
			}
			// Not configured: never a hard error, whatever the value.
			_, err = OBOConfigFromEnv(envMap(map[string]string{EnvAuthorityHost: tt.value}))
			if !errors.As(err, new(*NotConfiguredError)) {
				t.Errorf("OBOConfigFromEnv without on-behalf-of settings: %v, want *NotConfiguredError", err)
			}
			// Configured: accepted exactly when the parser accepts it and
			// it is https.
			c, err := OBOConfigFromEnv(envMap(withEnv(local, EnvAuthorityHost, tt.value)))
			if (err == nil) != tt.oboHTTPS {
				t.Fatalf("OBOConfigFromEnv configured: %+v, %v; want accepted %v", c, err, tt.oboHTTPS)
			}
			if err == nil {
				if err := c.validate(); err != nil {
					t.Errorf("validate: %v", err)
				}
			} else if !strings.Contains(err.Error(), EnvAuthorityHost) {
				t.Errorf("error %q does not name %s", err, EnvAuthorityHost)
			}
		})
	}
}

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST:7071": true, "127.0.0.1": true, "127.0.0.2:80": true, "[::1]:8080": true, "::1": true,
		"127.evil.example": false, "localhost.evil.example": false, "app.azurewebsites.net": false, "10.0.0.1": false, "": false,
	} {
		if got := isLoopbackHost(host); got != want {
			t.Errorf("isLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}
