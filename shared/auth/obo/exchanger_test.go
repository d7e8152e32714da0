package obo

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/mcpfunc/mcpfunc/shared/auth/authtest"
)

var miSeq atomic.Int64

// uniqueMIClientID avoids MSAL's process-global managed identity cache.
func uniqueMIClientID(t *testing.T) string {
	return fmt.Sprintf("mi-%d-%s", miSeq.Add(1), strings.ReplaceAll(t.Name(), "/", "-"))
}

// userToken returns a fake caller token (opaque to the Exchanger; a JWT in
// real life).
func userToken(name string) string {
	return "user-token." + name + "." + strings.Repeat("u", 24)
}

type oboEnv struct {
	fe  *authtest.Entra
	mi  *authtest.ManagedIdentity
	obo *Exchanger
}

// newMIOBO wires an Exchanger in managed-identity mode to fresh fakes.
func newMIOBO(t *testing.T, opts Options, cfgEdit ...func(*Config)) *oboEnv {
	t.Helper()
	fe := newFakeEntra(t)
	miClientID := uniqueMIClientID(t)
	mi := authtest.NewManagedIdentity(t, miClientID)
	fe.ExpectClientAssertion(mi.Token)
	cfg := Config{
		Mode:                    ModeManagedIdentity,
		TenantID:                testTenant,
		ClientID:                testClientID,
		ManagedIdentityClientID: miClientID,
		AuthorityHost:           fe.URL,
		PublicHostname:          "app.azurewebsites.net",
	}
	for _, e := range cfgEdit {
		e(&cfg)
	}
	opts.HTTPClient = fe.Client
	opts.DisableInstanceDiscovery = true
	o, err := New(cfg, &opts)
	if err != nil {
		t.Fatal(err)
	}
	return &oboEnv{fe: fe, mi: mi, obo: o}
}

func TestExchangeSuccessAndCache(t *testing.T) {
	env := newMIOBO(t, Options{})
	ctx := context.Background()
	alice := userToken("alice")

	tok, err := env.obo.Token(ctx, alice, graphScope)
	if err != nil {
		t.Fatal(err)
	}
	issued := env.fe.IssuedTokens()
	if len(issued) != 1 || tok.Token != issued[0] {
		t.Fatalf("got token %q, fake issued %q", tok.Token, issued)
	}
	if a, _ := env.fe.AssertionFor(tok.Token); a != alice {
		t.Fatalf("token issued for the wrong assertion")
	}
	if d := time.Until(tok.ExpiresOn); d < 59*time.Minute || d > 61*time.Minute {
		t.Fatalf("ExpiresOn in %v", d)
	}
	if got := [3]int64{env.fe.MetadataRequests(), env.fe.TokenRequests(), env.mi.Requests()}; got != [3]int64{1, 1, 1} {
		t.Fatalf("metadata, token, MI requests = %v, want [1 1 1]", got)
	}

	// Same caller: served from the cache, zero requests to Entra.
	before := env.fe.MetadataRequests() + env.fe.TokenRequests()
	for range 3 {
		again, err := env.obo.Token(ctx, alice, graphScope)
		if err != nil || again.Token != tok.Token {
			t.Fatalf("cached: %q %v", again.Token, err)
		}
	}
	// Through the azcore.TokenCredential view too.
	viaCred, err := env.obo.credential(alice).GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{graphScope}})
	if err != nil || viaCred.Token != tok.Token {
		t.Fatalf("credential: %q %v", viaCred.Token, err)
	}
	if after := env.fe.MetadataRequests() + env.fe.TokenRequests(); after != before {
		t.Fatalf("cached calls made %d Entra requests", after-before)
	}

	// Another caller: one new token request; metadata is not fetched again.
	bob, err := env.obo.Token(ctx, userToken("bob"), graphScope)
	if err != nil || bob.Token == tok.Token {
		t.Fatalf("bob: %q %v", bob.Token, err)
	}
	if env.fe.TokenRequests() != 2 || env.fe.MetadataRequests() != 1 {
		t.Fatalf("token posts %d (want 2), metadata gets %d (want 1)", env.fe.TokenRequests(), env.fe.MetadataRequests())
	}
	// Other scopes for the same caller: a separate exchange.
	env.fe.ExpectScope("api://other/.default")
	if _, err := env.obo.Token(ctx, alice, "api://other/.default"); err != nil {
		t.Fatal(err)
	}
	if env.fe.TokenRequests() != 3 {
		t.Fatalf("token posts %d, want 3", env.fe.TokenRequests())
	}
}

