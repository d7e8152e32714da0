package graph

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

const (
	testToken  = "graph-token-for:incoming-user-jwt"
	selectWant = "id,displayName,mail,userPrincipalName"
	adaJSON    = `{"id":"u1","displayName":"Ada Lovelace","mail":"ada@example.com","userPrincipalName":"ada@example.com"}`
)

// fakeCredential is an azcore.TokenCredential that returns a fixed token (or
// error) and records every call.
type fakeCredential struct {
	token string
	err   error

	mu     sync.Mutex
	calls  int
	scopes [][]string
}

func (c *fakeCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.mu.Lock()
	c.calls++
	c.scopes = append(c.scopes, slices.Clone(opts.Scopes))
	c.mu.Unlock()
	if c.err != nil {
		return azcore.AccessToken{}, c.err
	}
	return azcore.AccessToken{Token: c.token, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func (c *fakeCredential) record() (int, [][]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls, slices.Clone(c.scopes)
}

// oboFailure stands in for a credential's own error type, such as
// *azidentity.AuthenticationFailedError.
type oboFailure struct{ code string }

func (e *oboFailure) Error() string { return "token exchange failed: " + e.code }

// fakeGraph is a fake Graph endpoint that checks the request shape of GET
// /v1.0/me and then delegates to respond.
type fakeGraph struct {
	t       *testing.T
	token   string
	hits    atomic.Int32
	respond func(w http.ResponseWriter, r *http.Request, hit int)
}

func (f *fakeGraph) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hit := int(f.hits.Add(1))
	if r.Method != http.MethodGet {
		f.t.Errorf("method = %s, want GET", r.Method)
	}
	if r.URL.Path != "/v1.0/me" {
		f.t.Errorf("path = %q, want exactly /v1.0/me", r.URL.Path)
	}
	if got := r.URL.Query().Get("$select"); got != selectWant {
		f.t.Errorf("$select = %q, want %q (raw query %q)", got, selectWant, r.URL.RawQuery)
	}
	if got, want := r.Header.Get("Authorization"), "Bearer "+f.token; got != want {
		f.t.Errorf("Authorization header = %q, want %q", got, want)
	}
	if got := r.Header.Get("SdkVersion"); !strings.Contains(got, "graph-go-core/") {
		f.t.Errorf("SdkVersion header = %q: Graph middleware missing", got)
	}
	f.respond(w, r, hit)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func odataError(code, message string) string {
	return fmt.Sprintf(`{"error":{"code":%q,"message":%q}}`, code, message)
}

// defaultFakeTimeout bounds calls to the fake Graph unless a test says otherwise.
const defaultFakeTimeout = 5 * time.Second

// newFakeClient starts a fake Graph on 127.0.0.1 (TLS or plain http) and
// returns it with a Client for it that gets tokens from cred and bounds
// each call by timeout (0: defaultFakeTimeout).
func newFakeClient(t *testing.T, useTLS bool, cred azcore.TokenCredential, timeout time.Duration, respond func(http.ResponseWriter, *http.Request, int)) (*fakeGraph, *Client) {
	t.Helper()
	fg := &fakeGraph{t: t, token: testToken, respond: respond}
	var srv *httptest.Server
	if useTLS {
		srv = httptest.NewTLSServer(fg)
	} else {
		srv = httptest.NewServer(fg)
	}
	t.Cleanup(srv.Close)
	cfg := Config{Credential: cred, BaseURL: srv.URL + "/v1.0", Timeout: cmp.Or(timeout, defaultFakeTimeout)}
	if useTLS {
		cfg.HTTPClient = srv.Client()
	}
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") && !strings.HasPrefix(srv.URL, "https://127.0.0.1:") {
		t.Fatalf("fake is not on 127.0.0.1: %s", srv.URL)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return fg, c
}

func TestMeSuccess(t *testing.T) {
	for _, tc := range []struct {
		name   string
		useTLS bool
	}{
		{"tls", true},
		{"plain-http-loopback", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cred := &fakeCredential{token: testToken}
			fg, c := newFakeClient(t, tc.useTLS, cred, 0, func(w http.ResponseWriter, r *http.Request, _ int) {
				writeJSON(w, http.StatusOK, adaJSON)
			})
			got, err := c.Me(context.Background())
			if err != nil {
				t.Fatalf("Me: %v", err)
			}
			want := User{ID: "u1", DisplayName: "Ada Lovelace", Mail: "ada@example.com", UserPrincipalName: "ada@example.com"}
			if *got != want {
				t.Errorf("Me = %+v, want %+v", *got, want)
			}
			if n := fg.hits.Load(); n != 1 {
				t.Errorf("fake saw %d requests, want 1", n)
			}
			calls, scopes := cred.record()
			if calls != 1 {
				t.Errorf("GetToken calls = %d, want 1", calls)
			}
			for _, s := range scopes {
				if !slices.Equal(s, []string{"https://graph.microsoft.com/.default"}) {
					t.Errorf("GetToken scopes = %q, want [https://graph.microsoft.com/.default]", s)
				}
			}
		})
	}
}

// TestServiceSharedAcrossCallers runs concurrent calls with different
// credentials through one Service and checks each caller gets its own user.
func TestServiceSharedAcrossCallers(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		writeJSON(w, http.StatusOK, fmt.Sprintf(`{"id":%q,"displayName":"x","userPrincipalName":"x@example.com"}`, "id-"+tok))
	}))
	t.Cleanup(srv.Close)
	svc, err := NewService(Config{BaseURL: srv.URL + "/v1.0", HTTPClient: srv.Client(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			tok := fmt.Sprintf("tok%d", i)
			for range 5 {
				u, err := svc.Client(&fakeCredential{token: tok}).Me(context.Background())
				if err != nil {
					t.Errorf("caller %d: %v", i, err)
					return
				}
				if u.ID != "id-"+tok || u.Mail != "" {
					t.Errorf("caller %d got %+v", i, *u)
				}
			}
		})
	}
	wg.Wait()
}

func TestMeErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		timeout    time.Duration
		respond    func(w http.ResponseWriter, r *http.Request, hit int)
		kind       Kind
		status     int
		code       string
		message    string
		retryAfter time.Duration
		hits       int32
	}{
		{
			name: "401 expired token",
			respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
				writeJSON(w, 401, odataError("InvalidAuthenticationToken", "Access token has expired"))
			},
			kind: KindUnauthorized, status: 401, code: "InvalidAuthenticationToken", message: "Access token has expired", hits: 1,
		},
		{
			name: "401 without body",
			respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.WriteHeader(401)
			},
			kind: KindUnauthorized, status: 401, hits: 1,
		},
		{
			name: "403 missing consent",
			respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
				writeJSON(w, 403, odataError("Authorization_RequestDenied", "Insufficient privileges to complete the operation."))
			},
			kind: KindForbidden, status: 403, code: "Authorization_RequestDenied", message: "Insufficient privileges to complete the operation.", hits: 1,
		},
		{
			name: "404",
			respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
				writeJSON(w, 404, odataError("Request_ResourceNotFound", "Resource does not exist."))
			},
			kind: KindNotFound, status: 404, code: "Request_ResourceNotFound", message: "Resource does not exist.", hits: 1,
		},
		{
			// ODataError.Error() would panic on this body; Error must not.
			name: "404 error without message",
			respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
				writeJSON(w, 404, `{"error":{"code":"ResourceNotFound"}}`)
			},
			kind: KindNotFound, status: 404, code: "ResourceNotFound", hits: 1,
		},
		{
			// Retry-After (7 s) exceeds the 2 s timeout: no retry, fail fast.
			name:    "429 with Retry-After beyond the deadline",
			timeout: 2 * time.Second,
			respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.Header().Set("Retry-After", "7")
				writeJSON(w, 429, odataError("TooManyRequests", "Too many requests"))
			},
			kind: KindThrottled, status: 429, code: "TooManyRequests", retryAfter: 7 * time.Second, hits: 1,
		},
		{
			name: "500",
			respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
				writeJSON(w, 500, odataError("generalException", "An unexpected error occurred."))
			},
			kind: KindUnavailable, status: 500, code: "generalException", hits: 1,
		},
		{
			// kiota's first back-off would be 3-4 s, beyond the 2 s timeout.
			name:    "503 without Retry-After",
			timeout: 2 * time.Second,
			respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
				writeJSON(w, 503, odataError("serviceNotAvailable", "Service unavailable"))
			},
			kind: KindUnavailable, status: 503, code: "serviceNotAvailable", hits: 1,
		},
		{
			name:    "503 html page with Retry-After",
			timeout: 2 * time.Second,
			respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.Header().Set("Content-Type", "text/html")
				w.Header().Set("Retry-After", "30")
				w.WriteHeader(503)
				_, _ = io.WriteString(w, "<html>down</html>")
			},
			kind: KindUnavailable, status: 503, retryAfter: 30 * time.Second, hits: 1,
		},
		{
			name: "400",
			respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
				writeJSON(w, 400, odataError("BadRequest", "Invalid request"))
			},
			kind: KindOther, status: 400, code: "BadRequest", hits: 1,
		},
		{
			name: "malformed JSON",
			respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
				writeJSON(w, 200, `{"id":"u1","displayName":`)
			},
			kind: KindBadResponse, status: 200, hits: 1,
		},
		{
			name: "non-JSON success",
			respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.Header().Set("Content-Type", "text/plain")
				_, _ = io.WriteString(w, "hello")
			},
			kind: KindBadResponse, status: 200, hits: 1,
		},
		{
			name: "user without id",
			respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
				writeJSON(w, 200, `{"displayName":"Ada"}`)
			},
			kind: KindBadResponse, status: 200, hits: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cred := &fakeCredential{token: testToken}
			fg, c := newFakeClient(t, false, cred, tc.timeout, tc.respond)
			start := time.Now()
			u, err := c.Me(context.Background())
			elapsed := time.Since(start)
			if err == nil {
				t.Fatalf("Me = %+v, want error", u)
			}
			var ge *Error
			if !errors.As(err, &ge) {
				t.Fatalf("error %T (%v) is not *Error", err, err)
			}
			if ge.Kind != tc.kind || ge.Status != tc.status || ge.Code != tc.code {
				t.Errorf("got Kind=%q Status=%d Code=%q, want %q %d %q (err: %v)", ge.Kind, ge.Status, ge.Code, tc.kind, tc.status, tc.code, err)
			}
			if tc.message != "" && ge.Message != tc.message {
				t.Errorf("Message = %q, want %q", ge.Message, tc.message)
			}
			if ge.RetryAfter != tc.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", ge.RetryAfter, tc.retryAfter)
			}
			if n := fg.hits.Load(); n != tc.hits {
				t.Errorf("fake saw %d requests, want %d", n, tc.hits)
			}
			if tc.timeout != 0 && elapsed > tc.timeout {
				t.Errorf("call took %v, beyond the %v timeout", elapsed, tc.timeout)
			}
			msg := err.Error()
			if strings.Contains(msg, testToken) {
				t.Errorf("error text contains the token: %q", msg)
			}
			if tc.status != 0 && !strings.Contains(msg, fmt.Sprint(tc.status)) {
				t.Errorf("error text %q lacks the status", msg)
			}
			if tc.code != "" && !strings.Contains(msg, tc.code) {
				t.Errorf("error text %q lacks the Graph code", msg)
			}
		})
	}
}

func TestMeTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	release := make(chan struct{})
	cred := &fakeCredential{token: testToken}
	_, c := newFakeClient(t, false, cred, timeout, func(w http.ResponseWriter, r *http.Request, _ int) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) }) // runs before the server's Close
	start := time.Now()
	_, err := c.Me(context.Background())
	elapsed := time.Since(start)
	var ge *Error
	if !errors.As(err, &ge) || ge.Kind != KindTimeout {
		t.Fatalf("err = %v, want Kind %q", err, KindTimeout)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("errors.Is(err, context.DeadlineExceeded) = false for %v", err)
	}
	// Bounded, not a speed test: generous slack for a loaded machine.
	if elapsed > timeout+2*time.Second {
		t.Errorf("Me returned after %v, timeout was %v", elapsed, timeout)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("error text contains the token: %q", err)
	}
}

func TestMeCanceled(t *testing.T) {
	cred := &fakeCredential{token: testToken}
	_, c := newFakeClient(t, false, cred, 0, func(w http.ResponseWriter, _ *http.Request, _ int) {
		writeJSON(w, 200, adaJSON)
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Me(ctx)
	var ge *Error
	if !errors.As(err, &ge) || ge.Kind != KindCanceled || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want Kind %q wrapping context.Canceled", err, KindCanceled)
	}
}

func TestMeCredentialErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cred *fakeCredential
		as   bool // errors.As must find *oboFailure
	}{
		{"GetToken fails", &fakeCredential{err: &oboFailure{code: "AADSTS65001"}}, true},
		{"empty token", &fakeCredential{token: ""}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fg, c := newFakeClient(t, false, tc.cred, 0, func(w http.ResponseWriter, _ *http.Request, _ int) {
				writeJSON(w, 200, adaJSON)
			})
			_, err := c.Me(context.Background())
			var ge *Error
			if !errors.As(err, &ge) || ge.Kind != KindCredential || ge.Status != 0 {
				t.Fatalf("err = %#v, want Kind %q and no status", err, KindCredential)
			}
			var obo *oboFailure
			if got := errors.As(err, &obo); got != tc.as {
				t.Errorf("errors.As(*oboFailure) = %v, want %v", got, tc.as)
			} else if got && obo.code != "AADSTS65001" {
				t.Errorf("found %+v", obo)
			}
			if n := fg.hits.Load(); n != 0 {
				t.Errorf("Graph was called %d times without a token", n)
			}
			if !strings.Contains(err.Error(), "token") {
				t.Errorf("error text %q does not mention the token step", err)
			}
		})
	}
}

