package auth

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mcpauth "github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfunc/mcpfunc/shared/auth/authtest"
)

const (
	tenantA  = "11111111-1111-4111-8111-111111111111"
	tenantB  = "22222222-2222-4222-8222-222222222222"
	tenantX  = "99999999-9999-4999-8999-999999999999" // not allowed
	appID    = "00000000-aaaa-4bbb-8ccc-000000000001"
	appIDURI = "api://mcp-app"
)

// testKey is an RSA signing key with its key ID.
type testKey struct {
	kid string
	key *rsa.PrivateKey
}

func newTestKey(t *testing.T, kid string) testKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{kid: kid, key: k}
}

func (k testKey) jwk() map[string]any {
	e := big.NewInt(int64(k.key.PublicKey.E)).Bytes()
	return map[string]any{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.kid,
		"n": base64.RawURLEncoding.EncodeToString(k.key.PublicKey.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(e),
	}
}

// fakeIssuer serves OpenID discovery and JWKS for any tenant over plain
// http, counting requests.
type fakeIssuer struct {
	srv            *httptest.Server
	discoveryGets  atomic.Int64
	jwksGets       atomic.Int64
	failDiscovery  atomic.Bool
	discoveryDelay atomic.Int64
	mu             sync.Mutex
	keys           []testKey
}

func newFakeIssuer(t *testing.T, keys ...testKey) *fakeIssuer {
	t.Helper()
	fi := &fakeIssuer{keys: keys}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		fi.discoveryGets.Add(1)
		time.Sleep(time.Duration(fi.discoveryDelay.Load()))
		if fi.failDiscovery.Load() {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		base := fi.srv.URL + "/" + r.PathValue("tenant")
		authtest.WriteJSON(w, 200, map[string]any{
			"issuer":                                base + "/v2.0",
			"jwks_uri":                              base + "/discovery/v2.0/keys",
			"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
			"token_endpoint":                        base + "/oauth2/v2.0/token",
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"pairwise"},
		})
	})
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", func(w http.ResponseWriter, r *http.Request) {
		fi.jwksGets.Add(1)
		fi.mu.Lock()
		var keys []map[string]any
		for _, k := range fi.keys {
			keys = append(keys, k.jwk())
		}
		fi.mu.Unlock()
		authtest.WriteJSON(w, 200, map[string]any{"keys": keys})
	})
	fi.srv = httptest.NewServer(mux)
	t.Cleanup(fi.srv.Close)
	return fi
}

func (fi *fakeIssuer) issuer(tenant string) string { return fi.srv.URL + "/" + tenant + "/v2.0" }

func (fi *fakeIssuer) addKey(k testKey) {
	fi.mu.Lock()
	fi.keys = append(fi.keys, k)
	fi.mu.Unlock()
}

// signJWT builds a compact JWS with stdlib primitives (test only).
func signJWT(t *testing.T, header, claims map[string]any, sign func(signingInput []byte) []byte) string {
	t.Helper()
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	return input + "." + base64.RawURLEncoding.EncodeToString(sign([]byte(input)))
}

