package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	mcpauth "github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// AuthMode says how the MCP endpoint is protected.
type AuthMode string

const (
	// ModeEasyAuth relies on App Service / Functions authentication in
	// front of the app; the app only checks that X-MS-CLIENT-PRINCIPAL is
	// present (see [RequireEasyAuth]).
	ModeEasyAuth AuthMode = "easyauth"
	// ModeEntra verifies Microsoft Entra ID bearer tokens in the process
	// and serves protected resource metadata.
	ModeEntra AuthMode = "entra"
	// ModeNone does not authenticate. For local development only; it must
	// be requested explicitly with MCP_AUTH=none.
	ModeNone AuthMode = "none"
)

// Paths used in ModeEntra.
const (
	// PRMPath is where the protected resource metadata (RFC 9728) is
	// served; the WWW-Authenticate challenge points here.
	PRMPath = "/.well-known/oauth-protected-resource"
	// mcpPath is the MCP endpoint path (hosting.MCPPath).
	mcpPath = "/mcp"
)

// AuthConfig is the authorization setting of a server, from
// [AuthModeFromEnv].
type AuthConfig struct {
	// Mode is the protection mode.
	Mode AuthMode
	// Verifier configures token verification (ModeEntra).
	Verifier VerifierConfig
	// PublicURL is the public base URL of the server (ModeEntra); the
	// protected resource is PublicURL + "/mcp".
	PublicURL string
}

// AuthModeFromEnv reads the authorization setting through getenv
// (os.Getenv in production):
//
//   - MCP_AUTH=easyauth, entra or none selects that mode.
//   - MCP_AUTH unset: easyauth when WEBSITE_AUTH_ENABLED is "True" (set by
//     the platform when Easy Auth is on; [UNCERTAIN] on Flex Consumption).
//     Otherwise an error, worded for Azure when WEBSITE_SITE_NAME is set:
//     the server must not start unauthenticated by accident, so even local
//     development has to say MCP_AUTH=none.
//   - entra needs MCP_AUTH_TENANT_IDS, MCP_AUTH_AUDIENCES,
//     MCP_PUBLIC_URL (or WEBSITE_HOSTNAME), and MCP_AUTH_SCOPES or
//     MCP_AUTH_ROLES (or both); MCP_AUTH_ALLOWED_APPLICATIONS and
//     AZURE_AUTHORITY_HOST are optional. Lists are comma- or
//     space-separated.
func AuthModeFromEnv(getenv func(string) string) (AuthConfig, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	mode := AuthMode(strings.ToLower(get(EnvMCPAuth)))
	switch mode {
	case ModeEasyAuth, ModeNone:
		return AuthConfig{Mode: mode}, nil
	case ModeEntra:
		return entraFromEnv(get)
	case "":
	default:
		return AuthConfig{}, fmt.Errorf("auth: %s=%q: use easyauth, entra or none", EnvMCPAuth, get(EnvMCPAuth))
	}
	if strings.EqualFold(get(EnvWebsiteAuthEnabled), "true") {
		return AuthConfig{Mode: ModeEasyAuth}, nil
	}
	if get(EnvWebsiteSiteName) != "" {
		return AuthConfig{}, fmt.Errorf("auth: refusing to serve MCP unauthenticated: this app runs on Azure (%s is set) without App Service authentication (%s is not True). "+
			"Enable authentication (Easy Auth) on the app, or set %s=entra with %s, %s and %s, or set %s=none to serve anonymously on purpose",
			EnvWebsiteSiteName, EnvWebsiteAuthEnabled, EnvMCPAuth, EnvMCPAuthTenantIDs, EnvMCPAuthAudiences, EnvMCPPublicURL, EnvMCPAuth)
	}
	return AuthConfig{}, fmt.Errorf("auth: no authorization mode configured: set %s=none for local development without authentication, "+
		"%s=entra (with %s, %s and %s) to verify Entra tokens in the process, or %s=easyauth behind App Service authentication",
		EnvMCPAuth, EnvMCPAuth, EnvMCPAuthTenantIDs, EnvMCPAuthAudiences, EnvMCPPublicURL, EnvMCPAuth)
}

