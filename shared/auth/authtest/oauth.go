package authtest

// This file is the authorization code flow of the fake Entra
// ([WithOAuth]), which MCP clients go through: what a client sees when the
// protected resource metadata names {authority}/{tenant}/v2.0 as its
// authorization server. It follows the Microsoft identity platform v2.0
// endpoints as documented and as reported by people who ran MCP clients
// against them:
//
//   - Discovery: only the OpenID Connect document at
//     /{tenant}/v2.0/.well-known/openid-configuration, with no
//     registration_endpoint (Entra has no Dynamic Client Registration) and
//     no code_challenge_methods_supported (Entra's document does not list
//     it, although Entra supports PKCE). RFC 8414's
//     /.well-known/oauth-authorization-server paths answer 404, as MCP
//     clients log against Entra ("Error fetching authorization server
//     metadata from OAuth/OpenID probe URLs: 404", then "Discovered
//     authorization server metadata at
//     https://login.microsoftonline.com/[TENANT_ID]/v2.0/.well-known/openid-configuration":
//     github.com/microsoft/azure-devops-mcp/issues/1381).
//   - Authorization endpoint, GET /{tenant}/oauth2/v2.0/authorize
//     (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow):
//     an unknown client (AADSTS700016) or a redirect_uri not registered for
//     it (AADSTS50011) gets an error page, never a redirect; every other
//     error goes back to the redirect_uri as error and error_description.
//     Redirect URIs on localhost or 127.0.0.1 match whatever the port, as
//     Entra's "localhost exceptions" say (RFC 8252 §7.3 and §8.3:
//     https://learn.microsoft.com/entra/identity-platform/reply-url#localhost-exceptions);
//     scheme, host and path must match exactly. The configured user is
//     signed in and approved at once for a client the API pre-authorizes
//     (preAuthorizedApplications); for another client the fake answers
//     consent_required (AADSTS65001), as it cannot show a consent page.
//   - Scopes name their resource: api://<app>/user_impersonation, or the
//     app's client ID as prefix, or <prefix>/.default. The fake's app (its
//     clientID) is the only resource it knows. A bare scope name
//     (user_impersonation) resolves to Microsoft Graph, which knows no such
//     scope: AADSTS650053 on resource 00000003-0000-0000-c000-000000000000,
//     as reported in github.com/anthropics/claude-code/issues/73460. The
//     fake knows no Graph scope at all.
//   - The RFC 8707 resource parameter: the v2.0 endpoints take the
//     resource from the scopes. A resource that is not the scopes' own
//     resource (an MCP server's URL, which MCP clients send by default, is
//     never an Entra application's identifier) is refused with
//     error=invalid_target and "AADSTS9010010: The resource parameter
//     provided in the request doesn't match with the requested scopes." at
//     the authorization endpoint (reported at /authorize in
//     github.com/anthropics/claude-code/issues/73460,
//     github.com/anthropics/claude-ai-mcp/issues/514,
//     github.com/TracecatHQ/tracecat/issues/2466) and at the token endpoint
//     (ServerError: invalid_target (AADSTS9010010) in VS Code:
//     github.com/microsoft/vscode/issues/321249,
//     github.com/microsoft/azure-devops-mcp/issues/1381). A resource equal
//     to an identifier URI (or the client ID) of the scopes' application
//     passes: Entra resolves it to the same resource, as the working
//     https://mcp.dev.azure.com case in
//     github.com/microsoft/azure-devops-mcp/issues/1601 shows
//     [UNCERTAIN: reports disagree on whether Entra accepts any resource
//     with scopes since its 2026 enforcement change;
//     github.com/anthropics/claude-ai-mcp/issues/514 saw every value
//     refused, but with a bare scope that resolved to Graph].
//   - Token endpoint, POST /{tenant}/oauth2/v2.0/token: the
//     authorization_code grant checks the code (single use: AADSTS54005;
//     10 minutes: AADSTS70008), that client_id and redirect_uri are those
//     of the authorization request, and the PKCE code_verifier
//     (AADSTS501481); a public client must not send a secret
//     (AADSTS700025). It issues a v2.0 access token for the scopes'
//     application (aud its client ID, scp the short scope names, azp the
//     client, oid, tid, iss {authority}/{tenant}/v2.0), a refresh token
//     only when offline_access was asked for, and an ID token only for
//     openid. The refresh_token grant issues new tokens, and a new refresh
//     token, for the same client. Any other grant but On-Behalf-Of is
//     unsupported_grant_type (AADSTS70003). Errors are Entra's JSON (error,
//     error_description beginning AADSTSnnnn, error_codes, timestamp,
//     trace_id, correlation_id, error_uri); codes are from
//     https://learn.microsoft.com/entra/identity-platform/reference-error-codes.
//
// Where the fake is stricter than Entra it says so: it requires PKCE with
// S256 (MCP requires it; Entra also accepts plain, and no PKCE for
// non-SPA clients), and it supports response_mode=query only. These
// answers are the behaviour under test, not the test's wiring: they are
// events ([Entra.OAuthEvents]), never problems.

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// graphAppID is the application ID of Microsoft Graph, the resource Entra
// resolves a scope without a resource prefix to.
const graphAppID = "00000003-0000-0000-c000-000000000000"

