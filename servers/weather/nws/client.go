// Package nws is a small, polite client for the National Weather Service
// API (https://api.weather.gov).
//
// The client identifies itself with a User-Agent, asks for
// application/geo+json, retries transient failures (5xx, 429 and connection
// errors) with bounded, jittered backoff, caches responses as long as the
// API's Cache-Control allows (bounded in entries and in bytes, see
// [Config.CacheMaxBytes]), and collapses concurrent identical requests into
// a single upstream request.
package nws

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// Defaults used by [New] for zero [Config] fields.
const (
	DefaultBaseURL        = "https://api.weather.gov"
	DefaultUserAgent      = "(mcpfunc weather MCP server, https://github.com/mcpfunc/mcpfunc)"
	DefaultRequestTimeout = 8 * time.Second
	DefaultMaxAttempts    = 3
	DefaultRetryBaseDelay = 200 * time.Millisecond
	DefaultRetryMaxDelay  = 2 * time.Second
	// DefaultCacheMaxBytes is the cache's byte budget when
	// Config.CacheMaxBytes is zero.
	DefaultCacheMaxBytes = 32 << 20
)

const (
	// maxBodyBytes bounds every response body read from the API.
	maxBodyBytes = 8 << 20
	// maxCachedBodyBytes: larger bodies are served but not kept in the
	// cache. Real answers are far smaller (a forecast is about 15 KB, a
	// state's alerts rarely over 300 KB); one entry of this size costs
	// about twice it against the byte budget (see entryCost).
	maxCachedBodyBytes = 512 << 10
	// maxErrorBodyBytes bounds the part of an error response that is parsed.
	maxErrorBodyBytes = 64 << 10
	// maxDrainBytes is how much of an unread body is drained before closing,
	// so that the connection can be reused.
	maxDrainBytes = 256 << 10
	// maxRedirects bounds redirect chains (all on the API's own host).
	maxRedirects = 5
)

// Config configures a [Client]. The zero value is usable: every zero field
// gets the default documented on it.
type Config struct {
	// BaseURL is the API root, an absolute http or https URL.
	// Default: https://api.weather.gov.
	BaseURL string
	// UserAgent identifies the application to the NWS, which requires one.
	// Default: DefaultUserAgent.
	UserAgent string
	// HTTPClient sends the requests. Its CheckRedirect is replaced (on a
	// copy) so that redirects never leave the API's host. Default: a client
	// using [NewTransport] and no global Timeout; deadlines come from
	// contexts.
	HTTPClient *http.Client
	// RequestTimeout bounds each attempt, including reading the body.
	// Default: 8s.
	RequestTimeout time.Duration
	// MaxAttempts is the number of attempts per request, first one included.
	// Default: 3.
	MaxAttempts int
	// CacheEntries is the number of responses kept in the in-memory cache.
	// 0 disables the cache.
	CacheEntries int
	// CacheMaxBytes bounds the cache's memory: each response counts its
	// key, its body and a decoded copy of about the body's size. Least
	// recently used responses are evicted to make room, and responses over
	// 512 KiB are not cached at all. Default: 32 MiB.
	CacheMaxBytes int64
	// RetryBaseDelay is the backoff before the second attempt; it doubles
	// for each further attempt. Default: 200ms.
	RetryBaseDelay time.Duration
	// RetryMaxDelay caps every wait between attempts, including waits asked
	// for by Retry-After. Default: 2s.
	RetryMaxDelay time.Duration
	// Logger receives one Warn line per failed request and Debug lines for
	// retries. Default: discard.
	Logger *slog.Logger
	// Now is the clock used for cache expiry. Default: time.Now.
	Now func() time.Time
}

// Client is an NWS API client. It is safe for concurrent use.
type Client struct {
	base       *url.URL
	userAgent  string
	hc         *http.Client
	timeout    time.Duration
	attempts   int
	baseDelay  time.Duration
	maxDelay   time.Duration
	cache      *byteCache // nil when caching is off
	group      singleflight.Group
	log        *slog.Logger
	now        func() time.Time
	flightTime time.Duration
	waiting    atomic.Int64 // callers waiting on a shared fetch
}