func entraFromEnv(get func(string) string) (AuthConfig, error) {
	c := AuthConfig{
		Mode: ModeEntra,
		Verifier: VerifierConfig{
			TenantIDs:           splitList(get(EnvMCPAuthTenantIDs)),
			Audiences:           splitList(get(EnvMCPAuthAudiences)),
			RequiredScopes:      splitList(get(EnvMCPAuthScopes)),
			AcceptedRoles:       splitList(get(EnvMCPAuthRoles)),
			AllowedApplications: splitList(get(EnvMCPAuthAllowedApplications)),
			Authority:           get(EnvAuthorityHost),
		},
		PublicURL: get(EnvMCPPublicURL),
	}
	if c.PublicURL == "" {
		if h := get(EnvWebsiteHostname); h != "" && !isLoopbackHost(h) {
			c.PublicURL = "https://" + h
		}
	}
	var missing []string
	if len(c.Verifier.TenantIDs) == 0 {
		missing = append(missing, EnvMCPAuthTenantIDs)
	}
	if len(c.Verifier.Audiences) == 0 {
		missing = append(missing, EnvMCPAuthAudiences)
	}
	if c.PublicURL == "" {
		missing = append(missing, EnvMCPPublicURL)
	}
	if len(c.Verifier.RequiredScopes) == 0 && len(c.Verifier.AcceptedRoles) == 0 {
		missing = append(missing, EnvMCPAuthScopes+" (delegated scopes, such as api://<app>/user_impersonation) or "+EnvMCPAuthRoles+" (app roles for app-only callers)")
	}
	if len(missing) > 0 {
		return AuthConfig{}, fmt.Errorf("auth: %s=entra needs %s", EnvMCPAuth, strings.Join(missing, ", "))
	}
	base, err := normalizePublicURL(c.PublicURL)
	if err != nil {
		return AuthConfig{}, fmt.Errorf("auth: %s: %w", EnvMCPPublicURL, err)
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
	Mode AuthMode
	// Middleware wraps the MCP handler (hosting.WithMiddleware). It is
	// never nil; in ModeNone it passes requests through.
	Middleware func(http.Handler) http.Handler
	// PRMPattern is the route of the protected resource metadata, for
	// hosting.WithHandler(PRMPattern, PRMHandler). Set only in ModeEntra;
	// under Easy Auth the platform serves its own.
	PRMPattern string
	// PRMHandler serves the protected resource metadata (ModeEntra).
	PRMHandler http.Handler
	// Verifier is the token verifier (ModeEntra), for reuse elsewhere.
	Verifier *Verifier
}

// Protect builds the protection for cfg. In ModeEntra it creates the
// [Verifier] (no network request: discovery is lazy), wraps the MCP
// handler with [Verifier.Middleware] (401 and 403 with the RFC 6750
// challenges: error="invalid_token", error="insufficient_scope"), and
// serves at PRMPath:
//
//	{"resource": "<PublicURL>/mcp",
//	 "authorization_servers": ["<authority>/<tenant>/v2.0", …],
//	 "scopes_supported": [<required scopes, full names>],
//	 "bearer_methods_supported": ["header"]}
//
// The WWW-Authenticate challenges name <PublicURL>/.well-known/oauth-protected-resource.
//
// Typical use with the hosting package:
//
//	ac, err := auth.AuthModeFromEnv(os.Getenv)
//	p, err := auth.Protect(ctx, ac)
//	opts := []hosting.Option{hosting.WithMiddleware(p.Middleware)}
//	if p.PRMHandler != nil {
//		opts = append(opts, hosting.WithHandler(p.PRMPattern, p.PRMHandler))
//	}
func Protect(ctx context.Context, cfg AuthConfig) (*Protection, error) {
	switch cfg.Mode {
	case ModeNone:
		return &Protection{Mode: ModeNone, Middleware: func(h http.Handler) http.Handler { return h }}, nil
	case ModeEasyAuth:
		return &Protection{Mode: ModeEasyAuth, Middleware: RequireEasyAuth}, nil
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
		return nil, fmt.Errorf("auth: %s=entra needs required scopes (%s) or accepted app roles (%s): without them any token issued for this app would be accepted", EnvMCPAuth, EnvMCPAuthScopes, EnvMCPAuthRoles)
	}
	v, err := NewVerifier(ctx, cfg.Verifier)
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
		Middleware: v.Middleware(base + PRMPath),
		PRMPattern: PRMPath,
		PRMHandler: mcpauth.ProtectedResourceMetadataHandler(prm),
		Verifier:   v,
	}, nil
}

// RequireEasyAuth is the ModeEasyAuth middleware: it answers 401 to
// requests without a parseable X-MS-CLIENT-PRINCIPAL header. Easy Auth
// validates the caller's token, adds that header, and strips copies sent
// by clients, so the check is only meaningful behind Easy Auth; it is
// defence in depth against a misconfigured app (authentication disabled
// or set to allow anonymous requests), not authentication in itself.
func RequireEasyAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := PrincipalFromHeader(r.Header); err != nil {
			msg := "unauthenticated: App Service authentication did not identify the caller"
			if !errors.Is(err, ErrNoPrincipal) {
				msg = "unauthenticated: malformed " + HeaderClientPrincipal + " header"
			}
			w.Header().Set("WWW-Authenticate", "Bearer")
			http.Error(w, msg, http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