// TestRetry documents the Graph middleware's RetryHandler as configured
// here: 429/503/504 are retried (honouring Retry-After) up to 3 times, but
// only while the wait fits before the call's deadline.
func TestRetry(t *testing.T) {
	for _, tc := range []struct {
		name     string
		timeout  time.Duration
		respond  func(w http.ResponseWriter, r *http.Request, hit int)
		wantErr  Kind // "" means success
		wantHits int32
	}{
		{
			name: "429 then success",
			respond: func(w http.ResponseWriter, _ *http.Request, hit int) {
				if hit == 1 {
					w.Header().Set("Retry-After", "0")
					writeJSON(w, 429, odataError("TooManyRequests", "slow down"))
					return
				}
				writeJSON(w, 200, adaJSON)
			},
			wantHits: 2,
		},
		{
			name: "503 twice then success",
			respond: func(w http.ResponseWriter, _ *http.Request, hit int) {
				if hit <= 2 {
					w.Header().Set("Retry-After", "0")
					writeJSON(w, 503, odataError("serviceNotAvailable", "busy"))
					return
				}
				writeJSON(w, 200, adaJSON)
			},
			wantHits: 3,
		},
		{
			name: "429 forever: 3 retries at most",
			respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.Header().Set("Retry-After", "0")
				writeJSON(w, 429, odataError("TooManyRequests", "slow down"))
			},
			wantErr:  KindThrottled,
			wantHits: 4,
		},
		{
			// The first 1 s wait fits in 1.5 s; the second does not.
			name:    "429 Retry-After 1s with 1.5s timeout",
			timeout: 1500 * time.Millisecond,
			respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.Header().Set("Retry-After", "1")
				writeJSON(w, 429, odataError("TooManyRequests", "slow down"))
			},
			wantErr:  KindThrottled,
			wantHits: 2,
		},
		{
			name: "500 is not retried",
			respond: func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.Header().Set("Retry-After", "0")
				writeJSON(w, 500, odataError("generalException", "boom"))
			},
			wantErr:  KindUnavailable,
			wantHits: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cred := &fakeCredential{token: testToken}
			fg, c := newFakeClient(t, true, cred, tc.timeout, tc.respond)
			start := time.Now()
			u, err := c.Me(context.Background())
			elapsed := time.Since(start)
			if tc.wantErr == "" {
				if err != nil || u.ID != "u1" {
					t.Fatalf("Me = %+v, %v; want u1", u, err)
				}
			} else {
				var ge *Error
				if !errors.As(err, &ge) || ge.Kind != tc.wantErr {
					t.Fatalf("err = %v, want Kind %q", err, tc.wantErr)
				}
			}
			if n := fg.hits.Load(); n != tc.wantHits {
				t.Errorf("fake saw %d requests, want %d", n, tc.wantHits)
			}
			if timeout := cmp.Or(tc.timeout, defaultFakeTimeout); elapsed > timeout {
				t.Errorf("took %v, beyond the %v timeout", elapsed, timeout)
			}
		})
	}
}

func TestNewServiceValidation(t *testing.T) {
	for _, tc := range []struct {
		base string
		ok   bool
	}{
		{"", true},
		{"https://graph.microsoft.com/v1.0/", true},
		{"https://graph.microsoft.us/v1.0", true},
		{"http://127.0.0.1:8080/v1.0", true},
		{"http://localhost:8080/v1.0", true},
		{"http://[::1]:8080/v1.0", true},
		{"http://graph.microsoft.com/v1.0", false},
		{"ftp://graph.microsoft.com/v1.0", false},
		{"https:///v1.0", false},
		{"https://graph.microsoft.com/v1.0?x=1", false},
		{"://bad", false},
	} {
		svc, err := NewService(Config{BaseURL: tc.base})
		if (err == nil) != tc.ok {
			t.Errorf("NewService(BaseURL=%q) error = %v, want ok=%v", tc.base, err, tc.ok)
		}
		if err == nil && tc.base == "" && svc.baseURL != DefaultBaseURL {
			t.Errorf("default base = %q", svc.baseURL)
		}
		if err == nil && tc.base == "" && !slices.Equal(svc.validHosts, []string{"graph.microsoft.com"}) {
			t.Errorf("default validHosts = %q", svc.validHosts)
		}
	}
	if _, err := NewClient(Config{}); err == nil {
		t.Error("NewClient without a credential: want error")
	}
	svc, err := NewService(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if svc.timeout != DefaultTimeout {
		t.Errorf("default timeout = %v", svc.timeout)
	}
	var ge *Error
	if _, err := svc.Me(context.Background(), nil); !errors.As(err, &ge) || ge.Kind != KindCredential {
		t.Errorf("Me(nil credential) = %v, want Kind %q", err, KindCredential)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"120", 120 * time.Second, true},
		{"1.9", time.Second, true},
		{"-5", 0, true},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"soon", 0, false},
	} {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