// ParseBaseURL parses and checks an API base URL: it must be an absolute
// http or https URL with a host, and no query, fragment or user info.
func ParseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("invalid base URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("invalid base URL %q: must be an absolute http or https URL", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("invalid base URL %q: missing host", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("invalid base URL %q: must not contain user info, a query or a fragment", raw)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// NewTransport returns a clone of [http.DefaultTransport] tuned for many
// concurrent requests to a single host.
func NewTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 128
	t.MaxIdleConnsPerHost = 64
	t.IdleConnTimeout = 90 * time.Second
	t.ForceAttemptHTTP2 = true
	return t
}

// New returns a Client for cfg, filling in defaults for zero fields.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	base, err := ParseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("nws: %w", err)
	}
	if cfg.UserAgent = strings.TrimSpace(cfg.UserAgent); cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	if cfg.RequestTimeout < 0 || cfg.MaxAttempts < 0 || cfg.CacheEntries < 0 || cfg.CacheMaxBytes < 0 ||
		cfg.RetryBaseDelay < 0 || cfg.RetryMaxDelay < 0 {
		return nil, errors.New("nws: negative RequestTimeout, MaxAttempts, CacheEntries, CacheMaxBytes or retry delay")
	}
	if cfg.CacheMaxBytes == 0 {
		cfg.CacheMaxBytes = DefaultCacheMaxBytes
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.RetryBaseDelay == 0 {
		cfg.RetryBaseDelay = DefaultRetryBaseDelay
	}
	if cfg.RetryMaxDelay == 0 {
		cfg.RetryMaxDelay = DefaultRetryMaxDelay
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}

	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient // copy: the caller's client is not modified
	} else {
		hc.Transport = NewTransport()
	}
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("%w: stopped after %d redirects", ErrRedirectRefused, maxRedirects)
		}
		if !sameOrigin(req.URL, base) {
			return fmt.Errorf("%w to another host (%s://%s)", ErrRedirectRefused, req.URL.Scheme, req.URL.Host)
		}
		return nil
	}

	c := &Client{
		base:      base,
		userAgent: cfg.UserAgent,
		hc:        &hc,
		timeout:   cfg.RequestTimeout,
		attempts:  cfg.MaxAttempts,
		baseDelay: cfg.RetryBaseDelay,
		maxDelay:  cfg.RetryMaxDelay,
		log:       cfg.Logger,
		now:       cfg.Now,
	}
	c.flightTime = time.Duration(c.attempts)*c.timeout + time.Duration(c.attempts-1)*c.maxDelay
	if cfg.CacheEntries > 0 {
		c.cache, err = newByteCache(cfg.CacheEntries, cfg.CacheMaxBytes)
		if err != nil {
			return nil, fmt.Errorf("nws: creating cache: %w", err)
		}
	}
	return c, nil
}

// RequestTimeout returns the per-attempt timeout.
func (c *Client) RequestTimeout() time.Duration { return c.timeout }

// MaxAttempts returns the number of attempts made per request.
func (c *Client) MaxAttempts() int { return c.attempts }

// MaxRequestDuration is the longest a single request (all attempts and the
// waits between them) can take.
func (c *Client) MaxRequestDuration() time.Duration { return c.flightTime }

// BaseURL returns the API root the client talks to.
func (c *Client) BaseURL() string { return c.base.String() }

// GetJSON fetches path (relative to the base URL, starting with "/", may
// carry a query) and decodes the JSON answer into v.
func (c *Client) GetJSON(ctx context.Context, path string, v any) error {
	u, err := c.resolve(path)
	if err != nil {
		return err
	}
	return c.getJSON(ctx, u, v)
}

// resolve joins a root-relative path to the base URL.
func (c *Client) resolve(path string) (*url.URL, error) {
	ref, err := url.Parse(path)
	if err != nil {
		return nil, fmt.Errorf("nws: invalid path %q: %w", path, err)
	}
	if ref.IsAbs() || ref.Host != "" || !strings.HasPrefix(ref.Path, "/") {
		return nil, fmt.Errorf("nws: path %q must be relative to the base URL and start with /", path)
	}
	u := *c.base
	u.Path = c.base.Path + ref.Path
	u.RawPath = c.base.EscapedPath() + ref.EscapedPath() // keeps escapes such as %2F
	u.RawQuery = ref.RawQuery
	return &u, nil
}

