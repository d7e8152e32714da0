package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// headerClientPrincipal is the header in which Easy Auth passes the
// authenticated caller's claims to the app. Easy Auth removes copies that
// clients send, so the header can be trusted only behind Easy Auth.
const headerClientPrincipal = "X-MS-CLIENT-PRINCIPAL"

// headerClientPrincipalID is the header in which Easy Auth passes the
// caller's identifier (for Microsoft Entra ID, the object ID). Like
// X-MS-CLIENT-PRINCIPAL, it can be trusted only behind Easy Auth.
const headerClientPrincipalID = "X-MS-CLIENT-PRINCIPAL-ID"

// maxPrincipalBytes bounds the decoded size of an X-MS-CLIENT-PRINCIPAL
// header; larger values are rejected.
const maxPrincipalBytes = 16 << 10

// errNoPrincipal means the request has no X-MS-CLIENT-PRINCIPAL header:
// Easy Auth is not in front of the app, or the request is anonymous.
var errNoPrincipal = errors.New("auth: no " + headerClientPrincipal + " header (is App Service authentication enabled?)")

// errMalformedPrincipal is wrapped by every error [parsePrincipal] returns.
var errMalformedPrincipal = errors.New("auth: malformed " + headerClientPrincipal + " header")

// Claim types Easy Auth uses for Microsoft Entra ID; the short forms are
// used when claims are passed through unmapped.
const (
	claimTypeObjectID = "http://schemas.microsoft.com/identity/claims/objectidentifier"
	claimTypeTenantID = "http://schemas.microsoft.com/identity/claims/tenantid"
	claimTypeScope    = "http://schemas.microsoft.com/identity/claims/scope"
	claimTypeName     = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
	claimTypeRole     = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
)

// claim is one claim of a principal.
type claim struct {
	// Type is the claim type ("typ"), a URI or a short name such as "oid".
	Type string `json:"typ"`
	// Value is the claim value ("val").
	Value string `json:"val"`
}

// principal is the caller as described by Easy Auth's X-MS-CLIENT-PRINCIPAL
// header.
type principal struct {
	// AuthType is the identity provider, such as "aad".
	AuthType string `json:"auth_typ"`
	// NameType is the claim type that holds the display name.
	NameType string `json:"name_typ"`
	// RoleType is the claim type that holds roles.
	RoleType string `json:"role_typ"`
	// AllClaims holds every claim in header order.
	AllClaims []claim `json:"claims"`
}

// principalFromHeader parses the X-MS-CLIENT-PRINCIPAL header of h. It
// returns [errNoPrincipal] when the header is absent or empty, and an error
// wrapping [errMalformedPrincipal] when it cannot be parsed.
func principalFromHeader(h http.Header) (*principal, error) {
	v := strings.TrimSpace(h.Get(headerClientPrincipal))
	if v == "" {
		return nil, errNoPrincipal
	}
	return parsePrincipal(v)
}

// parsePrincipal decodes an X-MS-CLIENT-PRINCIPAL value: base64 (standard or
// URL alphabet, with or without padding) of the JSON object
// {"auth_typ":…,"claims":[{"typ":…,"val":…}],"name_typ":…,"role_typ":…}.
// Malformed input (bad base64, bad JSON, claims not an array, more than
// [maxPrincipalBytes]) gives an error wrapping [errMalformedPrincipal]; it
// never panics.
func parsePrincipal(headerValue string) (*principal, error) {
	s := strings.TrimSpace(headerValue)
	if s == "" {
		return nil, fmt.Errorf("%w: empty value", errMalformedPrincipal)
	}
	if len(s) > base64.StdEncoding.EncodedLen(maxPrincipalBytes) {
		return nil, fmt.Errorf("%w: longer than %d bytes", errMalformedPrincipal, maxPrincipalBytes)
	}
	raw, err := decodeBase64Any(s)
	if err != nil {
		return nil, fmt.Errorf("%w: not base64", errMalformedPrincipal)
	}
	if len(raw) > maxPrincipalBytes {
		return nil, fmt.Errorf("%w: longer than %d bytes", errMalformedPrincipal, maxPrincipalBytes)
	}
	if trimmed := strings.TrimLeft(string(raw), " \t\r\n"); !strings.HasPrefix(trimmed, "{") {
		return nil, fmt.Errorf("%w: not a JSON object", errMalformedPrincipal)
	}
	var p principal
	if err := json.Unmarshal(raw, &p); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return nil, fmt.Errorf("%w: field %q has the wrong JSON type (%s)", errMalformedPrincipal, typeErr.Field, typeErr.Value)
		}
		return nil, fmt.Errorf("%w: not a JSON object", errMalformedPrincipal)
	}
	return &p, nil
}

// decodeBase64Any accepts the standard and URL alphabets, padded or not.
func decodeBase64Any(s string) ([]byte, error) {
	var enc *base64.Encoding
	urlAlphabet := strings.ContainsAny(s, "-_")
	padded := strings.HasSuffix(s, "=")
	switch {
	case urlAlphabet && padded:
		enc = base64.URLEncoding
	case urlAlphabet:
		enc = base64.RawURLEncoding
	case padded:
		enc = base64.StdEncoding
	default:
		enc = base64.RawStdEncoding
	}
	return enc.DecodeString(s)
}

// Claim returns the first value of the claim type typ, or "".
func (p *principal) Claim(typ string) string {
	if p == nil {
		return ""
	}
	for _, c := range p.AllClaims {
		if c.Type == typ {
			return c.Value
		}
	}
	return ""
}

// Claims returns every value of the claim type typ, in header order.
func (p *principal) Claims(typ string) []string {
	if p == nil {
		return nil
	}
	var out []string
	for _, c := range p.AllClaims {
		if c.Type == typ {
			out = append(out, c.Value)
		}
	}
	return out
}

// firstOf returns the first value of the first claim type present.
func (p *principal) firstOf(types ...string) string {
	for _, t := range types {
		if v := p.Claim(t); v != "" {
			return v
		}
	}
	return ""
}

// Name returns the display name: the claim named by name_typ (the WS
// name claim when name_typ is empty), else "name", else
// "preferred_username".
func (p *principal) Name() string {
	if p == nil {
		return ""
	}
	nt := p.NameType
	if nt == "" {
		nt = claimTypeName
	}
	return p.firstOf(nt, "name", "preferred_username")
}

// ObjectID returns the user's Entra object ID (the objectidentifier or oid
// claim).
func (p *principal) ObjectID() string {
	return p.firstOf(claimTypeObjectID, "oid")
}

// TenantID returns the user's Entra tenant ID (the tenantid or tid claim).
func (p *principal) TenantID() string {
	return p.firstOf(claimTypeTenantID, "tid")
}

// Scopes returns the delegated scopes of the caller's token (the scope or
// scp claim, split on white space).
func (p *principal) Scopes() []string {
	var out []string
	for _, t := range []string{claimTypeScope, "scp"} {
		for _, v := range p.Claims(t) {
			out = append(out, strings.Fields(v)...)
		}
		if len(out) > 0 {
			return out
		}
	}
	return out
}

// Roles returns the caller's app roles: the claims named by role_typ (the
// WS role claim when role_typ is empty) and the "roles" claims, without
// duplicates.
func (p *principal) Roles() []string {
	if p == nil {
		return nil
	}
	rt := p.RoleType
	if rt == "" {
		rt = claimTypeRole
	}
	seen := map[string]bool{}
	var out []string
	for _, t := range []string{rt, "roles"} {
		for _, v := range p.Claims(t) {
			if v != "" && !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	return out
}