func rs256(t *testing.T, k testKey, claims map[string]any) string {
	t.Helper()
	return signJWT(t, map[string]any{"alg": "RS256", "typ": "JWT", "kid": k.kid}, claims, func(in []byte) []byte {
		sum := sha256.Sum256(in)
		sig, err := rsa.SignPKCS1v15(rand.Reader, k.key, crypto.SHA256, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		return sig
	})
}

// claimsFor returns valid access token claims for tenant.
func (fi *fakeIssuer) claimsFor(tenant string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss":                fi.issuer(tenant),
		"aud":                appID,
		"tid":                tenant,
		"oid":                "user-oid-1",
		"sub":                "user-sub-1",
		"scp":                "user_impersonation",
		"name":               "Ada Lovelace",
		"preferred_username": "ada@example.com",
		"azp":                "aebc6443-996d-45c2-90f0-388ff96faa56",
		"ver":                "2.0",
		"iat":                now.Add(-time.Minute).Unix(),
		"nbf":                now.Add(-time.Minute).Unix(),
		"exp":                now.Add(time.Hour).Unix(),
	}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

func (fi *fakeIssuer) verifierConfig() VerifierConfig {
	return VerifierConfig{
		TenantIDs:      []string{tenantA, tenantB},
		Audiences:      []string{appID, appIDURI},
		RequiredScopes: []string{appIDURI + "/user_impersonation"},
		Authority:      fi.srv.URL,
		HTTPClient:     fi.srv.Client(),
	}
}

func TestVerifier(t *testing.T) {
	key := newTestKey(t, "key-1")
	other := newTestKey(t, "key-1") // same kid, different key
	fi := newFakeIssuer(t, key)
	v, err := newVerifier(context.Background(), fi.verifierConfig())
	if err != nil {
		t.Fatal(err)
	}
	if n := fi.discoveryGets.Load(); n != 0 {
		t.Fatalf("newVerifier made %d discovery requests; discovery is lazy", n)
	}
	good := fi.claimsFor(tenantA)
	now := time.Now()
	pubDER, _ := x509.MarshalPKIXPublicKey(&key.key.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	tests := []struct {
		name   string
		token  string
		reason string // "" = valid
	}{
		{"valid", rs256(t, key, good), ""},
		{"valid, second tenant", rs256(t, key, with(fi.claimsFor(tenantB))), ""},
		{"valid, audience is the App ID URI", rs256(t, key, with(good, "aud", appIDURI)), ""},
		{"valid, audience array", rs256(t, key, with(good, "aud", []string{"x", appID})), ""},
		{"valid, app-only token with roles", rs256(t, key, with(good, "scp", nil, "roles", []string{"Tools.Call"})), ""},
		{"valid, no nbf", rs256(t, key, with(good, "nbf", nil)), ""},
		{"expired within skew", rs256(t, key, with(good, "exp", now.Add(-time.Minute).Unix())), ""},
		{"nbf within skew", rs256(t, key, with(good, "nbf", now.Add(time.Minute).Unix())), ""},
		{"expired", rs256(t, key, with(good, "exp", now.Add(-3*time.Minute).Unix())), "token expired"},
		{"no exp", rs256(t, key, with(good, "exp", nil)), "no expiry"},
		{"not yet valid", rs256(t, key, with(good, "nbf", now.Add(3*time.Minute).Unix())), "not yet valid"},
		{"wrong audience", rs256(t, key, with(good, "aud", "api://someone-else")), "audience"},
		{"wrong issuer host", rs256(t, key, with(good, "iss", "https://login.microsoftonline.com/"+tenantA+"/v2.0")), "issuer"},
		{"v1 issuer", rs256(t, key, with(good, "iss", "https://sts.windows.net/"+tenantA+"/")), "issuer"},
		{"issuer of another allowed tenant", rs256(t, key, with(good, "iss", fi.issuer(tenantB))), "issuer"},
		{"tenant not allowed", rs256(t, key, with(fi.claimsFor(tenantX))), "tenant not allowed"},
		{"no tenant", rs256(t, key, with(good, "tid", nil)), "tenant not allowed"},
		{"ID token (no scp or roles)", rs256(t, key, with(good, "scp", nil)), "not an access token"},
		{"bad signature", rs256(t, other, good), "signature"},
		{"tampered payload", tamper(rs256(t, key, good), with(good, "oid", "attacker")), "signature"},
		{"alg none", signJWT(t, map[string]any{"alg": "none", "typ": "JWT"}, good, func([]byte) []byte { return nil }), "signature"},
		{"HS256 with the public key", signJWT(t, map[string]any{"alg": "HS256", "typ": "JWT", "kid": key.kid}, good, func(in []byte) []byte {
			m := hmac.New(sha256.New, pubPEM)
			m.Write(in)
			return m.Sum(nil)
		}), "signature"},
		{"HS256 with the modulus", signJWT(t, map[string]any{"alg": "HS256", "typ": "JWT", "kid": key.kid}, good, func(in []byte) []byte {
			m := hmac.New(sha256.New, key.key.PublicKey.N.Bytes())
			m.Write(in)
			return m.Sum(nil)
		}), "signature"},
		{"not a JWT", "abc.def", "not a signed JWT"},
		{"garbage payload", "a.!!!.c", "malformed"},
		{"too large", strings.Repeat("a", maxTokenBytes+1), "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ti, err := v.Verify(context.Background(), tt.token, nil)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if ti.UserID != "user-oid-1" || ti.Expiration.IsZero() {
					t.Fatalf("TokenInfo %+v", ti)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted: %+v", ti)
			}
			if !errors.Is(err, mcpauth.ErrInvalidToken) {
				t.Fatalf("error %v does not wrap auth.ErrInvalidToken", err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("error %q does not say %q", err, tt.reason)
			}
			if len(tt.token) > 20 && strings.Contains(err.Error(), tt.token[:20]) {
				t.Fatalf("error contains the token")
			}
		})
	}
	if n := fi.discoveryGets.Load(); n != 2 {
		t.Errorf("%d discovery requests, want 2 (one per tenant)", n)
	}
}

// tamper replaces a signed token's payload.
func tamper(token string, claims map[string]any) string {
	parts := strings.Split(token, ".")
	c, _ := json.Marshal(claims)
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(c) + "." + parts[2]
}

func TestVerifierTokenInfo(t *testing.T) {
	key := newTestKey(t, "k")
	fi := newFakeIssuer(t, key)
	const tenantC = "cccccccc-cccc-4ccc-8ccc-cccccccccccc"
	cfg := fi.verifierConfig()
	cfg.TenantIDs = append(cfg.TenantIDs, strings.ToUpper(tenantC)) // configured in upper case
	v, err := newVerifier(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), rs256(t, key, fi.claimsFor(tenantC)), nil); err != nil {
		t.Fatalf("tenant configured in upper case: %v", err)
	}
	// Entra's issuer uses the lower-case tenant; an upper-case one is a
	// different issuer.
	upper := with(fi.claimsFor(tenantC), "tid", strings.ToUpper(tenantC), "iss", fi.issuer(strings.ToUpper(tenantC)))
	if _, err := v.Verify(context.Background(), rs256(t, key, upper), nil); err == nil {
		t.Fatal("upper-case issuer accepted")
	}
	claims := with(fi.claimsFor(tenantA), "scp", "user_impersonation Files.Read", "roles", []string{"Admin"})
	ti, err := v.Verify(context.Background(), rs256(t, key, claims), nil)
	if err != nil {
		t.Fatal(err)
	}
	wantScopes := []string{"user_impersonation", "Files.Read", appIDURI + "/user_impersonation"}
	if !slices.Equal(ti.Scopes, wantScopes) {
		t.Errorf("Scopes = %q, want %q", ti.Scopes, wantScopes)
	}
	if ti.UserID != "user-oid-1" {
		t.Errorf("UserID = %q", ti.UserID)
	}
	if want := time.Unix(claims["exp"].(int64), 0); !ti.Expiration.Equal(want) {
		t.Errorf("Expiration = %v, want %v", ti.Expiration, want)
	}
	for k, want := range map[string]any{"tid": tenantA, "name": "Ada Lovelace", "preferred_username": "ada@example.com", "oid": "user-oid-1"} {
		if ti.Extra[k] != want {
			t.Errorf("Extra[%s] = %v, want %v", k, ti.Extra[k], want)
		}
	}
	if r, _ := ti.Extra["roles"].([]string); !slices.Equal(r, []string{"Admin"}) {
		t.Errorf("Extra[roles] = %v", ti.Extra["roles"])
	}
	// No oid: sub.
	ti, err = v.Verify(context.Background(), rs256(t, key, with(fi.claimsFor(tenantA), "oid", nil)), nil)
	if err != nil || ti.UserID != "user-sub-1" {
		t.Fatalf("sub fallback: %+v %v", ti, err)
	}
	// Required scope missing: not rejected here, just not reported.
	ti, err = v.Verify(context.Background(), rs256(t, key, with(fi.claimsFor(tenantA), "scp", "Files.Read")), nil)
	if err != nil || slices.Contains(ti.Scopes, appIDURI+"/user_impersonation") {
		t.Fatalf("missing scope: %+v %v", ti, err)
	}
}