// sameOrigin reports whether u has the scheme and host of base.
func sameOrigin(u, base *url.URL) bool {
	return strings.EqualFold(u.Scheme, base.Scheme) && strings.EqualFold(u.Host, base.Host)
}

func (c *Client) getJSON(ctx context.Context, u *url.URL, v any) error {
	body, _, err := c.get(ctx, u)
	if err != nil {
		return err
	}
	return decodeAnswer(u, body, v)
}

// decodeAnswer decodes the body of the answer for u into v.
func decodeAnswer(u *url.URL, body []byte, v any) error {
	if err := decodeJSON(body, v); err != nil {
		return fmt.Errorf("nws: GET %s: %w (%w)", u.Path, ErrMalformedJSON, err)
	}
	return nil
}

// getDecoded fetches u and decodes the answer as a T. While the answer is
// cached, it is decoded once and every caller gets the same *T, which
// nobody may modify.
func getDecoded[T any](ctx context.Context, c *Client, u *url.URL) (*T, error) {
	body, decoded, err := c.get(ctx, u)
	if err != nil {
		return nil, err
	}
	t := reflect.TypeFor[T]()
	if decoded != nil {
		if v, ok := decoded.load(t); ok {
			return v.(*T), nil
		}
	}
	v := new(T)
	if err := decodeAnswer(u, body, v); err != nil {
		return nil, err
	}
	if decoded != nil {
		v = decoded.loadOrStore(t, v).(*T)
	}
	return v, nil
}

// get returns the body of a 2xx answer for u, from the cache or from a
// (possibly shared) upstream fetch, and, for a cached answer, the values
// decoded from it. The returned slice must not be modified.
func (c *Client) get(ctx context.Context, u *url.URL) ([]byte, *decodedValues, error) {
	key := u.String()
	if e, ok := c.cached(key); ok {
		return e.body, e.decoded, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, c.ctxError(ctx, u, time.Now())
	}
	start := time.Now()
	// The shared fetch outlives any single caller: it runs detached from
	// the caller's cancellation, bounded by its own deadline.
	ch := c.group.DoChan(key, func() (any, error) {
		// A flight that just ended may have filled the cache since the
		// check above.
		if e, ok := c.cached(key); ok {
			return e.body, nil
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.flightTime)
		defer cancel()
		return c.fetch(fctx, u)
	})
	// DoChan has registered this caller; the counter lets tests observe it.
	c.waiting.Add(1)
	defer c.waiting.Add(-1)
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, nil, r.Err
		}
		return r.Val.([]byte), nil, nil
	case <-ctx.Done():
		return nil, nil, c.ctxError(ctx, u, start)
	}
}

// ctxError converts the caller's context error into the package's errors.
func (c *Client) ctxError(ctx context.Context, u *url.URL, start time.Time) error {
	err := ctx.Err()
	if errors.Is(err, context.DeadlineExceeded) {
		waited := time.Since(start)
		if dl, ok := ctx.Deadline(); ok {
			waited = max(dl.Sub(start), 0)
		}
		return &TimeoutError{Path: u.Path, Timeout: waited, Err: err}
	}
	return fmt.Errorf("nws: GET %s: %w", u.Path, err)
}

