package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	mcpauth "github.com/modelcontextprotocol/go-sdk/auth"
	"golang.org/x/sync/singleflight"

	"github.com/mcpfunc/mcpfunc/shared/auth/internal/azenv"
)

// Defaults for [VerifierConfig].
const (
	// defaultClockSkew is the tolerance applied to exp and nbf.
	defaultClockSkew = 2 * time.Minute
	// discoveryTimeout bounds one OpenID discovery or JWKS request.
	discoveryTimeout = 10 * time.Second
	// jwksRefetchInterval: after the first two fetches, a key set is
	// fetched again at most once per interval (tokens with unknown key IDs
	// or bad signatures trigger fetches).
	jwksRefetchInterval = 10 * time.Second
	// maxTokenBytes bounds the size of a token the verifier will parse.
	maxTokenBytes = 64 << 10
)

// VerifierConfig configures the token verification of [Config] in the
// entra and easyauth modes: which tokens the middleware of [Protect]
// accepts. Tokens are verified in the process (signature, issuer, tenant,
// audience, lifetime); OpenID discovery happens on the first token of a
// tenant, never when Protect runs.
type VerifierConfig struct {
	// TenantIDs lists the tenants (GUIDs) whose tokens are accepted. A
	// token's tid claim must be one of them and its issuer must be
	// {Authority}/{tid}/v2.0. Required.
	TenantIDs []string
	// Audiences lists the accepted aud values, typically the app's client
	// ID (Entra v2 access tokens carry it) and its Application ID URI
	// (api://…). Required.
	Audiences []string
	// RequiredScopes are the delegated scopes every request must carry, as
	// full scope names (api://<app>/user_impersonation) or short names
	// (user_impersonation). A token that lacks one gets 403 with
	// error="insufficient_scope" and the scopes in the WWW-Authenticate
	// challenge; the tool handler finds them in TokenInfo.Scopes (short
	// and, for required scopes, full names).
	RequiredScopes []string
	// AcceptedRoles are the app roles (the roles claim) that admit a
	// token: an app-only token (no scp) passes the middleware only with
	// one of them, and with RequiredScopes empty so must a delegated one.
	// Protect in entra mode needs RequiredScopes or AcceptedRoles.
	AcceptedRoles []string
	// AllowedApplications, when not empty, lists the client IDs of the
	// calling applications (the azp claim, or appid in v1.0 tokens) that
	// the middleware admits, like Easy Auth's allowedApplications.
	AllowedApplications []string
	// Authority is the Entra authority host: an https URL, or an http URL
	// on a loopback host (a fake in tests), as AZURE_AUTHORITY_HOST.
	// Default https://login.microsoftonline.com.
	Authority string
	// ClockSkew is the tolerance for exp and nbf. Default 2 minutes.
	ClockSkew time.Duration
	// HTTPClient is used for OpenID discovery and key set requests.
	// Default: a client with a 10 s timeout.
	HTTPClient *http.Client
}

// verifier checks Microsoft Entra ID v2 access tokens for this app. Its
// Verify method is a go-sdk auth.TokenVerifier. It is safe for concurrent
// use.
//
// OpenID discovery for a tenant happens lazily, on the first token from
// that tenant (concurrent first tokens share one discovery); a failed
// discovery is not cached, so the next token retries it. A server
// therefore starts even when Entra is unreachable, and such tokens get 500
// until it is reachable again. Signing keys are cached by go-oidc's
// RemoteKeySet, which fetches the key set again when a token's key ID is
// unknown or its signature does not verify; beyond two fetches, such
// refetches are limited to one per 10 s per tenant so that forged tokens
// cannot make the server hammer Entra.
//
// Checks: RS256 signature only (alg none, HS256 and other algorithms are
// rejected), issuer, tenant allow-list (tid claim and issuer agree), aud,
// exp and nbf with ClockSkew, and that the token is an access token
// (it has scp or roles; ID tokens, which share issuer, keys and audience,
// have neither). Only v2.0 tokens pass the issuer check: the app
// registration must set requestedAccessTokenVersion to 2.
type verifier struct {
	authority string
	tenants   map[string]bool
	audiences []string
	scopes    []scopeName
	roles     []string
	apps      []string
	skew      time.Duration
	now       func() time.Time

	discoveryClient *http.Client
	keyClient       *http.Client
	keyCtx          context.Context

	group     singleflight.Group
	mu        sync.Mutex
	verifiers map[string]*oidc.IDTokenVerifier
}

