package userinfofake

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
)

// The fakes answer the requests of an On-Behalf-Of exchange with a managed
// identity, over the certificate file a child process would trust, and
// refuse requests that are wired wrong.
func TestUpstreams(t *testing.T) {
	u, err := Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	env := map[string]string{}
	for _, kv := range u.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	pemBytes, err := os.ReadFile(env["SSL_CERT_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemBytes) {
		t.Fatal("SSL_CERT_FILE holds no certificate")
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	defer hc.CloseIdleConnections()

	get := func(url string, hdr http.Header) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		for k, v := range hdr {
			req.Header[k] = v
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return decode(t, resp)
	}
	tokenURL := env["AZURE_AUTHORITY_HOST"] + "/" + Tenant + "/oauth2/v2.0/token"
	exchange := func(assertion string) (int, map[string]any) {
		t.Helper()
		resp, err := hc.PostForm(tokenURL, url.Values{
			"grant_type":            {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
			"requested_token_use":   {"on_behalf_of"},
			"client_id":             {ClientID},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion":      {assertion},
			"assertion":             {"user-token"},
			"scope":                 {"https://graph.microsoft.com/.default"},
		})
		if err != nil {
			t.Fatal(err)
		}
		return decode(t, resp)
	}

	status, meta := get(env["AZURE_AUTHORITY_HOST"]+"/"+Tenant+"/v2.0/.well-known/openid-configuration", nil)
	if status != 200 || meta["token_endpoint"] != tokenURL {
		t.Fatalf("metadata: %d %v", status, meta)
	}
	status, mi := get(env["IDENTITY_ENDPOINT"]+"?api-version=2019-08-01&resource=api://AzureADTokenExchange&client_id="+env["OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID"],
		http.Header{"X-Identity-Header": {env["IDENTITY_HEADER"]}})
	assertion, _ := mi["access_token"].(string)
	if status != 200 || assertion == "" {
		t.Fatalf("managed identity: %d %v", status, mi)
	}
	status, tok := exchange(assertion)
	at, _ := tok["access_token"].(string)
	if status != 200 || at == "" || tok["token_type"] != "Bearer" {
		t.Fatalf("token: %d %v", status, tok)
	}
	status, me := get(env["GRAPH_BASE_URL"]+"/me", http.Header{"Authorization": {"Bearer " + at}})
	if status != 200 || me["displayName"] != "Ada Lovelace" {
		t.Fatalf("Graph /me: %d %v", status, me)
	}
	if got, want := u.Counts(), (Counts{Metadata: 1, Token: 1, ManagedIdentity: 1, Graph: 1, EntraConns: 1, ManagedIdentityConns: 1, GraphConns: 1}); got != want {
		t.Errorf("counts = %+v, want %+v", got, want)
	}
	if err := u.ErrProblems(); err != nil {
		t.Fatalf("problems after good requests: %v", err)
	}

	// Wired wrong: each is refused and recorded.
	if status, _ := exchange("not-the-managed-identity-token"); status != 400 {
		t.Errorf("exchange with a wrong client assertion: %d, want 400", status)
	}
	if status, _ := get(env["IDENTITY_ENDPOINT"]+"?client_id="+ManagedIdentityID, nil); status != 401 {
		t.Errorf("managed identity without X-IDENTITY-HEADER: %d, want 401", status)
	}
	if status, _ := get(env["GRAPH_BASE_URL"]+"/me", http.Header{"Authorization": {"Bearer user-token"}}); status != 401 {
		t.Errorf("Graph with a token Entra did not issue: %d, want 401", status)
	}
	if p := u.Problems(); len(p) != 3 {
		t.Errorf("problems = %q, want 3", p)
	}

	// The principal is what shared/auth accepts from Easy Auth.
	h := Headers("tok")
	raw, err := base64.StdEncoding.DecodeString(h.Get("X-MS-CLIENT-PRINCIPAL"))
	if err != nil || !json.Valid(raw) || h.Get("Authorization") != "Bearer tok" {
		t.Errorf("Headers = %v", h)
	}
}

func decode(t *testing.T, resp *http.Response) (int, map[string]any) {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("HTTP %d, not JSON: %s", resp.StatusCode, b)
	}
	return resp.StatusCode, m
}
