package auth

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	mcpauth "github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/mcpfunc/mcpfunc/shared/auth/authtest"
)

// The fuzzed verifier's issuer is served in-process (no sockets) on a fixed
// loopback authority, so that checked-in seeds can carry the right iss.
const (
	fuzzAuthority = "http://127.0.0.1:9"
	fuzzTenant    = "33333333-3333-4333-8333-333333333333"
	fuzzAudience  = "api://fuzz-app"
	fuzzKID       = "fuzz-key"
)

// handlerTransport serves requests with an http.Handler, in-process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// fuzzIssuerHandler serves OpenID discovery and the key set with pub.
func fuzzIssuerHandler(pub *rsa.PublicKey) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		base := fuzzAuthority + "/" + r.PathValue("tenant")
		authtest.WriteJSON(w, http.StatusOK, map[string]any{
			"issuer":                                base + "/v2.0",
			"jwks_uri":                              base + "/discovery/v2.0/keys",
			"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
			"token_endpoint":                        base + "/oauth2/v2.0/token",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", func(w http.ResponseWriter, r *http.Request) {
		authtest.WriteJSON(w, http.StatusOK, map[string]any{"keys": []map[string]any{{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": fuzzKID,
			"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		}}})
	})
	return mux
}

// fuzzToken builds a compact JWS from a header, claims and a signer.
func fuzzToken(header, claims map[string]any, sign func([]byte) []byte) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	return input + "." + base64.RawURLEncoding.EncodeToString(sign([]byte(input)))
}

func fuzzRS256(k *rsa.PrivateKey) func([]byte) []byte {
	return func(in []byte) []byte {
		sum := sha256.Sum256(in)
		sig, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, sum[:])
		if err != nil {
			panic(err)
		}
		return sig
	}
}

// signedBy reports whether token's signature is key's RS256 signature of
// its first two segments: the fuzz oracle, independent of go-oidc.
func signedBy(token string, key *rsa.PublicKey) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	return rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig) == nil
}

// FuzzVerify gives arbitrary strings to Verifier.Verify. Invariants: no
// panic; a token is accepted only if the test key signed it; a rejection
// wraps auth.ErrInvalidToken (the issuer is always reachable here) and
// never echoes the token.
func FuzzVerify(f *testing.F) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	attacker, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	issuer := fuzzAuthority + "/" + fuzzTenant + "/v2.0"
	now := time.Now()
	claims := map[string]any{
		"iss": issuer, "aud": fuzzAudience, "tid": fuzzTenant, "oid": "oid-1", "sub": "sub-1",
		"scp": "user_impersonation", "ver": "2.0",
		"iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(24 * time.Hour).Unix(),
	}
	rsHeader := map[string]any{"alg": "RS256", "typ": "JWT", "kid": fuzzKID}
	valid := fuzzToken(rsHeader, claims, fuzzRS256(key))
	f.Add(valid)
	f.Add(fuzzToken(rsHeader, claims, fuzzRS256(attacker)))
	f.Add(fuzzToken(map[string]any{"alg": "RS256", "kid": "other"}, claims, fuzzRS256(key)))
	f.Add(fuzzToken(map[string]any{"alg": "none"}, claims, func([]byte) []byte { return nil }))
	f.Add(fuzzToken(map[string]any{"alg": "HS256", "kid": fuzzKID}, claims, func(in []byte) []byte {
		m := hmac.New(sha256.New, key.PublicKey.N.Bytes())
		m.Write(in)
		return m.Sum(nil)
	}))
	f.Add(strings.TrimSuffix(valid, valid[len(valid)-2:]))
	f.Add(valid + ".")
	f.Add("Bearer " + valid)
	f.Add("")
	f.Add("..")
	f.Add("a.e30.c")

	cfg := VerifierConfig{
		TenantIDs:  []string{fuzzTenant},
		Audiences:  []string{fuzzAudience},
		Authority:  fuzzAuthority,
		HTTPClient: &http.Client{Transport: handlerTransport{fuzzIssuerHandler(&key.PublicKey)}, Timeout: 10 * time.Second},
	}
	v, err := newVerifier(context.Background(), cfg)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), valid, nil); err != nil {
		f.Fatalf("the valid seed is rejected: %v", err)
	}
	f.Fuzz(func(t *testing.T, token string) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ti, err := v.Verify(ctx, token, nil)
		if err == nil {
			if !signedBy(token, &key.PublicKey) {
				t.Fatalf("accepted a token the test key did not sign: %q (%+v)", token, ti)
			}
			if ti == nil || ti.Expiration.IsZero() {
				t.Fatalf("accepted with TokenInfo %+v", ti)
			}
			return
		}
		if !errors.Is(err, mcpauth.ErrInvalidToken) {
			t.Fatalf("rejection %v does not wrap auth.ErrInvalidToken", err)
		}
		if len(token) >= 16 && strings.Contains(err.Error(), token) {
			t.Fatalf("error echoes the token: %v", err)
		}
	})
}
