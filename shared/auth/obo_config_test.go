package auth

import (
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
		{name: "bad authority", env: map[string]string{EnvAuthorityHost: "http://login.example"}, wantErr: EnvAuthorityHost},
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
