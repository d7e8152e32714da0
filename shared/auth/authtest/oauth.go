package authtest

// This file is a fake Microsoft Entra ID authorization server for the
// authorization code flow that MCP clients go through: what a client sees
// when the protected resource metadata names
// {authority}/{tenant}/v2.0 as its authorization server. It follows the
// Microsoft identity platform v2.0 endpoints as documented and as reported
// by people who ran MCP clients against them:
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
//     app's client ID as prefix, or <prefix>/.default. A bare scope name
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
//     token, for the same client. Errors are Entra's JSON (error,
//     error_description beginning AADSTSnnnn, error_codes, timestamp,
//     trace_id, correlation_id, error_uri); codes are from
//     https://learn.microsoft.com/entra/identity-platform/reference-error-codes.
//
// Where the fake is stricter than Entra it says so: it requires PKCE with
// S256 (MCP requires it; Entra also accepts plain, and no PKCE for
// non-SPA clients), and it supports response_mode=query only.

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// GraphAppID is the application ID of Microsoft Graph, the resource Entra
// resolves a scope without a resource prefix to.
const GraphAppID = "00000003-0000-0000-c000-000000000000"

// OAuthAPI is the app registration of the protected API (the MCP server):
// the application whose scopes clients ask for.
type OAuthAPI struct {
	// ClientID is its application (client) ID: the aud of its v2.0 access
	// tokens.
	ClientID string
	// IdentifierURIs are its Application ID URIs, such as api://<client-id>.
	IdentifierURIs []string
	// Scopes are the delegated permissions it exposes, short names such as
	// user_impersonation.
	Scopes []string
	// PreAuthorized are the client IDs its preAuthorizedApplications list
	// for all its scopes: users sign in to them without a consent prompt.
	PreAuthorized []string
}

// OAuthClient is a public client app registration ("Mobile and desktop
// applications" platform): no secret, sign-in through a browser.
type OAuthClient struct {
	ClientID string
	// RedirectURIs are its registered redirect URIs, such as
	// http://localhost/oauth/callback (any port matches a localhost one).
	RedirectURIs []string
}

// OAuthConfig configures [NewOAuthEntra].
type OAuthConfig struct {
	// Tenant is the tenant ID (a GUID) in the endpoint paths and tid.
	Tenant string
	// API is the application clients ask for tokens for.
	API OAuthAPI
	// Clients are the client registrations that may sign in.
	Clients []OAuthClient
	// User is the user the authorization endpoint signs in ("ada" when
	// empty); tokens carry [OID] of it as oid and it as name.
	User string
	// AccessTokenLifetime is how long access tokens are valid (expires_in
	// and exp): an hour when zero. Entra's default is 60 to 90 minutes; a
	// short one makes clients refresh.
	AccessTokenLifetime time.Duration
}

// OAuthEvent is one answer of the fake's authorization or token
// endpoint: what was asked (without codes, verifiers, tokens or secrets)
// and the Entra error it answered, if any.
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
}

// OAuthEntra is a fake Entra authority for the authorization code flow of
// one tenant; see the top of this file for what it does.
type OAuthEntra struct {
	// URL is the authority host, for AZURE_AUTHORITY_HOST ("" for one from
	// NewOAuthEntraHandler).
	URL string

	cfg    OAuthConfig
	signer *Signer
	mux    *http.ServeMux
	now    func() time.Time

	mu      sync.Mutex
	codes   map[string]*oauthGrant
	refresh map[string]*oauthGrant
	events  []OAuthEvent
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

// NewOAuthEntra starts a fake Entra authority over plain HTTP on loopback
// (the token verifier and AZURE_AUTHORITY_HOST accept http only there) and
// closes it when the test ends. Its issuer is URL/{tenant}/v2.0.
func NewOAuthEntra(t testing.TB, cfg OAuthConfig) *OAuthEntra {
	t.Helper()
	signer, err := NewSigner()
	if err != nil {
		t.Fatalf("fake Entra: %v", err)
	}
	e := NewOAuthEntraHandler(cfg, signer)
	srv := httptest.NewServer(e)
	e.URL = srv.URL
	t.Cleanup(srv.Close)
	return e
}

// NewOAuthEntraHandler is the authority of [NewOAuthEntra] without a
// server: serve it yourself. URLs in its answers name the host each
// request was sent to.
func NewOAuthEntraHandler(cfg OAuthConfig, signer *Signer) *OAuthEntra {
	if cfg.User == "" {
		cfg.User = "ada"
	}
	if cfg.AccessTokenLifetime <= 0 {
		cfg.AccessTokenLifetime = time.Hour
	}
	e := &OAuthEntra{cfg: cfg, signer: signer, now: time.Now, codes: map[string]*oauthGrant{}, refresh: map[string]*oauthGrant{}}
	e.mux = http.NewServeMux()
	e.mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", e.metadata)
	e.mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, signer.KeySet())
	})
	e.mux.HandleFunc("GET /{tenant}/oauth2/v2.0/authorize", e.authorize)
	e.mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", e.token)
	// Everything else, the RFC 8414 paths and any registration endpoint
	// included, does not exist.
	e.mux.HandleFunc("/", http.NotFound)
	return e
}

