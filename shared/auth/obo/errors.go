package obo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
)

// Kind says what went wrong in an on-behalf-of exchange, and so what the
// user or an administrator can do about it.
type Kind int

const (
	// KindOther is a failure that fits no other kind.
	KindOther Kind = iota
	// KindConsentRequired: the user (or an admin) has not consented to the
	// app's delegated permissions (AADSTS65001, AADSTS65004, or
	// AADSTS70000 with the consent_required suberror).
	KindConsentRequired
	// KindInteractionRequired: multi-factor authentication or a conditional
	// access policy needs the user to sign in again interactively
	// (AADSTS50076, AADSTS50079, AADSTS53003 and related, or any response
	// carrying a claims challenge).
	KindInteractionRequired
	// KindInvalidUserToken: the caller's token is expired, revoked or not
	// usable as an on-behalf-of assertion (AADSTS500133, AADSTS50013 and
	// related).
	KindInvalidUserToken
	// KindManagedIdentityUnavailable: the managed identity endpoint failed,
	// so there is no client assertion.
	KindManagedIdentityUnavailable
	// KindAppMisconfigured: Entra rejected the app's own identity: the app
	// registration, its federated credential, secret or certificate, or the
	// tenant (AADSTS700016, AADSTS70021, AADSTS700024, AADSTS7000215,
	// AADSTS90002 and related).
	KindAppMisconfigured
	// KindEntraUnavailable: Entra answered 5xx or 429, or did not answer in
	// time.
	KindEntraUnavailable
)

var kindNames = [...]string{
	KindOther:                      "token exchange failed",
	KindConsentRequired:            "consent required",
	KindInteractionRequired:        "interaction required (MFA or conditional access)",
	KindInvalidUserToken:           "caller's token expired or invalid",
	KindManagedIdentityUnavailable: "managed identity unavailable",
	KindAppMisconfigured:           "app registration or credential rejected",
	KindEntraUnavailable:           "Microsoft Entra ID unavailable",
}

// String names the kind.
func (k Kind) String() string {
	if int(k) >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "obo.Kind(" + strconv.Itoa(int(k)) + ")"
}

// Error is the error [Exchanger.Token] returns when the exchange fails.
// Use [Error.UserMessage] for text shown to the MCP client, and its Error
// method for logs. Neither contains token material: the cause is kept only as the
// Entra error codes and request IDs, never as the raw response or request.
type Error struct {
	// Kind classifies the failure.
	Kind Kind
	// Codes are the AADSTS error codes Entra returned, if any.
	Codes []int
	// Status is the HTTP status of the failed response, 0 if there was
	// none.
	Status int
	// TraceID and CorrelationID identify the request at Entra.
	TraceID, CorrelationID string
	// ConsentURL is the link that lets the user consent (Kind
	// KindConsentRequired, when WEBSITE_HOSTNAME is known).
	ConsentURL string
	// ClientID is the app registration's client ID.
	ClientID string
	// Detail is a short, token-free description of the cause.
	Detail string

	timeout bool
}

// Error describes the failure for logs.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("auth: on-behalf-of exchange failed: ")
	b.WriteString(e.Kind.String())
	var parts []string
	for _, c := range e.Codes {
		parts = append(parts, "AADSTS"+strconv.Itoa(c))
	}
	if e.Status != 0 {
		parts = append(parts, "HTTP "+strconv.Itoa(e.Status))
	}
	if e.TraceID != "" {
		parts = append(parts, "trace ID "+e.TraceID)
	}
	if e.CorrelationID != "" {
		parts = append(parts, "correlation ID "+e.CorrelationID)
	}
	if len(parts) > 0 {
		b.WriteString(" (" + strings.Join(parts, ", ") + ")")
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	return b.String()
}

// Unwrap returns context.DeadlineExceeded when the exchange timed out, so
// errors.Is(err, context.DeadlineExceeded) works; nothing otherwise.
func (e *Error) Unwrap() error {
	if e.timeout {
		return context.DeadlineExceeded
	}
	return nil
}