// scopeName is a required scope in both forms: short is what Entra puts in
// scp, full is what a client requests.
type scopeName struct{ short, full string }

// newVerifier checks cfg and returns a verifier. It makes no network
// request; ctx supplies values (not cancellation) for later key set
// requests.
func newVerifier(ctx context.Context, cfg VerifierConfig) (*verifier, error) {
	authority, err := azenv.ParseAuthorityHost(cfg.Authority)
	if err != nil {
		return nil, err
	}
	tenants := map[string]bool{}
	for _, t := range cfg.TenantIDs {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" {
			continue
		}
		if !isGUID(t) {
			return nil, fmt.Errorf("auth: tenant %q is not a tenant ID (GUID); domain names and common/organizations cannot be matched against the tid claim", t)
		}
		tenants[t] = true
	}
	if len(tenants) == 0 {
		return nil, errors.New("auth: the verifier needs at least one tenant ID")
	}
	var auds []string
	for _, a := range cfg.Audiences {
		if a = strings.TrimSpace(a); a != "" {
			auds = append(auds, a)
		}
	}
	if len(auds) == 0 {
		return nil, errors.New("auth: the verifier needs at least one audience (the app's client ID or Application ID URI)")
	}
	if cfg.ClockSkew < 0 {
		return nil, errors.New("auth: negative clock skew")
	}
	skew := cfg.ClockSkew
	if skew == 0 {
		skew = defaultClockSkew
	}

	base := cfg.HTTPClient
	if base == nil {
		base = &http.Client{Timeout: discoveryTimeout}
	}
	keyClient := *base
	if keyClient.Timeout == 0 {
		keyClient.Timeout = discoveryTimeout
	}
	keyClient.Transport = &fetchLimiter{base: base.Transport, interval: jwksRefetchInterval, burst: 2, last: map[string]*bucket{}}

	return &verifier{
		authority:       authority,
		tenants:         tenants,
		audiences:       auds,
		scopes:          qualifyScopes(cfg.RequiredScopes, auds),
		roles:           trimmedNonEmpty(cfg.AcceptedRoles),
		apps:            trimmedNonEmpty(cfg.AllowedApplications),
		skew:            skew,
		now:             time.Now,
		discoveryClient: base,
		keyClient:       &keyClient,
		keyCtx:          context.WithoutCancel(ctx),
		verifiers:       map[string]*oidc.IDTokenVerifier{},
	}, nil
}

