package obo

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/mcpfunc/mcpfunc/shared/auth/internal/azenv"
)

// Environment variables read by [ConfigFromEnv], besides those of azenv
// that package auth reads too; the package documentation describes each
// one.
const (
	envMIClientID            = "OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID"
	envTokenExchangeAudience = "TokenExchangeAudience"
	envTenantID              = "AZURE_TENANT_ID"
	envClientID              = "AZURE_CLIENT_ID"
	envClientSecret          = "AZURE_CLIENT_SECRET"
	envClientCertPath        = "AZURE_CLIENT_CERTIFICATE_PATH"
	envClientCertPassword    = "AZURE_CLIENT_CERTIFICATE_PASSWORD"
)

// defaultTokenExchangeAudience is the audience of the managed-identity
// token used as the client assertion (public cloud).
const defaultTokenExchangeAudience = "api://AzureADTokenExchange"

// Mode says how the app authenticates itself in the on-behalf-of
// exchange.
type Mode string

const (
	// ModeManagedIdentity uses a token of a user-assigned managed
	// identity as the client assertion (a federated credential on the app
	// registration). This is the Azure mode.
	ModeManagedIdentity Mode = "managed-identity"
	// ModeClientSecret uses a client secret of the app registration.
	ModeClientSecret Mode = "client-secret"
	// ModeClientCertificate uses a certificate of the app registration.
	ModeClientCertificate Mode = "client-certificate"
)

// Config configures [New]. [ConfigFromEnv] fills it from the
// environment. Its String and LogValue methods never show the secret or
// the certificate password.
type Config struct {
	// Mode selects the client credential.
	Mode Mode
	// TenantID is the app registration's tenant.
	TenantID string
	// ClientID is the app registration's client (application) ID: the
	// audience of the callers' tokens.
	ClientID string
	// ManagedIdentityClientID is the client ID of the user-assigned managed
	// identity (ModeManagedIdentity).
	ManagedIdentityClientID string
	// TokenExchangeAudience is the audience of the managed-identity token
	// (ModeManagedIdentity); empty means defaultTokenExchangeAudience.
	TokenExchangeAudience string
	// ClientSecret is the app registration's secret (ModeClientSecret).
	ClientSecret string
	// CertificatePath is a PEM or PKCS#12 file holding the certificate and
	// its RSA private key (ModeClientCertificate).
	CertificatePath string
	// CertificatePassword decrypts CertificatePath, if it is encrypted.
	CertificatePassword string
	// AuthorityHost is the Entra authority host; empty means
	// https://login.microsoftonline.com.
	AuthorityHost string
	// PublicHostname is the app's public host name (WEBSITE_HOSTNAME), used
	// to build the consent link. Empty or loopback: no link.
	PublicHostname string
}

// String describes c without secrets.
func (c Config) String() string {
	s := fmt.Sprintf("mode=%s tenant=%s client_id=%s", c.Mode, c.TenantID, c.ClientID)
	switch c.Mode {
	case ModeManagedIdentity:
		s += fmt.Sprintf(" managed_identity_client_id=%s token_exchange_audience=%s", c.ManagedIdentityClientID, c.audience())
	case ModeClientSecret:
		s += " client_secret=[redacted]"
	case ModeClientCertificate:
		s += " certificate_path=" + c.CertificatePath
	}
	return s + " authority=" + c.authorityHost()
}

// LogValue describes c for log/slog without secrets.
func (c Config) LogValue() slog.Value {
	return slog.StringValue(c.String())
}

// GoString describes c for %#v without secrets.
func (c Config) GoString() string { return "obo.Config{" + c.String() + "}" }

func (c Config) audience() string {
	if c.TokenExchangeAudience == "" {
		return defaultTokenExchangeAudience
	}
	return c.TokenExchangeAudience
}

// knownAuthority reports whether authority (an https URL) is one of the
// Microsoft Entra hosts of the public and national clouds, which MSAL's
// instance discovery knows.
func knownAuthority(authority string) bool {
	u, err := url.Parse(authority)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Hostname()) {
	case "login.microsoftonline.com", "login.microsoft.com", "login.windows.net", "sts.windows.net",
		"login.microsoftonline.us", "login.usgovcloudapi.net",
		"login.chinacloudapi.cn", "login.partner.microsoftonline.cn":
		return true
	}
	return false
}

func (c Config) authorityHost() string {
	if c.AuthorityHost == "" {
		return azenv.DefaultAuthorityHost
	}
	return strings.TrimRight(c.AuthorityHost, "/")
}