// UserMessage returns text for the MCP client that says what to do.
func (e *Error) UserMessage() string {
	code := ""
	if len(e.Codes) > 0 {
		code = " (AADSTS" + strconv.Itoa(e.Codes[0]) + ")"
	}
	switch e.Kind {
	case KindConsentRequired:
		if e.ConsentURL != "" {
			return "This tool needs your consent to access data on your behalf" + code + ". Open " + e.ConsentURL +
				" in a browser, sign in and accept the requested permissions, then try again."
		}
		app := "the server's app registration"
		if e.ClientID != "" {
			app += " (client ID " + e.ClientID + ")"
		}
		return "This tool needs consent to access data on your behalf, and it has not been granted" + code + ". " +
			"Sign in to the app once interactively and accept the requested permissions, or ask an administrator to grant consent for " + app +
			" in the Microsoft Entra admin center (App registrations > API permissions > Grant admin consent). Then try again."
	case KindInteractionRequired:
		return "Your organization requires additional verification, such as multi-factor authentication or a conditional access policy, for this access" + code +
			". Sign out and sign in again in your MCP client, complete the verification, then try again."
	case KindInvalidUserToken:
		return "Your sign-in has expired or is no longer valid" + code + ". Sign in again in your MCP client, then try again."
	case KindManagedIdentityUnavailable:
		return "The server could not get a token from its managed identity, so it cannot act on your behalf. " +
			"This is a server problem: an administrator should check that the user-assigned managed identity named by " + envMIClientID +
			" is assigned to the app and is a federated credential of the app registration."
	case KindAppMisconfigured:
		return "Microsoft Entra ID rejected the server's own identity" + code + ". This is a server configuration problem: an administrator should check the app registration and its credential."
	case KindEntraUnavailable:
		return "Microsoft Entra ID is unavailable or did not answer in time. Try again in a moment."
	default:
		return "The server could not get a token to act on your behalf" + code + ". Try again; if it keeps failing, sign in again or contact an administrator."
	}
}

// AADSTS codes by kind. Codes for the client assertion (700024, 700027…)
// are app problems, not the user's, even though they mention assertions.
var (
	consentCodes     = []int{65001, 65004}
	interactionCodes = []int{50072, 50074, 50076, 50078, 50079, 50097, 50158, 53000, 53001, 53002, 53003, 53004, 530003, 530034}
	userTokenCodes   = []int{500133, 50013, 50027, 50132, 50133, 50173, 70008, 700082, 50089, 50055, 50057, 50053}
	appCodes         = []int{700016, 7000215, 7000222, 7000112, 700024, 700027, 700023, 70021, 700211, 700212, 700213, 700222, 700025, 90002, 900023, 500011, 65005, 50034}
)

// entraError is the JSON body of an Entra error response.
type entraError struct {
	Error         string `json:"error"`
	Description   string `json:"error_description"`
	Codes         []int  `json:"error_codes"`
	TraceID       string `json:"trace_id"`
	CorrelationID string `json:"correlation_id"`
	Suberror      string `json:"suberror"`
	Claims        string `json:"claims"`
}

var aadstsRE = regexp.MustCompile(`AADSTS(\d{4,8})`)

// exchangeState travels in the context of one exchange so the client
// assertion callback can report its failure and its token for redaction.
type exchangeState struct {
	miErr     error
	assertion string
}

type exchangeStateKey struct{}