// OAuthClient is a public client app registration ("Mobile and desktop
// applications" platform): no secret, sign-in through a browser.
type OAuthClient struct {
	ClientID string
	// RedirectURIs are its registered redirect URIs, such as
	// http://localhost/oauth/callback (any port matches a localhost one).
	RedirectURIs []string
}

// OAuthConfig is what [WithOAuth] adds to the fake's app registration
// (the protected API, such as an MCP server, whose client ID is the aud of
// its v2.0 access tokens) and who may sign in to it.
type OAuthConfig struct {
	// IdentifierURIs are the app's Application ID URIs, such as
	// api://<client-id>.
	IdentifierURIs []string
	// Scopes are the delegated permissions it exposes, short names such as
	// user_impersonation.
	Scopes []string
	// PreAuthorized are the client IDs its preAuthorizedApplications list
	// for all its scopes: users sign in to them without a consent prompt.
	PreAuthorized []string
	// Clients are the client registrations that may sign in.
	Clients []OAuthClient
	// User is the user the authorization endpoint signs in ("ada" when
	// empty); tokens carry [OID] of it as oid and it as name.
	User string
	// AccessTokenLifetime is how long access tokens are valid (expires_in
	// and exp): an hour when zero. Entra's default is 60 to 90 minutes; a
	// short one makes clients refresh.
	AccessTokenLifetime time.Duration
	// PartialFirstConsent makes the first authorization that succeeds
	// grant only the first of the app's scopes asked for, as when a user
	// consents to part of what a client asks; later ones grant all. It
	// makes clients step up (insufficient_scope).
	PartialFirstConsent bool
}

// WithOAuth makes the fake serve the authorization code flow of cfg (see
// [OAuthConfig] and oauth.go) besides the On-Behalf-Of grant: the
// authorization endpoint, and the authorization_code and refresh_token
// grants of the token endpoint. Its answers are recorded as
// [Entra.OAuthEvents].
func WithOAuth(cfg OAuthConfig) EntraOption {
	if cfg.User == "" {
		cfg.User = "ada"
	}
	if cfg.AccessTokenLifetime <= 0 {
		cfg.AccessTokenLifetime = time.Hour
	}
	return func(e *Entra) {
		e.oauth = &oauthState{cfg: cfg, now: time.Now, codes: map[string]*oauthGrant{}, refresh: map[string]*oauthGrant{}}
	}
}

// OAuthEvent is one answer of the fake's authorization endpoint, or of
// its token endpoint to a grant other than On-Behalf-Of: what was asked
// (without codes, verifiers, tokens or secrets) and the Entra error it
// answered, if any.
type OAuthEvent struct {
	// Endpoint is "authorize" or "token".
	Endpoint string
	// Params are the query (authorize) or form (token) parameters, without
	// code, code_verifier, refresh_token, client_secret and
	// client_assertion.
	Params url.Values
	// Error is the OAuth error code ("" on success), and AADSTS Entra's
	// number for it (0 on success).
	Error  string
	AADSTS int
	// Page is true for an authorization error shown on an error page
	// rather than sent to the redirect URI.
	Page bool
	// Granted are, on success, the short names of the app's scopes granted
	// (the code's, or the access token's scp).
	Granted []string
}