func TestVerifierUnknownKidRefetchesOnce(t *testing.T) {
	key := newTestKey(t, "key-1")
	fi := newFakeIssuer(t, key)
	v, err := newVerifier(context.Background(), fi.verifierConfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := v.Verify(ctx, rs256(t, key, fi.claimsFor(tenantA)), nil); err != nil {
		t.Fatal(err)
	}
	if n := fi.jwksGets.Load(); n != 1 {
		t.Fatalf("%d JWKS requests after the first token, want 1", n)
	}
	// Known kid again: from the cache.
	if _, err := v.Verify(ctx, rs256(t, key, fi.claimsFor(tenantA)), nil); err != nil || fi.jwksGets.Load() != 1 {
		t.Fatalf("cached keys: %v, %d JWKS requests", err, fi.jwksGets.Load())
	}

	unknown := newTestKey(t, "key-unknown")
	_, err = v.Verify(ctx, rs256(t, unknown, fi.claimsFor(tenantA)), nil)
	if !errors.Is(err, mcpauth.ErrInvalidToken) {
		t.Fatalf("unknown kid: %v", err)
	}
	if n := fi.jwksGets.Load(); n != 2 {
		t.Fatalf("%d JWKS requests after an unknown kid, want exactly 2 (one refetch)", n)
	}
	// Another unknown kid right away: refused by the rate limit, no request.
	if _, err := v.Verify(ctx, rs256(t, newTestKey(t, "key-unknown-2"), fi.claimsFor(tenantA)), nil); !errors.Is(err, mcpauth.ErrInvalidToken) {
		t.Fatalf("second unknown kid: %v", err)
	}
	if n := fi.jwksGets.Load(); n != 2 {
		t.Fatalf("%d JWKS requests, want 2 (rate limited)", n)
	}
	// Valid tokens still pass from the cached keys.
	if _, err := v.Verify(ctx, rs256(t, key, fi.claimsFor(tenantA)), nil); err != nil {
		t.Fatal(err)
	}
}

func TestVerifierKeyRotation(t *testing.T) {
	key := newTestKey(t, "old")
	fi := newFakeIssuer(t, key)
	v, err := newVerifier(context.Background(), fi.verifierConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), rs256(t, key, fi.claimsFor(tenantA)), nil); err != nil {
		t.Fatal(err)
	}
	rotated := newTestKey(t, "new")
	fi.addKey(rotated)
	if _, err := v.Verify(context.Background(), rs256(t, rotated, fi.claimsFor(tenantA)), nil); err != nil {
		t.Fatalf("token signed with the new key: %v", err)
	}
	if n := fi.jwksGets.Load(); n != 2 {
		t.Fatalf("%d JWKS requests, want 2", n)
	}
}

