// Command profiled is servers/weather with net/http/pprof served at
// /debug/pprof/, built only by `go tool mage bench -profile=DIR` to profile
// the server under load. Never deploy it: pprof exposes the process's
// internals.
package main

import (
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"os"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfunc/mcpfunc/servers/weather/nws"
	"github.com/mcpfunc/mcpfunc/servers/weather/tools"
	"github.com/mcpfunc/mcpfunc/shared/hosting"
)

func main() {
	logger := hosting.NewLogger()
	impl := &mcp.Implementation{Name: "weather", Title: "US weather (National Weather Service)", Version: hosting.Version()}
	cfg, err := tools.ConfigFromEnv(os.Getenv)
	if err != nil {
		logger.Error("bad configuration", "err", err)
		os.Exit(2)
	}
	cfg.Logger = logger
	client, err := nws.New(cfg)
	if err != nil {
		logger.Error("bad configuration", "err", err)
		os.Exit(2)
	}
	s := tools.NewServer(impl, tools.Config{NWS: client, Logger: logger})
	hosting.Start(s, hosting.WithInfo(impl), hosting.WithLogger(logger), hosting.WithPort(7071),
		hosting.WithHandler("/debug/pprof/", http.DefaultServeMux))
}
