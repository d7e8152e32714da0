// Command sdkfloor is the weather server's tools served the go-sdk's own
// way, with nothing of shared/hosting: the stateless streamable HTTP handler
// on http.ListenAndServe. It is the floor the bench (go tool mage bench)
// compares servers/weather against. It reads the same settings:
// FUNCTIONS_CUSTOMHANDLER_PORT (default 8080), NWS_API_BASE_URL,
// NWS_CACHE_ENTRIES and the other NWS_* settings, and LOG_LEVEL for the
// tools' own warnings (JSON on stderr).
package main

import (
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfunc/mcpfunc/servers/weather/tools"
)

func main() {
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.TrimSpace(os.Getenv("LOG_LEVEL")))); err != nil {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	s, err := tools.NewServerFromEnv(&mcp.Implementation{Name: "weather", Version: "sdkfloor"}, os.Getenv, logger)
	if err != nil {
		logger.Error("bad configuration", "err", err)
		os.Exit(2)
	}
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})

	port := os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT")
	if port == "" {
		port = "8080"
	}
	if err := http.ListenAndServe(net.JoinHostPort("127.0.0.1", port), h); err != nil {
		logger.Error("serve", "err", err)
		os.Exit(1)
	}
}