// trimmedNonEmpty returns the entries of list without surrounding white
// space, dropping empty ones.
func trimmedNonEmpty(list []string) []string {
	var out []string
	for _, s := range list {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// isGUID reports whether s looks like 8-4-4-4-12 hex digits.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// qualifyScopes returns each scope's short and full name. A short name is
// qualified with the first audience that is a URI.
func qualifyScopes(scopes, audiences []string) []scopeName {
	var prefix string
	for _, a := range audiences {
		if strings.Contains(a, "://") {
			prefix = strings.TrimRight(a, "/")
			break
		}
	}
	var out []scopeName
	for _, s := range scopes {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if i := strings.LastIndex(s, "/"); i >= 0 {
			out = append(out, scopeName{short: s[i+1:], full: s})
		} else if prefix != "" {
			out = append(out, scopeName{short: s, full: prefix + "/" + s})
		} else {
			out = append(out, scopeName{short: s, full: s})
		}
	}
	return out
}

// Scopes returns the required scopes in the form clients request them
// (full names), as used in the WWW-Authenticate challenge and the
// protected resource metadata.
func (v *verifier) Scopes() []string {
	out := make([]string, 0, len(v.scopes))
	for _, s := range v.scopes {
		out = append(out, s.full)
	}
	return out
}

// Issuers returns the accepted issuers, {authority}/{tenant}/v2.0, sorted.
func (v *verifier) Issuers() []string {
	var out []string
	for t := range v.tenants {
		out = append(out, v.issuer(t))
	}
	slices.Sort(out)
	return out
}

func (v *verifier) issuer(tenant string) string { return v.authority + "/" + tenant + "/v2.0" }

// invalid wraps auth.ErrInvalidToken with a reason, so the go-sdk answers
// 401 with "invalid token: <reason>".
func invalid(reason string) error { return fmt.Errorf("%w: %s", mcpauth.ErrInvalidToken, reason) }

// unverifiedClaims are read before the signature is checked, only to pick
// the tenant's key set; they are checked again after verification.
type unverifiedClaims struct {
	Iss string `json:"iss"`
	Tid string `json:"tid"`
}

// entraClaims are the claims read from a verified token.
type entraClaims struct {
	Iss               string          `json:"iss"`
	Tid               string          `json:"tid"`
	Oid               string          `json:"oid"`
	Sub               string          `json:"sub"`
	Nbf               json.RawMessage `json:"nbf"`
	Scp               string          `json:"scp"`
	Roles             []string        `json:"roles"`
	Name              string          `json:"name"`
	PreferredUsername string          `json:"preferred_username"`
	Azp               string          `json:"azp"`
	Appid             string          `json:"appid"`
	// Idtyp is "app" for app-only tokens and "user" for delegated ones,
	// when the app registration asks for this optional claim.
	Idtyp string `json:"idtyp"`
}

// Verify checks token and returns what it says about the caller. Its
// signature is that of the go-sdk's auth.TokenVerifier. Invalid tokens
// give errors wrapping auth.ErrInvalidToken (401); failure to reach Entra
// gives another error (500). The error text is sent to the client; it
// never contains the token.
func (v *verifier) Verify(ctx context.Context, token string, _ *http.Request) (*mcpauth.TokenInfo, error) {
	if len(token) > maxTokenBytes {
		return nil, invalid("token too large")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, invalid("not a signed JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, invalid("malformed JWT payload")
	}
	var uc unverifiedClaims
	if err := json.Unmarshal(payload, &uc); err != nil {
		return nil, invalid("malformed JWT payload")
	}
	tid := strings.ToLower(uc.Tid)
	if !v.tenants[tid] {
		return nil, invalid("tenant not allowed")
	}
	if uc.Iss != v.issuer(tid) {
		return nil, invalid("issuer not accepted")
	}
	iv, err := v.tenantVerifier(ctx, tid)
	if err != nil {
		return nil, err
	}
	idt, err := iv.Verify(ctx, token)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("auth: token verification abandoned: %w", ctx.Err())
		}
		return nil, invalid("signature verification failed")
	}
	var c entraClaims
	if err := idt.Claims(&c); err != nil {
		return nil, invalid("malformed claims")
	}
	if strings.ToLower(c.Tid) != tid || c.Iss != v.issuer(tid) {
		return nil, invalid("tenant not allowed")
	}
	if !slices.ContainsFunc(idt.Audience, func(a string) bool { return slices.Contains(v.audiences, a) }) {
		return nil, invalid("audience not accepted")
	}
	now := v.now()
	if idt.Expiry.IsZero() {
		return nil, invalid("token has no expiry")
	}
	if now.After(idt.Expiry.Add(v.skew)) {
		return nil, invalid("token expired")
	}
	if len(c.Nbf) > 0 && string(c.Nbf) != "null" {
		var nbf float64
		if err := json.Unmarshal(c.Nbf, &nbf); err != nil {
			return nil, invalid("malformed nbf claim")
		}
		if now.Add(v.skew).Before(time.Unix(int64(nbf), 0)) {
			return nil, invalid("token not yet valid")
		}
	}
	scp := strings.Fields(c.Scp)
	if len(scp) == 0 && len(c.Roles) == 0 {
		return nil, invalid("not an access token (no scp or roles claim)")
	}

	scopes := slices.Clone(scp)
	for _, s := range v.scopes {
		if s.full != s.short && slices.Contains(scp, s.short) && !slices.Contains(scopes, s.full) {
			scopes = append(scopes, s.full)
		}
	}
	userID := c.Oid
	if userID == "" {
		userID = c.Sub
	}
	extra := map[string]any{
		"tid":                tid,
		"name":               c.Name,
		"preferred_username": c.PreferredUsername,
	}
	if c.Oid != "" {
		extra["oid"] = c.Oid
	}
	if len(c.Roles) > 0 {
		extra["roles"] = c.Roles
	}
	if c.Azp != "" {
		extra["azp"] = c.Azp
	}
	if c.Appid != "" {
		extra["appid"] = c.Appid
	}
	if len(scp) > 0 {
		extra["scp"] = scp
	}
	if c.Idtyp != "" {
		extra["idtyp"] = c.Idtyp
	}
	return &mcpauth.TokenInfo{
		Scopes:     scopes,
		Expiration: idt.Expiry,
		UserID:     userID,
		Extra:      extra,
	}, nil
}

// tenantVerifier returns the go-oidc verifier for tenant, running OpenID
// discovery the first time.
func (v *verifier) tenantVerifier(ctx context.Context, tenant string) (*oidc.IDTokenVerifier, error) {
	v.mu.Lock()
	iv := v.verifiers[tenant]
	v.mu.Unlock()
	if iv != nil {
		return iv, nil
	}
	ch := v.group.DoChan(tenant, func() (any, error) {
		v.mu.Lock()
		iv := v.verifiers[tenant]
		v.mu.Unlock()
		if iv != nil {
			return iv, nil
		}
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), discoveryTimeout)
		defer cancel()
		issuer := v.issuer(tenant)
		p, err := oidc.NewProvider(oidc.ClientContext(dctx, v.discoveryClient), issuer)
		if err != nil {
			return nil, fmt.Errorf("auth: OpenID discovery for tenant %s failed; try again later", tenant)
		}
		var meta struct {
			JWKSURI string `json:"jwks_uri"`
		}
		if err := p.Claims(&meta); err != nil || meta.JWKSURI == "" {
			return nil, fmt.Errorf("auth: OpenID discovery for tenant %s returned no jwks_uri", tenant)
		}
		keys := oidc.NewRemoteKeySet(oidc.ClientContext(v.keyCtx, v.keyClient), meta.JWKSURI)
		iv = oidc.NewVerifier(issuer, keys, &oidc.Config{
			// Audiences, expiry and nbf are checked by Verify, which
			// supports several audiences and a configurable skew.
			SkipClientIDCheck:    true,
			SkipExpiryCheck:      true,
			SupportedSigningAlgs: []string{oidc.RS256},
		})
		v.mu.Lock()
		v.verifiers[tenant] = iv
		v.mu.Unlock()
		return iv, nil
	})
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("auth: token verification abandoned: %w", ctx.Err())
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*oidc.IDTokenVerifier), nil
	}
}

