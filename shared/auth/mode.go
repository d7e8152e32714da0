package auth

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"

	mcpauth "github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/mcpfunc/mcpfunc/shared/auth/internal/azenv"
)

// Mode says how the MCP endpoint is protected.
type Mode string

const (
	// ModeEasyAuth runs behind App Service / Functions authentication
	// ("Easy Auth") and checks again what it forwards: the bearer token is
	// verified in the process like in ModeEntra (the app registration's
	// client ID and Application ID URI as audiences, the allowed tenants),
	// and the caller X-MS-CLIENT-PRINCIPAL names must be the token's
	// subject (same object ID). A request that did not come through Easy
	// Auth, or whose headers were forged, is refused before anything uses
	// its token.
	ModeEasyAuth Mode = "easyauth"
	// ModeEntra verifies Microsoft Entra ID bearer tokens in the process
	// and serves protected resource metadata.
	ModeEntra Mode = "entra"
	// ModeNone does not authenticate. For local development only: it is
	// chosen by MCP_AUTH=none, or when MCP_AUTH is unset outside Azure
	// (see [ConfigFromEnv]); never on Azure unless asked for.
	ModeNone Mode = "none"
	// ModeKey leaves authentication to the Functions host's keys: with
	// host.json's customHandler.http.DefaultAuthorizationLevel "function"
	// the host answers 401 to requests without a valid key
	// (x-functions-key), and the process trusts that check and does not
	// authenticate callers itself, as in ModeNone but on purpose and
	// guarded: on Azure [ConfigFromEnv] refuses it when the host's
	// effective level is anonymous. Tools see no verified token.
	ModeKey Mode = "key"
)

// Paths used in ModeEntra.
const (
	// prmPath is where the protected resource metadata (RFC 9728) is
	// served; the WWW-Authenticate challenge points here.
	prmPath = "/.well-known/oauth-protected-resource"
	// mcpPath is the MCP endpoint path (hosting.MCPPath).
	mcpPath = "/mcp"
)

// Config is the authorization setting of a server, from
// [ConfigFromEnv].
type Config struct {
	// Mode is the protection mode.
	Mode Mode
	// Verifier configures token verification (ModeEntra, ModeEasyAuth).
	Verifier VerifierConfig
	// PublicURL is the public base URL of the server; the protected
	// resource is PublicURL + "/mcp". Required in ModeEntra; in
	// ModeEasyAuth, when known, the challenges name the metadata that Easy
	// Auth serves there.
	PublicURL string
	// Defaulted is true when ModeNone was chosen because MCP_AUTH is unset
	// outside Azure, rather than asked for.
	Defaulted bool
	// keyNotice is what [Protection.LogNotice] says in ModeKey: what
	// protects /mcp, as ConfigFromEnv found it.
	keyNotice string
}

// ConfigFromEnv reads the authorization setting through getenv
// (os.Getenv in production):
//
//   - MCP_AUTH=easyauth, entra, key or none selects that mode.
//   - MCP_AUTH unset: easyauth when WEBSITE_AUTH_ENABLED is "True" (set by
//     the platform when Easy Auth is on). Otherwise, on Azure
//     (WEBSITE_SITE_NAME is set) an error: no server is anonymous on Azure
//     by accident. Outside Azure (local development, tests) none, with
//     Config.Defaulted set so the caller can say so.
//   - easyauth needs the app registration's client ID
//     (WEBSITE_AUTH_CLIENT_ID, which the platform sets, or
//     MCP_AUTH_AUDIENCES) and its tenants (WEBSITE_AUTH_AAD_ALLOWED_TENANTS
//     or MCP_AUTH_TENANT_IDS). On Azure it also needs WEBSITE_AUTH_ENABLED
//     to be True, unless MCP_REQUIRE_EASYAUTH_ENV=off.
//   - entra needs MCP_AUTH_TENANT_IDS, MCP_AUTH_AUDIENCES,
//     MCP_PUBLIC_URL (or WEBSITE_HOSTNAME), and MCP_AUTH_SCOPES or
//     MCP_AUTH_ROLES (or both); MCP_AUTH_ALLOWED_APPLICATIONS and
//     AZURE_AUTHORITY_HOST are optional. Lists are comma- or
//     space-separated.
//   - key trusts the Functions host's key check. On Azure it needs the
//     host's effective authorization level for the custom handler to be
//     function or admin: the app setting
//     AzureFunctionsJobHost__customHandler__http__DefaultAuthorizationLevel
//     when set, else customHandler.http.DefaultAuthorizationLevel in
//     $FUNCTIONS_APP_ROOT_PATH/host.json, else the host's default
//     (function); anonymous is an error, and so is an anonymous host.json
//     under an app setting of function, unless MCP_REQUIRE_HOST_KEYS=off.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	return configFromEnv(getenv, os.ReadFile)
}

