// Package authtest provides fakes of the identity services shared/auth
// and the servers talk to, for tests only: a Microsoft Entra ID authority
// ([Entra]: OpenID metadata, a signing key set, access tokens for
// signed-in users and apps that the fake signs, a token endpoint for the
// On-Behalf-Of grant that checks what it receives, and, when configured,
// the authorization code flow with PKCE and refresh tokens that MCP clients
// sign in with) and an App Service managed-identity endpoint. They serve
// on loopback.
//
// They follow the services' documented behaviour, which is what the real
// clients (go-oidc, MSAL, azidentity, MCP clients) send and expect:
//
//   - Entra: GET {authority}/{tenant}/v2.0/.well-known/openid-configuration
//     names the issuer {authority}/{tenant}/v2.0, the authorization
//     endpoint {authority}/{tenant}/oauth2/v2.0/authorize, the token
//     endpoint {authority}/{tenant}/oauth2/v2.0/token and the jwks_uri; the
//     token endpoint takes the On-Behalf-Of grant as a form:
//     grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer,
//     requested_token_use=on_behalf_of, the caller's token as assertion,
//     client_id, scope, and the app's credential (client_secret, or a
//     client_assertion of type
//     urn:ietf:params:oauth:client-assertion-type:jwt-bearer: a certificate
//     JWT, or the managed identity's token). It answers
//     {"token_type":"Bearer","expires_in":…,"access_token":…}, and errors
//     as {"error":…,"error_description":"AADSTS…","error_codes":[…],
//     "trace_id":…,"correlation_id":…} with suberror and claims when they
//     apply. See
//     https://learn.microsoft.com/entra/identity-platform/v2-oauth2-on-behalf-of-flow
//     and
//     https://learn.microsoft.com/entra/identity-platform/reference-error-codes.
//     The authorization code flow ([WithOAuth]) follows Entra as the top of
//     oauth.go describes, with sources: OpenID discovery only (no RFC 8414
//     metadata, no Dynamic Client Registration), pre-registered public
//     clients whose localhost redirect URIs match on any port, PKCE,
//     pre-authorized clients, scopes that name their resource,
//     AADSTS9010010 for an RFC 8707 resource parameter next to the app's
//     scopes, single-use authorization codes, and refresh tokens for
//     offline_access.
//   - App Service managed identity: GET $IDENTITY_ENDPOINT with the
//     X-IDENTITY-HEADER header ($IDENTITY_HEADER) and the query
//     api-version=2019-08-01, resource and client_id (a user-assigned
//     identity); it answers {"access_token":…,"expires_on":"<unix
//     seconds>","resource":…,"token_type":"Bearer","client_id":…}. See
//     https://learn.microsoft.com/azure/app-service/overview-managed-identity#rest-endpoint-reference.
package authtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Audience is the managed identity token's default audience for the token
// exchange.
const Audience = "api://AzureADTokenExchange"

// IdentityHeader is the secret the fake managed-identity endpoint expects
// in X-IDENTITY-HEADER (IDENTITY_HEADER in the app's environment).
const IdentityHeader = "identity-header-value"

// Responder writes a token endpoint answer for the On-Behalf-Of form it
// received and reports whether it did; returning false falls back to
// success.
type Responder func(w http.ResponseWriter, r *http.Request, form url.Values) bool