// ServeHTTP serves the fake authority.
func (e *OAuthEntra) ServeHTTP(w http.ResponseWriter, r *http.Request) { e.mux.ServeHTTP(w, r) }

// Issuer is the v2.0 issuer of the tenant at URL.
func (e *OAuthEntra) Issuer() string { return e.URL + "/" + e.cfg.Tenant + "/v2.0" }

// Events lists the answers of the authorization and token endpoints so
// far, oldest first.
func (e *OAuthEntra) Events() []OAuthEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.events)
}

// Errors lists the events that were errors.
func (e *OAuthEntra) Errors() []OAuthEvent {
	var out []OAuthEvent
	for _, ev := range e.Events() {
		if ev.Error != "" {
			out = append(out, ev)
		}
	}
	return out
}

func (e *OAuthEntra) record(endpoint string, params url.Values, err *entraErr, page bool) {
	p := url.Values{}
	for k, v := range params {
		switch k {
		case "code", "code_verifier", "refresh_token", "client_secret", "client_assertion":
		default:
			p[k] = slices.Clone(v)
		}
	}
	ev := OAuthEvent{Endpoint: endpoint, Params: p, Page: page}
	if err != nil {
		ev.Error, ev.AADSTS = err.code, err.aadsts
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, ev)
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
func (e *OAuthEntra) metadata(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("tenant") != e.cfg.Tenant {
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

func (e *OAuthEntra) client(id string) (OAuthClient, bool) {
	for _, c := range e.cfg.Clients {
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
func (e *OAuthEntra) apiPrefix(p string) bool {
	return p == e.cfg.API.ClientID || p == "api://"+e.cfg.API.ClientID || slices.Contains(e.cfg.API.IdentifierURIs, p)
}

// resolveScopes resolves a scope parameter as Entra does: each scope's
// resource is its prefix up to the last slash, Microsoft Graph when it
// has none. clientID names the application in errors.
func (e *OAuthEntra) resolveScopes(scope, clientID string) (scopeRequest, *entraErr) {
	var req scopeRequest
	for _, s := range strings.Fields(scope) {
		if oidcScope(s) {
			req.offline = req.offline || s == "offline_access"
			req.openid = req.openid || s == "openid"
			continue
		}
		i := strings.LastIndex(s, "/")
		if i <= 0 {
			return req, &entraErr{"invalid_scope", 650053, fmt.Sprintf("The application '%s' asked for scope '%s' that doesn't exist on the resource '%s'. Contact the app vendor.", clientID, s, GraphAppID)}
		}
		prefix, name := s[:i], s[i+1:]
		if !e.apiPrefix(prefix) {
			return req, &entraErr{"invalid_resource", 500011, fmt.Sprintf("The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", prefix, e.cfg.Tenant)}
		}
		switch {
		case name == ".default":
			for _, n := range e.cfg.API.Scopes {
				req.api = append(req.api, e.fullScope(n))
			}
		case slices.Contains(e.cfg.API.Scopes, name):
			req.api = append(req.api, e.fullScope(name))
		default:
			return req, &entraErr{"invalid_scope", 650053, fmt.Sprintf("The application '%s' asked for scope '%s' that doesn't exist on the resource '%s'. Contact the app vendor.", clientID, name, e.cfg.API.ClientID)}
		}
	}
	slices.Sort(req.api)
	req.api = slices.Compact(req.api)
	return req, nil
}

// fullScope is the full name of one of the API's scopes, with its first
// identifier URI (or api://<client ID>) as prefix.
func (e *OAuthEntra) fullScope(name string) string {
	prefix := "api://" + e.cfg.API.ClientID
	if len(e.cfg.API.IdentifierURIs) > 0 {
		prefix = e.cfg.API.IdentifierURIs[0]
	}
	return prefix + "/" + name
}

// checkResource refuses a resource parameter that is not the resource of
// the scopes asked for (AADSTS9010010); none is fine.
func (e *OAuthEntra) checkResource(params url.Values, req scopeRequest) *entraErr {
	if _, sent := params["resource"]; !sent {
		return nil
	}
	if len(req.api) > 0 && e.apiPrefix(params.Get("resource")) {
		return nil
	}
	return errResourceMismatch
}

// authorize is the authorization endpoint.
func (e *OAuthEntra) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page := func(err *entraErr) {
		e.record("authorize", q, err, true)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "<!DOCTYPE html><title>Sign in to your account</title><p>Sorry, but we're having trouble signing you in.</p><p>%s</p>\n", html.EscapeString(err.description()))
	}
	if r.PathValue("tenant") != e.cfg.Tenant {
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
		page(errUnknownClient(clientID, e.cfg.Tenant))
		return
	}
	if redirect == "" || !redirectRegistered(c, redirect) {
		page(&entraErr{"invalid_request", 50011, fmt.Sprintf("The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.", redirect, clientID)})
		return
	}
	// From here on, errors go to the redirect URI.
	back := func(err *entraErr) {
		e.record("authorize", q, err, false)
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
	if err == nil && len(req.api) > 0 && !slices.Contains(e.cfg.API.PreAuthorized, clientID) {
		err = &entraErr{"consent_required", 65001, fmt.Sprintf("The user or administrator has not consented to use the application with ID '%s'. Send an interactive authorization request for this user and resource (the fake shows no consent page: pre-authorize the client).", clientID)}
	}
	if err != nil {
		back(err)
		return
	}
	code := "code-" + newOpaque(32)
	e.mu.Lock()
	e.codes[code] = &oauthGrant{clientID: clientID, redirectURI: redirect, challenge: q.Get("code_challenge"), scopes: req.api, offline: req.offline, openid: req.openid, issued: e.now()}
	e.mu.Unlock()
	e.record("authorize", q, nil, false)
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

// token is the token endpoint: the authorization_code and refresh_token
// grants of public clients.
func (e *OAuthEntra) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeEntraError(w, &entraErr{"invalid_request", 90014, "The request body is not a valid form."})
		return
	}
	form := r.PostForm
	fail := func(err *entraErr) {
		e.record("token", form, err, false)
		writeEntraError(w, err)
	}
	if r.PathValue("tenant") != e.cfg.Tenant {
		fail(errTenant(r.PathValue("tenant")))
		return
	}
	grantType := form.Get("grant_type")
	if grantType == "" {
		fail(errMissing("grant_type"))
		return
	}
	if grantType != "authorization_code" && grantType != "refresh_token" {
		fail(&entraErr{"unsupported_grant_type", 70003, fmt.Sprintf("The app requested an unsupported grant type '%s' (the fake supports authorization_code and refresh_token).", grantType)})
		return
	}
	clientID := form.Get("client_id")
	if clientID == "" {
		fail(errMissing("client_id"))
		return
	}
	if _, ok := e.client(clientID); !ok {
		fail(errUnknownClient(clientID, e.cfg.Tenant))
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
	e.record("token", form, nil, false)
	WriteJSON(w, http.StatusOK, e.issue(r, clientID, req, g.scopes))
}

// redeemCode checks an authorization_code grant and returns its grant.
func (e *OAuthEntra) redeemCode(form url.Values, clientID string) (*oauthGrant, *entraErr) {
	code := form.Get("code")
	if code == "" {
		return nil, errMissing("code")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	g, ok := e.codes[code]
	switch {
	case !ok:
		return nil, &entraErr{"invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."}
	case g.used:
		return nil, &entraErr{"invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token."}
	case e.now().Sub(g.issued) > oauthCodeLifetime:
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
func (e *OAuthEntra) redeemRefresh(form url.Values, clientID string) (*oauthGrant, *entraErr) {
	rt := form.Get("refresh_token")
	if rt == "" {
		return nil, errMissing("refresh_token")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	g, ok := e.refresh[rt]
	if !ok || g.clientID != clientID {
		return nil, &entraErr{"invalid_grant", 9002313, "Invalid request. Request is malformed or invalid: the refresh token is not valid for this client."}
	}
	return g, nil
}

// issue mints the tokens of a successful token request for req, out of
// the scopes granted.
func (e *OAuthEntra) issue(r *http.Request, clientID string, req scopeRequest, granted []string) map[string]any {
	issuer := authorityBase(r) + "/v2.0"
	claims := UserClaims(issuer, e.cfg.Tenant, e.cfg.API.ClientID, e.cfg.User)
	var short []string
	for _, s := range req.api {
		short = append(short, s[strings.LastIndex(s, "/")+1:])
	}
	claims["scp"] = strings.Join(short, " ")
	claims["azp"] = clientID
	claims["azpacr"] = "0" // a public client
	claims["preferred_username"] = e.cfg.User + "@example.com"
	claims["uti"] = newOpaque(16)
	lifetime := int64(e.cfg.AccessTokenLifetime / time.Second)
	claims["exp"] = e.now().Unix() + lifetime
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
		e.refresh[rt] = &oauthGrant{clientID: clientID, scopes: granted, offline: true, openid: req.openid, issued: e.now()}
		e.mu.Unlock()
		out["refresh_token"] = rt
	}
	if req.openid {
		id := UserClaims(issuer, e.cfg.Tenant, clientID, e.cfg.User)
		delete(id, "scp")
		delete(id, "azp")
		id["preferred_username"] = e.cfg.User + "@example.com"
		out["id_token"] = e.signer.Sign(id)
	}
	return out
}
