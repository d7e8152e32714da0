package obo

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

// Defaults for [Options].
const (
	// defaultTimeout bounds one exchange, including the managed identity
	// call and its retries.
	defaultTimeout = 15 * time.Second
	// defaultCacheSize is the number of (caller token, scopes) entries
	// kept.
	defaultCacheSize = 1000
	// defaultExpiryMargin is how long before its expiry a cached token
	// stops being served.
	defaultExpiryMargin = 5 * time.Minute
)

// Options tunes [New]. The zero value gives the defaults.
type Options struct {
	// Timeout bounds each exchange with Entra, including fetching the
	// client assertion from the managed identity. Default 15 s.
	Timeout time.Duration
	// CacheSize bounds the number of cached tokens (least recently used
	// are evicted); it is also the number of exchanges after which the
	// MSAL client, and so MSAL's own cache, is replaced. Default 1000.
	CacheSize int
	// ExpiryMargin: a cached token is not served once it has less than
	// this left. Default 5 minutes.
	ExpiryMargin time.Duration
	// HTTPClient sends the requests to Entra and to the managed identity
	// endpoint. Default: a client using http.DefaultTransport.
	HTTPClient *http.Client
	// DisableInstanceDiscovery skips MSAL's authority validation request.
	// Needed for authorities MSAL does not know (tests, private clouds).
	// New also skips it when Config.AuthorityHost names a host other than
	// Microsoft's public and national clouds, since instance discovery asks
	// login.microsoftonline.com about that host and fails offline.
	DisableInstanceDiscovery bool
}

// Exchanger exchanges callers' tokens for tokens to downstream APIs with the
// OAuth 2.0 on-behalf-of flow. It is safe for concurrent use; create one
// per process.
//
// Design. An Exchanger holds one MSAL confidential client (not one
// azidentity OnBehalfOfCredential per caller), so Entra's OpenID metadata
// and MSAL's instance discovery are fetched once per client, not per
// caller, and each new caller token costs one token request. A new azidentity
// OnBehalfOfCredential per caller would cost up to three (metadata,
// instance discovery, token).
//
// MSAL's own token cache never evicts, so a long-lived client would grow
// with every caller. MSAL offers no way to bound or clear it: its
// cache-persistence hook (confidential.WithCache) cannot load into the
// partitioned on-behalf-of cache (MSAL Go issue #455, "Can't unmarshal a
// partitioned cache"), and RemoveAccount does not reach that cache. The
// Exchanger therefore recycles the client: after about CacheSize exchanges it builds
// a fresh MSAL client (one more metadata fetch) and drops the old one,
// whose cache is garbage-collected once its in-flight exchanges finish. So
// MSAL holds at most about CacheSize token responses, and the metadata is
// fetched once per CacheSize new callers rather than once per call.
//
// Caching is done by the Exchanger itself, in a bounded LRU keyed by the
// SHA-256 of the caller's token and the scopes (the token itself is never a
// key); an entry is served only until ExpiryMargin before the access token expires
// (MSAL applies the same 5-minute rule to its own cache). Concurrent
// requests for the same key share one exchange (singleflight). That
// exchange runs on a context detached from the callers', bounded by
// Timeout, so a caller that gives up does not cancel it for the others;
// each caller still returns as soon as its own context is done.
//
// Timeouts and retries. MSAL does not retry token requests; the exchange
// is bounded by Timeout (default 15 s). In managed-identity mode the
// client assertion comes from azidentity's ManagedIdentityCredential
// inside the same exchange; its azcore retry policy is reduced from the
// default (4 attempts, about 10 s) to 3 attempts of at most 5 s each with
// delays of 0.25 to 1 s (about 1 s in all when the endpoint answers 5xx at
// once), so an MI outage is reported well within Timeout.
// The managed-identity token is fetched through the credential for every
// exchange; azidentity caches it, so this is usually free, and concurrent
// fetches (a burst of first exchanges for different callers) share one
// request to the identity endpoint.
//
// The Exchanger does not declare the CP1 client capability, so Entra does
// not issue continuous-access-evaluation tokens that would need claims
// challenges handled downstream.
type Exchanger struct {
	cfg      Config
	cred     confidential.Credential
	msalOpts []confidential.Option
	mi       *azidentity.ManagedIdentityCredential
	miScope  string
	miGroup  singleflight.Group

	// gen is the current MSAL client; it is replaced after genLimit
	// exchanges.
	gen      atomic.Pointer[msalGen]
	genMu    sync.Mutex
	genLimit int64

	cache   *lru.Cache[string, cachedToken]
	group   singleflight.Group
	timeout time.Duration
	margin  time.Duration
	now     func() time.Time

	exchanges atomic.Int64
	// testMSALOptions are appended when a client is built (tests).
	testMSALOptions []confidential.Option
}