func TestExchangeArgs(t *testing.T) {
	env := newMIOBO(t, Options{})
	if _, err := env.obo.Token(context.Background(), "", graphScope); err == nil {
		t.Error("empty token accepted")
	}
	if _, err := env.obo.Token(context.Background(), userToken("a")); err == nil {
		t.Error("no scopes accepted")
	}
	if _, err := env.obo.Token(context.Background(), userToken("a"), ""); err == nil {
		t.Error("empty scope accepted")
	}
	if n := env.fe.TokenRequests(); n != 0 {
		t.Errorf("%d requests", n)
	}
}

func TestExchangeConcurrentSingleExchange(t *testing.T) {
	env := newMIOBO(t, Options{})
	env.fe.SetDelay(100 * time.Millisecond)
	tok := userToken("concurrent")
	var wg sync.WaitGroup
	results := make([]string, 100)
	errs := make([]error, 100)
	for i := range 100 {
		wg.Go(func() {
			at, err := env.obo.Token(context.Background(), tok, graphScope)
			results[i], errs[i] = at.Token, err
		})
	}
	wg.Wait()
	for i := range 100 {
		if errs[i] != nil || results[i] != results[0] || results[i] == "" {
			t.Fatalf("call %d: %q %v", i, results[i], errs[i])
		}
	}
	if n := env.fe.TokenRequests(); n != 1 {
		t.Fatalf("%d token exchanges, want 1", n)
	}
	if n := env.mi.Requests(); n != 1 {
		t.Fatalf("%d MI requests, want 1", n)
	}
}

// TestExchangeConcurrentCallersOneMIFetch: a burst of first calls from different
// callers needs one exchange each, but one managed-identity token for all.
func TestExchangeConcurrentCallersOneMIFetch(t *testing.T) {
	env := newMIOBO(t, Options{})
	env.mi.SetDelay(100 * time.Millisecond)
	const callers = 16
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			_, errs[i] = env.obo.Token(context.Background(), userToken(fmt.Sprint("burst-", i)), graphScope)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
	}
	if n := env.fe.TokenRequests(); n != callers {
		t.Errorf("%d token exchanges, want %d", n, callers)
	}
	if n := env.mi.Requests(); n != 1 {
		t.Errorf("%d managed-identity requests for %d concurrent first exchanges, want 1", n, callers)
	}
}

func TestExchangeCallerGivesUp(t *testing.T) {
	env := newMIOBO(t, Options{})
	env.fe.SetDelay(300 * time.Millisecond)
	tok := userToken("impatient")

	impatient, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	var patientTok string
	var patientErr error
	wg.Go(func() {
		time.Sleep(5 * time.Millisecond) // join the impatient caller's exchange
		at, err := env.obo.Token(context.Background(), tok, graphScope)
		patientTok, patientErr = at.Token, err
	})
	start := time.Now()
	_, err := env.obo.Token(impatient, tok, graphScope)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("impatient caller: %v", err)
	}
	if el := time.Since(start); el > 250*time.Millisecond {
		t.Fatalf("impatient caller waited %v for the shared exchange", el)
	}
	wg.Wait()
	if patientErr != nil || patientTok == "" {
		t.Fatalf("patient caller: %q %v", patientTok, patientErr)
	}
	if n := env.fe.TokenRequests(); n != 1 {
		t.Fatalf("%d exchanges, want 1", n)
	}
	// The abandoned exchange still filled the cache.
	if _, err := env.obo.Token(context.Background(), tok, graphScope); err != nil || env.fe.TokenRequests() != 1 {
		t.Fatalf("after: %v, %d exchanges", err, env.fe.TokenRequests())
	}
}