// configFromEnv is [ConfigFromEnv] with readFile reading host.json
// (ModeKey on Azure).
func configFromEnv(getenv func(string) string, readFile func(string) ([]byte, error)) (Config, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	mode := Mode(strings.ToLower(get(envMCPAuth)))
	switch mode {
	case ModeNone:
		return Config{Mode: mode}, nil
	case ModeEasyAuth:
		return easyAuthFromEnv(get)
	case ModeEntra:
		return entraFromEnv(get)
	case ModeKey:
		return keyFromEnv(get, readFile)
	case "":
	default:
		return Config{}, fmt.Errorf("auth: %s=%q: use easyauth, entra, key or none", envMCPAuth, get(envMCPAuth))
	}
	if easyAuthEnabled(get) {
		return easyAuthFromEnv(get)
	}
	if get(azenv.WebsiteSiteName) != "" {
		return Config{}, fmt.Errorf("auth: refusing to serve MCP unauthenticated: this app runs on Azure (%s is set) without App Service authentication (%s is not True). "+
			"Enable authentication (Easy Auth) on the app, or set %s=entra with %s, %s and %s, or set %s=key with the host requiring function keys, or set %s=none to serve anonymously on purpose",
			azenv.WebsiteSiteName, envWebsiteAuthEnabled, envMCPAuth, envMCPAuthTenantIDs, envMCPAuthAudiences, envMCPPublicURL, envMCPAuth, envMCPAuth)
	}
	return Config{Mode: ModeNone, Defaulted: true}, nil
}

// easyAuthEnabled reports whether the platform says App Service
// authentication is on for this app.
//
// [UNCERTAIN] Whether Flex Consumption sets WEBSITE_AUTH_ENABLED. App
// Service documents it as "Read-only. Injected into a Windows or Linux app
// to indicate whether App Service authentication is enabled" (Learn,
// "Environment variables and app settings in Azure App Service"), and the
// Functions host sets it from the site's auth settings when a Linux
// Consumption instance is assigned to an app, unless an app setting of the
// same name exists (azure-functions-host, HostAssignmentContext.
// ApplyAppSettings, "App settings take precedence over site config for easy
// auth enabled"); nothing found says whether Flex goes through that path.
// To check: deploy with Easy Auth on and read the variable in the app (for
// example in Kudu's environment page, or log it at startup). If Flex does
// not set it, MCP_REQUIRE_EASYAUTH_ENV=off lets easyauth mode start; the
// token and principal checks still apply.
func easyAuthEnabled(get func(string) string) bool {
	return strings.EqualFold(get(envWebsiteAuthEnabled), "true")
}

