package authtest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// oboForm is an On-Behalf-Of request for oauthAPI with a client secret.
func oboForm(assertion string) url.Values {
	return url.Values{
		"grant_type":          {oboGrantType},
		"requested_token_use": {"on_behalf_of"},
		"client_id":           {oauthAPI},
		"client_secret":       {"s3cret"},
		"assertion":           {assertion},
		"scope":               {"https://graph.microsoft.com/.default"},
	}
}

// TestEntraServesEveryGrant: one fake answers the On-Behalf-Of grant (with
// its checks and record) and the authorization code flow, whose token it
// exchanges, over https by default and plain http with PlainHTTP.
func TestEntraServesEveryGrant(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   []EntraOption
		scheme string
	}{
		{"https", []EntraOption{WithOAuth(testOAuthConfig(nil))}, "https://"},
		{"plain http", []EntraOption{PlainHTTP(), WithOAuth(testOAuthConfig(nil))}, "http://"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEntra(t, oauthTenant, oauthAPI, tc.opts...)
			if !strings.HasPrefix(e.URL, tc.scheme) || !strings.HasPrefix(e.Issuer(), tc.scheme) {
				t.Fatalf("URL %s, issuer %s, want %s", e.URL, e.Issuer(), tc.scheme)
			}
			signIn := doToken(t, e, codeForm(codeFor(t, e, nil), nil))
			user := signIn.str("access_token")
			if signIn.status != 200 || Claim(user, "iss") != e.Issuer() || Claim(user, "aud") != oauthAPI {
				t.Fatalf("authorization code grant: %d %v", signIn.status, signIn.body)
			}
			// The app exchanges the user's token On Behalf Of them.
			e.ExpectClientSecret("s3cret")
			obo := doToken(t, e, oboForm(user))
			at := obo.str("access_token")
			if obo.status != 200 || !strings.HasPrefix(at, AccessTokenPrefix) {
				t.Fatalf("On-Behalf-Of: %d %v", obo.status, obo.body)
			}
			if a, ok := e.AssertionFor(at); !ok || a != user {
				t.Fatalf("AssertionFor(%s) = %t", at, ok)
			}
			if got := e.LastTokenForm().Get("grant_type"); got != oboGrantType {
				t.Fatalf("LastTokenForm grant_type %q", got)
			}
			if n := e.TokenRequests(); n != 2 {
				t.Fatalf("TokenRequests %d, want 2", n)
			}
			// The exchange is no OAuth event; the sign-in's two are.
			evs := e.OAuthEvents()
			if len(evs) != 2 || evs[0].Endpoint != "authorize" || evs[1].Endpoint != "token" || len(e.OAuthErrors()) != 0 {
				t.Fatalf("OAuth events %+v", evs)
			}
		})
	}
}