// Entra is a fake Entra authority for one tenant and app (clientID: the
// app whose tokens the verifier accepts, and which exchanges them On
// Behalf Of its users). With [WithOAuth] it is also the authorization
// server MCP clients sign in to that app with.
type Entra struct {
	// URL is the authority host, for AZURE_AUTHORITY_HOST ("" for an Entra
	// from NewEntraHandler, until its caller sets it).
	URL string
	// Client is an HTTP client for the fake, trusting its TLS certificate
	// (nil for an Entra from NewEntraHandler).
	Client *http.Client

	tenant, clientID string
	signer           *Signer
	mux              *http.ServeMux
	// record keeps the issued tokens for AssertionFor and IssuedTokens.
	record bool
	// plainHTTP makes NewEntra serve http rather than https.
	plainHTTP bool

	metadataGets atomic.Int64
	keysGets     atomic.Int64
	tokenPosts   atomic.Int64

	mu                  sync.Mutex
	wantClientAssertion string
	wantClientSecret    string
	wantJWTAssertion    bool
	wantScope           string
	delay               time.Duration
	respond             Responder
	lastForm            url.Values
	issued              map[string]string // access token -> user assertion
	problems            problems
	// oauth is the authorization code flow (nil without WithOAuth).
	oauth *oauthState
}

// An EntraOption configures an Entra from [NewEntra] or
// [NewEntraHandler].
type EntraOption func(*Entra)

// PlainHTTP makes [NewEntra] serve over plain http rather than https, for
// clients that cannot trust the test's certificate (a server in another
// process, Node clients); the token verifier and AZURE_AUTHORITY_HOST
// accept http on loopback. MSAL sends the On-Behalf-Of exchange only to
// https authorities: leave it out for that. [NewEntraHandler] ignores it.
func PlainHTTP() EntraOption { return func(e *Entra) { e.plainHTTP = true } }

// NewEntra starts a fake authority for tenant, over https unless
// [PlainHTTP], whose token endpoint accepts On-Behalf-Of requests from
// clientID (and, with [WithOAuth], the authorization code flow). Requests
// that are wired wrong (a wrong grant type, say) are refused, and fail t
// when the test ends.
func NewEntra(t testing.TB, tenant, clientID string, opts ...EntraOption) *Entra {
	t.Helper()
	signer, err := NewSigner()
	if err != nil {
		t.Fatalf("fake Entra: %v", err)
	}
	e := NewEntraHandler(tenant, clientID, signer, opts...)
	e.record = true
	var srv *httptest.Server
	if e.plainHTTP {
		srv = httptest.NewServer(e)
	} else {
		srv = httptest.NewTLSServer(e)
	}
	e.URL, e.Client = srv.URL, srv.Client()
	t.Cleanup(func() {
		srv.Close()
		for _, p := range e.Problems() {
			t.Errorf("fake Entra: %s", p)
		}
	})
	return e
}

// NewEntraHandler is the fake authority of [NewEntra] without a server or a
// testing.TB, for fakes that run outside tests (bench/userinfofake) or
// that a test serves itself: serve it over TLS for MSAL (which sends the
// exchange only to https authorities), set URL if you call the methods
// that name it, and read [Entra.Problems] at the end. It signs with
// signer, and it keeps no record of the On-Behalf-Of tokens it issues
// (AssertionFor and IssuedTokens find nothing), so that a long run does not
// grow it. It serves
//
//   - GET /{tenant}/v2.0/.well-known/openid-configuration, Entra's
//     document with URLs on the host the request named (another tenant:
//     AADSTS90002);
//   - GET /{tenant}/discovery/v2.0/keys, signer's key set;
//   - POST /{tenant}/oauth2/v2.0/token, the On-Behalf-Of grant: it checks
//     the request (and what the Expect methods ask for), refuses one that
//     is wired wrong with 400 invalid_request, and otherwise answers with a
//     new access token that begins with [AccessTokenPrefix] (or as
//     [Entra.SetResponder] says);
//   - with [WithOAuth], GET /{tenant}/oauth2/v2.0/authorize and the
//     authorization_code and refresh_token grants, as [OAuthConfig] says;
//     other grants but On-Behalf-Of get Entra's unsupported_grant_type.
//
// Any other request is refused with 404 and is a problem, except, with
// [WithOAuth], the discovery (/.well-known/…) and registration (…/register)
// paths Entra lacks, which MCP clients probe: they answer 404 only.
func NewEntraHandler(tenant, clientID string, signer *Signer, opts ...EntraOption) *Entra {
	e := &Entra{tenant: tenant, clientID: clientID, signer: signer, issued: map[string]string{}}
	for _, o := range opts {
		o(e)
	}
	e.mux = http.NewServeMux()
	e.mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", e.metadata)
	e.mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", func(w http.ResponseWriter, r *http.Request) {
		e.keysGets.Add(1)
		WriteJSON(w, http.StatusOK, signer.KeySet())
	})
	e.mux.HandleFunc("GET /{tenant}/oauth2/v2.0/authorize", e.authorize)
	e.mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", e.token)
	e.mux.HandleFunc("/", e.unexpected)
	return e
}

