package auth_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfunc/mcpfunc/shared/auth"
)

// mcpHandler is the MCP endpoint the examples protect: a stateless
// streamable HTTP handler for a server without tools.
func mcpHandler() http.Handler {
	s := mcp.NewServer(&mcp.Implementation{Name: "example", Version: "v0.0.1"}, nil)
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{Stateless: true})
}

// serve sends one request to h, an MCP ping when it is a POST, and returns
// the answer.
func serve(h http.Handler, method, target string) *http.Response {
	r := httptest.NewRequest(method, target, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/json, text/event-stream")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

// Protect in entra mode: tokens are verified in the process, a request
// without one gets the challenge MCP clients sign in from, and the
// protected resource metadata says where. With shared/hosting, the same
// wiring is hosting.WithMiddleware(p.Middleware) and
// hosting.WithHandler(p.PRMPattern, p.PRMHandler).
func ExampleProtect() {
	p, err := auth.Protect(context.Background(), auth.Config{
		Mode:      auth.ModeEntra,
		PublicURL: "https://mcp.example.com",
		Verifier: auth.VerifierConfig{
			TenantIDs:      []string{"72f988bf-86f1-41af-91ab-2d7cd011db47"},
			Audiences:      []string{"api://mcp-example"},
			RequiredScopes: []string{"user_impersonation"},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", p.Middleware(mcpHandler()))
	if p.PRMHandler != nil {
		mux.Handle(p.PRMPattern, p.PRMHandler)
	}

	resp := serve(mux, http.MethodPost, "/mcp")
	fmt.Println(resp.StatusCode, resp.Header.Get("WWW-Authenticate"))

	resp = serve(mux, http.MethodGet, p.PRMPattern)
	doc, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, strings.TrimSpace(string(doc)))
	// Output:
	// 401 Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource", scope="api://mcp-example/user_impersonation"
	// 200 {"resource":"https://mcp.example.com/mcp","authorization_servers":["https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"],"scopes_supported":["api://mcp-example/user_impersonation"],"bearer_methods_supported":["header"]}
}

// ProtectFromEnv is how every server sets up /mcp: one call reads MCP_AUTH
// and the settings of its mode. Run locally with MCP_AUTH unset, the
// endpoint is open and the server says so once, as information; on Azure
// without authentication the server refuses to start.
func ExampleProtectFromEnv() {
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))

	local := map[string]string{} // os.Getenv in a server
	p, err := auth.ProtectFromEnv(ctx, func(k string) string { return local[k] }, nil)
	if err != nil {
		log.Fatal(err)
	}
	p.LogNotice(ctx, logger)
	fmt.Println(p.Mode, serve(p.Middleware(mcpHandler()), http.MethodPost, "/mcp").StatusCode)

	azure := map[string]string{"WEBSITE_SITE_NAME": "func-weather"}
	_, err = auth.ProtectFromEnv(ctx, func(k string) string { return azure[k] }, nil)
	fmt.Println(err != nil && strings.HasPrefix(err.Error(), "auth: refusing to serve MCP unauthenticated"))
	// Output:
	// level=INFO msg="MCP_AUTH is not set and this is not Azure (WEBSITE_SITE_NAME is unset): /mcp accepts unauthenticated requests; set MCP_AUTH=none to say so, or MCP_AUTH=entra to verify Entra tokens"
	// none 200
	// true
}
