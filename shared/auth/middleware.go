package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	mcpauth "github.com/modelcontextprotocol/go-sdk/auth"
)

// Error codes of RFC 6750 §3.1, the error attribute of a Bearer challenge.
const (
	// errInvalidRequest: the request is malformed (several Authorization
	// headers). Answered with 400.
	errInvalidRequest = "invalid_request"
	// errInvalidToken: the token is expired, revoked, malformed or invalid
	// for other reasons. Answered with 401; a client signs in again.
	errInvalidToken = "invalid_token"
	// errInsufficientScope: the token is valid but lacks a required scope.
	// Answered with 403 and the scopes; MCP clients (the TypeScript SDK,
	// mcp-remote) re-authorize with them only when this code is present.
	errInsufficientScope = "insufficient_scope"
)

// denial is why [bearerGuard.authorize] refused a verified token.
type denial struct {
	// scope is true when the token lacks a required scope, which a client
	// can fix by asking for a token with more scopes (step-up); false for
	// refusals that no scope can lift (a calling application or app role
	// that is not allowed).
	scope bool
	// reason is the text of the 403 answer.
	reason string
}

// bearerGuard protects the MCP endpoint in the modes that verify bearer
// tokens in the process. It writes the WWW-Authenticate challenges itself,
// with the error attribute that RFC 6750 §3.1 and the MCP authorization
// specification call for:
//
//   - no Authorization header, or another scheme: 401 with
//     Bearer resource_metadata="…", scope="…" and no error attribute (the
//     client did not try bearer authentication);
//   - several Authorization headers: 400 with error="invalid_request";
//   - a malformed, unverifiable, expired or otherwise invalid token: 401 with
//     error="invalid_token";
//   - a valid token without a required scope: 403 with
//     error="insufficient_scope" and the required scopes, so that clients
//     step up;
//   - a valid token refused for another reason (an application or app role
//     that is not allowed): 403 without a challenge, since no new token
//     for more scopes would change the answer;
//   - Entra unreachable during verification: 500, no challenge.
//
// The go-sdk's RequireBearerToken writes the same challenge for all of
// these, which is why it is not used for the checks.
type bearerGuard struct {
	// verify checks the token (and, in easyauth mode, the request); an
	// error wrapping mcpauth.ErrInvalidToken means 401 invalid_token.
	verify mcpauth.TokenVerifier
	// authorize decides on a verified token; nil means allowed.
	authorize func(ti *mcpauth.TokenInfo) *denial
	// resourceMetadata is the URL of the protected resource metadata, or "".
	resourceMetadata string
	// scopes are the required scopes as clients request them (full names).
	scopes []string
	// skew is the verifier's clock skew; the go-sdk middleware that hands
	// the TokenInfo to the MCP handler checks expiry again with it.
	skew time.Duration
}

// verifiedKey carries the verified TokenInfo from bearerGuard to the go-sdk
// middleware that stores it where the MCP handler looks.
type verifiedKey struct{}

// middleware wraps next. A request that passes reaches next with the
// TokenInfo where the go-sdk's streamable handler finds it (it copies it to
// req.Extra.TokenInfo for tool handlers). The go-sdk keeps that context key
// unexported, so the TokenInfo is handed over through its
// RequireBearerToken with a verifier that only returns what bearerGuard
// verified.
func (g *bearerGuard) middleware(next http.Handler) http.Handler {
	handOver := mcpauth.RequireBearerToken(func(ctx context.Context, _ string, _ *http.Request) (*mcpauth.TokenInfo, error) {
		if ti, ok := ctx.Value(verifiedKey{}).(*mcpauth.TokenInfo); ok && ti != nil {
			return ti, nil
		}
		return nil, errors.New("auth: internal error: the request reached the MCP handler without a verified token")
	}, &mcpauth.RequireBearerTokenOptions{ClockSkew: g.skew})(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ti, ok := g.check(w, r)
		if !ok {
			return
		}
		handOver.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), verifiedKey{}, ti)))
	})
}

// check verifies and authorizes r, answering it when it fails.
func (g *bearerGuard) check(w http.ResponseWriter, r *http.Request) (*mcpauth.TokenInfo, bool) {
	values := r.Header.Values("Authorization")
	if len(values) > 1 {
		g.fail(w, http.StatusBadRequest, errInvalidRequest, "several Authorization headers")
		return nil, false
	}
	if len(values) == 0 || !isBearerScheme(values[0]) {
		g.fail(w, http.StatusUnauthorized, "", "no bearer token")
		return nil, false
	}
	token, err := BearerToken(r.Header)
	if err != nil {
		g.fail(w, http.StatusUnauthorized, errInvalidToken, "malformed bearer token")
		return nil, false
	}
	ti, err := g.verify(r.Context(), token, r)
	switch {
	case errors.Is(err, mcpauth.ErrInvalidToken):
		g.fail(w, http.StatusUnauthorized, errInvalidToken, err.Error())
		return nil, false
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return nil, false
	case ti == nil:
		http.Error(w, "auth: token verification returned nothing", http.StatusInternalServerError)
		return nil, false
	}
	if g.authorize != nil {
		if d := g.authorize(ti); d != nil {
			if d.scope {
				g.fail(w, http.StatusForbidden, errInsufficientScope, d.reason)
			} else {
				http.Error(w, d.reason, http.StatusForbidden)
			}
			return nil, false
		}
	}
	return ti, true
}

