// Command userinfo is an MCP server with one tool, get_user_info, that
// returns the signed-in user's Microsoft Graph profile. It exchanges the
// caller's token for a Graph token with the On-Behalf-Of flow (shared/auth)
// and runs as an Azure Functions custom handler (shared/hosting):
//
//	go run . -port 7072
//
// Settings: MCP_AUTH and the On-Behalf-Of variables (see shared/auth),
// GRAPH_BASE_URL (default https://graph.microsoft.com/v1.0), GRAPH_TIMEOUT
// (default 10s), plus those of shared/hosting.
package main

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
	"github.com/mcpfunc/mcpfunc/shared/hosting"
)

// authComplete is the page Easy Auth's consent flow returns to
// (post_login_redirect_uri=/authcomplete). It is embedded because azd's Go
// packaging deploys only the binary and host.json.
//
//go:embed authcomplete.html
var authComplete []byte

func main() {
	logger := hosting.NewLogger()
	impl := &mcp.Implementation{Name: "userinfo", Title: "Signed-in user (Microsoft Graph)", Version: hosting.Version()}
	opts, err := setup(context.Background(), impl, os.Getenv, logger, nil)
	if err != nil {
		logger.Error("bad configuration", "err", err)
		os.Exit(2)
	}
	hosting.Start(opts.server, append(opts.hosting, hosting.WithInfo(impl), hosting.WithLogger(logger), hosting.WithPort(7072))...)
}

type serverSetup struct {
	server  *mcp.Server
	hosting []hosting.Option
}

// setup builds the server and its hosting options from the environment.
// hc sends the requests to Entra, the managed identity endpoint and Graph;
// nil means a client with a connection pool sized for concurrent calls
// (tests pass one that trusts their TLS fakes).
func setup(ctx context.Context, impl *mcp.Implementation, getenv func(string) string, logger *slog.Logger, hc *http.Client) (*serverSetup, error) {
	ac, err := auth.AuthModeFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	protection, err := auth.Protect(ctx, ac)
	if err != nil {
		return nil, err
	}
	if ac.Mode == auth.ModeNone {
		logger.Warn("MCP_AUTH=none: /mcp accepts unauthenticated requests; use only for local development")
	}

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
	cfg := tools.Config{Logger: logger}
	oboCfg, err := auth.OBOConfigFromEnv(getenv)
	var notConfigured *auth.NotConfiguredError
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
		obo, err := auth.NewOBO(oboCfg, &auth.OBOOptions{HTTPClient: hc})
		if err != nil {
			return nil, fmt.Errorf("on-behalf-of: %w", err)
		}
		cfg.OBO = obo
		logger.Info("on-behalf-of configured", "mode", string(oboCfg.Mode), "tenant", oboCfg.TenantID, "client_id", oboCfg.ClientID)
	}

	graphCfg := graph.Config{BaseURL: strings.TrimSpace(getenv("GRAPH_BASE_URL")), HTTPClient: hc}
	if v := strings.TrimSpace(getenv("GRAPH_TIMEOUT")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > 2*time.Minute {
			return nil, fmt.Errorf("GRAPH_TIMEOUT=%q: want a duration such as 10s, at most 2m", v)
		}
		graphCfg.Timeout = d
	}
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
	return &serverSetup{server: tools.NewServer(impl, cfg), hosting: opts}, nil
}
