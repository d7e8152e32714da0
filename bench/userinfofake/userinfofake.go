// Package userinfofake runs loopback fakes of the three services the
// userinfo server calls, for the bench (go tool mage bench) and the
// end-to-end load test, which drive a userinfo process from outside:
//
//   - a Microsoft Entra ID authority over TLS: OpenID metadata, the signing
//     key set and the On-Behalf-Of token endpoint (authtest's);
//   - an App Service managed-identity endpoint (IDENTITY_ENDPOINT,
//     IDENTITY_HEADER) whose token is the client assertion Entra expects
//     (authtest's);
//   - Microsoft Graph's GET /v1.0/me, for the tokens the fake Entra issued.
//
// The child process trusts the TLS fake through SSL_CERT_FILE, which Go
// reads on Linux (Env sets it). The identity fakes are shared/auth/authtest's
// handlers, which need no testing.TB and keep no per-token state when built
// this way, so that the fakes cost the load generator little.
package userinfofake

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpfunc/mcpfunc/shared/auth/authtest"
)

// Identities the fakes expect, as configured by Env.
const (
	Tenant            = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	ClientID          = "11111111-2222-3333-4444-555555555555"
	ManagedIdentityID = "99999999-8888-7777-6666-555555555555"
)

// Principal is an X-MS-CLIENT-PRINCIPAL value that names no caller: the
// userinfo server in MCP_AUTH=easyauth mode refuses requests with it (401),
// as it refuses any whose principal is not the bearer token's subject.
var Principal = base64.StdEncoding.EncodeToString([]byte(`{"auth_typ":"aad","claims":[]}`))

// Counts are the requests the fakes answered, and the connections each
// accepted.
type Counts struct {
	Metadata, Token, ManagedIdentity, Graph      int64
	EntraConns, ManagedIdentityConns, GraphConns int64
}

// Conns is the number of connections the three fakes accepted.
func (c Counts) Conns() int64 { return c.EntraConns + c.ManagedIdentityConns + c.GraphConns }

// Upstreams are the three fakes.
type Upstreams struct {
	Entra, ManagedIdentity, Graph *httptest.Server
	// CertFile is Entra's TLS certificate, PEM, for SSL_CERT_FILE.
	CertFile string

	// entra and mi are authtest's fakes behind Entra and ManagedIdentity.
	// entra signs the users' access tokens with signer and publishes its
	// key: userinfo verifies every token before using it.
	entra  *authtest.Entra
	mi     *authtest.ManagedIdentity
	signer *authtest.Signer
	tokens sync.Map // user -> signed token

	graph                           atomic.Int64
	entraConns, miConns, graphConns atomic.Int64

	mu       sync.Mutex
	problems []string
}

