package auth

import (
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
)

const principalJSON = `{
 "auth_typ": "aad",
 "claims": [
  {"typ": "http://schemas.microsoft.com/identity/claims/objectidentifier", "val": "oid-1"},
  {"typ": "http://schemas.microsoft.com/identity/claims/tenantid", "val": "tid-1"},
  {"typ": "http://schemas.microsoft.com/identity/claims/scope", "val": "user_impersonation  User.Read"},
  {"typ": "name", "val": "Ada Lovelace"},
  {"typ": "roles", "val": "Admin"},
  {"typ": "roles", "val": "Reader"},
  {"typ": "http://schemas.microsoft.com/ws/2008/06/identity/claims/role", "val": "Admin"},
  {"typ": "preferred_username", "val": "ada@example.com"}
 ],
 "name_typ": "name",
 "role_typ": "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
}`

// withURLChars is a principal whose standard base64 contains + or /, so
// the URL form differs.
const withURLChars = `{"auth_typ":"aad","claims":[{"typ":"name","val":"???>>>~~~"}],"name_typ":"name","role_typ":"roles"}`

func TestParsePrincipalEncodings(t *testing.T) {
	if s := base64.StdEncoding.EncodeToString([]byte(withURLChars)); !strings.ContainsAny(s, "+/") {
		t.Fatalf("test data has no +/ in std base64: %s", s)
	}
	for _, enc := range []struct {
		name string
		e    *base64.Encoding
	}{
		{"std", base64.StdEncoding},
		{"raw std", base64.RawStdEncoding},
		{"url", base64.URLEncoding},
		{"raw url", base64.RawURLEncoding},
	} {
		for _, doc := range []string{principalJSON, withURLChars, principalJSON + "x"[:0]} {
			p, err := parsePrincipal(enc.e.EncodeToString([]byte(doc)))
			if err != nil {
				t.Fatalf("%s: %v", enc.name, err)
			}
			if p.AuthType != "aad" {
				t.Fatalf("%s: auth_typ %q", enc.name, p.AuthType)
			}
		}
	}
}

func TestPrincipalAccessors(t *testing.T) {
	p, err := parsePrincipal(base64.StdEncoding.EncodeToString([]byte(principalJSON)))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Name(); got != "Ada Lovelace" {
		t.Errorf("Name = %q", got)
	}
	if got := p.ObjectID(); got != "oid-1" {
		t.Errorf("ObjectID = %q", got)
	}
	if got := p.TenantID(); got != "tid-1" {
		t.Errorf("TenantID = %q", got)
	}
	if got := p.Scopes(); !slices.Equal(got, []string{"user_impersonation", "User.Read"}) {
		t.Errorf("Scopes = %q", got)
	}
	if got := p.Roles(); !slices.Equal(got, []string{"Admin", "Reader"}) {
		t.Errorf("Roles = %q", got)
	}
	if got := p.Claim("preferred_username"); got != "ada@example.com" {
		t.Errorf("Claim = %q", got)
	}
	if got := p.Claims("roles"); !slices.Equal(got, []string{"Admin", "Reader"}) {
		t.Errorf("Claims = %q", got)
	}
	if got := p.Claim("missing"); got != "" {
		t.Errorf("missing claim = %q", got)
	}

	short := `{"auth_typ":"aad","claims":[{"typ":"oid","val":"o2"},{"typ":"tid","val":"t2"},{"typ":"scp","val":"a b"},{"typ":"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name","val":"N"}]}`
	p, err = parsePrincipal(base64.RawURLEncoding.EncodeToString([]byte(short)))
	if err != nil {
		t.Fatal(err)
	}
	if p.ObjectID() != "o2" || p.TenantID() != "t2" || !slices.Equal(p.Scopes(), []string{"a", "b"}) || p.Name() != "N" {
		t.Errorf("short claims: oid %q tid %q scp %q name %q", p.ObjectID(), p.TenantID(), p.Scopes(), p.Name())
	}
	if p.Roles() != nil {
		t.Errorf("Roles = %q", p.Roles())
	}

	var nilP *principal
	if nilP.Name() != "" || nilP.ObjectID() != "" || nilP.Scopes() != nil || nilP.Roles() != nil || nilP.Claims("x") != nil {
		t.Error("nil principal accessors")
	}
}

func TestParsePrincipalMalformed(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	huge := `{"auth_typ":"aad","claims":[{"typ":"x","val":"` + strings.Repeat("a", maxPrincipalBytes) + `"}]}`
	tests := []struct {
		name, value, want string
	}{
		{"empty", "", "empty"},
		{"bad base64", "!!!not base64!!!", "not base64"},
		{"mixed alphabets", "ab+c-d==", "not base64"},
		{"bad json", b64(`{"auth_typ":`), "not a JSON object"},
		{"json array", b64(`[1,2]`), "not a JSON object"},
		{"json null", b64(`null`), "not a JSON object"},
		{"json string", b64(`"x"`), "not a JSON object"},
		{"claims not array", b64(`{"auth_typ":"aad","claims":{"typ":"x"}}`), `"claims"`},
		{"claim val not string", b64(`{"claims":[{"typ":"x","val":1}]}`), "wrong JSON type"},
		{"trailing garbage", b64(`{"claims":[]} x`), "not a JSON object"},
		{"huge", b64(huge), "longer than"},
		{"huge raw", base64.RawURLEncoding.EncodeToString([]byte(huge)), "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parsePrincipal(tt.value)
			if err == nil {
				t.Fatalf("got %+v, want error", p)
			}
			if !errors.Is(err, errMalformedPrincipal) {
				t.Fatalf("error %v does not wrap errMalformedPrincipal", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestPrincipalFromHeader(t *testing.T) {
	if _, err := principalFromHeader(http.Header{}); !errors.Is(err, errNoPrincipal) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := principalFromHeader(nil); !errors.Is(err, errNoPrincipal) {
		t.Fatalf("nil: %v", err)
	}
	h := http.Header{}
	h.Set("x-ms-client-principal", "%%%")
	if _, err := principalFromHeader(h); !errors.Is(err, errMalformedPrincipal) || errors.Is(err, errNoPrincipal) {
		t.Fatalf("malformed: %v", err)
	}
	h.Set(headerClientPrincipal, base64.StdEncoding.EncodeToString([]byte(principalJSON)))
	p, err := principalFromHeader(h)
	if err != nil || p.ObjectID() != "oid-1" {
		t.Fatalf("valid: %v %v", p, err)
	}
}

func FuzzParsePrincipal(f *testing.F) {
	f.Add(base64.StdEncoding.EncodeToString([]byte(principalJSON)))
	f.Add("e30")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePrincipal(s)
		if err == nil {
			_ = p.Name() + p.ObjectID() + p.TenantID()
			_ = p.Scopes()
			_ = p.Roles()
		}
	})
}