// unexpected answers a request the fake does not serve with 404.
func (e *Entra) unexpected(w http.ResponseWriter, r *http.Request) {
	if e.oauth != nil && (strings.Contains(r.URL.Path, "/.well-known/") || strings.HasSuffix(r.URL.Path, "/register")) {
		// The RFC 8414 paths and a registration endpoint do not exist at
		// Entra; MCP clients probe them.
		http.NotFound(w, r)
		return
	}
	e.refuse(w, http.StatusNotFound, fmt.Sprintf("unexpected request %s %s", r.Method, r.URL.Path))
}

// ServeHTTP serves the fake authority.
func (e *Entra) ServeHTTP(w http.ResponseWriter, r *http.Request) { e.mux.ServeHTTP(w, r) }

// Problems are the requests the fake refused, with the reason: the first
// 20, and then how many more.
func (e *Entra) Problems() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.problems.list()
}

// AccessTokenPrefix begins every access token the fake Entra issues.
const AccessTokenPrefix = "graph-at-"

// signingKeyID is the kid of a Signer's key.
const signingKeyID = "authtest-key"

// UserScope is the delegated scope in the tokens [Entra.UserToken] issues.
const UserScope = "user_impersonation"

// Signer signs access tokens with one RSA key and publishes that key as a
// JSON Web Key Set, as Entra does at its jwks_uri. It needs no testing.TB,
// so fakes that run outside tests (bench/userinfofake) can use it too.
type Signer struct{ key *rsa.PrivateKey }

// NewSigner makes a Signer with a fresh 2048-bit key.
func NewSigner() (*Signer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("authtest: signing key: %w", err)
	}
	return &Signer{key: key}, nil
}

// KeySet is the JSON Web Key Set document with the signing key.
func (s *Signer) KeySet() map[string]any {
	return map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": signingKeyID,
		"n": base64.RawURLEncoding.EncodeToString(s.key.PublicKey.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(s.key.PublicKey.E)).Bytes()),
	}}}
}

// Sign returns claims as a compact RS256 JWT signed with the key.
func (s *Signer) Sign(claims map[string]any) string {
	h, _ := json.Marshal(map[string]any{"alg": "RS256", "typ": "JWT", "kid": signingKeyID})
	c, err := json.Marshal(claims)
	if err != nil {
		panic(fmt.Sprintf("authtest: claims: %v", err))
	}
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, sum[:])
	if err != nil {
		panic(fmt.Sprintf("authtest: sign: %v", err))
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// UserClaims returns the claims of a v2.0 access token that Entra at
// issuer ({authority}/{tenant}/v2.0) would issue to the signed-in user
// named user for the app clientID, valid for an hour: iss, tid, aud
// (clientID), oid ([OID] of user), sub, scp (UserScope), name (user, which
// [UserOf] reads back), azp (VS Code's client ID), ver, iat, nbf, exp.
func UserClaims(issuer, tenant, clientID, user string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss":  issuer,
		"tid":  tenant,
		"aud":  clientID,
		"oid":  OID(user),
		"sub":  "sub-" + ShortHash(user),
		"scp":  UserScope,
		"name": user,
		"azp":  "aebc6443-996d-45c2-90f0-388ff96faa56",
		"ver":  "2.0",
		"iat":  now.Add(-time.Minute).Unix(),
		"nbf":  now.Add(-time.Minute).Unix(),
		"exp":  now.Add(time.Hour).Unix(),
	}
}