// Start starts the fakes on loopback and writes Entra's certificate to a
// file in dir.
func Start(dir string) (*Upstreams, error) {
	signer, err := authtest.NewSigner()
	if err != nil {
		return nil, err
	}
	u := &Upstreams{signer: signer, entra: authtest.NewEntraHandler(Tenant, ClientID, signer), mi: authtest.NewManagedIdentityHandler(ManagedIdentityID)}
	u.entra.ExpectClientAssertion(u.mi.Token)
	u.Entra = newServer(u.entra, &u.entraConns)
	u.ManagedIdentity = newServer(u.mi, &u.miConns)
	u.Graph = newServer(http.HandlerFunc(u.serveGraph), &u.graphConns)
	u.Entra.StartTLS()
	u.ManagedIdentity.Start()
	u.Graph.Start()
	u.CertFile = filepath.Join(dir, "fake-entra.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: u.Entra.Certificate().Raw})
	if err := os.WriteFile(u.CertFile, pemBytes, 0o644); err != nil {
		u.Close()
		return nil, err
	}
	return u, nil
}

// Env is the environment that points a userinfo process (or a process
// wired the same way) at the fakes, as KEY=VALUE: Easy Auth mode and
// On-Behalf-Of with a managed identity, as deployed.
func (u *Upstreams) Env() []string {
	return []string{
		"MCP_AUTH=easyauth",
		"OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID=" + ManagedIdentityID,
		"WEBSITE_AUTH_CLIENT_ID=" + ClientID,
		"WEBSITE_AUTH_AAD_ALLOWED_TENANTS=" + Tenant,
		"AZURE_AUTHORITY_HOST=" + u.Entra.URL,
		"GRAPH_BASE_URL=" + u.Graph.URL + "/v1.0",
		"IDENTITY_ENDPOINT=" + u.ManagedIdentity.URL + "/msi/token",
		"IDENTITY_HEADER=" + authtest.IdentityHeader,
		"SSL_CERT_FILE=" + u.CertFile,
	}
}

// EnvPrefixes are the prefixes of environment variables that change how
// userinfo authenticates or where it sends requests; a parent should drop
// its own before adding Env.
var EnvPrefixes = []string{"MCP_", "AZURE_", "WEBSITE_", "OVERRIDE_USE_MI", "IDENTITY_", "MSI_", "GRAPH_", "SSL_CERT_", "TokenExchangeAudience"}

// UserToken is an access token for the app that the fake Entra issued to
// the user named user (signed with the key it publishes), the same token
// for the same user.
func (u *Upstreams) UserToken(user string) string {
	if t, ok := u.tokens.Load(user); ok {
		return t.(string)
	}
	claims := authtest.UserClaims(u.Entra.URL+"/"+Tenant+"/v2.0", Tenant, ClientID, user)
	claims["exp"] = time.Now().Add(24 * time.Hour).Unix()
	t, _ := u.tokens.LoadOrStore(user, u.signer.Sign(claims))
	return t.(string)
}

// Headers are what Easy Auth passes to the app for a signed-in caller
// whose access token is userToken (from [Upstreams.UserToken]): the
// Authorization header and the principal headers naming the token's
// subject.
func Headers(userToken string) http.Header {
	return authtest.EasyAuthHeaders(userToken)
}

// Counts returns the requests answered so far.
func (u *Upstreams) Counts() Counts {
	return Counts{
		Metadata: u.entra.MetadataRequests(), Token: u.entra.TokenRequests(), ManagedIdentity: u.mi.Requests(), Graph: u.graph.Load(),
		EntraConns: u.entraConns.Load(), ManagedIdentityConns: u.miConns.Load(), GraphConns: u.graphConns.Load(),
	}
}

// newServer is an unstarted loopback server that counts the connections
// it accepts.
func newServer(h http.Handler, conns *atomic.Int64) *httptest.Server {
	s := httptest.NewUnstartedServer(h)
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	return s
}

// Problems are the requests the fakes refused as malformed, with the
// reason (the first 20 of each fake).
func (u *Upstreams) Problems() []string {
	var out []string
	for _, p := range u.entra.Problems() {
		out = append(out, "Entra: "+p)
	}
	for _, p := range u.mi.Problems() {
		out = append(out, "managed identity: "+p)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return append(out, u.problems...)
}

// CloseClientConnections drops every connection the fakes hold, so that
// the client's pooled connections to them close too.
func (u *Upstreams) CloseClientConnections() {
	u.Entra.CloseClientConnections()
	u.ManagedIdentity.CloseClientConnections()
	u.Graph.CloseClientConnections()
}

// Close stops the fakes and removes the certificate file.
func (u *Upstreams) Close() {
	for _, s := range []*httptest.Server{u.Entra, u.ManagedIdentity, u.Graph} {
		if s != nil {
			s.Close()
		}
	}
	if u.CertFile != "" {
		os.Remove(u.CertFile)
	}
}

func (u *Upstreams) problem(w http.ResponseWriter, status int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	u.mu.Lock()
	if len(u.problems) < 20 {
		u.problems = append(u.problems, msg)
	}
	u.mu.Unlock()
	authtest.WriteJSON(w, status, map[string]any{"error": "invalid_request", "error_description": "fake: " + msg})
}

// meBody is the profile the fake Graph returns.
var meBody = func() []byte {
	b, err := json.Marshal(map[string]any{
		"@odata.context":    "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
		"id":                "4c1a9f3e-0000-4000-8000-00000000ada1",
		"displayName":       "Ada Lovelace",
		"mail":              "ada@example.com",
		"userPrincipalName": "ada@example.com",
	})
	if err != nil {
		panic(err)
	}
	return b
}()

func (u *Upstreams) serveGraph(w http.ResponseWriter, r *http.Request) {
	u.graph.Add(1)
	if r.Method != http.MethodGet || r.URL.Path != "/v1.0/me" {
		u.problem(w, http.StatusNotFound, "Graph: unexpected %s %s", r.Method, r.URL.Path)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer "+authtest.AccessTokenPrefix) {
		u.problem(w, http.StatusUnauthorized, "Graph: Authorization is not a token the fake Entra issued")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(meBody)
}

// ErrProblems wraps the fakes' problems in an error, nil when none.
func (u *Upstreams) ErrProblems() error {
	p := u.Problems()
	if len(p) == 0 {
		return nil
	}
	return errors.New("the fake identity services refused requests:\n  " + strings.Join(p, "\n  "))
}
