// Command weather is an MCP server with two tools, get_alerts and
// get_forecast, backed by the US National Weather Service API. It runs as an
// Azure Functions custom handler (see shared/hosting) or on its own:
//
//	go run . -port 7071
//
// Settings: NWS_API_BASE_URL, NWS_USER_AGENT, NWS_CACHE_ENTRIES and
// NWS_TIMEOUT (see tools.ConfigFromEnv), plus those of shared/hosting.
package main

import (
	"os"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfunc/mcpfunc/servers/weather/tools"
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
	hosting.Start(s, hosting.WithInfo(impl), hosting.WithLogger(logger), hosting.WithPort(7071))
}
