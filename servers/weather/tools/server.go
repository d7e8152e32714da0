// Package tools implements the weather MCP tools, get_alerts and
// get_forecast, on top of the National Weather Service API client in
// package nws.
package tools

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
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
	// DefaultCacheEntries is the NWS response cache size used by
	// ConfigFromEnv when NWS_CACHE_ENTRIES is unset.
	DefaultCacheEntries = 512
	// callSlack is added to the NWS client's longest request duration to
	// bound each tool call.
	callSlack = 3 * time.Second
)

// Limits on environment values, to catch typos such as a missing unit.
const (
	maxCacheEntries = 1_000_000
	maxTimeout      = 5 * time.Minute
	maxUserAgentLen = 256
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

// ConfigFromEnv builds the NWS client configuration from environment
// variables read with getenv (typically os.Getenv):
//
//   - NWS_API_BASE_URL: API root, an absolute http(s) URL; default https://api.weather.gov
//   - NWS_USER_AGENT: User-Agent override; default nws.DefaultUserAgent
//   - NWS_CACHE_ENTRIES: response cache size, 0 disables it; default 512
//   - NWS_TIMEOUT: per-attempt timeout, a Go duration such as 8s; default 8s
//
// Errors name the variable and its bad value.
func ConfigFromEnv(getenv func(string) string) (nws.Config, error) {
	cfg := nws.Config{
		BaseURL:        nws.DefaultBaseURL,
		UserAgent:      nws.DefaultUserAgent,
		CacheEntries:   DefaultCacheEntries,
		RequestTimeout: nws.DefaultRequestTimeout,
	}
	var errs []error
	if v := strings.TrimSpace(getenv("NWS_API_BASE_URL")); v != "" {
		if _, err := nws.ParseBaseURL(v); err != nil {
			errs = append(errs, fmt.Errorf("NWS_API_BASE_URL: %w", err))
		} else {
			cfg.BaseURL = v
		}
	}
	if v := strings.TrimSpace(getenv("NWS_USER_AGENT")); v != "" {
		if err := checkUserAgent(v); err != nil {
			errs = append(errs, fmt.Errorf("NWS_USER_AGENT %q: %w", v, err))
		} else {
			cfg.UserAgent = v
		}
	}
	if v := strings.TrimSpace(getenv("NWS_CACHE_ENTRIES")); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("NWS_CACHE_ENTRIES %q: not an integer", v))
		case n < 0 || n > maxCacheEntries:
			errs = append(errs, fmt.Errorf("NWS_CACHE_ENTRIES %q: must be between 0 (cache off) and %d", v, maxCacheEntries))
		default:
			cfg.CacheEntries = n
		}
	}
	if v := strings.TrimSpace(getenv("NWS_TIMEOUT")); v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("NWS_TIMEOUT %q: not a Go duration such as 8s or 1500ms", v))
		case d <= 0 || d > maxTimeout:
			errs = append(errs, fmt.Errorf("NWS_TIMEOUT %q: must be positive and at most %s", v, maxTimeout))
		default:
			cfg.RequestTimeout = d
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nws.Config{}, err
	}
	return cfg, nil
}

// checkUserAgent accepts printable ASCII of a sensible length.
func checkUserAgent(v string) error {
	if len(v) > maxUserAgentLen {
		return fmt.Errorf("longer than %d bytes", maxUserAgentLen)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return errors.New("must be printable ASCII")
		}
	}
	return nil
}

// NewServerFromEnv builds the weather server from the environment (see
// ConfigFromEnv), logging through logger. The command's main and the
// bench's builds of the same server all call it.
func NewServerFromEnv(impl *mcp.Implementation, getenv func(string) string, logger *slog.Logger) (*mcp.Server, error) {
	cfg, err := ConfigFromEnv(getenv)
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
