// Command weather is an MCP server with two tools, get_alerts and
// get_forecast, backed by the US National Weather Service API. It runs as an
// Azure Functions custom handler (see shared/hosting) or on its own:
//
//	go run . -port 7071
//
// Settings: MCP_AUTH and the other authorization settings (see
// shared/auth), NWS_API_BASE_URL, NWS_USER_AGENT, NWS_CACHE_ENTRIES and
// NWS_TIMEOUT (see nws.ConfigFromEnv), plus those of shared/hosting.
package main

import "github.com/mcpfunc/mcpfunc/servers/weather/server"

func main() { server.Main() }
