// Command sdkfloor is the weather server's tools served the go-sdk's own
// way, with nothing of shared/hosting: the stateless streamable HTTP handler
// on http.ListenAndServe. It is the floor the bench (go tool mage bench)
// compares servers/weather against. It reads the same settings:
// FUNCTIONS_CUSTOMHANDLER_PORT (default 8080), NWS_API_BASE_URL,
// NWS_CACHE_ENTRIES and the other NWS_* settings, and LOG_LEVEL for the
// tools' own warnings (JSON on stderr).
package main

import (
	"os"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfunc/mcpfunc/bench/baselines/floor"
	"github.com/mcpfunc/mcpfunc/servers/weather/tools"
)

func main() {
	logger := floor.Logger()

	s, err := tools.NewServerFromEnv(&mcp.Implementation{Name: "weather", Version: "sdkfloor"}, os.Getenv, logger)
	if err != nil {
		logger.Error("bad configuration", "err", err)
		os.Exit(2)
	}
	floor.Serve(logger, s)
}
