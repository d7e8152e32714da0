// Command userinfo (bench/profiled/userinfo) is servers/userinfo with
// net/http/pprof served at /debug/pprof/, on the same port as /mcp. It is
// built only by `go tool mage bench -profile=DIR`, to profile the server
// under load, and by the end-to-end load test (e2e/load_test.go), to count
// goroutines while the server runs. Never deploy it: pprof exposes the
// process's internals. Its wiring is servers/userinfo's own (server.New).
package main

import (
	"context"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"os"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfunc/mcpfunc/servers/userinfo/server"
	"github.com/mcpfunc/mcpfunc/shared/hosting"
)

func main() {
	logger := hosting.NewLogger()
	impl := &mcp.Implementation{Name: "userinfo", Title: "Signed-in user (Microsoft Graph)", Version: hosting.Version()}
	s, err := server.New(context.Background(), impl, os.Getenv, logger, nil)
	if err != nil {
		logger.Error("bad configuration", "err", err)
		os.Exit(2)
	}
	hosting.Start(s.MCP, append(s.Options, hosting.WithInfo(impl), hosting.WithLogger(logger), hosting.WithPort(7072),
		hosting.WithHandler("/debug/pprof/", http.DefaultServeMux))...)
}