// oauthState is the authorization code flow of an Entra, guarded by its
// mu.
type oauthState struct {
	cfg OAuthConfig
	now func() time.Time

	codes          map[string]*oauthGrant
	refresh        map[string]*oauthGrant
	events         []OAuthEvent
	authorizations int // codes issued
}

// oauthGrant is what an authorization code or refresh token stands for.
type oauthGrant struct {
	clientID, redirectURI, challenge string
	scopes                           []string // full names of the API's scopes granted
	offline, openid                  bool
	issued                           time.Time
	used                             bool
}

// Authorization codes live 10 minutes, as Entra's "typically".
const oauthCodeLifetime = 10 * time.Minute

// OAuthEvents lists the answers of the authorization code flow so far,
// oldest first (none without [WithOAuth]).
func (e *Entra) OAuthEvents() []OAuthEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.oauth == nil {
		return nil
	}
	return slices.Clone(e.oauth.events)
}

// OAuthErrors lists the OAuthEvents that were errors.
func (e *Entra) OAuthErrors() []OAuthEvent {
	var out []OAuthEvent
	for _, ev := range e.OAuthEvents() {
		if ev.Error != "" {
			out = append(out, ev)
		}
	}
	return out
}

// recordOAuth records ev, with the secrets taken out of its Params and
// err's code and number.
func (e *Entra) recordOAuth(ev OAuthEvent, err *entraErr) {
	p := url.Values{}
	for k, v := range ev.Params {
		switch k {
		case "code", "code_verifier", "refresh_token", "client_secret", "client_assertion":
		default:
			p[k] = slices.Clone(v)
		}
	}
	ev.Params = p
	if err != nil {
		ev.Error, ev.AADSTS = err.code, err.aadsts
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.oauth.events = append(e.oauth.events, ev)
}

// authorityBase is scheme://host/{tenant} for the request.
func authorityBase(r *http.Request) string {
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	return scheme + "://" + r.Host + "/" + r.PathValue("tenant")
}

// metadata serves the OpenID Connect discovery document, with the fields
// Entra's has (and none it lacks: no registration_endpoint, no
// code_challenge_methods_supported).
func (e *Entra) metadata(w http.ResponseWriter, r *http.Request) {
	e.metadataGets.Add(1)
	if r.PathValue("tenant") != e.tenant {
		writeEntraError(w, errTenant(r.PathValue("tenant")))
		return
	}
	b := authorityBase(r)
	WriteJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        b + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              b + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                b + "/v2.0",
		"request_uri_parameter_supported":       false,
		"userinfo_endpoint":                     "https://graph.microsoft.com/oidc/userinfo",
		"authorization_endpoint":                b + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         b + "/oauth2/v2.0/devicecode",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"end_session_endpoint":                  b + "/oauth2/v2.0/logout",
		"claims_supported":                      []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"},
		"kerberos_endpoint":                     b + "/kerberos",
		"tenant_region_scope":                   "EU",
		"cloud_instance_name":                   "microsoftonline.com",
		"cloud_graph_host_name":                 "graph.windows.net",
		"msgraph_host":                          "graph.microsoft.com",
		"rbac_url":                              "https://pas.windows.net",
	})
}

// entraErr is an Entra error: the OAuth error code, the AADSTS number and
// its text.
type entraErr struct {
	code   string
	aadsts int
	text   string
}

func (e *entraErr) description() string {
	return fmt.Sprintf("AADSTS%d: %s", e.aadsts, e.text)
}

