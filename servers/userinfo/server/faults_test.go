package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfunc/mcpfunc/shared/auth/authtest"
)

// The faults server_test.go does not cover: Entra, the managed identity
// endpoint and Graph resetting the connection, cutting the body short,
// answering HTML or nothing, and rate limiting. Each call must end within
// its bound with a clear tool error, and a normal call must work after it.

// hangUp ends a connection abruptly: with a reset (SO_LINGER 0) when it is
// TCP underneath.
func hangUp(w http.ResponseWriter) {
	c, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	nc := c
	if tc, ok := c.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	if tcp, ok := nc.(*net.TCPConn); ok {
		tcp.SetLinger(0)
	}
	nc.Close()
}

// misbehave writes the fault named by mode and reports whether it did.
// body is what a correct answer would have been.
func misbehave(w http.ResponseWriter, mode, body string) bool {
	switch mode {
	case "reset":
		hangUp(w)
	case "truncated":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, body[:len(body)/2])
		w.(http.Flusher).Flush()
		hangUp(w)
	case "html":
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><body>Service Unavailable</body></html>")
	case "empty":
		w.Header().Set("Content-Type", "application/json")
	case "429":
		w.Header().Set("Retry-After", "1")
		authtest.WriteJSON(w, http.StatusTooManyRequests, map[string]any{"error": map[string]any{"code": "TooManyRequests", "message": "slow down"}})
	default:
		return false
	}
	return true
}

// faultGraph is a Graph /me that answers for tokens the fake Entra issued,
// misbehaving for the users named in modes.
type faultGraph struct {
	*httptest.Server
	requests atomic.Int64
	modes    map[string]string // user assertion -> fault
}

func newFaultGraph(t *testing.T, entra *authtest.Entra, modes map[string]string) *faultGraph {
	g := &faultGraph{modes: modes}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.requests.Add(1)
		at, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		assertion, ok := entra.AssertionFor(at)
		user := authtest.UserOf(assertion)
		if r.URL.Path != "/v1.0/me" || !ok {
			authtest.WriteJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]any{"code": "InvalidAuthenticationToken"}})
			return
		}
		body := `{"id":"u-1","displayName":"Ada Lovelace","mail":"ada@example.com","userPrincipalName":"ada@example.com"}`
		if misbehave(w, g.modes[user], body) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}))
	t.Cleanup(g.Close)
	return g
}

// faultChain is the userinfo server, as deployed behind Easy Auth, wired
// to fake Entra, managed identity and Graph.
type faultChain struct {
	url   string
	entra *authtest.Entra
	mi    *authtest.ManagedIdentity
	graph *faultGraph
}

// newFaultChain starts the chain. entraModes and graphModes map user
// assertions to faults; miEndpoint, if set, replaces the managed identity
// endpoint.
func newFaultChain(t *testing.T, entraModes, graphModes map[string]string, miEndpoint string) *faultChain {
	t.Helper()
	miClientID := "mi-fault-" + authtest.ShortHash(t.Name()+time.Now().String())
	entra := authtest.NewEntra(t, tenant, appID)
	mi := authtest.NewManagedIdentity(t, miClientID)
	if miEndpoint != "" {
		t.Setenv("IDENTITY_ENDPOINT", miEndpoint)
	} else {
		entra.ExpectClientAssertion(mi.Token)
	}
	entra.SetResponder(func(w http.ResponseWriter, r *http.Request, form url.Values) bool {
		body := `{"token_type":"Bearer","expires_in":3600,"access_token":"graph-at-never-issued"}`
		return misbehave(w, entraModes[authtest.UserOf(form.Get("assertion"))], body)
	})
	g := newFaultGraph(t, entra, graphModes)
	url := serve(t, azureEnv(miClientID, entra.URL, g.URL), slog.New(slog.DiscardHandler), entra.Client)
	return &faultChain{url: url, entra: entra, mi: mi, graph: g}
}

