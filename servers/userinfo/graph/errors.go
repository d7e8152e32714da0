package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// Kind classifies an [*Error] so that a caller can explain it to a user.
type Kind string

// The kinds of [*Error].
const (
	// KindUnauthorized: Graph answered 401; the access token was rejected
	// or has expired. Signing in again usually helps.
	KindUnauthorized Kind = "unauthorized"
	// KindForbidden: Graph answered 403; the token lacks a permission or
	// consent (User.Read for /me).
	KindForbidden Kind = "forbidden"
	// KindNotFound: Graph answered 404.
	KindNotFound Kind = "not_found"
	// KindThrottled: Graph answered 429 and the retry budget did not allow
	// waiting; see Error.RetryAfter.
	KindThrottled Kind = "throttled"
	// KindUnavailable: Graph answered 5xx.
	KindUnavailable Kind = "unavailable"
	// KindTimeout: the call's deadline (Config.Timeout or the caller's own)
	// passed before an answer arrived.
	KindTimeout Kind = "timeout"
	// KindCanceled: the caller's context was canceled.
	KindCanceled Kind = "canceled"
	// KindCredential: the credential failed to issue a token (for an OBO
	// credential: the token exchange with Entra ID failed). Error.Err is the
	// credential's own error.
	KindCredential Kind = "credential"
	// KindBadResponse: Graph's answer could not be understood (malformed
	// JSON, unexpected content type, no user object).
	KindBadResponse Kind = "bad_response"
	// KindOther: anything else, such as another 4xx status or a network
	// error.
	KindOther Kind = "other"
)

// Error is the error returned by [Service.Me] and [Client.Me]. This package
// puts no token material in it; for KindCredential its text includes the
// credential's own error text (azidentity's errors carry Entra's error
// description, not tokens).
type Error struct {
	// Kind classifies the failure.
	Kind Kind
	// Status is the HTTP status of Graph's last answer, or 0 if there was
	// none (credential failure, network error, timeout before an answer).
	Status int
	// Code is Graph's error code, such as "InvalidAuthenticationToken" or
	// "Authorization_RequestDenied", when the answer carried one.
	Code string
	// Message is Graph's error message, or a short description of the
	// failure.
	Message string
	// RetryAfter is the wait the server asked for with Retry-After on a
	// 429 or 5xx answer, or 0.
	RetryAfter time.Duration
	// Err is the underlying error, if any: *odataerrors.ODataError for
	// Graph error answers with a body, the credential's own error for
	// KindCredential (so errors.As finds, say,
	// *azidentity.AuthenticationFailedError). For KindTimeout and
	// KindCanceled, errors.Is(err, context.DeadlineExceeded) or
	// errors.Is(err, context.Canceled) holds.
	Err error
}

// Error implements error. It reads only the fields of e, never the text of
// an *odataerrors.ODataError (whose Error method panics on an error body
// without a message).
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("graph: ")
	b.WriteString(string(e.Kind))
	if e.Status != 0 || e.Code != "" {
		b.WriteString(" (")
		if e.Status != 0 {
			fmt.Fprintf(&b, "HTTP %d", e.Status)
			if e.Code != "" {
				b.WriteString(", ")
			}
		}
		b.WriteString(e.Code)
		b.WriteString(")")
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// classify turns an error from the kiota adapter into an *Error. ctx is the
// call's context (with its deadline) and state what the status recorder saw.
func classify(ctx context.Context, state *callState, err error) *Error {
	status, retryAfterHeader, _ := state.snapshot()
	out := &Error{Err: err}

	var odataErr *odataerrors.ODataError
	var apiErr *abs.ApiError
	var credErr *credentialError
	switch {
	case errors.As(err, &odataErr):
		status = odataErr.ResponseStatusCode
		if main := odataErr.GetErrorEscaped(); main != nil {
			out.Code = deref(main.GetCode())
			out.Message = deref(main.GetMessage())
		}
	case errors.As(err, &apiErr):
		// An error status with no or an empty body.
		status = apiErr.ResponseStatusCode
		out.Message = http.StatusText(status)
	case errors.As(err, &credErr):
		status = 0
		out.Err = credErr.err
		out.Message = credErr.Error()
	default:
		out.Message = err.Error()
	}

	ctxErr := ctx.Err()
	switch {
	case errors.Is(ctxErr, context.DeadlineExceeded) || (ctxErr == nil && credErr == nil && errors.Is(err, context.DeadlineExceeded)):
		out.Kind = KindTimeout
		if !errors.Is(err, context.DeadlineExceeded) {
			out.Err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
		}
		out.Message = "no answer from Microsoft Graph before the deadline"
		if credErr != nil {
			out.Message = "no access token before the deadline"
		}
		status = 0
	case errors.Is(ctxErr, context.Canceled):
		out.Kind = KindCanceled
		if !errors.Is(err, context.Canceled) {
			out.Err = fmt.Errorf("%w: %w", context.Canceled, err)
		}
		status = 0
	case credErr != nil:
		out.Kind = KindCredential
	default:
		out.Kind = kindForStatus(status)
		if out.Kind == KindOther && status >= 200 && status < 300 {
			// A success status whose body could not be parsed.
			out.Kind = KindBadResponse
		}
	}
	out.Status = status
	if out.Message == "" {
		out.Message = http.StatusText(status)
	}
	if out.Kind == KindThrottled || out.Kind == KindUnavailable {
		if d, ok := parseRetryAfter(retryAfterHeader, time.Now()); ok {
			out.RetryAfter = d
		}
	}
	return out
}

func kindForStatus(status int) Kind {
	switch {
	case status == http.StatusUnauthorized:
		return KindUnauthorized
	case status == http.StatusForbidden:
		return KindForbidden
	case status == http.StatusNotFound:
		return KindNotFound
	case status == http.StatusTooManyRequests:
		return KindThrottled
	case status >= 500 && status <= 599:
		return KindUnavailable
	}
	return KindOther
}