// Middleware returns the MCP endpoint's middleware with this verifier and
// the access policy of its config (RequiredScopes, AcceptedRoles,
// AllowedApplications; see accessPolicy): 401 for a missing or invalid
// token, 403 when the policy refuses it, with the WWW-Authenticate challenges of RFC 6750 §3.1 (no error
// attribute without a token, error="invalid_token", and
// error="insufficient_scope" with the required scopes) that name
// resourceMetadataURL. Tool handlers find the verified token in
// req.Extra.TokenInfo.
func (v *verifier) Middleware(resourceMetadataURL string) func(http.Handler) http.Handler {
	return v.guard(v.Verify, resourceMetadataURL).middleware
}

// guard is the bearerGuard that checks tokens with verify and applies the
// access policy of v's config.
func (v *verifier) guard(verify mcpauth.TokenVerifier, resourceMetadataURL string) *bearerGuard {
	return &bearerGuard{
		verify:           verify,
		authorize:        accessPolicy{scopes: v.Scopes(), roles: v.roles, apps: v.apps}.authorize,
		resourceMetadata: resourceMetadataURL,
		scopes:           v.Scopes(),
		skew:             v.skew,
	}
}

// EasyAuthMiddleware is [verifier.Middleware] for an app behind Easy Auth
// (ModeEasyAuth): besides the token, it checks what Easy Auth says about
// the caller, since the X-MS-CLIENT-PRINCIPAL headers can be trusted only
// when Easy Auth really is in front and the token alone proves nothing
// about them. A request passes only when
//
//   - X-MS-CLIENT-PRINCIPAL is present and well-formed;
//   - its object ID (the objectidentifier or oid claim, else
//     X-MS-CLIENT-PRINCIPAL-ID; both must agree when both are present)
//     equals the verified token's oid, and its tenant, when it names one,
//     the token's tid;
//   - the bearer token passes [verifier.Verify] and the access policy.
//
// Anything else is refused with 401 before any tool can use the token, so
// a forged principal or a token for another audience never reaches the
// on-behalf-of exchange. resourceMetadataURL ("" for none) is named in the
// challenges.
func (v *verifier) EasyAuthMiddleware(resourceMetadataURL string) func(http.Handler) http.Handler {
	return v.guard(v.verifyEasyAuth, resourceMetadataURL).middleware
}

