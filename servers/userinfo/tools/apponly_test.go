package tools

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	mcpauth "github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfunc/mcpfunc/servers/userinfo/graph"
)

// countingOBO counts exchanges and succeeds.
type countingOBO struct{ calls atomic.Int64 }

func (c *countingOBO) Token(context.Context, string, ...string) (azcore.AccessToken, error) {
	c.calls.Add(1)
	return azcore.AccessToken{Token: "graph-token", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// countingGraph counts profile reads and returns Ada's.
type countingGraph struct{ calls atomic.Int64 }

func (g *countingGraph) Me(context.Context, azcore.TokenCredential) (*graph.User, error) {
	g.calls.Add(1)
	return &graph.User{DisplayName: "Ada Lovelace", UserPrincipalName: "ada@example.com", ID: "ada-id"}, nil
}

// TestGetUserInfoCallers: an application calling for itself gets the
// app-only error without any exchange or Graph call, whether On-Behalf-Of
// is configured or not; a signed-in user's verified token is exchanged.
func TestGetUserInfoCallers(t *testing.T) {
	const appOnlyMsg = "this tool acts on behalf of a signed-in user; an application cannot call it"
	bearer := http.Header{"Authorization": {"Bearer header.payload.signature"}}
	user := &mcpauth.TokenInfo{UserID: "ada-oid", Scopes: []string{"user_impersonation"}, Extra: map[string]any{"scp": []string{"user_impersonation"}}}
	tests := []struct {
		name      string
		extra     *mcp.RequestExtra
		noOBO     bool
		wantErr   string // exact tool error; "" for success
		wantCalls int64  // exchanges, and as many Graph reads
	}{
		{name: "app-only, idtyp app", extra: &mcp.RequestExtra{Header: bearer, TokenInfo: &mcpauth.TokenInfo{UserID: "sp-oid", Extra: map[string]any{"idtyp": "app", "roles": []string{"MCP.Invoke"}}}}, wantErr: appOnlyMsg},
		{name: "app-only, roles without scp", extra: &mcp.RequestExtra{Header: bearer, TokenInfo: &mcpauth.TokenInfo{UserID: "sp-oid", Extra: map[string]any{"roles": []string{"MCP.Invoke"}}}}, wantErr: appOnlyMsg},
		{name: "app-only, On-Behalf-Of not configured", noOBO: true, extra: &mcp.RequestExtra{Header: bearer, TokenInfo: &mcpauth.TokenInfo{Extra: map[string]any{"idtyp": "app", "roles": []string{"MCP.Invoke"}}}}, wantErr: appOnlyMsg},
		{name: "app-only, no Authorization header", extra: &mcp.RequestExtra{TokenInfo: &mcpauth.TokenInfo{Extra: map[string]any{"idtyp": "app"}}}, wantErr: appOnlyMsg},
		{name: "signed-in user", extra: &mcp.RequestExtra{Header: bearer, TokenInfo: user}, wantCalls: 1},
		{name: "signed-in user, idtyp user", extra: &mcp.RequestExtra{Header: bearer, TokenInfo: &mcpauth.TokenInfo{Scopes: []string{"user_impersonation"}, Extra: map[string]any{"idtyp": "user", "scp": []string{"user_impersonation"}}}}, wantCalls: 1},
		{name: "unverified (MCP_AUTH=none or key)", extra: &mcp.RequestExtra{Header: bearer}, wantErr: "this server does not verify callers' tokens (MCP_AUTH=none or key), so it does not exchange them for Microsoft Graph tokens: run it with MCP_AUTH=entra locally, or behind Easy Auth (MCP_AUTH=easyauth) on Azure"},
		{name: "no transport extra (in-memory)", wantErr: "no access token reached the server: call it through Easy Auth (deployed) or with MCP_AUTH=entra (local), so that the client signs in and sends `Authorization: Bearer <token>`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex, g := &countingOBO{}, &countingGraph{}
			h := handler{Config{OBO: ex, Graph: g, Timeout: time.Second, NotConfigured: "On-Behalf-Of is not configured"}}
			if tt.noOBO {
				h.cfg.OBO = nil
			}
			res, out, err := h.getUserInfo(context.Background(), &mcp.CallToolRequest{Params: &mcp.CallToolParamsRaw{Name: "get_user_info"}, Extra: tt.extra}, struct{}{})
			switch {
			case tt.wantErr != "":
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case res == nil || out.DisplayName != "Ada Lovelace":
				t.Fatalf("result %+v, %+v", res, out)
			}
			if n, m := ex.calls.Load(), g.calls.Load(); n != tt.wantCalls || m != tt.wantCalls {
				t.Errorf("%d exchanges and %d Graph reads, want %d", n, m, tt.wantCalls)
			}
		})
	}
}