// msalGen is one MSAL client and the number of exchanges it served.
type msalGen struct {
	client confidential.Client
	uses   atomic.Int64
}

type cachedToken struct {
	token     string
	expiresOn time.Time
}

// New builds an [Exchanger] from cfg. It makes no network request. A nil
// opts means the defaults.
func New(cfg Config, opts *Options) (*Exchanger, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.CacheSize <= 0 {
		o.CacheSize = defaultCacheSize
	}
	if o.ExpiryMargin <= 0 {
		o.ExpiryMargin = defaultExpiryMargin
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}

	b := &Exchanger{
		cfg:      cfg,
		timeout:  o.Timeout,
		margin:   o.ExpiryMargin,
		now:      time.Now,
		genLimit: int64(o.CacheSize),
	}
	var err error
	if b.cache, err = lru.New[string, cachedToken](o.CacheSize); err != nil {
		return nil, fmt.Errorf("auth: on-behalf-of cache: %w", err)
	}

	switch cfg.Mode {
	case ModeManagedIdentity:
		miOpts := &azidentity.ManagedIdentityCredentialOptions{
			ID: azidentity.ClientID(cfg.ManagedIdentityClientID),
		}
		miOpts.Retry = policy.RetryOptions{
			MaxRetries:    2,
			TryTimeout:    5 * time.Second,
			RetryDelay:    250 * time.Millisecond,
			MaxRetryDelay: time.Second,
		}
		if o.HTTPClient != nil {
			miOpts.Transport = o.HTTPClient
		}
		if b.mi, err = azidentity.NewManagedIdentityCredential(miOpts); err != nil {
			return nil, fmt.Errorf("auth: managed identity %s=%s: %w", envMIClientID, cfg.ManagedIdentityClientID, err)
		}
		aud := cfg.audience()
		if !strings.HasSuffix(aud, "/.default") {
			aud = strings.TrimRight(aud, "/") + "/.default"
		}
		b.miScope = aud
		b.cred = confidential.NewCredFromAssertionCallback(b.clientAssertion)
	case ModeClientSecret:
		if b.cred, err = confidential.NewCredFromSecret(cfg.ClientSecret); err != nil {
			return nil, fmt.Errorf("auth: client secret: %w", err)
		}
	case ModeClientCertificate:
		data, err := os.ReadFile(cfg.CertificatePath)
		if err != nil {
			return nil, fmt.Errorf("auth: %s: %w", envClientCertPath, err)
		}
		certs, key, err := azidentity.ParseCertificates(data, []byte(cfg.CertificatePassword))
		if err != nil {
			return nil, fmt.Errorf("auth: %s %s: %w", envClientCertPath, cfg.CertificatePath, err)
		}
		if _, ok := key.(*rsa.PrivateKey); !ok {
			return nil, fmt.Errorf("auth: %s %s: the private key must be RSA, got %T", envClientCertPath, cfg.CertificatePath, key)
		}
		if b.cred, err = confidential.NewCredFromCert(certs, key); err != nil {
			return nil, fmt.Errorf("auth: %s %s: %w", envClientCertPath, cfg.CertificatePath, err)
		}
	}

	b.msalOpts = []confidential.Option{
		confidential.WithHTTPClient(hc),
		confidential.WithInstanceDiscovery(!o.DisableInstanceDiscovery && knownAuthority(cfg.authorityHost())),
		// "DisableMsalForceRegion" keeps MSAL_FORCE_REGION from rerouting
		// the exchange to a regional endpoint.
		confidential.WithAzureRegion("DisableMsalForceRegion"),
	}
	g, err := b.newGen()
	if err != nil {
		return nil, err
	}
	b.gen.Store(g)
	return b, nil
}

