// Package tools implements the weather MCP tools, get_alerts and
// get_forecast, on top of the National Weather Service API client in
// package nws.
package tools

import (
	"log/slog"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfunc/mcpfunc/servers/weather/nws"
	"github.com/mcpfunc/mcpfunc/shared/hosting"
)

// Defaults.
const (
	// DefaultMaxAlerts is the number of alerts get_alerts returns when
	// Config.MaxAlerts is zero.
	DefaultMaxAlerts = 20
	// callSlack is added to the NWS client's longest request duration to
	// bound each tool call.
	callSlack = 3 * time.Second
)

// Config configures the tools.
type Config struct {
	// NWS is the API client; required.
	NWS *nws.Client
	// MaxAlerts caps the alerts returned by get_alerts. Default: 20.
	MaxAlerts int
	// Logger receives one line per failed tool call. Default: discard.
	Logger *slog.Logger
}

// NewServer creates an MCP server for impl with the get_alerts and
// get_forecast tools registered. It panics if cfg.NWS is nil.
func NewServer(impl *mcp.Implementation, cfg Config) *mcp.Server {
	if cfg.NWS == nil {
		panic("tools: Config.NWS is nil")
	}
	if cfg.MaxAlerts <= 0 {
		cfg.MaxAlerts = DefaultMaxAlerts
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handlers{
		nws:       cfg.NWS,
		maxAlerts: cfg.MaxAlerts,
		log:       cfg.Logger,
		timeout:   cfg.NWS.MaxRequestDuration() + callSlack,
	}
	s := mcp.NewServer(impl, hosting.ServerOptions())
	openWorld := true
	mcp.AddTool(s, &mcp.Tool{
		Name:        "get_alerts",
		Title:       "Weather alerts",
		Description: "Get active weather alerts for a US state, territory or marine area (two-letter NWS area code, e.g. CA, ny, PR, GM).",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: &openWorld},
	}, h.getAlerts)
	mcp.AddTool(s, &mcp.Tool{
		Name:        "get_forecast",
		Title:       "Weather forecast",
		Description: "Get the weather forecast (next 5 periods) for a location in the US, by latitude and longitude.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: &openWorld},
	}, h.getForecast)
	return s
}

// NewServerFromEnv builds the weather tools' server from the environment
// (see [nws.ConfigFromEnv]), logging through logger. The command and the
// bench's builds reach it through package server (servers/weather/server),
// which adds authorization and the hosting options.
func NewServerFromEnv(impl *mcp.Implementation, getenv func(string) string, logger *slog.Logger) (*mcp.Server, error) {
	cfg, err := nws.ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	cfg.Logger = logger
	client, err := nws.New(cfg)
	if err != nil {
		return nil, err
	}
	return NewServer(impl, Config{NWS: client, Logger: logger}), nil
}
