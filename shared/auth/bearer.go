package auth

import (
	"errors"
	"net/http"
	"reflect"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// ErrNoBearerToken is the error [BearerToken] returns when the request has
// no Authorization header, or an empty one.
var ErrNoBearerToken = errors.New("auth: no Authorization header")

// errMalformedBearerToken means the Authorization header is present but is
// not exactly "Bearer <token>".
var errMalformedBearerToken = errors.New("auth: Authorization header is not of the form \"Bearer <token>\"")

// BearerToken returns the token from an "Authorization: Bearer <token>"
// header. The scheme is matched case-insensitively; the header must hold
// exactly the scheme and one token (RFC 6750 b64token characters) separated
// by white space. It returns [ErrNoBearerToken] when the header is missing
// or empty, and another error for anything else that is not a single
// bearer token (another scheme, no token, extra parts, several
// Authorization headers). Errors never contain the header value.
//
// In an MCP tool handler, pass [RequestHeader](req).
func BearerToken(h http.Header) (string, error) {
	values := h.Values("Authorization")
	switch len(values) {
	case 0:
		return "", ErrNoBearerToken
	case 1:
	default:
		return "", errMalformedBearerToken
	}
	v := strings.TrimSpace(values[0])
	if v == "" {
		return "", ErrNoBearerToken
	}
	fields := strings.Fields(v)
	if len(fields) != 2 || !strings.EqualFold(fields[0], "Bearer") || !isB64Token(fields[1]) {
		return "", errMalformedBearerToken
	}
	return fields[1], nil
}

// isB64Token reports whether s matches RFC 6750's b64token:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}

// RequestHeader returns the HTTP header of the request that carried an MCP
// message, or nil when there is none: over in-memory and stdio transports
// req.GetExtra() is nil. A nil header makes [BearerToken] return
// [ErrNoBearerToken].
func RequestHeader(req mcp.Request) http.Header {
	if req == nil {
		return nil
	}
	if v := reflect.ValueOf(req); v.Kind() == reflect.Pointer && v.IsNil() {
		return nil
	}
	extra := req.GetExtra()
	if extra == nil {
		return nil
	}
	return extra.Header
}
