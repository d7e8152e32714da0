// Package floor is what the bench's floor servers (sdkfloor, userinfofloor)
// share: the go-sdk's own way to serve an *mcp.Server, with nothing of
// shared/hosting, so that the bench can measure what shared/hosting adds.
package floor

import (
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Logger logs JSON to stderr at LOG_LEVEL (default info).
func Logger() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.TrimSpace(os.Getenv("LOG_LEVEL")))); err != nil {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// Serve serves s with the SDK's stateless streamable HTTP handler (JSON
// responses) on http.ListenAndServe at 127.0.0.1 and
// FUNCTIONS_CUSTOMHANDLER_PORT (default 8080). It returns only when
// serving fails, and then exits with status 1.
func Serve(logger *slog.Logger, s *mcp.Server) {
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	port := os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT")
	if port == "" {
		port = "8080"
	}
	err := http.ListenAndServe(net.JoinHostPort("127.0.0.1", port), h)
	logger.Error("serve", "err", err)
	os.Exit(1)
}
