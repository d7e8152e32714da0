// Package server builds the userinfo MCP server from its environment: the
// authorization mode (MCP_AUTH), On-Behalf-Of, the Graph service
// (GRAPH_BASE_URL, GRAPH_TIMEOUT), the get_user_info tool and the
// /authcomplete page. The command (servers/userinfo) and the pprof-enabled
// build that the benchmark and the load test use (bench/profiled/userinfo)
// both call Main, so they cannot drift.
package server

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfunc/mcpfunc/servers/userinfo/graph"
	"github.com/mcpfunc/mcpfunc/servers/userinfo/tools"
	"github.com/mcpfunc/mcpfunc/shared/auth"
	"github.com/mcpfunc/mcpfunc/shared/auth/obo"
	"github.com/mcpfunc/mcpfunc/shared/hosting"
)

// authComplete is the page Easy Auth's consent flow returns to
// (post_login_redirect_uri=/authcomplete). It is embedded because azd's Go
// packaging deploys only the binary and host.json.
//
//go:embed authcomplete.html
var authComplete []byte

// Main runs userinfo as its command does: it builds the server from the
// process's environment and serves it with hosting.Start (under the
// Functions host, or on -port, default 7072) until SIGTERM or SIGINT, with
// extra after its own hosting options. A bad configuration is logged and
// exits with status 2.
func Main(extra ...hosting.Option) {
	logger := hosting.NewLogger()
	impl := &mcp.Implementation{Name: "userinfo", Title: "Signed-in user (Microsoft Graph)", Version: hosting.Version()}
	s, err := New(context.Background(), impl, os.Getenv, logger, nil)
	if err != nil {
		logger.Error("bad configuration", "err", err)
		os.Exit(2)
	}
	opts := append(s.Options, hosting.WithInfo(impl), hosting.WithLogger(logger), hosting.WithPort(7072))
	hosting.Start(s.MCP, append(opts, extra...)...)
}

// Server is the MCP server and the hosting options it needs.
type Server struct {
	MCP     *mcp.Server
	Options []hosting.Option
}

// New builds the server and its hosting options from the environment.
// hc sends the requests to Entra, the managed identity endpoint and Graph;
// nil means a client with a connection pool sized for concurrent calls
// (tests pass one that trusts their TLS fakes).
func New(ctx context.Context, impl *mcp.Implementation, getenv func(string) string, logger *slog.Logger, hc *http.Client) (*Server, error) {
	if hc == nil {
		// Entra, the managed identity endpoint and Graph are each one host
		// that every call goes to; Go's default keeps 2 idle connections
		// per host, so a busy server would open a new TLS connection for
		// about every other call.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 128
		t.MaxIdleConnsPerHost = 64
		t.IdleConnTimeout = 90 * time.Second
		hc = &http.Client{Transport: t}
	}
	// The token verifier (easyauth and entra modes) shares the client: its
	// discovery and key set requests go to Entra too.
	protection, err := auth.ProtectFromEnv(ctx, getenv, hc)
	if err != nil {
		return nil, err
	}
	protection.LogNotice(ctx, logger)

	cfg := tools.Config{Logger: logger}
	oboCfg, err := obo.ConfigFromEnv(getenv)
	var notConfigured *obo.NotConfiguredError
	switch {
	case errors.As(err, &notConfigured):
		cfg.NotConfigured = notConfigured.Help()
		logger.Warn("get_user_info will not work until On-Behalf-Of is configured", "missing", strings.Join(notConfigured.Missing, ","))
		for _, line := range strings.Split(strings.TrimSpace(cfg.NotConfigured), "\n") {
			logger.Info("  " + line)
		}
	case err != nil:
		return nil, err
	default:
		x, err := obo.New(oboCfg, &obo.Options{HTTPClient: hc})
		if err != nil {
			return nil, fmt.Errorf("on-behalf-of: %w", err)
		}
		cfg.OBO = x
		logger.Info("on-behalf-of configured", "mode", string(oboCfg.Mode), "tenant", oboCfg.TenantID, "client_id", oboCfg.ClientID)
	}

	graphCfg, err := graph.ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	graphCfg.HTTPClient = hc
	svc, err := graph.NewService(graphCfg)
	if err != nil {
		return nil, fmt.Errorf("GRAPH_BASE_URL: %w", err)
	}
	cfg.Graph = svc

	opts := []hosting.Option{
		hosting.WithMiddleware(protection.Middleware),
		hosting.WithHandler("GET /authcomplete", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.Write(authComplete)
		})),
	}
	if protection.PRMHandler != nil {
		opts = append(opts, hosting.WithHandler(protection.PRMPattern, protection.PRMHandler))
	}
	return &Server{MCP: tools.NewServer(impl, cfg), Options: opts}, nil
}