// Issuer is the v2.0 issuer of the fake's tenant, as in the iss claim.
func (e *Entra) Issuer() string { return e.URL + "/" + e.tenant + "/v2.0" }

// UserClaims is [UserClaims] for this fake's tenant and app. Edit them and
// pass them to [Entra.Sign] for other tokens.
func (e *Entra) UserClaims(user string) map[string]any {
	return UserClaims(e.Issuer(), e.tenant, e.clientID, user)
}

// UserToken is [Entra.UserClaims] of user, signed by the fake: a token the
// verifier accepts for the app.
func (e *Entra) UserToken(user string) string { return e.Sign(e.UserClaims(user)) }

// Sign signs claims with the key the fake publishes.
func (e *Entra) Sign(claims map[string]any) string { return e.signer.Sign(claims) }

// KeyRequests counts requests for the signing key set.
func (e *Entra) KeyRequests() int64 { return e.keysGets.Load() }

// OID is the object ID (a GUID) of the user named user in tokens the fake
// issues.
func OID(user string) string {
	h := sha256.Sum256([]byte("oid:" + user))
	x := hex.EncodeToString(h[:16])
	return x[0:8] + "-" + x[8:12] + "-4" + x[13:16] + "-8" + x[17:20] + "-" + x[20:32]
}

// Claim returns the claim name of a JWT, read without verification (tests
// only), or "" when it is not a string or token is not a JWT.
func Claim(token, name string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims map[string]any
	if json.Unmarshal(b, &claims) != nil {
		return ""
	}
	s, _ := claims[name].(string)
	return s
}

// UserOf returns the user a token from [Entra.UserToken] was issued to
// (its name claim), or "" for anything else.
func UserOf(token string) string { return Claim(token, "name") }

// Principal is an X-MS-CLIENT-PRINCIPAL value as Easy Auth adds it for a
// caller with this object ID and tenant (either may be "" to leave the
// claim out).
func Principal(oid, tenant string) string {
	claims := []map[string]string{{"typ": "name", "val": "Ada Lovelace"}}
	if oid != "" {
		claims = append(claims, map[string]string{"typ": "http://schemas.microsoft.com/identity/claims/objectidentifier", "val": oid})
	}
	if tenant != "" {
		claims = append(claims, map[string]string{"typ": "http://schemas.microsoft.com/identity/claims/tenantid", "val": tenant})
	}
	b, _ := json.Marshal(map[string]any{"auth_typ": "aad", "name_typ": "name", "role_typ": "roles", "claims": claims})
	return base64.StdEncoding.EncodeToString(b)
}

// EasyAuthHeaders are the headers Easy Auth passes to the app for a caller
// whose access token is token: Authorization unchanged, and
// X-MS-CLIENT-PRINCIPAL and X-MS-CLIENT-PRINCIPAL-ID for the token's oid
// and tid.
func EasyAuthHeaders(token string) http.Header {
	oid := Claim(token, "oid")
	return http.Header{
		"Authorization":            {"Bearer " + token},
		"X-Ms-Client-Principal":    {Principal(oid, Claim(token, "tid"))},
		"X-Ms-Client-Principal-Id": {oid},
	}
}

// ExpectClientAssertion makes the token endpoint require this
// client_assertion (the managed identity's token).
func (e *Entra) ExpectClientAssertion(a string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.wantClientAssertion = a
}

// ExpectClientSecret makes the token endpoint require this client_secret
// (an app authenticating with a client secret).
func (e *Entra) ExpectClientSecret(secret string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.wantClientSecret = secret
}

// ExpectJWTClientAssertion makes the token endpoint require a JWT bearer
// client_assertion shaped like a compact JWT (three non-empty dot-separated
// parts), as an app authenticating with a certificate sends. Its signature
// is not checked.
func (e *Entra) ExpectJWTClientAssertion() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.wantJWTAssertion = true
}

