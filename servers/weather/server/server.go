// Package server builds the weather MCP server from its environment: the
// authorization mode (MCP_AUTH, see shared/auth), the NWS client
// (NWS_API_BASE_URL, NWS_USER_AGENT, NWS_CACHE_ENTRIES, NWS_TIMEOUT; see
// nws.ConfigFromEnv) and the get_alerts and get_forecast tools. The command
// (servers/weather) and the pprof-enabled build that the benchmark and the
// load test use (bench/profiled/weather) both call Main, so they cannot
// drift.
package server

import (
	"context"
	"log/slog"
	"os"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfunc/mcpfunc/servers/weather/tools"
	"github.com/mcpfunc/mcpfunc/shared/auth"
	"github.com/mcpfunc/mcpfunc/shared/hosting"
)

// Main runs weather as its command does: it builds the server from the
// process's environment and serves it with hosting.Start (under the
// Functions host, or on -port, default 7071) until SIGTERM or SIGINT, with
// extra after its own hosting options. A bad configuration is logged and
// exits with status 2.
func Main(extra ...hosting.Option) {
	logger := hosting.NewLogger()
	impl := &mcp.Implementation{Name: "weather", Title: "US weather (National Weather Service)", Version: hosting.Version()}
	s, err := New(context.Background(), impl, os.Getenv, logger)
	if err != nil {
		logger.Error("bad configuration", "err", err)
		os.Exit(2)
	}
	opts := append(s.Options, hosting.WithInfo(impl), hosting.WithLogger(logger), hosting.WithPort(7071))
	hosting.Start(s.MCP, append(opts, extra...)...)
}

// Server is the MCP server and the hosting options it needs.
type Server struct {
	MCP     *mcp.Server
	Options []hosting.Option
}

// New builds the server and its hosting options from the environment read
// with getenv, logging through logger.
func New(ctx context.Context, impl *mcp.Implementation, getenv func(string) string, logger *slog.Logger) (*Server, error) {
	s, err := tools.NewServerFromEnv(impl, getenv, logger)
	if err != nil {
		return nil, err
	}
	// The same MCP_AUTH as every server: Easy Auth plus token checks on
	// Azure, in-process Entra verification, or none for local development.
	p, err := auth.ProtectFromEnv(ctx, getenv, nil)
	if err != nil {
		return nil, err
	}
	p.LogNotice(ctx, logger)
	opts := []hosting.Option{hosting.WithMiddleware(p.Middleware)}
	if p.PRMHandler != nil {
		opts = append(opts, hosting.WithHandler(p.PRMPattern, p.PRMHandler))
	}
	return &Server{MCP: s, Options: opts}, nil
}
