package hosting

import "github.com/modelcontextprotocol/go-sdk/mcp"

// ServerOptions returns the options to create a server's *mcp.Server with,
// for a server with tools: it advertises the tools and logging
// capabilities, and not tools.listChanged. The SDK advertises listChanged
// whenever a tool is added, but a stateless server behind Flex Consumption
// never sends notifications/tools/list_changed (its tool list is fixed,
// and no stream outlives a request on one of several instances). Clients
// that see it open a subscriptions/listen stream per session, holding a
// request and an instance open for nothing. Set further fields on the
// result as needed.
func ServerOptions() *mcp.ServerOptions {
	return &mcp.ServerOptions{
		Capabilities: &mcp.ServerCapabilities{
			//lint:ignore SA1019 logging is deprecated as of protocol 2026-07-28 but still works; the servers still support clients of older protocol versions that use it.
			Logging: &mcp.LoggingCapabilities{},
			Tools:   &mcp.ToolCapabilities{},
		},
	}
}