func TestFetchLimiter(t *testing.T) {
	l := &fetchLimiter{interval: 10 * time.Second, burst: 2, last: map[string]*bucket{}}
	t0 := time.Unix(1000, 0)
	steps := []struct {
		at   time.Duration
		want bool
	}{{0, true}, {0, true}, {time.Second, false}, {10 * time.Second, true}, {11 * time.Second, false}, {21 * time.Second, true}, {time.Hour, true}, {time.Hour, true}, {time.Hour, false}}
	for i, s := range steps {
		if got := l.allow("u", t0.Add(s.at)); got != s.want {
			t.Fatalf("step %d at %v: allow = %v, want %v", i, s.at, got, s.want)
		}
	}
	if !l.allow("other", t0) {
		t.Fatal("limits are per URL")
	}
}

func TestVerifierDiscovery(t *testing.T) {
	key := newTestKey(t, "k")
	fi := newFakeIssuer(t, key)
	v, err := newVerifier(context.Background(), fi.verifierConfig())
	if err != nil {
		t.Fatal(err)
	}
	tok := rs256(t, key, fi.claimsFor(tenantA))

	// Entra unreachable: an error that is not ErrInvalidToken (500), and
	// not cached.
	fi.failDiscovery.Store(true)
	_, err = v.Verify(context.Background(), tok, nil)
	if err == nil || errors.Is(err, mcpauth.ErrInvalidToken) {
		t.Fatalf("discovery failure: %v", err)
	}
	fi.failDiscovery.Store(false)

	// Concurrent first tokens share one discovery.
	fi.discoveryDelay.Store(int64(50 * time.Millisecond))
	before := fi.discoveryGets.Load()
	var wg sync.WaitGroup
	var failures atomic.Int64
	for range 20 {
		wg.Go(func() {
			if _, err := v.Verify(context.Background(), tok, nil); err != nil {
				failures.Add(1)
			}
		})
	}
	wg.Wait()
	if failures.Load() != 0 {
		t.Fatalf("%d failures", failures.Load())
	}
	if n := fi.discoveryGets.Load() - before; n != 1 {
		t.Fatalf("%d discoveries, want 1", n)
	}

	// A caller that gives up does not wait for discovery.
	fi.discoveryDelay.Store(int64(300 * time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := v.Verify(ctx, rs256(t, key, fi.claimsFor(tenantB)), nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("abandoned: %v", err)
	}
	if time.Since(start) > 200*time.Millisecond {
		t.Fatal("waited for discovery")
	}
}

func TestNewVerifierValidates(t *testing.T) {
	ok := VerifierConfig{TenantIDs: []string{tenantA}, Audiences: []string{appID}}
	if _, err := newVerifier(context.Background(), ok); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(c *VerifierConfig){
		"no tenants":        func(c *VerifierConfig) { c.TenantIDs = nil },
		"common tenant":     func(c *VerifierConfig) { c.TenantIDs = []string{"common"} },
		"domain tenant":     func(c *VerifierConfig) { c.TenantIDs = []string{"contoso.onmicrosoft.com"} },
		"no audiences":      func(c *VerifierConfig) { c.Audiences = []string{" "} },
		"http authority":    func(c *VerifierConfig) { c.Authority = "http://login.example.com" },
		"authority w/query": func(c *VerifierConfig) { c.Authority = "https://login.example.com?x=1" },
		"negative skew":     func(c *VerifierConfig) { c.ClockSkew = -time.Second },
	} {
		c := ok
		edit(&c)
		if _, err := newVerifier(context.Background(), c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestQualifyScopes(t *testing.T) {
	got := qualifyScopes([]string{"api://x/read", "write", " "}, []string{appID, "api://app/"})
	want := []scopeName{{"read", "api://x/read"}, {"write", "api://app/write"}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got := qualifyScopes([]string{"write"}, []string{appID}); !slices.Equal(got, []scopeName{{"write", "write"}}) {
		t.Fatalf("no URI audience: %v", got)
	}
}

// entraProtected starts the MCP path behind Protect in entra mode.
func entraProtected(t *testing.T, fi *fakeIssuer, next http.Handler) (*httptest.Server, *Protection) {
	t.Helper()
	p, err := Protect(context.Background(), Config{Mode: ModeEntra, Verifier: fi.verifierConfig(), PublicURL: "https://mcp.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", p.Middleware(next))
	mux.Handle(p.PRMPattern, p.PRMHandler)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, p
}

func TestProtectEntraMiddleware(t *testing.T) {
	key := newTestKey(t, "k")
	fi := newFakeIssuer(t, key)
	var seen atomic.Pointer[mcpauth.TokenInfo]
	srv, _ := entraProtected(t, fi, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(mcpauth.TokenInfoFromContext(r.Context()))
		w.Write([]byte("ok"))
	}))
	const (
		prm   = "https://mcp.example.com/.well-known/oauth-protected-resource"
		scope = "api://mcp-app/user_impersonation"
	)

	do := func(auth ...string) *http.Response {
		req, _ := http.NewRequest("POST", srv.URL+"/mcp", strings.NewReader("{}"))
		for _, a := range auth {
			req.Header.Add("Authorization", a)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	// RFC 6750 §3.1: no error attribute when the request has no bearer
	// token at all; invalid_token for a bad one; insufficient_scope, with
	// the scopes to ask for, for a valid token that lacks one.
	noError := map[string]string{"resource_metadata": prm, "scope": scope}
	withError := func(code string) map[string]string {
		return map[string]string{"error": code, "resource_metadata": prm, "scope": scope}
	}
	tests := []struct {
		name       string
		auth       []string
		wantStatus int
		wantParams map[string]string // the challenge's parameters, error_description aside
	}{
		{"no token", nil, 401, noError},
		{"empty header", []string{""}, 401, noError},
		{"not bearer", []string{"Basic abc"}, 401, noError},
		{"bearer without token", []string{"Bearer"}, 401, withError("invalid_token")},
		{"malformed bearer token", []string{"Bearer a b"}, 401, withError("invalid_token")},
		{"two Authorization headers", []string{"Bearer a", "Bearer b"}, 400, withError("invalid_request")},
		{"invalid token", []string{"Bearer abc.def.ghi"}, 401, withError("invalid_token")},
		{"garbage", []string{"Bearer garbage.garbage.garbage"}, 401, withError("invalid_token")},
		{"expired", []string{"Bearer " + rs256(t, key, with(fi.claimsFor(tenantA), "exp", time.Now().Add(-time.Hour).Unix()))}, 401, withError("invalid_token")},
		{"wrong audience", []string{"Bearer " + rs256(t, key, with(fi.claimsFor(tenantA), "aud", "api://another-app"))}, 401, withError("invalid_token")},
		{"missing scope", []string{"Bearer " + rs256(t, key, with(fi.claimsFor(tenantA), "scp", "Files.Read"))}, 403, withError("insufficient_scope")},
		{"valid", []string{"Bearer " + rs256(t, key, fi.claimsFor(tenantA))}, 200, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := do(tt.auth...)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			got := resp.Header.Values("WWW-Authenticate")
			if tt.wantStatus == 200 {
				if len(got) != 0 {
					t.Fatalf("WWW-Authenticate on success: %q", got)
				}
				ti := seen.Load()
				if ti == nil || ti.UserID != "user-oid-1" || !slices.Contains(ti.Scopes, appIDURI+"/user_impersonation") {
					t.Fatalf("TokenInfo %+v", ti)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("WWW-Authenticate = %q, want one challenge", got)
			}
			scheme, params := parseChallenge(t, got[0])
			if scheme != "Bearer" {
				t.Fatalf("scheme %q in %q", scheme, got[0])
			}
			desc, hasDesc := params["error_description"]
			delete(params, "error_description")
			if !maps.Equal(params, tt.wantParams) {
				t.Fatalf("WWW-Authenticate = %q\n params %v\n want   %v", got[0], params, tt.wantParams)
			}
			if hasDesc && (tt.wantParams["error"] == "" || desc == "") {
				t.Fatalf("error_description %q in %q", desc, got[0])
			}
			for _, a := range tt.auth {
				if tok := strings.TrimPrefix(a, "Bearer "); len(tok) > 8 && strings.Contains(got[0], tok) {
					t.Fatalf("the challenge contains the token")
				}
			}
		})
	}
}

// parseChallenge splits one WWW-Authenticate challenge into its scheme and
// auth-params (RFC 9110 §11.2), checking the syntax strictly: each
// parameter is name=token or name="quoted string", separated by commas.
func parseChallenge(t *testing.T, h string) (string, map[string]string) {
	t.Helper()
	scheme, rest, _ := strings.Cut(h, " ")
	params := map[string]string{}
	rest = strings.TrimSpace(rest)
	for rest != "" {
		name, after, ok := strings.Cut(rest, "=")
		if !ok || name == "" || strings.ContainsAny(name, " ,\"") {
			t.Fatalf("challenge %q: bad parameter at %q", h, rest)
		}
		var val string
		if strings.HasPrefix(after, "\"") {
			end := strings.Index(after[1:], "\"")
			if end < 0 {
				t.Fatalf("challenge %q: unterminated quoted string", h)
			}
			val, rest = after[1:1+end], after[2+end:]
		} else {
			var more bool
			val, rest, more = strings.Cut(after, ",")
			if more {
				rest = "," + rest
			}
		}
		if _, dup := params[name]; dup {
			t.Fatalf("challenge %q: %s twice", h, name)
		}
		params[name] = val
		rest = strings.TrimSpace(rest)
		if rest == "," {
			t.Fatalf("challenge %q: trailing comma", h)
		}
		if rest != "" {
			if rest[0] != ',' {
				t.Fatalf("challenge %q: expected a comma at %q", h, rest)
			}
			rest = strings.TrimSpace(rest[1:])
		}
	}
	return scheme, params
}

func TestProtectEntraPRM(t *testing.T) {
	fi := newFakeIssuer(t, newTestKey(t, "k"))
	srv, p := entraProtected(t, fi, http.NotFoundHandler())
	if p.PRMPattern != "/.well-known/oauth-protected-resource" || p.Mode != ModeEntra || p.verifier == nil {
		t.Fatalf("protection %+v", p)
	}
	resp, err := http.Get(srv.URL + "/.well-known/oauth-protected-resource")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"resource":                 "https://mcp.example.com/mcp",
		"authorization_servers":    []any{fi.issuer(tenantA), fi.issuer(tenantB)},
		"scopes_supported":         []any{"api://mcp-app/user_impersonation"},
		"bearer_methods_supported": []any{"header"},
	}
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Fatalf("PRM document\n got %s\nwant %s", gotJSON, wantJSON)
	}
	if n := fi.discoveryGets.Load(); n != 0 {
		t.Fatalf("PRM made %d discovery requests", n)
	}
}

// bearerRT adds an Authorization header.
type bearerRT struct{ token string }

func (b bearerRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// TestProtectEntraEndToEnd calls a tool through the go-sdk client and the
// stateless streamable handler behind Protect: the tool sees the verified
// TokenInfo and the caller's token.
func TestProtectEntraEndToEnd(t *testing.T) {
	key := newTestKey(t, "k")
	fi := newFakeIssuer(t, key)
	s := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	type out struct {
		UserID string `json:"user_id"`
		Token  bool   `json:"token"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "whoami"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, out, error) {
		tok, err := BearerToken(RequestHeader(req))
		return nil, out{UserID: req.Extra.TokenInfo.UserID, Token: err == nil && tok != ""}, nil
	})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	srv, _ := entraProtected(t, fi, h)

	token := rs256(t, key, fi.claimsFor(tenantA))
	ctx := context.Background()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil).Connect(ctx,
		&mcp.StreamableClientTransport{Endpoint: srv.URL + "/mcp", HTTPClient: &http.Client{Transport: bearerRT{token}}, DisableStandaloneSSE: true},
		&mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "whoami", Arguments: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(res.StructuredContent)
	if string(got) != `{"token":true,"user_id":"user-oid-1"}` {
		t.Fatalf("tool saw %s", got)
	}
}

// TestProtectEntraRefusesOpenPolicy: entra mode without required scopes
// or accepted roles would admit any token issued for the app, app-only
// tokens with unrelated roles included, so Protect refuses it.
func TestProtectEntraRefusesOpenPolicy(t *testing.T) {
	fi := newFakeIssuer(t, newTestKey(t, "k"))
	cfg := fi.verifierConfig()
	cfg.RequiredScopes = []string{" "}
	_, err := Protect(context.Background(), Config{Mode: ModeEntra, Verifier: cfg, PublicURL: "https://mcp.example.com"})
	if err == nil || !strings.Contains(err.Error(), envMCPAuthScopes) || !strings.Contains(err.Error(), "MCP_AUTH_ROLES") {
		t.Fatalf("Protect without scopes or roles = %v, want an error naming %s and MCP_AUTH_ROLES", err, envMCPAuthScopes)
	}
}

// TestEntraAccessPolicy runs delegated and app-only tokens against the
// access policies entra mode can be configured with, over HTTP.
func TestEntraAccessPolicy(t *testing.T) {
	key := newTestKey(t, "k")
	fi := newFakeIssuer(t, key)
	const (
		vscode = "aebc6443-996d-45c2-90f0-388ff96faa56"
		daemon = "d0d0d0d0-0000-4000-8000-000000000001"
		other  = "0e0e0e0e-0000-4000-8000-000000000002"
	)
	user := fi.claimsFor(tenantA) // scp user_impersonation, azp vscode
	tokens := map[string]string{
		"user":              rs256(t, key, user),
		"user, other app":   rs256(t, key, with(user, "azp", other)),
		"user, no scope":    rs256(t, key, with(user, "scp", "Files.Read")),
		"user, role":        rs256(t, key, with(user, "scp", "Files.Read", "roles", []string{"Tools.Call"})),
		"app, role":         rs256(t, key, with(user, "scp", nil, "roles", []string{"Tools.Call"}, "azp", daemon)),
		"app, v1 appid":     rs256(t, key, with(user, "scp", nil, "roles", []string{"Tools.Call"}, "azp", nil, "appid", daemon)),
		"app, unrelated":    rs256(t, key, with(user, "scp", nil, "roles", []string{"SomeUnrelatedRole"}, "azp", other)),
		"app, no azp/appid": rs256(t, key, with(user, "scp", nil, "roles", []string{"Tools.Call"}, "azp", nil)),
	}
	const scope, plain = "scope", "plain" // 403 with insufficient_scope, or without a challenge
	tests := []struct {
		name   string
		scopes []string
		roles  []string
		apps   []string
		want   map[string]any // token -> 200, or scope/plain for 403
	}{
		{
			name: "scopes only", scopes: []string{appIDURI + "/user_impersonation"},
			want: map[string]any{"user": 200, "user, other app": 200, "user, no scope": scope, "user, role": scope,
				"app, role": plain, "app, v1 appid": plain, "app, unrelated": plain, "app, no azp/appid": plain},
		},
		{
			name: "roles only", roles: []string{"Tools.Call"},
			want: map[string]any{"user": plain, "user, no scope": plain, "user, role": 200,
				"app, role": 200, "app, v1 appid": 200, "app, unrelated": plain, "app, no azp/appid": 200},
		},
		{
			name: "scopes and roles", scopes: []string{"user_impersonation"}, roles: []string{"Tools.Call", "Tools.Admin"},
			want: map[string]any{"user": 200, "user, no scope": scope, "user, role": scope,
				"app, role": 200, "app, unrelated": plain},
		},
		{
			name: "allowed applications", scopes: []string{"user_impersonation"}, roles: []string{"Tools.Call"}, apps: []string{strings.ToUpper(vscode), daemon},
			want: map[string]any{"user": 200, "user, other app": plain, "user, no scope": scope,
				"app, role": 200, "app, v1 appid": 200, "app, unrelated": plain, "app, no azp/appid": plain},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := fi.verifierConfig()
			cfg.RequiredScopes, cfg.AcceptedRoles, cfg.AllowedApplications = tt.scopes, tt.roles, tt.apps
			p, err := Protect(context.Background(), Config{Mode: ModeEntra, Verifier: cfg, PublicURL: "https://mcp.example.com"})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(p.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })))
			defer srv.Close()
			for _, name := range slices.Sorted(maps.Keys(tt.want)) {
				req, _ := http.NewRequest("POST", srv.URL+"/mcp", strings.NewReader("{}"))
				req.Header.Set("Authorization", "Bearer "+tokens[name])
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				challenge := resp.Header.Get("WWW-Authenticate")
				switch want := tt.want[name]; want {
				case 200:
					if resp.StatusCode != 200 {
						t.Errorf("%s: status %d (%s), want 200", name, resp.StatusCode, strings.TrimSpace(string(body)))
					}
				case scope:
					if resp.StatusCode != 403 || !strings.Contains(challenge, `error="insufficient_scope"`) {
						t.Errorf("%s: status %d, challenge %q; want 403 with insufficient_scope", name, resp.StatusCode, challenge)
					}
				case plain:
					if resp.StatusCode != 403 || challenge != "" {
						t.Errorf("%s: status %d, challenge %q; want 403 without a challenge (%s)", name, resp.StatusCode, challenge, strings.TrimSpace(string(body)))
					}
				}
			}
		})
	}
}