// callAs calls get_user_info with user's token and returns the result,
// its text and how long it took.
func (c *faultChain) callAs(t *testing.T, user string) (*mcp.CallToolResult, string, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(ctx,
		&mcp.StreamableClientTransport{Endpoint: c.url + "/mcp", HTTPClient: &http.Client{Transport: easyAuthRT{"Bearer " + c.entra.UserToken(user), true}}, DisableStandaloneSSE: true, MaxRetries: -1},
		&mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer cs.Close()
	start := time.Now()
	res, text := callUserInfo(t, cs)
	return res, text, time.Since(start)
}

func TestFaultsUpstreams(t *testing.T) {
	entraModes := map[string]string{
		"user-entra-reset": "reset", "user-entra-truncated": "truncated", "user-entra-html": "html",
		"user-entra-empty": "empty", "user-entra-429": "429",
	}
	graphModes := map[string]string{
		"user-graph-reset": "reset", "user-graph-truncated": "truncated", "user-graph-html": "html",
		"user-graph-empty": "empty", "user-graph-429": "429",
	}
	c := newFaultChain(t, entraModes, graphModes, "")
	// The bound of a call: the exchange (at most DefaultOBOTimeout, 15 s)
	// and GRAPH_TIMEOUT (2 s); in practice a failure is reported at once.
	const bound = 17 * time.Second
	tests := []struct {
		user string
		want []string // substrings of the tool error
	}{
		{"user-entra-reset", []string{"Microsoft Entra ID is unavailable"}},
		{"user-entra-truncated", []string{"Microsoft Entra ID is unavailable"}},
		{"user-entra-html", []string{"could not get a token to act on your behalf"}},
		{"user-entra-empty", []string{"could not get a token to act on your behalf"}},
		{"user-entra-429", []string{"Microsoft Entra ID is unavailable"}},
		// A reset Graph connection should read like the other Graph
		// failures: name Graph, say to retry, and not dump the Go error
		// with the request URL and the worker's socket addresses.
		{"user-graph-reset", []string{"Microsoft Graph"}},
		{"user-graph-truncated", []string{"Microsoft Graph returned an answer this server could not read"}},
		{"user-graph-html", []string{"Microsoft Graph returned an answer this server could not read"}},
		{"user-graph-empty", []string{"Microsoft Graph returned an answer this server could not read"}},
		{"user-graph-429", []string{"Microsoft Graph is throttling requests (HTTP 429); try again in 1s"}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.user, "user-"), func(t *testing.T) {
			res, text, took := c.callAs(t, tt.user)
			t.Logf("after %s: %q", took.Round(time.Millisecond), text)
			if !res.IsError {
				t.Fatalf("want a tool error, got %q", text)
			}
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("tool error lacks %q", w)
				}
			}
			if strings.Contains(text, tt.user) || strings.Contains(text, "graph-at-") {
				t.Errorf("tool error contains token material: %q", text)
			}
			for _, internal := range []string{"127.0.0.1", "read tcp", "http://", "$select"} {
				if strings.Contains(text, internal) {
					t.Errorf("tool error exposes internals (%q): %q", internal, text)
				}
			}
			if took > bound {
				t.Errorf("call took %s, past its bound %s", took, bound)
			}
			// The server keeps serving.
			if res, text, _ := c.callAs(t, "user-ok-after-"+tt.user); res.IsError {
				t.Errorf("normal call after the fault: %q", text)
			}
		})
	}
}

func TestFaultsManagedIdentity(t *testing.T) {
	for _, mode := range []string{"reset", "truncated", "html", "empty"} {
		t.Run(mode, func(t *testing.T) {
			var requests atomic.Int64
			bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				misbehave(w, mode, `{"access_token":"mi-token","expires_on":"9999999999","resource":"api://AzureADTokenExchange","token_type":"Bearer"}`)
			}))
			defer bad.Close()
			c := newFaultChain(t, nil, nil, bad.URL+"/msi/token")
			res, text, took := c.callAs(t, "user-mi-"+mode)
			t.Logf("after %s and %d endpoint requests: %q", took.Round(time.Millisecond), requests.Load(), text)
			if !res.IsError || !strings.Contains(text, "OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID") {
				t.Errorf("want the managed-identity tool error, got isError %v %q", res.IsError, text)
			}
			if n := c.entra.TokenRequests(); n != 0 {
				t.Errorf("Entra got %d token requests without a client assertion", n)
			}
			if took > 17*time.Second {
				t.Errorf("call took %s, past its bound", took)
			}
		})
	}
}
