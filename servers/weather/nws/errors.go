package nws

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode"
)

// Sentinel errors, for use with [errors.Is].
var (
	// ErrNotFound is wrapped by every 404 [StatusError].
	ErrNotFound = errors.New("nws: not found")
	// ErrMalformedJSON is wrapped when the upstream answer is not the
	// expected JSON.
	ErrMalformedJSON = errors.New("the upstream returned malformed JSON")
	// ErrResponseTooLarge is wrapped when an answer exceeds the body limit.
	ErrResponseTooLarge = errors.New("the upstream response is too large")
	// ErrForeignURL is wrapped when upstream data points at a URL that is
	// not on the API's scheme and host.
	ErrForeignURL = errors.New("the URL is not on the NWS API host")
	// ErrRedirectRefused is wrapped when the API redirects to another
	// scheme or host, or more than 5 times. Such a request is not retried:
	// asking again gets the same redirect.
	ErrRedirectRefused = errors.New("refused redirect")
)

// StatusError is a non-2xx answer from the API (after any retries).
// Title and Detail come from an application/problem+json body, sanitized
// and truncated to at most 200 characters.
type StatusError struct {
	Status   int    // HTTP status code
	Title    string // problem title, if any
	Detail   string // problem detail, if any
	Path     string // URL path of the request
	Attempts int    // attempts made, first one included
}

// Error implements error. It never includes the response body, only the
// problem title and detail.
func (e *StatusError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "nws: GET %s: HTTP %d", e.Path, e.Status)
	if t := http.StatusText(e.Status); t != "" {
		b.WriteString(" " + t)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	if e.Title != "" && e.Title != http.StatusText(e.Status) {
		b.WriteString(": " + e.Title)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	return b.String()
}

// Unwrap returns [ErrNotFound] for a 404, nil otherwise.
func (e *StatusError) Unwrap() error {
	if e.Status == http.StatusNotFound {
		return ErrNotFound
	}
	return nil
}

// Retryable reports whether the status is one the client retries
// (429 and 5xx).
func (e *StatusError) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// TimeoutError reports that the API did not answer in time, either within
// the per-attempt timeout or before the caller's deadline. It wraps
// [context.DeadlineExceeded].
type TimeoutError struct {
	Path    string        // URL path of the request
	Timeout time.Duration // how long the client waited for the answer
	Err     error         // context.DeadlineExceeded
}

// Error implements error.
func (e *TimeoutError) Error() string {
	return fmt.Sprintf("nws: GET %s: no answer within %s", e.Path, e.Timeout)
}

// Unwrap returns the underlying context error.
func (e *TimeoutError) Unwrap() error { return e.Err }

// RequestError is a failure to get an answer at all (connection refused or
// reset, response too large, ...) after Attempts attempts.
type RequestError struct {
	Path     string
	Attempts int
	Err      error
}

// Error implements error.
func (e *RequestError) Error() string {
	s := "attempt"
	if e.Attempts != 1 {
		s = "attempts"
	}
	return fmt.Sprintf("nws: GET %s failed after %d %s: %v", e.Path, e.Attempts, s, e.Err)
}

// Unwrap returns the underlying error.
func (e *RequestError) Unwrap() error { return e.Err }

// decodeJSON decodes a complete JSON document into v.
func decodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errors.New("empty body")
	}
	return json.Unmarshal(body, v)
}

// readLimited reads r up to limit bytes; a longer body gives
// ErrResponseTooLarge along with the first limit bytes.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return body[:limit], fmt.Errorf("%w (over %d bytes)", ErrResponseTooLarge, limit)
	}
	return body, nil
}

// drainClose discards a bounded rest of the body and closes it, so the
// connection can be reused.
func drainClose(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainBytes))
	_ = resp.Body.Close()
}

// sanitize makes s a single line of at most n runes.
func sanitize(s string, n int) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n-1]) + "…"
	}
	return s
}