// newGen builds a fresh MSAL client (no network request).
func (b *Exchanger) newGen() (*msalGen, error) {
	authority := b.cfg.authorityHost() + "/" + b.cfg.TenantID
	opts := append(slices.Clone(b.msalOpts), b.testMSALOptions...)
	c, err := confidential.New(authority, b.cfg.ClientID, b.cred, opts...)
	if err != nil {
		return nil, fmt.Errorf("auth: on-behalf-of client for %s: %w", authority, err)
	}
	return &msalGen{client: c}, nil
}

// client returns the MSAL client for the next exchange, replacing it when
// it has served genLimit exchanges.
func (b *Exchanger) client() (confidential.Client, error) {
	g := b.gen.Load()
	if g.uses.Add(1) <= b.genLimit {
		return g.client, nil
	}
	b.genMu.Lock()
	defer b.genMu.Unlock()
	if cur := b.gen.Load(); cur != g {
		cur.uses.Add(1) // another caller already replaced it
		return cur.client, nil
	}
	ng, err := b.newGen()
	if err != nil {
		return confidential.Client{}, err
	}
	ng.uses.Store(1)
	b.gen.Store(ng)
	return ng.client, nil
}

// clientAssertion is MSAL's assertion callback in managed-identity mode.
func (b *Exchanger) clientAssertion(ctx context.Context, _ confidential.AssertionRequestOptions) (string, error) {
	st, _ := ctx.Value(exchangeStateKey{}).(*exchangeState)
	// Every exchange runs on a detached context bounded by b.timeout, so a
	// shared fetch on such a context serves the others as well as their own.
	v, err, _ := b.miGroup.Do(b.miScope, func() (any, error) {
		return b.mi.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{b.miScope}})
	})
	tok, _ := v.(azcore.AccessToken)
	if err != nil {
		if st != nil {
			st.miErr = err
		}
		return "", errors.New("managed identity token unavailable")
	}
	if st != nil {
		st.assertion = tok.Token
	}
	return tok.Token, nil
}

// Token returns an access token for scopes (such as
// "https://graph.microsoft.com/.default") on behalf of the caller whose
// access token is userToken. It serves a cached token when one is valid
// for at least ExpiryMargin more, and otherwise exchanges userToken at
// Entra, sharing one exchange among concurrent callers. Exchange failures
// are [*Error]s; when ctx ends first, Token returns an error wrapping
// ctx.Err().
func (b *Exchanger) Token(ctx context.Context, userToken string, scopes ...string) (azcore.AccessToken, error) {
	return b.token(ctx, userToken, scopes, "")
}

