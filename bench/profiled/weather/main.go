// Command weather (bench/profiled/weather) is servers/weather with
// net/http/pprof served at /debug/pprof/, on the same port as /mcp. It is
// built only by `go tool mage bench -profile=DIR`, to profile the server
// under load, and by the end-to-end load test (e2e/load_test.go), to count
// goroutines while the server runs. Its wiring is servers/weather's own
// (tools.NewServerFromEnv). Never deploy it: pprof exposes the process's
// internals.
package main

import (
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"os"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfunc/mcpfunc/servers/weather/tools"
	"github.com/mcpfunc/mcpfunc/shared/hosting"
)

func main() {
	logger := hosting.NewLogger()
	impl := &mcp.Implementation{Name: "weather", Title: "US weather (National Weather Service)", Version: hosting.Version()}
	s, err := tools.NewServerFromEnv(impl, os.Getenv, logger)
	if err != nil {
		logger.Error("bad configuration", "err", err)
		os.Exit(2)
	}
	hosting.Start(s, hosting.WithInfo(impl), hosting.WithLogger(logger), hosting.WithPort(7071),
		hosting.WithHandler("/debug/pprof/", http.DefaultServeMux))
}