func TestExchangeCacheBound(t *testing.T) {
	env := newMIOBO(t, Options{CacheSize: 2})
	ctx := context.Background()
	for i, name := range []string{"a", "b", "c", "a", "c"} {
		if _, err := env.obo.Token(ctx, userToken(name), graphScope); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	// a, b, c: 3 exchanges; a was evicted by c: 4th; c still cached.
	if n := env.obo.exchanges.Load(); n != 4 {
		t.Fatalf("%d exchanges, want 4", n)
	}
	// With CacheSize 2 the MSAL client holding a was replaced too, so a
	// really went back to Entra.
	if n := env.fe.TokenRequests(); n != 4 {
		t.Fatalf("%d token requests, want 4", n)
	}
	if n := env.obo.cache.Len(); n != 2 {
		t.Fatalf("cache holds %d, want 2", n)
	}
}

func TestExchangeExpiry(t *testing.T) {
	env := newMIOBO(t, Options{ExpiryMargin: 5 * time.Minute})
	// MSAL's own cache runs on the real clock; a fresh MSAL client per
	// exchange makes the fake see every exchange.
	env.obo.genLimit = 1
	var clock atomic.Int64
	start := time.Now()
	env.obo.now = func() time.Time { return start.Add(time.Duration(clock.Load())) }
	ctx := context.Background()
	tok := userToken("expiry")

	first, err := env.obo.Token(ctx, tok, graphScope)
	if err != nil {
		t.Fatal(err)
	}
	// expires_in is 3600 s: served until 55 min, not after.
	clock.Store(int64(54 * time.Minute))
	if again, err := env.obo.Token(ctx, tok, graphScope); err != nil || again.Token != first.Token || env.fe.TokenRequests() != 1 {
		t.Fatalf("at 54 min: %v, %d exchanges", err, env.fe.TokenRequests())
	}
	clock.Store(int64(56 * time.Minute))
	fresh, err := env.obo.Token(ctx, tok, graphScope)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Token == first.Token || env.fe.TokenRequests() != 2 {
		t.Fatalf("at 56 min: served the old token (%d exchanges)", env.fe.TokenRequests())
	}
}

func TestExchangeClaimsBypassCache(t *testing.T) {
	env := newMIOBO(t, Options{})
	ctx := context.Background()
	cred := env.obo.credential(userToken("cae"))
	claims := `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`
	for range 2 {
		if _, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{graphScope}, Claims: claims}); err != nil {
			t.Fatal(err)
		}
	}
	if n := env.fe.TokenRequests(); n != 2 {
		t.Fatalf("%d exchanges, want 2", n)
	}
	got := env.fe.LastTokenForm().Get("claims")
	if !strings.Contains(got, "acrs") {
		t.Fatalf("claims not sent: %q", got)
	}
	if s := fmt.Sprintf("%v %+v %#v", cred, cred, cred); strings.Contains(s, userToken("cae")) {
		t.Fatalf("credential prints the token: %s", s)
	}
}

// observingCache is an MSAL cache accessor that only counts the access
// tokens MSAL holds (it cannot load: MSAL Go issue #455).
type observingCache struct {
	mu  sync.Mutex
	max int
	n   int
}

func (c *observingCache) Replace(_ context.Context, u cache.Unmarshaler, _ cache.ReplaceHints) error {
	if m, ok := u.(cache.Marshaler); ok {
		if data, err := m.Marshal(); err == nil {
			c.mu.Lock()
			c.n++
			c.max = max(c.max, strings.Count(string(data), `"secret":"graph-at-`))
			c.mu.Unlock()
		}
	}
	return nil
}

func (c *observingCache) Export(context.Context, cache.Marshaler, cache.ExportHints) error {
	return nil
}