// consentURL returns the Easy Auth login link that lets a user consent, or
// "" when the app has no usable public host name.
func (c Config) consentURL() string {
	h := strings.TrimSpace(c.PublicHostname)
	if h == "" || azenv.IsLoopbackHost(h) {
		return ""
	}
	return "https://" + h + "/.auth/login/aad?post_login_redirect_uri=/authcomplete"
}

// validate checks the fields New needs for c.Mode.
func (c Config) validate() error {
	var missing []string
	need := func(v, name string) {
		if strings.TrimSpace(v) == "" {
			missing = append(missing, name)
		}
	}
	need(c.TenantID, "TenantID")
	need(c.ClientID, "ClientID")
	switch c.Mode {
	case ModeManagedIdentity:
		need(c.ManagedIdentityClientID, "ManagedIdentityClientID")
	case ModeClientSecret:
		need(c.ClientSecret, "ClientSecret")
	case ModeClientCertificate:
		need(c.CertificatePath, "CertificatePath")
	default:
		return fmt.Errorf("auth: unknown on-behalf-of mode %q", c.Mode)
	}
	if len(missing) > 0 {
		return fmt.Errorf("auth: on-behalf-of config (%s) lacks %s", c.Mode, strings.Join(missing, ", "))
	}
	if !validTenant(c.TenantID) {
		return fmt.Errorf("auth: tenant %q is not a tenant ID or domain name", c.TenantID)
	}
	return c.checkAuthority()
}

// checkAuthority parses AuthorityHost with the token verifier's parser
// ([azenv.ParseAuthorityHost]) and requires https, since MSAL sends the
// exchange only to https authorities.
func (c Config) checkAuthority() error {
	a, err := azenv.ParseAuthorityHost(c.AuthorityHost)
	if err != nil {
		return err
	}
	if !authorityIsHTTPS(a) {
		return fmt.Errorf("auth: on-behalf-of needs an https authority, but %s=%q is http: MSAL refuses plain http (a loopback http authority serves only token verification in tests); use an https URL or unset it", azenv.AuthorityHost, c.AuthorityHost)
	}
	return nil
}

// authorityIsHTTPS reports whether an authority accepted by
// azenv.ParseAuthorityHost uses https, which on-behalf-of requires.
func authorityIsHTTPS(authority string) bool {
	return strings.HasPrefix(strings.ToLower(authority), "https://")
}