// ExpectScope makes the token endpoint require scope among the
// space-separated scopes of every later token request ("": any scopes).
// Call it again to expect another scope from then on.
func (e *Entra) ExpectScope(scope string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.wantScope = scope
}

// SetDelay holds every On-Behalf-Of answer for d.
func (e *Entra) SetDelay(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.delay = d
}

// SetResponder replaces the On-Behalf-Of success answer where r says so
// (nil: always succeed).
func (e *Entra) SetResponder(r Responder) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.respond = r
}

// LastTokenForm returns a copy of the form of the latest token request
// (nil before the first).
func (e *Entra) LastTokenForm() url.Values {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.lastForm == nil {
		return nil
	}
	out := make(url.Values, len(e.lastForm))
	for k, v := range e.lastForm {
		out[k] = slices.Clone(v)
	}
	return out
}

// TokenRequests counts token endpoint requests.
func (e *Entra) TokenRequests() int64 { return e.tokenPosts.Load() }

// MetadataRequests counts OpenID metadata requests (MSAL's and the token
// verifier's).
func (e *Entra) MetadataRequests() int64 { return e.metadataGets.Load() }

// AssertionFor returns the user assertion an access token was issued for
// (an Entra from NewEntra).
func (e *Entra) AssertionFor(accessToken string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a, ok := e.issued[accessToken]
	return a, ok
}

// IssuedTokens lists every access token issued (by an Entra from
// NewEntra).
func (e *Entra) IssuedTokens() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]string, 0, len(e.issued))
	for k := range e.issued {
		out = append(out, k)
	}
	return out
}

// refuse records problem and answers it with status, as an Entra error.
func (e *Entra) refuse(w http.ResponseWriter, status int, problem string) {
	e.mu.Lock()
	e.problems.add(problem)
	e.mu.Unlock()
	WriteJSON(w, status, map[string]any{"error": "invalid_request", "error_description": "fake Entra: " + problem})
}