// verifyEasyAuth checks the Easy Auth principal of r against token.
func (v *verifier) verifyEasyAuth(ctx context.Context, token string, r *http.Request) (*mcpauth.TokenInfo, error) {
	if r == nil {
		return nil, invalid("no request to read " + headerClientPrincipal + " from")
	}
	p, err := principalFromHeader(r.Header)
	switch {
	case errors.Is(err, errNoPrincipal):
		return nil, invalid("App Service authentication did not identify the caller (no " + headerClientPrincipal + ")")
	case err != nil:
		return nil, invalid("malformed " + headerClientPrincipal)
	}
	principalOID := strings.TrimSpace(p.ObjectID())
	headerID := strings.TrimSpace(r.Header.Get(headerClientPrincipalID))
	switch {
	case principalOID == "":
		principalOID = headerID
	case headerID != "" && !strings.EqualFold(headerID, principalOID):
		return nil, invalid(headerClientPrincipal + " and " + headerClientPrincipalID + " name different callers")
	}
	if principalOID == "" {
		return nil, invalid(headerClientPrincipal + " names no object ID")
	}
	ti, err := v.Verify(ctx, token, r)
	if err != nil {
		return nil, err
	}
	oid, _ := ti.Extra["oid"].(string)
	if oid == "" || !strings.EqualFold(oid, principalOID) {
		return nil, invalid("the caller in " + headerClientPrincipal + " is not the subject of the token")
	}
	if tid := strings.TrimSpace(p.TenantID()); tid != "" && !strings.EqualFold(tid, extraString(ti, "tid")) {
		return nil, invalid("the tenant in " + headerClientPrincipal + " is not the token's")
	}
	return ti, nil
}

// fetchLimiter is the key set client's transport: per URL, a token bucket
// of burst fetches refilled one per interval. A refused fetch fails without
// a request, so go-oidc rejects the token and keeps its cached keys.
type fetchLimiter struct {
	base     http.RoundTripper
	interval time.Duration
	burst    float64

	mu   sync.Mutex
	last map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// RoundTrip implements http.RoundTripper.
func (l *fetchLimiter) RoundTrip(r *http.Request) (*http.Response, error) {
	if !l.allow(r.URL.String(), time.Now()) {
		return nil, errors.New("auth: key set fetched too recently")
	}
	base := l.base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r)
}

func (l *fetchLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.last[key]
	if b == nil {
		b = &bucket{tokens: l.burst, at: now}
		l.last[key] = b
	}
	if l.interval > 0 {
		b.tokens = min(l.burst, b.tokens+float64(now.Sub(b.at))/float64(l.interval))
	} else {
		b.tokens = l.burst
	}
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
