// Command userinfo is an MCP server with one tool, get_user_info, that
// returns the signed-in user's Microsoft Graph profile. It exchanges the
// caller's token for a Graph token with the On-Behalf-Of flow
// (shared/auth/obo) and runs as an Azure Functions custom handler
// (shared/hosting):
//
//	go run . -port 7072
//
// Settings: MCP_AUTH (see shared/auth), the On-Behalf-Of variables (see
// shared/auth/obo), GRAPH_BASE_URL (default
// https://graph.microsoft.com/v1.0), GRAPH_TIMEOUT (default 10s), plus
// those of shared/hosting.
package main

import (
	"context"
	"os"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfunc/mcpfunc/servers/userinfo/server"
	"github.com/mcpfunc/mcpfunc/shared/hosting"
)

func main() {
	logger := hosting.NewLogger()
	impl := &mcp.Implementation{Name: "userinfo", Title: "Signed-in user (Microsoft Graph)", Version: hosting.Version()}
	s, err := server.New(context.Background(), impl, os.Getenv, logger, nil)
	if err != nil {
		logger.Error("bad configuration", "err", err)
		os.Exit(2)
	}
	hosting.Start(s.MCP, append(s.Options, hosting.WithInfo(impl), hosting.WithLogger(logger), hosting.WithPort(7072))...)
}