func (b *Exchanger) token(ctx context.Context, userToken string, scopes []string, claims string) (azcore.AccessToken, error) {
	if userToken == "" {
		return azcore.AccessToken{}, newArgError("on-behalf-of needs the caller's token")
	}
	if len(scopes) == 0 || slices.Contains(scopes, "") {
		return azcore.AccessToken{}, newArgError("on-behalf-of needs at least one non-empty scope")
	}
	if err := ctx.Err(); err != nil {
		return azcore.AccessToken{}, fmt.Errorf("auth: on-behalf-of exchange abandoned: %w", err)
	}
	key := cacheKey(userToken, scopes, claims)
	if claims == "" {
		if t, ok := b.cached(key); ok {
			return t, nil
		}
	}
	ch := b.group.DoChan(key, func() (any, error) {
		if claims == "" {
			if t, ok := b.cached(key); ok {
				return t, nil
			}
		}
		// Detached from the first caller so its cancellation does not fail
		// the others; bounded by the exchange timeout.
		xctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.timeout)
		defer cancel()
		t, err := b.exchange(xctx, userToken, scopes, claims)
		if err != nil {
			return nil, err
		}
		if claims == "" {
			b.cache.Add(key, cachedToken{token: t.Token, expiresOn: t.ExpiresOn})
		}
		return t, nil
	})
	select {
	case <-ctx.Done():
		return azcore.AccessToken{}, fmt.Errorf("auth: on-behalf-of exchange abandoned: %w", ctx.Err())
	case r := <-ch:
		if r.Err != nil {
			return azcore.AccessToken{}, r.Err
		}
		return r.Val.(azcore.AccessToken), nil
	}
}

// cached returns the cached token for key if it is still valid for at
// least the margin.
func (b *Exchanger) cached(key string) (azcore.AccessToken, bool) {
	e, ok := b.cache.Get(key)
	if !ok {
		return azcore.AccessToken{}, false
	}
	if !b.now().Add(b.margin).Before(e.expiresOn) {
		b.cache.Remove(key)
		return azcore.AccessToken{}, false
	}
	return azcore.AccessToken{Token: e.token, ExpiresOn: e.expiresOn}, true
}

// exchange performs one on-behalf-of request through MSAL.
func (b *Exchanger) exchange(ctx context.Context, userToken string, scopes []string, claims string) (azcore.AccessToken, error) {
	b.exchanges.Add(1)
	st := &exchangeState{}
	ctx = context.WithValue(ctx, exchangeStateKey{}, st)
	var opts []confidential.AcquireOnBehalfOfOption
	if claims != "" {
		opts = append(opts, confidential.WithClaims(claims))
	}
	client, err := b.client()
	if err != nil {
		return azcore.AccessToken{}, &Error{Kind: KindOther, ClientID: b.cfg.ClientID, Detail: "cannot build the MSAL client"}
	}
	res, err := client.AcquireTokenOnBehalfOf(ctx, userToken, scopes, opts...)
	if err != nil {
		return azcore.AccessToken{}, b.classify(ctx, err, st, userToken)
	}
	return azcore.AccessToken{Token: res.AccessToken, ExpiresOn: res.ExpiresOn.UTC()}, nil
}

// cacheKey hashes the caller's token with the scopes and claims; the token
// itself never becomes a key.
func cacheKey(userToken string, scopes []string, claims string) string {
	s := slices.Clone(scopes)
	slices.Sort(s)
	h := sha256.New()
	h.Write([]byte(userToken))
	h.Write([]byte{0})
	h.Write([]byte(strings.Join(s, " ")))
	h.Write([]byte{0})
	h.Write([]byte(claims))
	return hex.EncodeToString(h.Sum(nil))
}

// credential returns an azcore.TokenCredential that gets tokens on behalf
// of the caller whose access token is userToken, for SDK clients such as
// the Microsoft Graph SDK. Its GetToken uses the scopes of each request;
// a request carrying a claims challenge bypasses the cache.
func (b *Exchanger) credential(userToken string) azcore.TokenCredential {
	return oboCredential{b: b, userToken: userToken}
}

type oboCredential struct {
	b         *Exchanger
	userToken string
}

// GetToken implements azcore.TokenCredential.
func (c oboCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return c.b.token(ctx, c.userToken, opts.Scopes, opts.Claims)
}

// String keeps the caller's token out of %v.
func (c oboCredential) String() string { return "obo.Exchanger credential" }

// GoString keeps the caller's token out of %#v.
func (c oboCredential) GoString() string { return "obo.oboCredential{}" }
