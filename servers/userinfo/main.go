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

import "github.com/mcpfunc/mcpfunc/servers/userinfo/server"

func main() { server.Main() }