// tokenProblem returns what is wrong with an On-Behalf-Of request, or "".
func (e *Entra) tokenProblem(r *http.Request, form url.Values) string {
	e.mu.Lock()
	wantCA, wantSecret, wantJWT, wantScope := e.wantClientAssertion, e.wantClientSecret, e.wantJWTAssertion, e.wantScope
	e.mu.Unlock()
	if r.PathValue("tenant") != e.tenant {
		return fmt.Sprintf("tenant %q, want %q", r.PathValue("tenant"), e.tenant)
	}
	checks := [][2]string{
		{"grant_type", oboGrantType},
		{"requested_token_use", "on_behalf_of"},
		{"client_id", e.clientID},
	}
	if wantCA != "" {
		checks = append(checks, [2]string{"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, [2]string{"client_assertion", wantCA})
	}
	if wantSecret != "" {
		checks = append(checks, [2]string{"client_secret", wantSecret})
	}
	if wantJWT {
		checks = append(checks, [2]string{"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})
	}
	for _, c := range checks {
		if got := form.Get(c[0]); got != c[1] {
			return fmt.Sprintf("%s = %q, want %q", c[0], got, c[1])
		}
	}
	switch {
	case form.Get("assertion") == "":
		return "no assertion"
	case wantScope != "" && !slices.Contains(strings.Fields(form.Get("scope")), wantScope):
		return fmt.Sprintf("scope %q, want it to include %q", form.Get("scope"), wantScope)
	}
	if parts := strings.Split(form.Get("client_assertion"), "."); wantJWT && (len(parts) != 3 || slices.Contains(parts, "")) {
		return "client_assertion is not a JWT"
	}
	return ""
}

// oboGrantType is the grant_type of the On-Behalf-Of grant.
const oboGrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// token is the token endpoint: the On-Behalf-Of grant, and with WithOAuth
// the grants of oauthToken.
func (e *Entra) token(w http.ResponseWriter, r *http.Request) {
	n := e.tokenPosts.Add(1)
	if err := r.ParseForm(); err != nil {
		e.refuse(w, http.StatusBadRequest, fmt.Sprintf("parse form: %v", err))
		return
	}
	form := r.PostForm
	e.mu.Lock()
	e.lastForm = form
	delay, respond := e.delay, e.respond
	e.mu.Unlock()
	if e.oauth != nil && form.Get("grant_type") != oboGrantType {
		e.oauthToken(w, r, form)
		return
	}
	if p := e.tokenProblem(r, form); p != "" {
		e.refuse(w, http.StatusBadRequest, p)
		return
	}
	if !wait(r, delay) {
		return
	}
	if respond != nil && respond(w, r, form) {
		return
	}
	at := fmt.Sprintf("%s%s-%d", AccessTokenPrefix, ShortHash(form.Get("assertion")), n)
	if e.record {
		e.mu.Lock()
		e.issued[at] = form.Get("assertion")
		e.mu.Unlock()
	}
	WriteJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600, "access_token": at})
}

// EntraError answers like Entra does when a request fails: error,
// error_description (which, like Entra's, echoes the assertions, so tests
// can prove they never reach an error message), error_codes, trace and
// correlation ids, and optionally suberror and a claims challenge.
func EntraError(status int, errCode, suberror string, code int, claims string) Responder {
	return func(w http.ResponseWriter, r *http.Request, form url.Values) bool {
		body := map[string]any{
			"error":             errCode,
			"error_description": fmt.Sprintf("AADSTS%d: something about assertion %s and client assertion %s. Trace ID: 0000", code, form.Get("assertion"), form.Get("client_assertion")),
			"error_codes":       []int{code},
			"timestamp":         "2026-11-24 10:00:00Z",
			"trace_id":          "4e5b1a3c-0000-4000-8000-000000000001",
			"correlation_id":    "9d1c2b3a-0000-4000-8000-000000000002",
		}
		if suberror != "" {
			body["suberror"] = suberror
		}
		if claims != "" {
			body["claims"] = claims
		}
		WriteJSON(w, status, body)
		return true
	}
}

// ManagedIdentity is a fake App Service managed-identity endpoint
// (IDENTITY_ENDPOINT, IDENTITY_HEADER).
type ManagedIdentity struct {
	// URL is the endpoint, for IDENTITY_ENDPOINT ("" for one from
	// NewManagedIdentityHandler).
	URL string
	// Token is the access token it issues: the client assertion Entra
	// should receive.
	Token string

	clientID string
	requests atomic.Int64
	mu       sync.Mutex
	status   int
	delay    time.Duration
	problems problems
}

// NewManagedIdentity starts the endpoint for a user-assigned identity and
// points IDENTITY_ENDPOINT and IDENTITY_HEADER at it (so call it before
// creating a credential, and never in a parallel test). MSAL caches managed
// identity tokens process-wide: use a client id unique to the test.
// Requests that are wired wrong are refused, and fail t when the test
// ends.
func NewManagedIdentity(t *testing.T, clientID string) *ManagedIdentity {
	t.Helper()
	m := NewManagedIdentityHandler(clientID)
	srv := httptest.NewServer(m)
	m.URL = srv.URL + "/msi/token"
	t.Cleanup(func() {
		srv.Close()
		for _, p := range m.Problems() {
			t.Errorf("fake managed identity: %s", p)
		}
	})
	t.Setenv("IDENTITY_ENDPOINT", m.URL)
	t.Setenv("IDENTITY_HEADER", IdentityHeader)
	return m
}

// NewManagedIdentityHandler is the endpoint of [NewManagedIdentity] without
// a server, a testing.TB or a change to the environment, for fakes that
// run outside tests (bench/userinfofake): serve it at any path, give the
// process under test IDENTITY_ENDPOINT (its URL) and IDENTITY_HEADER
// ([IdentityHeader]), and read [ManagedIdentity.Problems] at the end. A
// request without the X-IDENTITY-HEADER gets 401, and one without the
// resource [Audience], clientID or an api-version 400.
func NewManagedIdentityHandler(clientID string) *ManagedIdentity {
	return &ManagedIdentity{clientID: clientID, Token: "mi-assertion-" + ShortHash(clientID) + "-" + strings.Repeat("m", 20)}
}

// ServeHTTP serves the endpoint.
func (m *ManagedIdentity) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.requests.Add(1)
	q := r.URL.Query()
	status, problem := http.StatusBadRequest, ""
	switch {
	case r.Header.Get("X-IDENTITY-HEADER") != IdentityHeader:
		status, problem = http.StatusUnauthorized, "X-IDENTITY-HEADER "+r.Header.Get("X-IDENTITY-HEADER")
	case q.Get("resource") != Audience:
		problem = "resource " + q.Get("resource")
	case q.Get("client_id") != m.clientID:
		problem = "client_id " + q.Get("client_id")
	case q.Get("api-version") == "":
		problem = "no api-version"
	}
	m.mu.Lock()
	if problem != "" {
		m.problems.add(problem)
	}
	failStatus, delay := m.status, m.delay
	m.mu.Unlock()
	if problem != "" {
		WriteJSON(w, status, map[string]any{"error": "invalid_request", "message": "fake managed identity: " + problem})
		return
	}
	if !wait(r, delay) {
		return
	}
	if failStatus != 0 {
		WriteJSON(w, failStatus, map[string]any{"error": "unavailable", "message": "identity endpoint failing"})
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{
		"access_token": m.Token,
		"expires_on":   fmt.Sprint(time.Now().Add(24 * time.Hour).Unix()),
		"resource":     q.Get("resource"),
		"token_type":   "Bearer",
		"client_id":    q.Get("client_id"),
	})
}

// Problems are the requests the endpoint refused, with the reason: the
// first 20, and then how many more.
func (m *ManagedIdentity) Problems() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.problems.list()
}