func easyAuthFromEnv(get func(string) string) (Config, error) {
	onAzure := get(azenv.WebsiteSiteName) != ""
	switch req := strings.ToLower(get(envMCPRequireEasyAuthEnv)); req {
	case "", "on", "true", "1":
		if onAzure && !easyAuthEnabled(get) {
			return Config{}, fmt.Errorf("auth: refusing to start: %s=easyauth, but App Service authentication is not on for this app (%s=%q; the platform sets it to True when it is), "+
				"so requests would reach the server without Easy Auth in front. Turn on authentication for the app (Easy Auth, requiring authentication), "+
				"or set %s=entra to verify tokens in the process. If authentication is on and the platform does not set %s, set %s=off",
				envMCPAuth, envWebsiteAuthEnabled, get(envWebsiteAuthEnabled), envMCPAuth, envWebsiteAuthEnabled, envMCPRequireEasyAuthEnv)
		}
	case "off", "false", "0":
	default:
		return Config{}, fmt.Errorf("auth: %s=%q: use on (the default) or off", envMCPRequireEasyAuthEnv, get(envMCPRequireEasyAuthEnv))
	}

	tenants := splitList(get(envMCPAuthTenantIDs))
	if len(tenants) == 0 {
		tenants = splitList(get(azenv.AuthAllowedTenants))
	}
	// Tokens are v2.0 (requestedAccessTokenVersion 2), whose aud is the
	// client ID; Easy Auth's allowedAudiences names the Application ID
	// URI, which the app learns from the scopes it advertises.
	audiences := splitList(get(azenv.AuthClientID))
	audiences = append(audiences, identifierURIs(splitList(get(envWebsiteAuthPRMScopes)))...)
	audiences = append(audiences, splitList(get(envMCPAuthAudiences))...)
	var missing []string
	if len(tenants) == 0 {
		missing = append(missing, azenv.AuthAllowedTenants+" (or "+envMCPAuthTenantIDs+")")
	}
	if len(splitList(get(azenv.AuthClientID))) == 0 && len(splitList(get(envMCPAuthAudiences))) == 0 {
		missing = append(missing, azenv.AuthClientID+" (or "+envMCPAuthAudiences+")")
	}
	if len(missing) > 0 {
		return Config{}, fmt.Errorf("auth: %s=easyauth verifies the caller's token in the process too and needs %s; on Azure the platform and the Bicep set them when authentication is configured",
			envMCPAuth, strings.Join(missing, " and "))
	}
	c := Config{
		Mode: ModeEasyAuth,
		Verifier: VerifierConfig{
			TenantIDs:           tenants,
			Audiences:           slices.Compact(audiences),
			RequiredScopes:      splitList(get(envMCPAuthScopes)),
			AcceptedRoles:       splitList(get(envMCPAuthRoles)),
			AllowedApplications: splitList(get(envMCPAuthAllowedApplications)),
			Authority:           get(azenv.AuthorityHost),
		},
		PublicURL: publicURL(get),
	}
	if c.PublicURL != "" {
		base, err := normalizePublicURL(c.PublicURL)
		if err != nil {
			return Config{}, fmt.Errorf("auth: %s: %w", envMCPPublicURL, err)
		}
		c.PublicURL = base
	}
	return c, nil
}

// identifierURIs returns the Application ID URIs of full scope names such
// as api://app/user_impersonation (api://app), skipping short names.
func identifierURIs(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		if i := strings.LastIndex(s, "/"); i > 0 && strings.Contains(s, "://") && !strings.HasSuffix(s[:i], ":/") {
			out = append(out, s[:i])
		}
	}
	return out
}

// publicURL is MCP_PUBLIC_URL, else https://$WEBSITE_HOSTNAME when that is
// not a loopback host, else "".
func publicURL(get func(string) string) string {
	if u := get(envMCPPublicURL); u != "" {
		return u
	}
	if h := get(azenv.WebsiteHostname); h != "" && !azenv.IsLoopbackHost(h) {
		return "https://" + h
	}
	return ""
}

func entraFromEnv(get func(string) string) (Config, error) {
	c := Config{
		Mode: ModeEntra,
		Verifier: VerifierConfig{
			TenantIDs:           splitList(get(envMCPAuthTenantIDs)),
			Audiences:           splitList(get(envMCPAuthAudiences)),
			RequiredScopes:      splitList(get(envMCPAuthScopes)),
			AcceptedRoles:       splitList(get(envMCPAuthRoles)),
			AllowedApplications: splitList(get(envMCPAuthAllowedApplications)),
			Authority:           get(azenv.AuthorityHost),
		},
		PublicURL: publicURL(get),
	}
	var missing []string
	if len(c.Verifier.TenantIDs) == 0 {
		missing = append(missing, envMCPAuthTenantIDs)
	}
	if len(c.Verifier.Audiences) == 0 {
		missing = append(missing, envMCPAuthAudiences)
	}
	if c.PublicURL == "" {
		missing = append(missing, envMCPPublicURL)
	}
	if len(c.Verifier.RequiredScopes) == 0 && len(c.Verifier.AcceptedRoles) == 0 {
		missing = append(missing, envMCPAuthScopes+" (delegated scopes, such as api://<app>/user_impersonation) or "+envMCPAuthRoles+" (app roles for app-only callers)")
	}
	if len(missing) > 0 {
		return Config{}, fmt.Errorf("auth: %s=entra needs %s", envMCPAuth, strings.Join(missing, ", "))
	}
	base, err := normalizePublicURL(c.PublicURL)
	if err != nil {
		return Config{}, fmt.Errorf("auth: %s: %w", envMCPPublicURL, err)
	}
	c.PublicURL = base
	return c, nil
}

