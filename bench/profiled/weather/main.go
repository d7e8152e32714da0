// Command weather (bench/profiled/weather) is servers/weather with
// net/http/pprof served at /debug/pprof/, on the same port as /mcp. It is
// built only by `go tool mage bench -profile=DIR`, to profile the server
// under load, and by the end-to-end load test (e2e/load_test.go), to count
// goroutines while the server runs. Its wiring is servers/weather's own
// (server.Main, authorization included). Never deploy it: pprof exposes
// the process's internals.
package main

import (
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux

	"github.com/mcpfunc/mcpfunc/servers/weather/server"
	"github.com/mcpfunc/mcpfunc/shared/hosting"
)

func main() { server.Main(hosting.WithHandler("/debug/pprof/", http.DefaultServeMux)) }
