// Command weather is an MCP server with two tools, get_alerts and
// get_forecast, backed by the US National Weather Service API. It runs as an
// Azure Functions custom handler (see shared/hosting) or on its own:
//
//	go run . -port 7071
//
// Settings: MCP_AUTH and the other authorization settings (see
// shared/auth), NWS_API_BASE_URL, NWS_USER_AGENT, NWS_CACHE_ENTRIES and
// NWS_TIMEOUT (see tools.ConfigFromEnv), plus those of shared/hosting.
package main

import (
	"context"
	"os"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfunc/mcpfunc/servers/weather/tools"
	"github.com/mcpfunc/mcpfunc/shared/auth"
	"github.com/mcpfunc/mcpfunc/shared/hosting"
)

func main() {
	logger := hosting.NewLogger()
	impl := &mcp.Implementation{Name: "weather", Title: "US weather (National Weather Service)", Version: hosting.Version()}
	s, err := tools.NewServerFromEnv(impl, os.Getenv, logger)
	if err != nil {
		logger.Error("bad configuration", "err", err)
		os.Exit(2)
	}
	// The same MCP_AUTH as every server: Easy Auth plus token checks on
	// Azure, in-process Entra verification, or none for local development.
	ctx := context.Background()
	p, err := auth.ProtectFromEnv(ctx, os.Getenv, nil)
	if err != nil {
		logger.Error("bad authorization configuration", "err", err)
		os.Exit(2)
	}
	p.LogNotice(ctx, logger)
	opts := []hosting.Option{hosting.WithMiddleware(p.Middleware), hosting.WithInfo(impl), hosting.WithLogger(logger), hosting.WithPort(7071)}
	if p.PRMHandler != nil {
		opts = append(opts, hosting.WithHandler(p.PRMPattern, p.PRMHandler))
	}
	hosting.Start(s, opts...)
}