// splitList splits on commas and white space.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == ';' })
}

// normalizePublicURL checks an absolute http(s) URL and returns it without
// a trailing slash or a trailing /mcp.
func normalizePublicURL(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q is not an absolute http(s) URL without query, such as https://app.azurewebsites.net", s)
	}
	out := strings.TrimRight(u.String(), "/")
	out = strings.TrimSuffix(out, mcpPath)
	return strings.TrimRight(out, "/"), nil
}

// Protection is what a server needs to protect its MCP endpoint; see
// [Protect].
type Protection struct {
	// Mode is the protection mode.
	Mode Mode
	// Middleware wraps the MCP handler (hosting.WithMiddleware). It is
	// never nil; in ModeNone it passes requests through.
	Middleware func(http.Handler) http.Handler
	// PRMPattern is the route of the protected resource metadata, for
	// hosting.WithHandler(PRMPattern, PRMHandler). Set only in ModeEntra;
	// under Easy Auth the platform serves its own.
	PRMPattern string
	// PRMHandler serves the protected resource metadata (ModeEntra).
	PRMHandler http.Handler
	// verifier is the token verifier (ModeEntra, ModeEasyAuth).
	verifier *verifier
	// Defaulted is true when ModeNone was chosen because MCP_AUTH is unset
	// outside Azure (Config.Defaulted).
	Defaulted bool
	// keyNotice is Config.keyNotice (ModeKey).
	keyNotice string
}

// notice is the line [Protection.LogNotice] logs: in ModeNone, that /mcp
// is not protected; in ModeKey, that the host's key check protects it (""
// otherwise).
func (p *Protection) notice() string {
	switch {
	case p.Mode == ModeKey && p.keyNotice != "":
		return p.keyNotice
	case p.Mode == ModeKey:
		return "MCP_AUTH=key: /mcp is protected only by the Functions host's key check; the server does not authenticate callers itself"
	case p.Mode != ModeNone:
		return ""
	case p.Defaulted:
		return "MCP_AUTH is not set and this is not Azure (WEBSITE_SITE_NAME is unset): /mcp accepts unauthenticated requests; " +
			"set MCP_AUTH=none to say so, or MCP_AUTH=entra to verify Entra tokens"
	default:
		return "MCP_AUTH=none: /mcp accepts unauthenticated requests; use only for local development"
	}
}

// LogNotice logs, in ModeNone, that /mcp accepts unauthenticated requests
// through logger: as a warning when MCP_AUTH=none was asked for, as
// information when it was Defaulted, so that local runs and tests keep
// stderr for errors. In ModeKey it says, as information, that the
// Functions host's key check is what protects /mcp. It logs nothing in the
// other modes. The servers call it once at startup; nothing else in this
// package logs.
func (p *Protection) LogNotice(ctx context.Context, logger *slog.Logger) {
	n := p.notice()
	switch {
	case n == "":
	case p.Defaulted, p.Mode == ModeKey:
		logger.InfoContext(ctx, n)
	default:
		logger.WarnContext(ctx, n)
	}
}

// ProtectFromEnv is [ConfigFromEnv] and then [Protect], the way every
// server in this repository sets up its MCP endpoint. hc, when not nil,
// sends the token verifier's OpenID discovery and key set requests.
func ProtectFromEnv(ctx context.Context, getenv func(string) string, hc *http.Client) (*Protection, error) {
	cfg, err := ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	if hc != nil && cfg.Verifier.HTTPClient == nil {
		cfg.Verifier.HTTPClient = hc
	}
	p, err := Protect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	p.Defaulted = cfg.Defaulted
	return p, nil
}