// classify turns a failed exchange into an *Error. secrets are removed
// from any text copied from the cause.
func (b *Exchanger) classify(ctx context.Context, err error, st *exchangeState, secrets ...string) *Error {
	e := &Error{ClientID: b.cfg.ClientID}
	secrets = append(secrets, st.assertion)
	deadline := ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded)

	if st.miErr != nil {
		e.Kind = KindManagedIdentityUnavailable
		if resp := responseOf(st.miErr); resp != nil {
			e.Status = resp.StatusCode
		}
		e.timeout = deadline
		e.Detail = redact(transportDetail(st.miErr, deadline, "the managed identity endpoint"), secrets)
		return e
	}

	var ce msalerrors.CallErr
	if errors.As(err, &ce) && ce.Resp != nil {
		e.Status = ce.Resp.StatusCode
		var body []byte
		if ce.Resp.Body != nil {
			body, _ = io.ReadAll(io.LimitReader(ce.Resp.Body, 64<<10))
		}
		var ee entraError
		_ = json.Unmarshal(body, &ee)
		e.Codes = ee.Codes
		if len(e.Codes) == 0 {
			for _, m := range aadstsRE.FindAllStringSubmatch(string(body), 3) {
				if n, err := strconv.Atoi(m[1]); err == nil && !slices.Contains(e.Codes, n) {
					e.Codes = append(e.Codes, n)
				}
			}
		}
		e.TraceID, e.CorrelationID = safeID(ee.TraceID), safeID(ee.CorrelationID)
		anyCode := func(set []int) bool {
			return slices.ContainsFunc(e.Codes, func(c int) bool { return slices.Contains(set, c) })
		}
		switch {
		case anyCode(consentCodes) || ee.Error == "consent_required" || ee.Suberror == "consent_required":
			e.Kind = KindConsentRequired
			e.ConsentURL = b.cfg.consentURL()
		case anyCode(interactionCodes) || ee.Claims != "" || ee.Error == "interaction_required":
			e.Kind = KindInteractionRequired
		case anyCode(userTokenCodes) || ee.Suberror == "bad_token" || ee.Suberror == "token_expired":
			e.Kind = KindInvalidUserToken
		case anyCode(appCodes) || ee.Error == "invalid_client" || ee.Error == "unauthorized_client":
			e.Kind = KindAppMisconfigured
		case e.Status >= 500 || e.Status == http.StatusTooManyRequests:
			e.Kind = KindEntraUnavailable
		default:
			e.Kind = KindOther
		}
		if ee.Error != "" {
			e.Detail = "error " + safeID(ee.Error)
			if ee.Suberror != "" {
				e.Detail += ", suberror " + safeID(ee.Suberror)
			}
		}
		return e
	}

	if deadline || isTransportError(err) {
		e.Kind = KindEntraUnavailable
		e.timeout = deadline
		e.Detail = redact(transportDetail(err, deadline, "Microsoft Entra ID"), secrets)
		return e
	}
	e.Kind = KindOther
	e.Detail = redact(firstLine(err.Error()), secrets)
	return e
}

// responseOf returns the HTTP response carried by an azidentity
// *AuthenticationFailedError, an azcore *ResponseError or an MSAL CallErr
// in err's chain, or nil.
func responseOf(err error) *http.Response {
	var afe *azidentity.AuthenticationFailedError
	if errors.As(err, &afe) && afe.RawResponse != nil {
		return afe.RawResponse
	}
	var rerr *azcore.ResponseError
	if errors.As(err, &rerr) && rerr.RawResponse != nil {
		return rerr.RawResponse
	}
	var ce msalerrors.CallErr
	if errors.As(err, &ce) && ce.Resp != nil {
		return ce.Resp
	}
	return nil
}

// isTransportError reports a network-level failure: no HTTP response.
func isTransportError(err error) bool {
	var ue *url.Error
	var ne net.Error
	return errors.As(err, &ue) || errors.As(err, &ne)
}

// transportDetail describes a network failure without URLs' query strings
// or any response body.
func transportDetail(err error, deadline bool, what string) string {
	if deadline {
		return what + " did not answer in time"
	}
	if r := responseOf(err); r != nil {
		return what + " answered HTTP " + strconv.Itoa(r.StatusCode)
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return what + " is unreachable: " + oe.Op + " " + errString(oe.Err)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return what + " is unreachable: " + firstLine(errString(ue.Err))
	}
	return what + " failed: " + firstLine(err.Error())
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// quotedURL matches the quoted URLs net/http puts in error messages.
var quotedURL = regexp.MustCompile(`"https?://[^"]*"`)

// firstLine returns the first line of s, with quoted URLs elided, cut to
// 200 bytes.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	s = quotedURL.ReplaceAllString(s, "<url>")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// safeID keeps identifier-like values (GUIDs, error names) and drops
// anything else.
func safeID(s string) string {
	if len(s) > 64 {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return ""
		}
	}
	return s
}

// redact removes every non-empty secret from s.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 8 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

// newArgError is for invalid arguments to Token.
func newArgError(msg string) error { return fmt.Errorf("auth: %s", msg) }
