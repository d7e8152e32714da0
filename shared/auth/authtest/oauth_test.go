package authtest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	oauthTenant = "5c0ffee0-0000-4000-8000-0000000000aa"
	oauthAPI    = "0a0a0a0a-0000-4000-8000-0000000000b1"
	oauthAppURI = "api://mcp-oauth-test"
	oauthClient = "0c0c0c0c-0000-4000-8000-0000000000c1" // pre-authorized
	oauthOther  = "0d0d0d0d-0000-4000-8000-0000000000d1" // registered, not pre-authorized
	oauthScope  = oauthAppURI + "/user_impersonation"
	oauthVerify = "verifier-0123456789-0123456789-0123456789-abc"
)

// testOAuthConfig is the API of the tests' app, pre-authorizing
// oauthClient; changes apply to it.
func testOAuthConfig(changes func(*OAuthConfig)) OAuthConfig {
	cfg := OAuthConfig{
		IdentifierURIs: []string{oauthAppURI},
		Scopes:         []string{"user_impersonation"},
		PreAuthorized:  []string{oauthClient},
		Clients: []OAuthClient{
			{ClientID: oauthClient, RedirectURIs: []string{"http://localhost/oauth/callback", "http://127.0.0.1/callback"}},
			{ClientID: oauthOther, RedirectURIs: []string{"http://localhost/oauth/callback"}},
		},
	}
	if changes != nil {
		changes(&cfg)
	}
	return cfg
}

// newTestOAuthEntra is a fake for oauthAPI over plain http with the
// authorization code flow of testOAuthConfig.
func newTestOAuthEntra(t *testing.T) *Entra {
	t.Helper()
	return NewEntra(t, oauthTenant, oauthAPI, PlainHTTP(), WithOAuth(testOAuthConfig(nil)))
}

func challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// noFollow is a client of e (trusting its certificate) that returns
// redirects instead of following them.
func noFollow(e *Entra) *http.Client {
	c := *e.Client
	c.Timeout = 10 * time.Second
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// authorizeParams are those of a correct authorization request, with
// changes applied (an empty value deletes the parameter).
func authorizeParams(changes map[string]string) url.Values {
	q := url.Values{
		"client_id":             {oauthClient},
		"response_type":         {"code"},
		"redirect_uri":          {"http://localhost:49152/oauth/callback"},
		"scope":                 {oauthScope + " offline_access"},
		"state":                 {"st-1"},
		"code_challenge":        {challenge(oauthVerify)},
		"code_challenge_method": {"S256"},
	}
	return withChanges(q, changes)
}

// withChanges sets the parameters of changes in v, deleting those whose
// value is empty, and returns v.
func withChanges(v url.Values, changes map[string]string) url.Values {
	for k, c := range changes {
		if c == "" {
			v.Del(k)
		} else {
			v.Set(k, c)
		}
	}
	return v
}

// authorizeResult is what the authorization endpoint answered.
type authorizeResult struct {
	status   int
	location *url.URL // nil unless a redirect
	body     string
}

func doAuthorize(t *testing.T, e *Entra, tenant string, q url.Values) authorizeResult {
	t.Helper()
	resp, err := noFollow(e).Get(e.URL + "/" + tenant + "/oauth2/v2.0/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	res := authorizeResult{status: resp.StatusCode, body: string(b)}
	if loc := resp.Header.Get("Location"); loc != "" {
		res.location, _ = url.Parse(loc)
	}
	return res
}

// tokenResult is a token endpoint answer.
type tokenResult struct {
	status int
	body   map[string]any
}

func (r tokenResult) str(k string) string { s, _ := r.body[k].(string); return s }

func doToken(t *testing.T, e *Entra, form url.Values) tokenResult {
	t.Helper()
	resp, err := noFollow(e).PostForm(e.URL+"/"+oauthTenant+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	res := tokenResult{status: resp.StatusCode}
	if err := json.NewDecoder(resp.Body).Decode(&res.body); err != nil {
		t.Fatalf("token endpoint answered %d with no JSON: %v", resp.StatusCode, err)
	}
	return res
}

// codeFor runs a correct authorization request and returns its code.
func codeFor(t *testing.T, e *Entra, changes map[string]string) string {
	t.Helper()
	res := doAuthorize(t, e, oauthTenant, authorizeParams(changes))
	if res.status != http.StatusFound || res.location == nil || res.location.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %v %s", res.status, res.location, res.body)
	}
	return res.location.Query().Get("code")
}

func codeForm(code string, changes map[string]string) url.Values {
	f := url.Values{
		"grant_type":    {"authorization_code"},
		"client_id":     {oauthClient},
		"code":          {code},
		"redirect_uri":  {"http://localhost:49152/oauth/callback"},
		"code_verifier": {oauthVerify},
	}
	return withChanges(f, changes)
}

func TestEntraDiscovery(t *testing.T) {
	e := newTestOAuthEntra(t)
	resp, err := http.Get(e.URL + "/" + oauthTenant + "/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var meta map[string]any
	json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	want := map[string]string{
		"issuer":                 e.Issuer(),
		"authorization_endpoint": e.URL + "/" + oauthTenant + "/oauth2/v2.0/authorize",
		"token_endpoint":         e.URL + "/" + oauthTenant + "/oauth2/v2.0/token",
		"jwks_uri":               e.URL + "/" + oauthTenant + "/discovery/v2.0/keys",
	}
	for k, v := range want {
		if meta[k] != v {
			t.Errorf("%s = %v, want %s", k, meta[k], v)
		}
	}
	for _, absent := range []string{"registration_endpoint", "code_challenge_methods_supported"} {
		if _, ok := meta[absent]; ok {
			t.Errorf("metadata has %s; Entra's has not", absent)
		}
	}
	// No RFC 8414 metadata, no Dynamic Client Registration, no other tenant.
	for _, path := range []string{
		"/.well-known/oauth-authorization-server",
		"/.well-known/oauth-authorization-server/" + oauthTenant + "/v2.0",
		"/" + oauthTenant + "/v2.0/.well-known/oauth-authorization-server",
		"/.well-known/openid-configuration",
		"/register",
		"/" + oauthTenant + "/oauth2/v2.0/register",
	} {
		resp, err := http.Get(e.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
	resp, err = http.Post(e.URL+"/register", "application/json", strings.NewReader(`{"redirect_uris":["http://localhost/cb"]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST /register: %d, want 404", resp.StatusCode)
	}
}

func TestEntraAuthorize(t *testing.T) {
	tests := []struct {
		name    string
		tenant  string
		changes map[string]string
		// page: an error page (status 400, no redirect) with this AADSTS
		// text; else redirect: the error parameter ("" for a code).
		page     string
		redirect string
		aadsts   string
	}{
		{name: "approved", changes: nil},
		{name: "any port on localhost", changes: map[string]string{"redirect_uri": "http://localhost:3334/oauth/callback"}},
		{name: "127.0.0.1 without a port", changes: map[string]string{"redirect_uri": "http://127.0.0.1/callback"}},
		{name: ".default", changes: map[string]string{"scope": oauthAppURI + "/.default"}},
		{name: "client ID as prefix", changes: map[string]string{"scope": "api://" + oauthAPI + "/user_impersonation"}},
		{name: "resource naming the scopes' app", changes: map[string]string{"resource": oauthAppURI}},
		{name: "unknown tenant", tenant: "organizationz", page: "AADSTS90002"},
		{name: "unknown client", changes: map[string]string{"client_id": "99999999-0000-4000-8000-000000000000"}, page: "AADSTS700016"},
		{name: "no client", changes: map[string]string{"client_id": ""}, page: "AADSTS900144"},
		{name: "unregistered redirect", changes: map[string]string{"redirect_uri": "http://localhost:3334/callback"}, page: "AADSTS50011"},
		{name: "redirect on another host", changes: map[string]string{"redirect_uri": "https://evil.example/oauth/callback"}, page: "AADSTS50011"},
		{name: "127.0.0.1 is not localhost", changes: map[string]string{"redirect_uri": "http://127.0.0.1:3334/oauth/callback"}, page: "AADSTS50011"},
		{name: "resource with the scope", changes: map[string]string{"resource": "http://127.0.0.1:7071/mcp"}, redirect: "invalid_target", aadsts: "AADSTS9010010: The resource parameter provided in the request doesn't match with the requested scopes."},
		{name: "no PKCE", changes: map[string]string{"code_challenge": "", "code_challenge_method": ""}, redirect: "invalid_request", aadsts: "AADSTS50147"},
		{name: "plain PKCE", changes: map[string]string{"code_challenge_method": "plain"}, redirect: "invalid_request", aadsts: "AADSTS50147"},
		{name: "no scope", changes: map[string]string{"scope": ""}, redirect: "invalid_request", aadsts: "AADSTS900144"},
		{name: "bare scope is Graph's", changes: map[string]string{"scope": "user_impersonation"}, redirect: "invalid_scope", aadsts: "AADSTS650053"},
		{name: "unknown scope", changes: map[string]string{"scope": oauthAppURI + "/tools.write"}, redirect: "invalid_scope", aadsts: "AADSTS650053"},
		{name: "unknown resource", changes: map[string]string{"scope": "api://other/user_impersonation"}, redirect: "invalid_resource", aadsts: "AADSTS500011"},
		{name: "not pre-authorized", changes: map[string]string{"client_id": oauthOther}, redirect: "consent_required", aadsts: "AADSTS65001"},
		{name: "implicit flow", changes: map[string]string{"response_type": "token"}, redirect: "unsupported_response_type", aadsts: "AADSTS70005"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestOAuthEntra(t)
			tenant := tt.tenant
			if tenant == "" {
				tenant = oauthTenant
			}
			q := authorizeParams(tt.changes)
			res := doAuthorize(t, e, tenant, q)
			if tt.page != "" {
				if res.status != http.StatusBadRequest || res.location != nil || !strings.Contains(res.body, tt.page) {
					t.Fatalf("got %d %v %q, want an error page with %s", res.status, res.location, res.body, tt.page)
				}
				return
			}
			if res.status != http.StatusFound || res.location == nil {
				t.Fatalf("got %d %q, want a redirect", res.status, res.body)
			}
			got := res.location.Query()
			if want := q.Get("redirect_uri"); !strings.HasPrefix(res.location.String(), want+"?") {
				t.Errorf("redirected to %s, want %s", res.location, want)
			}
			if got.Get("state") != "st-1" {
				t.Errorf("state %q", got.Get("state"))
			}
			if got.Get("error") != tt.redirect {
				t.Fatalf("error %q (%s), want %q", got.Get("error"), got.Get("error_description"), tt.redirect)
			}
			if tt.redirect == "" && got.Get("code") == "" {
				t.Fatal("no code")
			}
			if !strings.HasPrefix(got.Get("error_description"), tt.aadsts) {
				t.Fatalf("error_description %q, want it to begin with %q", got.Get("error_description"), tt.aadsts)
			}
		})
	}
}

func TestEntraAuthorizationCode(t *testing.T) {
	tests := []struct {
		name string
		// authorize changes the authorization request, form the token
		// request.
		authorize map[string]string
		form      map[string]string
		status    int
		err       string // "" for success
		aadsts    int
	}{
		{name: "happy path", status: 200},
		{name: "scope on the token leg", form: map[string]string{"scope": oauthScope + " offline_access"}, status: 200},
		{name: "resource naming the app", form: map[string]string{"resource": oauthAppURI}, status: 200},
		{name: "PKCE mismatch", form: map[string]string{"code_verifier": "another-verifier-0123456789-0123456789-0123"}, status: 400, err: "invalid_grant", aadsts: 501481},
		{name: "no verifier", form: map[string]string{"code_verifier": ""}, status: 400, err: "invalid_grant", aadsts: 501481},
		{name: "unknown client", form: map[string]string{"client_id": "99999999-0000-4000-8000-000000000000"}, status: 400, err: "unauthorized_client", aadsts: 700016},
		{name: "another client's code", form: map[string]string{"client_id": oauthOther}, status: 400, err: "invalid_grant", aadsts: 70000},
		{name: "another redirect_uri", form: map[string]string{"redirect_uri": "http://localhost:5000/oauth/callback"}, status: 400, err: "invalid_grant", aadsts: 500112},
		{name: "resource with the scope", form: map[string]string{"scope": oauthScope, "resource": "http://127.0.0.1:7071/mcp"}, status: 400, err: "invalid_target", aadsts: 9010010},
		{name: "resource without a scope", form: map[string]string{"resource": "http://127.0.0.1:7071/mcp"}, status: 400, err: "invalid_target", aadsts: 9010010},
		{name: "a secret from a public client", form: map[string]string{"client_secret": "s3cret"}, status: 401, err: "invalid_client", aadsts: 700025},
		{name: "unknown code", form: map[string]string{"code": "code-made-up"}, status: 400, err: "invalid_grant", aadsts: 9002313},
		{name: "client credentials", form: map[string]string{"grant_type": "client_credentials"}, status: 400, err: "unsupported_grant_type", aadsts: 70003},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestOAuthEntra(t)
			code := codeFor(t, e, tt.authorize)
			res := doToken(t, e, codeForm(code, tt.form))
			if res.status != tt.status || res.str("error") != tt.err {
				t.Fatalf("got %d %v, want %d %q", res.status, res.body, tt.status, tt.err)
			}
			if tt.err != "" {
				codes, _ := res.body["error_codes"].([]any)
				if len(codes) != 1 || codes[0] != float64(tt.aadsts) || !strings.HasPrefix(res.str("error_description"), "AADSTS") {
					t.Fatalf("error_codes %v, description %q, want [%d]", res.body["error_codes"], res.str("error_description"), tt.aadsts)
				}
				if errs := e.OAuthErrors(); len(errs) != 1 || errs[0].AADSTS != tt.aadsts || errs[0].Endpoint != "token" {
					t.Fatalf("recorded errors %+v", errs)
				}
				return
			}
			at := res.str("access_token")
			for claim, want := range map[string]string{"aud": oauthAPI, "iss": e.Issuer(), "tid": oauthTenant, "scp": "user_impersonation", "azp": oauthClient, "oid": OID("ada"), "ver": "2.0"} {
				if got := Claim(at, claim); got != want {
					t.Errorf("access token %s = %q, want %q", claim, got, want)
				}
			}
			if res.str("scope") != oauthScope || res.str("refresh_token") == "" || res.body["expires_in"] == nil {
				t.Errorf("scope %q, refresh token %t, expires_in %v", res.str("scope"), res.str("refresh_token") != "", res.body["expires_in"])
			}
			// The code is spent.
			again := doToken(t, e, codeForm(code, tt.form))
			if codes, _ := again.body["error_codes"].([]any); again.str("error") != "invalid_grant" || len(codes) != 1 || codes[0] != float64(54005) {
				t.Fatalf("second redemption: %v", again.body)
			}
		})
	}
}

func TestEntraRefresh(t *testing.T) {
	e := newTestOAuthEntra(t)
	first := doToken(t, e, codeForm(codeFor(t, e, nil), nil))
	rt := first.str("refresh_token")
	if rt == "" {
		t.Fatalf("no refresh token with offline_access: %v", first.body)
	}
	refresh := func(changes map[string]string) tokenResult {
		f := url.Values{"grant_type": {"refresh_token"}, "client_id": {oauthClient}, "refresh_token": {rt}}
		for k, v := range changes {
			f.Set(k, v)
		}
		return doToken(t, e, f)
	}
	ok := refresh(map[string]string{"scope": oauthScope + " offline_access"})
	if ok.status != 200 || Claim(ok.str("access_token"), "aud") != oauthAPI || ok.str("refresh_token") == "" || ok.str("refresh_token") == rt {
		t.Fatalf("refresh: %d, aud %q, new refresh token %t", ok.status, Claim(ok.str("access_token"), "aud"), ok.str("refresh_token") != "" && ok.str("refresh_token") != rt)
	}
	for name, tc := range map[string]struct {
		changes map[string]string
		err     string
	}{
		"another client":          {map[string]string{"client_id": oauthOther}, "invalid_grant"},
		"unknown refresh token":   {map[string]string{"refresh_token": "rt-made-up"}, "invalid_grant"},
		"resource with the scope": {map[string]string{"scope": oauthScope, "resource": "http://127.0.0.1:7071/mcp"}, "invalid_target"},
	} {
		if got := refresh(tc.changes); got.status != 400 || got.str("error") != tc.err {
			t.Errorf("%s: %d %v, want 400 %s", name, got.status, got.body, tc.err)
		}
	}

	// Without offline_access, no refresh token (as Entra documents).
	res := doToken(t, e, codeForm(codeFor(t, e, map[string]string{"scope": oauthScope}), nil))
	if res.status != 200 || res.str("refresh_token") != "" {
		t.Fatalf("without offline_access: %d, refresh token %t", res.status, res.str("refresh_token") != "")
	}
}

// TestEntraOAuthEventsHoldNoSecrets: what the fake records for tests to
// read and log has no code, verifier or token.
func TestEntraOAuthEventsHoldNoSecrets(t *testing.T) {
	e := newTestOAuthEntra(t)
	code := codeFor(t, e, nil)
	res := doToken(t, e, codeForm(code, nil))
	refresh := doToken(t, e, url.Values{"grant_type": {"refresh_token"}, "client_id": {oauthClient}, "refresh_token": {res.str("refresh_token")}})
	evs := e.OAuthEvents()
	if len(evs) != 3 || evs[0].Endpoint != "authorize" || evs[1].Endpoint != "token" || evs[2].Params.Get("grant_type") != "refresh_token" {
		t.Fatalf("events %+v", evs)
	}
	b, _ := json.Marshal(evs)
	if ContainsAny(string(b), code, oauthVerify, res.str("access_token"), res.str("refresh_token"), refresh.str("refresh_token")) {
		t.Fatalf("events hold a secret: %s", b)
	}
	if !slices.Contains(evs[0].Params["scope"], oauthScope+" offline_access") {
		t.Fatalf("authorize event params %v", evs[0].Params)
	}
}

func TestEntraAccessTokenLifetime(t *testing.T) {
	for _, tc := range []struct {
		lifetime time.Duration
		want     float64
	}{{0, 3600}, {30 * time.Second, 30}} {
		e := NewEntra(t, oauthTenant, oauthAPI, PlainHTTP(), WithOAuth(testOAuthConfig(func(c *OAuthConfig) {
			c.Clients = []OAuthClient{{ClientID: oauthClient, RedirectURIs: []string{"http://localhost/oauth/callback"}}}
			c.AccessTokenLifetime = tc.lifetime
		})))
		res := doToken(t, e, codeForm(codeFor(t, e, nil), nil))
		at := res.str("access_token")
		var claims struct {
			Exp float64 `json:"exp"`
		}
		b, _ := base64.RawURLEncoding.DecodeString(strings.Split(at, ".")[1])
		json.Unmarshal(b, &claims)
		if res.body["expires_in"] != tc.want || claims.Exp-float64(time.Now().Unix()) > tc.want+1 || claims.Exp-float64(time.Now().Unix()) < tc.want-5 {
			t.Errorf("lifetime %s: expires_in %v, exp in %.0fs, want %.0f", tc.lifetime, res.body["expires_in"], claims.Exp-float64(time.Now().Unix()), tc.want)
		}
	}
}