// Protect builds the protection for cfg. It makes no network request: the
// token verifier runs OpenID discovery on the first token of a tenant.
//
// In ModeEasyAuth the middleware verifies the bearer token (cfg.Verifier)
// and requires X-MS-CLIENT-PRINCIPAL to name its subject; there is no PRM
// handler, Easy Auth serves its own. In ModeEntra the middleware verifies
// the bearer token and applies the access policy of cfg.Verifier, answering
// 401 and 403 with the RFC 6750 challenges (no error attribute without a
// token, error="invalid_token", error="insufficient_scope"), and
// PRMHandler serves at PRMPattern (/.well-known/oauth-protected-resource):
//
//	{"resource": "<PublicURL>/mcp",
//	 "authorization_servers": ["<authority>/<tenant>/v2.0", …],
//	 "scopes_supported": [<required scopes, full names>],
//	 "bearer_methods_supported": ["header"]}
//
// The WWW-Authenticate challenges name
// <PublicURL>/.well-known/oauth-protected-resource. In ModeNone and
// ModeKey the middleware passes requests through (in ModeKey the Functions
// host has checked the key; only [ConfigFromEnv] checks that it does).
//
// With the hosting package, pass hosting.WithMiddleware(p.Middleware) and,
// when PRMHandler is not nil, hosting.WithHandler(p.PRMPattern,
// p.PRMHandler); the example shows the same with net/http.
func Protect(ctx context.Context, cfg Config) (*Protection, error) {
	switch cfg.Mode {
	case ModeNone:
		return &Protection{Mode: ModeNone, Middleware: func(h http.Handler) http.Handler { return h }}, nil
	case ModeKey:
		return &Protection{Mode: ModeKey, Middleware: func(h http.Handler) http.Handler { return h }, keyNotice: cfg.keyNotice}, nil
	case ModeEasyAuth:
		return protectEasyAuth(ctx, cfg)
	case ModeEntra:
	default:
		return nil, fmt.Errorf("auth: unknown authorization mode %q", cfg.Mode)
	}
	base, err := normalizePublicURL(cfg.PublicURL)
	if err != nil {
		return nil, fmt.Errorf("auth: public URL: %w", err)
	}
	if len(trimmedNonEmpty(cfg.Verifier.RequiredScopes)) == 0 && len(trimmedNonEmpty(cfg.Verifier.AcceptedRoles)) == 0 {
		// Without either, any token of the tenant for this audience would
		// pass, app-only tokens with unrelated roles included.
		return nil, fmt.Errorf("auth: %s=entra needs required scopes (%s) or accepted app roles (%s): without them any token issued for this app would be accepted", envMCPAuth, envMCPAuthScopes, envMCPAuthRoles)
	}
	v, err := newVerifier(ctx, cfg.Verifier)
	if err != nil {
		return nil, err
	}
	prm := &oauthex.ProtectedResourceMetadata{
		Resource:               base + mcpPath,
		AuthorizationServers:   v.Issuers(),
		ScopesSupported:        v.Scopes(),
		BearerMethodsSupported: []string{"header"},
	}
	return &Protection{
		Mode:       ModeEntra,
		Middleware: v.Middleware(base + prmPath),
		PRMPattern: prmPath,
		PRMHandler: mcpauth.ProtectedResourceMetadataHandler(prm),
		verifier:   v,
	}, nil
}

// protectEasyAuth builds the ModeEasyAuth protection: the token verifier
// of cfg.Verifier, and a middleware that verifies the bearer token and
// requires X-MS-CLIENT-PRINCIPAL to name the same caller before the request
// goes on (see [verifier.EasyAuthMiddleware]). Easy Auth serves the
// protected resource metadata itself, so there is no PRM handler.
func protectEasyAuth(ctx context.Context, cfg Config) (*Protection, error) {
	var prm string
	if cfg.PublicURL != "" {
		base, err := normalizePublicURL(cfg.PublicURL)
		if err != nil {
			return nil, fmt.Errorf("auth: public URL: %w", err)
		}
		prm = base + prmPath
	}
	v, err := newVerifier(ctx, cfg.Verifier)
	if err != nil {
		return nil, fmt.Errorf("auth: %s=easyauth: %w", envMCPAuth, err)
	}
	return &Protection{Mode: ModeEasyAuth, Middleware: v.EasyAuthMiddleware(prm), verifier: v}, nil
}