// TestEntraUnexpectedRequests: without WithOAuth the fake serves the
// On-Behalf-Of grant only, and any other request is a problem; with it,
// the authorization code flow answers as Entra does (events, not
// problems), and so do the discovery and registration paths MCP clients
// probe (404), while other paths stay problems.
func TestEntraUnexpectedRequests(t *testing.T) {
	tests := []struct {
		name        string
		oauth       bool
		method      string
		path        string // under the tenant when it begins with "{t}"
		form        url.Values
		status      int
		problem     string // what the problem says, "" for none
		oauthErrors int
	}{
		{name: "authorize", method: "GET", path: "{t}/oauth2/v2.0/authorize?" + authorizeParams(nil).Encode(), status: 404, problem: "unexpected request GET /" + oauthTenant + "/oauth2/v2.0/authorize"},
		{name: "authorization code grant", method: "POST", path: "{t}/oauth2/v2.0/token", form: codeForm("code-x", nil), status: 400, problem: `grant_type = "authorization_code"`},
		{name: "client credentials grant", method: "POST", path: "{t}/oauth2/v2.0/token", form: url.Values{"grant_type": {"client_credentials"}}, status: 400, problem: `grant_type = "client_credentials"`},
		{name: "RFC 8414 probe", method: "GET", path: "/.well-known/oauth-authorization-server", status: 404, problem: "unexpected request GET /.well-known/oauth-authorization-server"},
		{name: "other path", method: "GET", path: "/favicon.ico", status: 404, problem: "unexpected request GET /favicon.ico"},
		{name: "On-Behalf-Of without an assertion", method: "POST", path: "{t}/oauth2/v2.0/token", form: oboForm(""), status: 400, problem: "no assertion"},

		{name: "authorize", oauth: true, method: "GET", path: "{t}/oauth2/v2.0/authorize?" + authorizeParams(nil).Encode(), status: 302},
		{name: "authorization code grant", oauth: true, method: "POST", path: "{t}/oauth2/v2.0/token", form: codeForm("code-x", nil), status: 400, oauthErrors: 1},
		{name: "client credentials grant", oauth: true, method: "POST", path: "{t}/oauth2/v2.0/token", form: url.Values{"grant_type": {"client_credentials"}}, status: 400, oauthErrors: 1},
		{name: "RFC 8414 probe", oauth: true, method: "GET", path: "/.well-known/oauth-authorization-server", status: 404},
		{name: "registration", oauth: true, method: "POST", path: "/register", status: 404},
		{name: "other path", oauth: true, method: "GET", path: "/favicon.ico", status: 404, problem: "unexpected request GET /favicon.ico"},
		{name: "On-Behalf-Of without an assertion", oauth: true, method: "POST", path: "{t}/oauth2/v2.0/token", form: oboForm(""), status: 400, problem: "no assertion"},
	}
	for _, tt := range tests {
		name := tt.name
		if tt.oauth {
			name = "with OAuth/" + name
		}
		t.Run(name, func(t *testing.T) {
			signer, err := NewSigner()
			if err != nil {
				t.Fatal(err)
			}
			var opts []EntraOption
			if tt.oauth {
				opts = append(opts, WithOAuth(testOAuthConfig(nil)))
			}
			e := NewEntraHandler(oauthTenant, oauthAPI, signer, opts...)
			srv := httptest.NewServer(e)
			defer srv.Close()
			e.URL, e.Client = srv.URL, srv.Client()
			path := strings.Replace(tt.path, "{t}", "/"+oauthTenant, 1)
			req, _ := http.NewRequest(tt.method, srv.URL+path, strings.NewReader(tt.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := noFollow(e).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			p := e.Problems()
			if tt.problem == "" && len(p) != 0 || tt.problem != "" && (len(p) != 1 || !strings.Contains(p[0], tt.problem)) {
				t.Errorf("problems %q, want one with %q", p, tt.problem)
			}
			if n := len(e.OAuthErrors()); n != tt.oauthErrors {
				t.Errorf("OAuth errors %+v, want %d", e.OAuthErrors(), tt.oauthErrors)
			}
		})
	}
}

// TestEntraPartialFirstConsent: the first authorization grants the first
// scope asked for, and the next everything asked; the events and the
// tokens say what was granted.
func TestEntraPartialFirstConsent(t *testing.T) {
	e := NewEntra(t, oauthTenant, oauthAPI, PlainHTTP(), WithOAuth(testOAuthConfig(func(c *OAuthConfig) {
		c.Scopes = []string{"tools.read", "tools.write"}
		c.PartialFirstConsent = true
	})))
	both := oauthAppURI + "/tools.write " + oauthAppURI + "/tools.read"
	for i, want := range [][]string{{"tools.write"}, {"tools.write", "tools.read"}, {"tools.write", "tools.read"}} {
		res := doToken(t, e, codeForm(codeFor(t, e, map[string]string{"scope": both}), nil))
		if got := strings.Fields(Claim(res.str("access_token"), "scp")); res.status != 200 || !slices.Equal(got, want) {
			t.Fatalf("authorization %d: %d, scp %q, want %q", i+1, res.status, got, want)
		}
	}
	var granted [][]string
	for _, ev := range e.OAuthEvents() {
		granted = append(granted, ev.Granted)
	}
	want := [][]string{{"tools.write"}, {"tools.write"}, {"tools.write", "tools.read"}, {"tools.write", "tools.read"}, {"tools.write", "tools.read"}, {"tools.write", "tools.read"}}
	if !slices.EqualFunc(granted, want, slices.Equal) {
		t.Fatalf("events granted %q, want %q", granted, want)
	}
}
