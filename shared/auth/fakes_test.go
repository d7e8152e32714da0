package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testTenant   = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	testClientID = "app-client-id"
	graphScope   = "https://graph.microsoft.com/.default"
)

// fakeEntra is an https Entra authority for one tenant: OpenID metadata and
// a token endpoint that checks on-behalf-of requests.
type fakeEntra struct {
	t   *testing.T
	srv *httptest.Server

	metadataGets atomic.Int64
	tokenPosts   atomic.Int64

	mu sync.Mutex
	// wantClientAssertion, if set, must be the client_assertion; wantSecret
	// the client_secret; wantJWTAssertion requires some JWT assertion.
	wantClientAssertion string
	wantSecret          string
	wantJWTAssertion    bool
	// delay holds each token response.
	delay time.Duration
	// respond, if set, writes the token response instead of success.
	respond func(w http.ResponseWriter, r *http.Request, form url.Values) bool
	// issued maps issued access tokens to the assertion they were for.
	issued   map[string]string
	lastForm url.Values
	problems []string
}

func newFakeEntra(t *testing.T) *fakeEntra {
	t.Helper()
	fe := &fakeEntra{t: t, issued: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		fe.metadataGets.Add(1)
		tenant := r.PathValue("tenant")
		base := fe.srv.URL + "/" + tenant
		writeJSON(w, 200, map[string]any{
			"issuer":                 base + "/v2.0",
			"authorization_endpoint": base + "/oauth2/v2.0/authorize",
			"token_endpoint":         base + "/oauth2/v2.0/token",
		})
	})
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", fe.token)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fe.problem("unexpected request %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
	})
	fe.srv = httptest.NewTLSServer(mux)
	t.Cleanup(func() {
		fe.srv.Close()
		fe.mu.Lock()
		defer fe.mu.Unlock()
		for _, p := range fe.problems {
			t.Errorf("fake Entra: %s", p)
		}
	})
	return fe
}

func (fe *fakeEntra) problem(format string, args ...any) {
	fe.mu.Lock()
	fe.problems = append(fe.problems, fmt.Sprintf(format, args...))
	fe.mu.Unlock()
}

func (fe *fakeEntra) token(w http.ResponseWriter, r *http.Request) {
	fe.tokenPosts.Add(1)
	if err := r.ParseForm(); err != nil {
		fe.problem("parse form: %v", err)
		return
	}
	form := r.PostForm
	fe.mu.Lock()
	fe.lastForm = form
	wantCA, wantSecret, wantJWT, delay, respond := fe.wantClientAssertion, fe.wantSecret, fe.wantJWTAssertion, fe.delay, fe.respond
	fe.mu.Unlock()

	if r.PathValue("tenant") != testTenant {
		fe.problem("tenant %q", r.PathValue("tenant"))
	}
	check := func(field, want string) {
		if got := form.Get(field); got != want {
			fe.problem("%s = %q, want %q", field, got, want)
		}
	}
	check("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
	check("requested_token_use", "on_behalf_of")
	check("client_id", testClientID)
	if form.Get("assertion") == "" {
		fe.problem("no assertion")
	}
	if !strings.Contains(form.Get("scope"), graphScope) {
		fe.problem("scope %q", form.Get("scope"))
	}
	switch {
	case wantCA != "":
		check("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		check("client_assertion", wantCA)
	case wantSecret != "":
		check("client_secret", wantSecret)
	case wantJWT:
		check("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		if strings.Count(form.Get("client_assertion"), ".") != 2 {
			fe.problem("client_assertion is not a JWT")
		}
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if respond != nil && respond(w, r, form) {
		return
	}
	at := "graph-at-" + shortHash(form.Get("assertion")) + "-" + fmt.Sprint(fe.tokenPosts.Load())
	fe.mu.Lock()
	fe.issued[at] = form.Get("assertion")
	fe.mu.Unlock()
	writeJSON(w, 200, map[string]any{"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600, "access_token": at})
}

// issuedTokens returns every access token the fake issued.
func (fe *fakeEntra) issuedTokens() []string {
	fe.mu.Lock()
	defer fe.mu.Unlock()
	var out []string
	for k := range fe.issued {
		out = append(out, k)
	}
	return out
}

func (fe *fakeEntra) set(f func(fe *fakeEntra)) {
	fe.mu.Lock()
	defer fe.mu.Unlock()
	f(fe)
}

// entraError writes an Entra-shaped error response. The description echoes
// the caller's assertion, so tests prove it never reaches our errors.
func entraErrorResponse(status int, errCode, suberror string, code int, claims string) func(http.ResponseWriter, *http.Request, url.Values) bool {
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
		writeJSON(w, status, body)
		return true
	}
}

// fakeMI is an App Service managed identity endpoint.
type fakeMI struct {
	srv      *httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	status   int // non-zero: answer with this status
	clientID string
	token    string
	problems []string
}

const identityHeader = "identity-header-value"

// newFakeMI starts the endpoint and points IDENTITY_ENDPOINT at it; call it
// before creating the OBO. clientID must be unique per test because MSAL's
// managed identity token cache is process-global.
func newFakeMI(t *testing.T, clientID string) *fakeMI {
	t.Helper()
	mi := &fakeMI{clientID: clientID, token: "mi-assertion-" + shortHash(clientID) + "-" + strings.Repeat("m", 20)}
	mi.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mi.requests.Add(1)
		q := r.URL.Query()
		mi.mu.Lock()
		status := mi.status
		if got := r.Header.Get("X-IDENTITY-HEADER"); got != identityHeader {
			mi.problems = append(mi.problems, "X-IDENTITY-HEADER "+got)
		}
		if q.Get("resource") != DefaultTokenExchangeAudience {
			mi.problems = append(mi.problems, "resource "+q.Get("resource"))
		}
		if q.Get("client_id") != mi.clientID {
			mi.problems = append(mi.problems, "client_id "+q.Get("client_id"))
		}
		if q.Get("api-version") == "" {
			mi.problems = append(mi.problems, "no api-version")
		}
		mi.mu.Unlock()
		if status != 0 {
			writeJSON(w, status, map[string]any{"error": "unavailable", "message": "identity endpoint failing"})
			return
		}
		writeJSON(w, 200, map[string]any{
			"access_token": mi.token,
			"expires_on":   fmt.Sprint(time.Now().Add(24 * time.Hour).Unix()),
			"resource":     q.Get("resource"),
			"token_type":   "Bearer",
			"client_id":    q.Get("client_id"),
		})
	}))
	t.Cleanup(func() {
		mi.srv.Close()
		mi.mu.Lock()
		defer mi.mu.Unlock()
		for _, p := range mi.problems {
			t.Errorf("fake MI: %s", p)
		}
	})
	t.Setenv("IDENTITY_ENDPOINT", mi.srv.URL+"/msi/token")
	t.Setenv("IDENTITY_HEADER", identityHeader)
	return mi
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:4])
}
