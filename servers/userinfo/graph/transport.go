package graph

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	khttp "github.com/microsoft/kiota-http-go"
)

const (
	// defaultMaxRetries and defaultRetryDelaySeconds are kiota's own
	// RetryHandler defaults, spelled out so the documented behaviour does
	// not change silently.
	defaultMaxRetries        = 3
	defaultRetryDelaySeconds = 3
	// maxRetryJitter is the upper bound of the random jitter kiota adds to
	// its exponential back-off.
	maxRetryJitter = time.Second
	// drainLimit bounds how much of a response body is read before the
	// body is closed, so that the connection can be reused.
	drainLimit = 64 << 10
)

// callStateKey is the context key of a call's *callState.
type callStateKey struct{}

// callState records, for one Me call, what the innermost middleware saw of
// the last HTTP attempt. It is needed because kiota reports failures to
// parse a response (malformed JSON, a non-JSON error page) as plain errors
// without the status code.
type callState struct {
	mu         sync.Mutex
	status     int
	retryAfter string
	attempts   int
}

func (s *callState) record(resp *http.Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	if resp == nil {
		s.status, s.retryAfter = 0, ""
		return
	}
	s.status = resp.StatusCode
	s.retryAfter = resp.Header.Get("Retry-After")
}

func (s *callState) snapshot() (status int, retryAfter string, attempts int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status, s.retryAfter, s.attempts
}

func (s *callState) lastStatus() int {
	status, _, _ := s.snapshot()
	return status
}

// statusRecorder is a stateless kiota middleware that stores each attempt's
// status and Retry-After header in the request's *callState, if any.
type statusRecorder struct{}

// Intercept implements khttp.Middleware.
func (statusRecorder) Intercept(p khttp.Pipeline, i int, req *http.Request) (*http.Response, error) {
	resp, err := p.Next(req, i)
	if st, ok := req.Context().Value(callStateKey{}).(*callState); ok {
		if err != nil {
			resp = nil
		}
		st.record(resp)
	}
	return resp, err
}

// retryWithinDeadline is the ShouldRetry hook given to kiota's RetryHandler.
// It allows a retry only if the coming wait (Retry-After, or kiota's
// exponential back-off plus its maximum jitter) ends before the request's
// deadline, so a throttled call fails fast with the server's Retry-After
// instead of sleeping into a timeout. When it allows a retry it also drains
// and closes the discarded response, which kiota leaves open.
func retryWithinDeadline(_ time.Duration, executionCount int, req *http.Request, resp *http.Response) bool {
	if deadline, ok := req.Context().Deadline(); ok {
		if time.Until(deadline) <= nextRetryWait(resp, executionCount) {
			return false
		}
	}
	if resp != nil && resp.Body != nil {
		_, _ = io.CopyN(io.Discard, resp.Body, drainLimit)
		_ = resp.Body.Close()
	}
	return true
}

// nextRetryWait mirrors kiota's RetryHandler.getRetryDelay as an upper
// bound. executionCount is the number of retries already made.
func nextRetryWait(resp *http.Response, executionCount int) time.Duration {
	if resp != nil {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return d
		}
	}
	shift := min(executionCount, 16)
	return time.Duration(defaultRetryDelaySeconds<<shift)*time.Second + maxRetryJitter
}

// parseRetryAfter parses a Retry-After value given in seconds or as an HTTP
// date. Fractional seconds are truncated, as kiota does.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 {
			return 0, true
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// guardedCredential wraps the caller's credential so that its failures can
// be told apart from Graph's: they come back wrapped in *credentialError,
// which unwraps to the credential's own error.
type guardedCredential struct {
	cred azcore.TokenCredential
}

// GetToken implements azcore.TokenCredential.
func (g guardedCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tok, err := g.cred.GetToken(ctx, opts)
	if err != nil {
		return azcore.AccessToken{}, &credentialError{err: err}
	}
	if tok.Token == "" {
		// kiota would silently send the request without Authorization.
		return azcore.AccessToken{}, &credentialError{err: errors.New("credential returned an empty access token")}
	}
	return tok, nil
}

// credentialError marks an error returned by the caller's credential.
type credentialError struct {
	err error
}

func (e *credentialError) Error() string { return "getting a Graph access token: " + e.err.Error() }

func (e *credentialError) Unwrap() error { return e.err }
