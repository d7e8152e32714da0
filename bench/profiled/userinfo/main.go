// Command userinfo (bench/profiled/userinfo) is servers/userinfo with
// net/http/pprof served at /debug/pprof/, on the same port as /mcp. It is
// built only by `go tool mage bench -profile=DIR`, to profile the server
// under load, and by the end-to-end load test (e2e/load_test.go), to count
// goroutines while the server runs. Never deploy it: pprof exposes the
// process's internals. It is servers/userinfo's own main (server.Main)
// with one more route.
package main

import (
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux

	"github.com/mcpfunc/mcpfunc/servers/userinfo/server"
	"github.com/mcpfunc/mcpfunc/shared/hosting"
)

func main() { server.Main(hosting.WithHandler("/debug/pprof/", http.DefaultServeMux)) }