// isBearerScheme reports whether an Authorization value uses the Bearer
// scheme, whatever follows.
func isBearerScheme(v string) bool {
	scheme, _, _ := strings.Cut(strings.TrimSpace(v), " ")
	return strings.EqualFold(scheme, "Bearer")
}

// fail answers status with a Bearer challenge carrying errCode ("" for
// none) and, with it, the description.
func (g *bearerGuard) fail(w http.ResponseWriter, status int, errCode, description string) {
	w.Header().Set("WWW-Authenticate", g.challenge(errCode, description))
	http.Error(w, description, status)
}

// challenge is a WWW-Authenticate value:
// Bearer [error="…", error_description="…", ]resource_metadata="…", scope="…".
func (g *bearerGuard) challenge(errCode, description string) string {
	var params []string
	if errCode != "" {
		params = append(params, fmt.Sprintf("error=%q", errCode))
		if d := challengeText(description); d != "" {
			params = append(params, fmt.Sprintf("error_description=%q", d))
		}
	}
	if g.resourceMetadata != "" {
		params = append(params, fmt.Sprintf("resource_metadata=%q", g.resourceMetadata))
	}
	if len(g.scopes) > 0 {
		params = append(params, fmt.Sprintf("scope=%q", strings.Join(g.scopes, " ")))
	}
	if len(params) == 0 {
		return "Bearer"
	}
	return "Bearer " + strings.Join(params, ", ")
}

// challengeText keeps the characters RFC 6750 allows in error_description
// (printable ASCII without '"' and '\').
func challengeText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
}

// accessPolicy decides which verified tokens reach the MCP handler.
//
//   - apps, when not empty: the calling application (azp, or appid in v1.0
//     tokens) must be one of them.
//   - A delegated token (a user's, see [AppOnly]) must carry every scope
//     in scopes; when scopes is empty it needs one of roles instead.
//   - An app-only token (an application's own: roles, no scp) needs one of
//     roles; when roles is empty, app-only tokens are refused.
//
// With scopes and roles both empty, any token from an allowed application
// passes: that is for easyauth mode, where Easy Auth has already applied
// the app's authorization policy. Entra mode refuses that configuration
// (see [Protect]).
type accessPolicy struct {
	scopes []string // full names, as TokenInfo.Scopes reports them
	roles  []string
	apps   []string
}

func (p accessPolicy) authorize(ti *mcpauth.TokenInfo) *denial {
	if len(p.apps) > 0 {
		app := extraString(ti, "azp")
		if app == "" {
			app = extraString(ti, "appid")
		}
		if !slices.ContainsFunc(p.apps, func(a string) bool { return strings.EqualFold(a, app) }) {
			return &denial{reason: fmt.Sprintf("forbidden: the calling application %q is not allowed (%s)", app, envMCPAuthAllowedApplications)}
		}
	}
	if len(p.scopes) == 0 && len(p.roles) == 0 {
		return nil
	}
	delegated := !AppOnly(ti)
	if delegated && len(p.scopes) > 0 {
		for _, s := range p.scopes {
			if !slices.Contains(ti.Scopes, s) {
				return &denial{scope: true, reason: "insufficient scope: the token lacks " + s}
			}
		}
		return nil
	}
	roles, _ := ti.Extra["roles"].([]string)
	if slices.ContainsFunc(roles, func(r string) bool { return slices.Contains(p.roles, r) }) {
		return nil
	}
	switch {
	case len(p.roles) == 0:
		return &denial{reason: "forbidden: this server accepts only delegated (user) tokens with its scopes, not app-only tokens (" + envMCPAuthRoles + " is not set)"}
	case delegated:
		return &denial{reason: "forbidden: the token has none of the accepted app roles (" + envMCPAuthRoles + ")"}
	default:
		return &denial{reason: "forbidden: the app-only token has none of the accepted app roles (" + envMCPAuthRoles + ")"}
	}
}

// extraString returns ti.Extra[key] when it is a string.
func extraString(ti *mcpauth.TokenInfo, key string) string {
	s, _ := ti.Extra[key].(string)
	return s
}