// SetStatus makes the endpoint fail with status (0: succeed).
func (m *ManagedIdentity) SetStatus(status int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.status = status
}

// SetDelay makes the endpoint wait d before answering.
func (m *ManagedIdentity) SetDelay(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.delay = d
}

// Requests counts requests to the endpoint.
func (m *ManagedIdentity) Requests() int64 { return m.requests.Load() }

// WriteJSON writes v as a JSON answer with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// ShortHash is a short, stable stand-in for s in generated names.
func ShortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:4])
}

// Getenv returns a function with os.Getenv's signature that reads m, for
// the ConfigFromEnv functions under test.
func Getenv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// WithEnv returns a copy of base with the key-value pairs kv set.
func WithEnv(base map[string]string, kv ...string) map[string]string {
	m := make(map[string]string, len(base)+len(kv)/2)
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// ContainsAny reports whether s contains any non-empty needle, such as
// one of the secrets a text must not show.
func ContainsAny(s string, needles ...string) bool {
	for _, n := range needles {
		if n != "" && strings.Contains(s, n) {
			return true
		}
	}
	return false
}

// problems are the first 20 requests a fake refused, and the number of
// others, so that a fake that runs for long stays bounded. Callers hold
// the fake's lock.
type problems struct {
	first []string
	more  int
}

func (p *problems) add(s string) {
	if len(p.first) < 20 {
		p.first = append(p.first, s)
	} else {
		p.more++
	}
}

func (p *problems) list() []string {
	out := slices.Clone(p.first)
	if p.more > 0 {
		out = append(out, fmt.Sprintf("and %d more", p.more))
	}
	return out
}

// wait holds an answer for d; it reports false when the client gave up
// first.
func wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	select {
	case <-time.After(d):
		return true
	case <-r.Context().Done():
		return false
	}
}