// TestExchangeMSALClientRecycled checks MSAL's internal cache stays bounded:
// the client is replaced every CacheSize exchanges, and the authority
// metadata is fetched once per client, not per call.
func TestExchangeMSALClientRecycled(t *testing.T) {
	env := newMIOBO(t, Options{CacheSize: 5})
	obs := &observingCache{}
	env.obo.testMSALOptions = []confidential.Option{confidential.WithCache(obs)}
	env.obo.gen.Store(must(env.obo.newGen()))
	for i := range 23 {
		if _, err := env.obo.Token(context.Background(), userToken(fmt.Sprint("user", i)), graphScope); err != nil {
			t.Fatal(err)
		}
	}
	if n := env.fe.TokenRequests(); n != 23 {
		t.Fatalf("%d token requests, want 23", n)
	}
	if n := env.fe.MetadataRequests(); n != 5 {
		t.Fatalf("%d metadata requests, want 5 (one per client of 5 exchanges)", n)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.n == 0 {
		t.Fatal("cache never observed")
	}
	if obs.max == 0 || obs.max > 5 {
		t.Fatalf("MSAL held up to %d access tokens, want 1..5", obs.max)
	}
}

func TestExchangeLocalSecret(t *testing.T) {
	const secret = "local-client-secret-value"
	fe := newFakeEntra(t)
	fe.ExpectClientSecret(secret)
	o, err := New(Config{Mode: ModeClientSecret, TenantID: testTenant, ClientID: testClientID, ClientSecret: secret, AuthorityHost: fe.URL},
		&Options{HTTPClient: fe.Client, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := o.Token(context.Background(), userToken("local"), graphScope)
	if err != nil || !strings.HasPrefix(tok.Token, "graph-at-") {
		t.Fatalf("%q %v", tok.Token, err)
	}
}

func TestExchangeLocalCertificate(t *testing.T) {
	fe := newFakeEntra(t)
	fe.ExpectJWTClientAssertion()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "obo-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cert.pem")
	pemData := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: must(x509.MarshalPKCS8PrivateKey(key))})...)
	if err := os.WriteFile(path, pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := New(Config{Mode: ModeClientCertificate, TenantID: testTenant, ClientID: testClientID, CertificatePath: path, AuthorityHost: fe.URL},
		&Options{HTTPClient: fe.Client, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Token(context.Background(), userToken("cert"), graphScope); err != nil {
		t.Fatal(err)
	}

	if _, err := New(Config{Mode: ModeClientCertificate, TenantID: testTenant, ClientID: testClientID, CertificatePath: filepath.Join(t.TempDir(), "none.pem")}, nil); err == nil ||
		!strings.Contains(err.Error(), envClientCertPath) {
		t.Fatalf("missing file: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Mode: ModeManagedIdentity, TenantID: testTenant, ClientID: testClientID},
		{Mode: ModeClientSecret, TenantID: testTenant, ClientID: testClientID},
		{Mode: ModeClientSecret, TenantID: "a/b", ClientID: testClientID, ClientSecret: "x"},
		{Mode: ModeClientSecret, TenantID: testTenant, ClientID: testClientID, ClientSecret: "x", AuthorityHost: "http://insecure"},
	} {
		if _, err := New(cfg, nil); err == nil {
			t.Errorf("New(%v) accepted", cfg)
		}
	}
}

// errorCase is one failing exchange.
type errorCase struct {
	name     string
	setup    func(t *testing.T, env *oboEnv)
	opts     Options
	cfgEdit  func(*Config)
	wantKind Kind
	wantMsg  []string // substrings of UserMessage
	maxTime  time.Duration
	wantCode int
	check    func(t *testing.T, env *oboEnv)
}

func oboErrorCases() []errorCase {
	consent := authtest.EntraError(400, "invalid_grant", "consent_required", 65001, "")
	return []errorCase{
		{
			name:     "consent required",
			setup:    entraAnswers(consent),
			wantKind: KindConsentRequired, wantCode: 65001,
			wantMsg: []string{"https://app.azurewebsites.net/.auth/login/aad?post_login_redirect_uri=/authcomplete", "consent"},
		},
		{
			name:     "consent required without WEBSITE_HOSTNAME",
			setup:    entraAnswers(consent),
			cfgEdit:  func(c *Config) { c.PublicHostname = "" },
			wantKind: KindConsentRequired, wantCode: 65001,
			wantMsg: []string{"Grant admin consent", testClientID, "Sign in to the app"},
		},
		{
			name:     "consent declined (65004)",
			setup:    entraAnswers(authtest.EntraError(400, "invalid_grant", "", 65004, "")),
			wantKind: KindConsentRequired, wantCode: 65004,
		},
		{
			name:     "MFA required with claims challenge",
			setup:    entraAnswers(authtest.EntraError(400, "invalid_grant", "basic_action", 50076, `{"access_token":{"capolids":{"essential":true,"values":["x"]}}}`)),
			wantKind: KindInteractionRequired, wantCode: 50076,
			wantMsg: []string{"multi-factor authentication", "sign in again"},
		},
		{
			name:     "conditional access (53003)",
			setup:    entraAnswers(authtest.EntraError(400, "invalid_grant", "", 53003, "")),
			wantKind: KindInteractionRequired, wantCode: 53003,
		},
		{
			name:     "unknown code with a claims challenge",
			setup:    entraAnswers(authtest.EntraError(400, "invalid_grant", "", 99999, `{"id_token":{}}`)),
			wantKind: KindInteractionRequired, wantCode: 99999,
		},
		{
			name:     "expired user assertion",
			setup:    entraAnswers(authtest.EntraError(400, "invalid_grant", "", 500133, "")),
			wantKind: KindInvalidUserToken, wantCode: 500133,
			wantMsg: []string{"expired", "Sign in again"},
		},
		{
			name:     "invalid user assertion (50013)",
			setup:    entraAnswers(authtest.EntraError(400, "invalid_grant", "", 50013, "")),
			wantKind: KindInvalidUserToken, wantCode: 50013,
		},
		{
			name:     "federated credential mismatch (70021)",
			setup:    entraAnswers(authtest.EntraError(400, "invalid_request", "", 70021, "")),
			wantKind: KindAppMisconfigured, wantCode: 70021,
			wantMsg: []string{"administrator"},
		},
		{
			name:     "client assertion expired (700024) is the app's problem",
			setup:    entraAnswers(authtest.EntraError(400, "invalid_client", "", 700024, "")),
			wantKind: KindAppMisconfigured, wantCode: 700024,
		},
		{
			name:     "other 400",
			setup:    entraAnswers(authtest.EntraError(400, "invalid_request", "", 90014, "")),
			wantKind: KindOther, wantCode: 90014,
		},
		{
			name: "AADSTS code only in the description",
			setup: entraAnswers(func(w http.ResponseWriter, r *http.Request, form url.Values) bool {
				authtest.WriteJSON(w, 400, map[string]any{"error": "invalid_grant", "error_description": "AADSTS65001: no consent for " + form.Get("assertion")})
				return true
			}),
			wantKind: KindConsentRequired, wantCode: 65001,
		},
		{
			name:     "Entra 503",
			setup:    entraAnswers(authtest.EntraError(503, "temporarily_unavailable", "", 90033, "")),
			wantKind: KindEntraUnavailable, maxTime: 2 * time.Second,
			wantMsg: []string{"unavailable", "Try again"},
		},
		{
			name:     "Entra 500 without a body",
			setup:    entraAnswers(func(w http.ResponseWriter, _ *http.Request, _ url.Values) bool { w.WriteHeader(500); return true }),
			wantKind: KindEntraUnavailable, maxTime: 2 * time.Second,
		},
		{
			name:     "Entra 429",
			setup:    entraAnswers(authtest.EntraError(429, "temporarily_unavailable", "", 50196, "")),
			wantKind: KindEntraUnavailable,
		},
		{
			name:     "Entra hangs: bounded by the exchange timeout",
			opts:     Options{Timeout: time.Second},
			setup:    func(t *testing.T, env *oboEnv) { env.fe.SetDelay(time.Minute) },
			wantKind: KindEntraUnavailable, maxTime: time.Second + 2*time.Second,
			wantMsg: []string{"did not answer in time"},
		},
		{
			name:     "managed identity answers 500",
			opts:     Options{Timeout: 5 * time.Second},
			setup:    func(t *testing.T, env *oboEnv) { env.mi.SetStatus(500) },
			wantKind: KindManagedIdentityUnavailable, maxTime: 5*time.Second + 2*time.Second,
			wantMsg: []string{envMIClientID},
			check: func(t *testing.T, env *oboEnv) {
				// The reduced retry policy: 3 attempts, then no token request.
				if n := env.mi.Requests(); n != 3 {
					t.Errorf("%d managed identity requests, want 3", n)
				}
				if n := env.fe.TokenRequests(); n != 0 {
					t.Errorf("%d token requests without an assertion", n)
				}
			},
		},
		{
			name:     "managed identity answers 400",
			setup:    func(t *testing.T, env *oboEnv) { env.mi.SetStatus(400) },
			wantKind: KindManagedIdentityUnavailable, maxTime: 3 * time.Second,
		},
		{
			name: "managed identity endpoint down",
			opts: Options{Timeout: 5 * time.Second},
			setup: func(t *testing.T, env *oboEnv) {
				t.Setenv("IDENTITY_ENDPOINT", "http://"+closedAddr(t)+"/msi/token")
			},
			wantKind: KindManagedIdentityUnavailable, maxTime: 5*time.Second + 2*time.Second,
			wantMsg: []string{envMIClientID},
		},
	}
}

// entraAnswers is a setup that makes the fake Entra answer with r.
func entraAnswers(r authtest.Responder) func(*testing.T, *oboEnv) {
	return func(_ *testing.T, env *oboEnv) { env.fe.SetResponder(r) }
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestExchangeErrors(t *testing.T) {
	for _, tc := range oboErrorCases() {
		t.Run(tc.name, func(t *testing.T) {
			var edits []func(*Config)
			if tc.cfgEdit != nil {
				edits = append(edits, tc.cfgEdit)
			}
			env := newMIOBO(t, tc.opts, edits...)
			tc.setup(t, env)
			user := userToken("err-" + authtest.ShortHash(tc.name))
			start := time.Now()
			_, err := env.obo.Token(context.Background(), user, graphScope)
			elapsed := time.Since(start)
			var oe *Error
			if !errors.As(err, &oe) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if oe.Kind != tc.wantKind {
				t.Fatalf("Kind = %v, want %v (%v)", oe.Kind, tc.wantKind, err)
			}
			if tc.wantCode != 0 && (len(oe.Codes) == 0 || oe.Codes[0] != tc.wantCode) {
				t.Errorf("Codes = %v, want %d", oe.Codes, tc.wantCode)
			}
			for _, w := range tc.wantMsg {
				if !strings.Contains(oe.UserMessage(), w) && !strings.Contains(oe.Error(), w) {
					t.Errorf("message lacks %q:\n%s\n%s", w, oe.UserMessage(), oe.Error())
				}
			}
			if tc.maxTime > 0 && elapsed > tc.maxTime {
				t.Errorf("took %v, want at most %v", elapsed, tc.maxTime)
			}
			if tc.check != nil {
				tc.check(t, env)
			}
			if tc.name == "Entra hangs: bounded by the exchange timeout" && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("timeout does not unwrap to DeadlineExceeded")
			}
			secrets := append([]string{user, env.mi.Token}, env.fe.IssuedTokens()...)
			for _, s := range []string{err.Error(), oe.UserMessage(), fmt.Sprintf("%v|%+v|%#v", err, err, oe), oe.Detail} {
				if authtest.ContainsAny(s, secrets...) {
					t.Fatalf("token material in error text: %s", s)
				}
			}
			t.Logf("Error(): %s\nUserMessage(): %s", err, oe.UserMessage())
		})
	}
}

// TestExchangeErrorsCarryNoTokenMaterial runs every failure and scans every
// error text for the test tokens.
func TestExchangeErrorsCarryNoTokenMaterial(t *testing.T) {
	var texts []string
	var secrets []string
	for _, tc := range oboErrorCases() {
		t.Run(tc.name, func(t *testing.T) {
			var edits []func(*Config)
			if tc.cfgEdit != nil {
				edits = append(edits, tc.cfgEdit)
			}
			env := newMIOBO(t, tc.opts, edits...)
			// A successful exchange first, so an access token exists; not
			// for managed identity failures, which a cached managed identity
			// token would hide.
			var good azcore.AccessToken
			if !strings.HasPrefix(tc.name, "managed identity") {
				var err error
				if good, err = env.obo.Token(context.Background(), userToken("good-"+authtest.ShortHash(tc.name)), graphScope); err != nil {
					t.Fatal(err)
				}
			}
			tc.setup(t, env)
			user := userToken("bad-" + authtest.ShortHash(tc.name))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := env.obo.Token(ctx, user, graphScope)
			if err == nil {
				t.Fatal("no error")
			}
			var oe *Error
			errors.As(err, &oe)
			texts = append(texts, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
			if oe != nil {
				texts = append(texts, oe.UserMessage(), oe.Detail)
			}
			secrets = append(secrets, user, userToken("good-"+authtest.ShortHash(tc.name)), env.mi.Token)
			if good.Token != "" {
				secrets = append(secrets, good.Token)
			}
			secrets = append(secrets, env.fe.IssuedTokens()...)
		})
	}
	if len(texts) == 0 {
		t.Fatal("no errors collected")
	}
	for _, s := range texts {
		for _, sec := range secrets {
			if strings.Contains(s, sec) {
				t.Fatalf("error text contains token %q:\n%s", sec, s)
			}
		}
		// Also no fragment long enough to be a token.
		if strings.Contains(s, strings.Repeat("u", 24)) || strings.Contains(s, strings.Repeat("m", 20)) {
			t.Fatalf("error text contains token material:\n%s", s)
		}
	}
}

func TestKindString(t *testing.T) {
	for k := KindOther; k <= KindEntraUnavailable; k++ {
		if k.String() == "" || strings.HasPrefix(k.String(), "obo.Kind(") {
			t.Errorf("kind %d has no name", k)
		}
		if (&Error{Kind: k}).UserMessage() == "" {
			t.Errorf("kind %v has no message", k)
		}
	}
	if Kind(99).String() != "obo.Kind(99)" {
		t.Error(Kind(99).String())
	}
}