// fetch performs up to c.attempts attempts for u and caches a 200 answer.
func (c *Client) fetch(ctx context.Context, u *url.URL) ([]byte, error) {
	start := time.Now()
	for attempt := 1; ; attempt++ {
		res, err := c.attempt(ctx, u)
		if err == nil && res.status >= 200 && res.status < 300 {
			if res.status == http.StatusOK {
				c.store(u.String(), res)
			}
			return res.body, nil
		}
		var (
			retry bool
			wait  time.Duration
		)
		switch {
		case err != nil:
			var te *TimeoutError
			// A slow upstream is not hammered again; connection failures
			// are retried. An oversized answer or a refused redirect would
			// only come again.
			retry = !errors.As(err, &te) && ctx.Err() == nil &&
				!errors.Is(err, ErrResponseTooLarge) && !errors.Is(err, ErrRedirectRefused)
			wait = c.backoff(attempt)
		default:
			se := res.statusError(u.Path)
			se.Attempts = attempt
			err = se
			retry = res.status == http.StatusTooManyRequests || res.status >= 500
			wait = c.backoff(attempt)
			if ra, ok := parseRetryAfter(res.header.Get("Retry-After"), time.Now()); ok {
				wait = min(ra, c.maxDelay)
			}
		}
		if retry && attempt < c.attempts {
			if dl, ok := ctx.Deadline(); !ok || time.Now().Add(wait).Before(dl) {
				c.log.Debug("nws: retrying", "path", u.Path, "attempt", attempt, "wait", wait, "error", err)
				t := time.NewTimer(wait)
				select {
				case <-t.C:
					continue
				case <-ctx.Done():
					t.Stop()
				}
			}
		}
		var (
			se *StatusError
			te *TimeoutError
		)
		if !errors.As(err, &se) && !errors.As(err, &te) {
			err = &RequestError{Path: u.Path, Attempts: attempt, Err: err}
		}
		status := 0
		if se != nil {
			status = se.Status
		}
		// A 4xx other than 429 answers a question the caller asked (a point
		// outside coverage, say): worth a line, not a warning. Warnings go to
		// stderr, which the Functions host shows as errors.
		level := slog.LevelWarn
		if status >= 400 && status < 500 && status != http.StatusTooManyRequests {
			level = slog.LevelInfo
		}
		c.log.Log(context.Background(), level, "nws: request failed", "path", u.Path, "status", status, "attempts", attempt,
			"elapsed", time.Since(start).Round(time.Millisecond).String(), "error", err)
		return nil, err
	}
}

// backoff returns the jittered wait before attempt+1: between half and all
// of RetryBaseDelay·2^(attempt-1), capped at RetryMaxDelay.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.baseDelay << min(attempt-1, 20)
	if d <= 0 || d > c.maxDelay {
		d = c.maxDelay
	}
	half := d / 2
	return half + rand.N(half+1)
}

// parseRetryAfter parses a Retry-After value: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(min(secs, 3600)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// response is one upstream answer, read in full (up to the limits).
type response struct {
	status int
	header http.Header
	body   []byte
}

// attempt sends one request for u, bounded by the per-attempt timeout.
func (c *Client) attempt(ctx context.Context, u *url.URL) (*response, error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	timeout := c.timeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl).Round(time.Millisecond))
	}
	timeoutErr := func(err error) error {
		if actx.Err() == nil {
			return err
		}
		return &TimeoutError{Path: u.Path, Timeout: timeout, Err: context.DeadlineExceeded}
	}

	req, err := http.NewRequestWithContext(actx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/geo+json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, timeoutErr(err)
	}
	defer drainClose(resp)

	limit := int64(maxBodyBytes)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		limit = maxErrorBodyBytes
	}
	body, err := readLimited(resp.Body, limit)
	if err != nil {
		if errors.Is(err, ErrResponseTooLarge) && limit == maxErrorBodyBytes {
			// An oversized error body is still an error answer; the
			// status is what matters.
			err = nil
		} else {
			return nil, timeoutErr(fmt.Errorf("reading body: %w", err))
		}
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// statusError builds the error for a non-2xx answer, using an
// application/problem+json body when there is one.
func (r *response) statusError(path string) *StatusError {
	se := &StatusError{Status: r.status, Path: path}
	ct := strings.ToLower(r.header.Get("Content-Type"))
	if strings.Contains(ct, "json") && len(r.body) > 0 {
		var p struct {
			Title  string `json:"title"`
			Detail string `json:"detail"`
		}
		if decodeJSON(r.body, &p) == nil {
			se.Title = sanitize(p.Title, 200)
			se.Detail = sanitize(p.Detail, 200)
		}
	}
	return se
}
