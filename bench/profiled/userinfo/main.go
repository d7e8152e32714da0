// Command userinfo (bench/profiled/userinfo) is servers/userinfo with
// net/http/pprof served at /debug/pprof/, on the same port as /mcp. It is
// built only by `go tool mage bench -profile=DIR`, to profile the server
// under load, and by the end-to-end load test (e2e/load_test.go), to count
// goroutines while the server runs. Never deploy it: pprof exposes the
// process's internals.
//
// servers/userinfo's wiring (its setup function) is in package main and
// cannot be imported, so it is repeated here and must stay the same: auth
// mode and protection middleware, On-Behalf-Of from the environment, the
// Graph service with GRAPH_BASE_URL and GRAPH_TIMEOUT, the tool, and the
// hosting options. Only the /authcomplete page (an embedded file of
// servers/userinfo, never called under load) is left out.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"os"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfunc/mcpfunc/servers/userinfo/graph"
	"github.com/mcpfunc/mcpfunc/servers/userinfo/tools"
	"github.com/mcpfunc/mcpfunc/shared/auth"
	"github.com/mcpfunc/mcpfunc/shared/hosting"
)

func main() {
	logger := hosting.NewLogger()
	impl := &mcp.Implementation{Name: "userinfo", Title: "Signed-in user (Microsoft Graph)", Version: hosting.Version()}
	s, opts, err := setup(context.Background(), os.Getenv, logger, impl)
	if err != nil {
		logger.Error("bad configuration", "err", err)
		os.Exit(2)
	}
	opts = append(opts, hosting.WithInfo(impl), hosting.WithLogger(logger), hosting.WithPort(7072),
		hosting.WithHandler("/debug/pprof/", http.DefaultServeMux))
	hosting.Start(s, opts...)
}

// setup is servers/userinfo's setup, without /authcomplete.
func setup(ctx context.Context, getenv func(string) string, logger *slog.Logger, impl *mcp.Implementation) (*mcp.Server, []hosting.Option, error) {
	ac, err := auth.AuthModeFromEnv(getenv)
	if err != nil {
		return nil, nil, err
	}
	protection, err := auth.Protect(ctx, ac)
	if err != nil {
		return nil, nil, err
	}
	if ac.Mode == auth.ModeNone {
		logger.Warn("MCP_AUTH=none: /mcp accepts unauthenticated requests; use only for local development")
	}

	cfg := tools.Config{Logger: logger}
	oboCfg, err := auth.OBOConfigFromEnv(getenv)
	var notConfigured *auth.NotConfiguredError
	switch {
	case errors.As(err, &notConfigured):
		cfg.NotConfigured = notConfigured.Help()
		logger.Warn("get_user_info will not work until On-Behalf-Of is configured", "missing", strings.Join(notConfigured.Missing, ","))
	case err != nil:
		return nil, nil, err
	default:
		obo, err := auth.NewOBO(oboCfg, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("on-behalf-of: %w", err)
		}
		cfg.OBO = obo
		logger.Info("on-behalf-of configured", "mode", string(oboCfg.Mode), "tenant", oboCfg.TenantID, "client_id", oboCfg.ClientID)
	}

	graphCfg := graph.Config{BaseURL: strings.TrimSpace(getenv("GRAPH_BASE_URL"))}
	if v := strings.TrimSpace(getenv("GRAPH_TIMEOUT")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > 2*time.Minute {
			return nil, nil, fmt.Errorf("GRAPH_TIMEOUT=%q: want a duration such as 10s, at most 2m", v)
		}
		graphCfg.Timeout = d
	}
	svc, err := graph.NewService(graphCfg)
	if err != nil {
		return nil, nil, fmt.Errorf("GRAPH_BASE_URL: %w", err)
	}
	cfg.Graph = svc

	opts := []hosting.Option{hosting.WithMiddleware(protection.Middleware)}
	if protection.PRMHandler != nil {
		opts = append(opts, hosting.WithHandler(protection.PRMPattern, protection.PRMHandler))
	}
	return tools.NewServer(impl, cfg), opts, nil
}