// validTenant accepts tenant IDs and domain names, nothing with a path.
func validTenant(t string) bool {
	if t == "" || len(t) > 256 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// NotConfiguredError is returned by [ConfigFromEnv] when neither the
// Azure nor the local on-behalf-of settings are complete. Missing names the
// variables to set for the mode the environment seems to attempt.
type NotConfiguredError struct {
	// Azure is true when the Azure (managed identity) mode was inferred,
	// false for the local (secret or certificate) mode.
	Azure bool
	// Missing lists the variables to set; an entry such as
	// "AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH" means either.
	Missing []string
}

// Error names the missing variables.
func (e *NotConfiguredError) Error() string {
	mode := "local (app registration secret or certificate)"
	if e.Azure {
		mode = "Azure (Easy Auth with a managed identity federated credential)"
	}
	return fmt.Sprintf("auth: on-behalf-of is not configured for %s mode: set %s", mode, strings.Join(e.Missing, ", "))
}

// Help returns a multi-line text for a startup message: what is missing and
// what to set for on-behalf-of locally and on Azure.
func (e *NotConfiguredError) Help() string {
	var b strings.Builder
	b.WriteString("On-behalf-of (OBO) token exchange is not configured, so tools that call APIs as the signed-in user will fail.\n")
	fmt.Fprintf(&b, "Missing: %s.\n\n", strings.Join(e.Missing, ", "))
	b.WriteString("To use OBO locally, set these in local.settings.json \"Values\" or in the environment:\n")
	b.WriteString("  " + envTenantID + "      tenant ID of the app registration\n")
	b.WriteString("  " + envClientID + "      client (application) ID of the app registration the MCP client gets tokens for\n")
	b.WriteString("  " + envClientSecret + "  a client secret of that app registration\n")
	b.WriteString("  or " + envClientCertPath + " (+ " + envClientCertPassword + " if encrypted): a PEM or PKCS#12 file with its certificate and RSA private key\n")
	b.WriteString("The app registration needs the delegated permissions the tools use (for example Microsoft Graph User.Read), and the caller's token must be issued for it.\n\n")
	b.WriteString("On Azure, OBO uses Easy Auth's app registration and a user-assigned managed identity as its federated credential:\n")
	b.WriteString("  " + envMIClientID + " (client ID of the managed identity), " + azenv.AuthClientID + ", " + azenv.AuthAllowedTenants + ".\n")
	return b.String()
}

// ConfigFromEnv reads the on-behalf-of settings through getenv
// (os.Getenv in production).
//
// Azure mode is chosen when OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID is set,
// and needs WEBSITE_AUTH_CLIENT_ID and WEBSITE_AUTH_AAD_ALLOWED_TENANTS. If
// WEBSITE_AUTH_AAD_ALLOWED_TENANTS lists several tenants separated by
// commas, the first one is used: the app registration lives there.
// TokenExchangeAudience defaults to api://AzureADTokenExchange.
//
// Otherwise local mode is chosen and needs AZURE_TENANT_ID, AZURE_CLIENT_ID
// and AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH (the secret wins
// if both are set). AZURE_CLIENT_ID alone is not taken as a sign of local
// mode on Azure, where it often selects a managed identity for other SDKs.
//
// AZURE_AUTHORITY_HOST is parsed by the parser of package auth's token
// verifier, so both accept the same values, and only once the on-behalf-of
// settings are otherwise complete: a loopback http authority (for a fake in tests) then gives an
// error, since MSAL needs https, but it never stops a server whose
// on-behalf-of is not configured.
//
// When the settings are incomplete the error is a [*NotConfiguredError]
// naming the missing variables of the mode that seems intended: Azure mode
// if any Azure-mode variable or WEBSITE_SITE_NAME is set and no local
// secret or certificate is, local mode otherwise.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	common := Config{
		AuthorityHost:  get(azenv.AuthorityHost),
		PublicHostname: get(azenv.WebsiteHostname),
	}

	mi := get(envMIClientID)
	secret, certPath := get(envClientSecret), get(envClientCertPath)
	azureHints := mi != "" || get(azenv.AuthClientID) != "" || get(azenv.AuthAllowedTenants) != "" || get(azenv.WebsiteSiteName) != ""
	if mi != "" || (azureHints && secret == "" && certPath == "") {
		c := common
		c.Mode = ModeManagedIdentity
		c.ManagedIdentityClientID = mi
		c.ClientID = get(azenv.AuthClientID)
		c.TenantID = firstTenant(get(azenv.AuthAllowedTenants))
		c.TokenExchangeAudience = get(envTokenExchangeAudience)
		if c.TokenExchangeAudience == "" {
			c.TokenExchangeAudience = defaultTokenExchangeAudience
		}
		var missing []string
		for _, kv := range [][2]string{{mi, envMIClientID}, {c.ClientID, azenv.AuthClientID}, {c.TenantID, azenv.AuthAllowedTenants}} {
			if kv[0] == "" {
				missing = append(missing, kv[1])
			}
		}
		if len(missing) > 0 {
			return Config{}, &NotConfiguredError{Azure: true, Missing: missing}
		}
		if !validTenant(c.TenantID) {
			return Config{}, fmt.Errorf("auth: %s=%q: the first entry is not a tenant ID", azenv.AuthAllowedTenants, getenv(azenv.AuthAllowedTenants))
		}
		if err := c.checkAuthority(); err != nil {
			return Config{}, err
		}
		return c, nil
	}

	c := common
	c.TenantID = get(envTenantID)
	c.ClientID = get(envClientID)
	var missing []string
	if c.TenantID == "" {
		missing = append(missing, envTenantID)
	}
	if c.ClientID == "" {
		missing = append(missing, envClientID)
	}
	switch {
	case secret != "":
		c.Mode = ModeClientSecret
		c.ClientSecret = secret
	case certPath != "":
		c.Mode = ModeClientCertificate
		c.CertificatePath = certPath
		c.CertificatePassword = getenv(envClientCertPassword)
	default:
		missing = append(missing, envClientSecret+" or "+envClientCertPath)
	}
	if len(missing) > 0 {
		return Config{}, &NotConfiguredError{Missing: missing}
	}
	if !validTenant(c.TenantID) {
		return Config{}, fmt.Errorf("auth: %s=%q is not a tenant ID", envTenantID, c.TenantID)
	}
	if err := c.checkAuthority(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// firstTenant returns the first entry of a comma-separated tenant list.
func firstTenant(s string) string {
	first, _, _ := strings.Cut(s, ",")
	return strings.TrimSpace(first)
}