func errTenant(t string) *entraErr {
	return &entraErr{"invalid_tenant", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", t)}
}

func errMissing(name string) *entraErr {
	return &entraErr{"invalid_request", 900144, fmt.Sprintf("The request body must contain the following parameter: '%s'.", name)}
}

func errUnknownClient(clientID, tenant string) *entraErr {
	return &entraErr{"unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, tenant)}
}

// errResourceMismatch is AADSTS9010010, in the words Entra uses (see the
// top of this file for where they were seen).
var errResourceMismatch = &entraErr{"invalid_target", 9010010, "The resource parameter provided in the request doesn't match with the requested scopes."}

// writeEntraError answers a token (or discovery) request with Entra's JSON
// error body.
func writeEntraError(w http.ResponseWriter, err *entraErr) {
	status := http.StatusBadRequest
	if err.code == "invalid_client" {
		status = http.StatusUnauthorized
	}
	now := time.Now().UTC().Format("2006-01-02 15:04:05Z")
	trace, corr := newOpaque(16), newOpaque(16)
	WriteJSON(w, status, map[string]any{
		"error":             err.code,
		"error_description": fmt.Sprintf("%s Trace ID: %s Correlation ID: %s Timestamp: %s", err.description(), trace, corr, now),
		"error_codes":       []int{err.aadsts},
		"timestamp":         now,
		"trace_id":          trace,
		"correlation_id":    corr,
		"error_uri":         fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", err.aadsts),
	})
}

// newOpaque returns n random bytes, base64url: codes, tokens, ids.
func newOpaque(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (e *Entra) client(id string) (OAuthClient, bool) {
	for _, c := range e.oauth.cfg.Clients {
		if c.ClientID == id {
			return c, true
		}
	}
	return OAuthClient{}, false
}

// redirectRegistered reports whether redirect matches one of the client's
// registered redirect URIs: exactly, or for http(s) on localhost and
// 127.0.0.1 with any port (scheme, host and path still exact).
func redirectRegistered(c OAuthClient, redirect string) bool {
	got, err := url.Parse(redirect)
	if err != nil || got.Fragment != "" {
		return false
	}
	for _, reg := range c.RedirectURIs {
		if reg == redirect {
			return true
		}
		want, err := url.Parse(reg)
		if err != nil {
			continue
		}
		loopback := want.Hostname() == "localhost" || want.Hostname() == "127.0.0.1"
		if loopback && got.Scheme == want.Scheme && got.Hostname() == want.Hostname() &&
			got.EscapedPath() == want.EscapedPath() && got.RawQuery == want.RawQuery {
			return true
		}
	}
	return false
}

// scopeRequest is what a scope parameter asks for.
type scopeRequest struct {
	api             []string // full names of the API's scopes
	offline, openid bool
}

// oidcScope reports whether s is one of the OpenID Connect scopes, which
// name no resource.
func oidcScope(s string) bool {
	switch s {
	case "openid", "profile", "email", "offline_access":
		return true
	}
	return false
}

// apiPrefix returns the prefix a scope of the API is asked for with (an
// identifier URI, the client ID or api://<client ID>), if p is one.
func (e *Entra) apiPrefix(p string) bool {
	return p == e.clientID || p == "api://"+e.clientID || slices.Contains(e.oauth.cfg.IdentifierURIs, p)
}

// resolveScopes resolves a scope parameter as Entra does: each scope's
// resource is its prefix up to the last slash, Microsoft Graph when it
// has none. clientID names the application in errors.
func (e *Entra) resolveScopes(scope, clientID string) (scopeRequest, *entraErr) {
	var req scopeRequest
	for _, s := range strings.Fields(scope) {
		if oidcScope(s) {
			req.offline = req.offline || s == "offline_access"
			req.openid = req.openid || s == "openid"
			continue
		}
		i := strings.LastIndex(s, "/")
		if i <= 0 {
			return req, &entraErr{"invalid_scope", 650053, fmt.Sprintf("The application '%s' asked for scope '%s' that doesn't exist on the resource '%s'. Contact the app vendor.", clientID, s, graphAppID)}
		}
		prefix, name := s[:i], s[i+1:]
		if !e.apiPrefix(prefix) {
			return req, &entraErr{"invalid_resource", 500011, fmt.Sprintf("The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", prefix, e.tenant)}
		}
		switch {
		case name == ".default":
			for _, n := range e.oauth.cfg.Scopes {
				req.api = append(req.api, e.fullScope(n))
			}
		case slices.Contains(e.oauth.cfg.Scopes, name):
			req.api = append(req.api, e.fullScope(name))
		default:
			return req, &entraErr{"invalid_scope", 650053, fmt.Sprintf("The application '%s' asked for scope '%s' that doesn't exist on the resource '%s'. Contact the app vendor.", clientID, name, e.clientID)}
		}
	}
	// Once each, in the order asked.
	var api []string
	for _, s := range req.api {
		if !slices.Contains(api, s) {
			api = append(api, s)
		}
	}
	req.api = api
	return req, nil
}

// fullScope is the full name of one of the API's scopes, with its first
// identifier URI (or api://<client ID>) as prefix.
func (e *Entra) fullScope(name string) string {
	prefix := "api://" + e.clientID
	if len(e.oauth.cfg.IdentifierURIs) > 0 {
		prefix = e.oauth.cfg.IdentifierURIs[0]
	}
	return prefix + "/" + name
}

// checkResource refuses a resource parameter that is not the resource of
// the scopes asked for (AADSTS9010010); none is fine.
func (e *Entra) checkResource(params url.Values, req scopeRequest) *entraErr {
	if _, sent := params["resource"]; !sent {
		return nil
	}
	if len(req.api) > 0 && e.apiPrefix(params.Get("resource")) {
		return nil
	}
	return errResourceMismatch
}

// authorize is the authorization endpoint (with WithOAuth).
func (e *Entra) authorize(w http.ResponseWriter, r *http.Request) {
	if e.oauth == nil {
		e.unexpected(w, r)
		return
	}
	q := r.URL.Query()
	page := func(err *entraErr) {
		e.recordOAuth(OAuthEvent{Endpoint: "authorize", Params: q, Page: true}, err)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "<!DOCTYPE html><title>Sign in to your account</title><p>Sorry, but we're having trouble signing you in.</p><p>%s</p>\n", html.EscapeString(err.description()))
	}
	if r.PathValue("tenant") != e.tenant {
		page(errTenant(r.PathValue("tenant")))
		return
	}
	clientID, redirect := q.Get("client_id"), q.Get("redirect_uri")
	if clientID == "" {
		page(errMissing("client_id"))
		return
	}
	c, ok := e.client(clientID)
	if !ok {
		page(errUnknownClient(clientID, e.tenant))
		return
	}
	if redirect == "" || !redirectRegistered(c, redirect) {
		page(&entraErr{"invalid_request", 50011, fmt.Sprintf("The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.", redirect, clientID)})
		return
	}
	// From here on, errors go to the redirect URI.
	back := func(err *entraErr) {
		e.recordOAuth(OAuthEvent{Endpoint: "authorize", Params: q}, err)
		to, _ := url.Parse(redirect)
		v := to.Query()
		v.Set("error", err.code)
		v.Set("error_description", err.description())
		if s := q.Get("state"); s != "" {
			v.Set("state", s)
		}
		to.RawQuery = v.Encode()
		http.Redirect(w, r, to.String(), http.StatusFound)
	}
	switch {
	case q.Get("response_type") != "code":
		back(&entraErr{"unsupported_response_type", 70005, fmt.Sprintf("The provided value for the input parameter 'response_type' is not allowed for this request. Expected value: 'code'. Actual value: '%s' (the fake supports the authorization code flow only).", q.Get("response_type"))})
		return
	case q.Get("response_mode") != "" && q.Get("response_mode") != "query":
		back(&entraErr{"invalid_request", 90100, "response_mode: the fake supports query only."})
		return
	case q.Get("scope") == "":
		back(errMissing("scope"))
		return
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		back(&entraErr{"invalid_request", 50147, "PKCE with code_challenge_method S256 is required (the fake is stricter than Entra, which also accepts plain: MCP requires S256)."})
		return
	}
	req, err := e.resolveScopes(q.Get("scope"), clientID)
	if err == nil {
		err = e.checkResource(q, req)
	}
	if err == nil && len(req.api) > 0 && !slices.Contains(e.oauth.cfg.PreAuthorized, clientID) {
		err = &entraErr{"consent_required", 65001, fmt.Sprintf("The user or administrator has not consented to use the application with ID '%s'. Send an interactive authorization request for this user and resource (the fake shows no consent page: pre-authorize the client).", clientID)}
	}
	if err != nil {
		back(err)
		return
	}
	code := "code-" + newOpaque(32)
	e.mu.Lock()
	if e.oauth.cfg.PartialFirstConsent && e.oauth.authorizations == 0 && len(req.api) > 1 {
		req.api = req.api[:1]
	}
	e.oauth.authorizations++
	e.oauth.codes[code] = &oauthGrant{clientID: clientID, redirectURI: redirect, challenge: q.Get("code_challenge"), scopes: req.api, offline: req.offline, openid: req.openid, issued: e.oauth.now()}
	e.mu.Unlock()
	e.recordOAuth(OAuthEvent{Endpoint: "authorize", Params: q, Granted: shortScopes(req.api)}, nil)
	to, _ := url.Parse(redirect)
	v := to.Query()
	v.Set("code", code)
	if s := q.Get("state"); s != "" {
		v.Set("state", s)
	}
	v.Set("session_state", newOpaque(16))
	to.RawQuery = v.Encode()
	http.Redirect(w, r, to.String(), http.StatusFound)
}

// oauthToken is the token endpoint (with WithOAuth) for every grant but
// On-Behalf-Of: the authorization_code and refresh_token grants of public
// clients.
func (e *Entra) oauthToken(w http.ResponseWriter, r *http.Request, form url.Values) {
	fail := func(err *entraErr) {
		e.recordOAuth(OAuthEvent{Endpoint: "token", Params: form}, err)
		writeEntraError(w, err)
	}
	if r.PathValue("tenant") != e.tenant {
		fail(errTenant(r.PathValue("tenant")))
		return
	}
	grantType := form.Get("grant_type")
	if grantType == "" {
		fail(errMissing("grant_type"))
		return
	}
	if grantType != "authorization_code" && grantType != "refresh_token" {
		fail(&entraErr{"unsupported_grant_type", 70003, fmt.Sprintf("The app requested an unsupported grant type '%s' (the fake supports authorization_code, refresh_token and On-Behalf-Of).", grantType)})
		return
	}
	clientID := form.Get("client_id")
	if clientID == "" {
		fail(errMissing("client_id"))
		return
	}
	if _, ok := e.client(clientID); !ok {
		fail(errUnknownClient(clientID, e.tenant))
		return
	}
	if form.Get("client_secret") != "" || form.Get("client_assertion") != "" {
		fail(&entraErr{"invalid_client", 700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented."})
		return
	}
	var g *oauthGrant
	var err *entraErr
	if grantType == "authorization_code" {
		g, err = e.redeemCode(form, clientID)
	} else {
		g, err = e.redeemRefresh(form, clientID)
	}
	if err != nil {
		fail(err)
		return
	}
	// The scopes of this leg: the scope parameter (a Microsoft extension,
	// for one resource) or, without it, those of the grant.
	req := scopeRequest{api: g.scopes, offline: g.offline, openid: g.openid}
	if form.Get("scope") != "" {
		if req, err = e.resolveScopes(form.Get("scope"), clientID); err != nil {
			fail(err)
			return
		}
		for _, s := range req.api {
			if !slices.Contains(g.scopes, s) {
				fail(&entraErr{"invalid_grant", 65001, fmt.Sprintf("The user or administrator has not consented to use the application with ID '%s' for scope '%s'. Send an interactive authorization request for this user and resource.", clientID, s)})
				return
			}
		}
	}
	if err := e.checkResource(form, req); err != nil {
		fail(err)
		return
	}
	if len(req.api) == 0 {
		fail(&entraErr{"invalid_scope", 70011, "The provided value for the input parameter 'scope' isn't valid: the fake issues tokens for its API only, not for Microsoft Graph."})
		return
	}
	body, scp := e.issue(r, clientID, req, g.scopes)
	e.recordOAuth(OAuthEvent{Endpoint: "token", Params: form, Granted: scp}, nil)
	WriteJSON(w, http.StatusOK, body)
}

// redeemCode checks an authorization_code grant and returns its grant.
func (e *Entra) redeemCode(form url.Values, clientID string) (*oauthGrant, *entraErr) {
	code := form.Get("code")
	if code == "" {
		return nil, errMissing("code")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	g, ok := e.oauth.codes[code]
	switch {
	case !ok:
		return nil, &entraErr{"invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."}
	case g.used:
		return nil, &entraErr{"invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token."}
	case e.oauth.now().Sub(g.issued) > oauthCodeLifetime:
		return nil, &entraErr{"invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource."}
	case g.clientID != clientID:
		return nil, &entraErr{"invalid_grant", 70000, "The provided value for the 'code' parameter is not valid: the code was issued to another client."}
	case form.Get("redirect_uri") != g.redirectURI:
		return nil, &entraErr{"invalid_grant", 500112, fmt.Sprintf("The reply address '%s' does not match the reply address '%s' provided when requesting Authorization code.", form.Get("redirect_uri"), g.redirectURI)}
	}
	sum := sha256.Sum256([]byte(form.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		g.used = true // a failed redemption spends the code too
		return nil, &entraErr{"invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request."}
	}
	g.used = true
	return g, nil
}

// redeemRefresh checks a refresh_token grant and returns its grant.
func (e *Entra) redeemRefresh(form url.Values, clientID string) (*oauthGrant, *entraErr) {
	rt := form.Get("refresh_token")
	if rt == "" {
		return nil, errMissing("refresh_token")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	g, ok := e.oauth.refresh[rt]
	if !ok || g.clientID != clientID {
		return nil, &entraErr{"invalid_grant", 9002313, "Invalid request. Request is malformed or invalid: the refresh token is not valid for this client."}
	}
	return g, nil
}

// shortScopes are the short names of full scope names, as in scp.
func shortScopes(full []string) []string {
	var short []string
	for _, s := range full {
		short = append(short, s[strings.LastIndex(s, "/")+1:])
	}
	return short
}

// issue mints the tokens of a successful token request for req, out of
// the scopes granted, and returns the answer and the access token's scp.
func (e *Entra) issue(r *http.Request, clientID string, req scopeRequest, granted []string) (map[string]any, []string) {
	issuer := authorityBase(r) + "/v2.0"
	claims := UserClaims(issuer, e.tenant, e.clientID, e.oauth.cfg.User)
	short := shortScopes(req.api)
	claims["scp"] = strings.Join(short, " ")
	claims["azp"] = clientID
	claims["azpacr"] = "0" // a public client
	claims["preferred_username"] = e.oauth.cfg.User + "@example.com"
	claims["uti"] = newOpaque(16)
	lifetime := int64(e.oauth.cfg.AccessTokenLifetime / time.Second)
	claims["exp"] = e.oauth.now().Unix() + lifetime
	out := map[string]any{
		"token_type":     "Bearer",
		"scope":          strings.Join(req.api, " "),
		"expires_in":     lifetime,
		"ext_expires_in": lifetime,
		"access_token":   e.signer.Sign(claims),
	}
	if req.offline {
		rt := "rt-" + newOpaque(48)
		e.mu.Lock()
		e.oauth.refresh[rt] = &oauthGrant{clientID: clientID, scopes: granted, offline: true, openid: req.openid, issued: e.oauth.now()}
		e.mu.Unlock()
		out["refresh_token"] = rt
	}
	if req.openid {
		id := UserClaims(issuer, e.tenant, clientID, e.oauth.cfg.User)
		delete(id, "scp")
		delete(id, "azp")
		id["preferred_username"] = e.oauth.cfg.User + "@example.com"
		out["id_token"] = e.signer.Sign(id)
	}
	return out, short
}
