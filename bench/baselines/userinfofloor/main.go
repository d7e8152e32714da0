// Command userinfofloor is the userinfo server's tool served the go-sdk's
// own way, with nothing of shared/hosting: the same get_user_info
// (servers/userinfo/tools) with the same On-Behalf-Of exchange
// (shared/auth/obo) and Graph client (servers/userinfo/graph), behind the
// SDK's stateless streamable HTTP handler on http.ListenAndServe. It is the
// floor the bench (go tool mage bench) compares servers/userinfo against.
//
// It has no token or Easy Auth principal check (shared/auth) either: that
// is this repository's code, part of what the comparison measures. It
// reads the same settings as userinfo: FUNCTIONS_CUSTOMHANDLER_PORT
// (default 8080), the On-Behalf-Of variables of shared/auth/obo (it
// refuses to start without them), GRAPH_BASE_URL, and LOG_LEVEL for the
// tool's own lines (JSON on stderr).
//
// It imports the Microsoft Graph SDK, so it is a main package of its own,
// without tests, that the bench builds with go build; the bench program and
// its tests do not import Graph. (go test still compiles this package, but
// `go test -race work` compiles the Graph packages once for it and for
// servers/userinfo's tests.)
package main

import (
	"os"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfunc/mcpfunc/bench/baselines/floor"
	"github.com/mcpfunc/mcpfunc/servers/userinfo/graph"
	"github.com/mcpfunc/mcpfunc/servers/userinfo/tools"
	"github.com/mcpfunc/mcpfunc/shared/auth/obo"
)

func main() {
	logger := floor.Logger()
	fail := func(msg string, err error) {
		logger.Error(msg, "err", err)
		os.Exit(2)
	}

	oboCfg, err := obo.ConfigFromEnv(os.Getenv)
	if err != nil {
		fail("on-behalf-of is not configured", err)
	}
	x, err := obo.New(oboCfg, nil)
	if err != nil {
		fail("on-behalf-of", err)
	}
	svc, err := graph.NewService(graph.Config{BaseURL: strings.TrimSpace(os.Getenv("GRAPH_BASE_URL"))})
	if err != nil {
		fail("GRAPH_BASE_URL", err)
	}
	s := tools.NewServer(&mcp.Implementation{Name: "userinfo", Version: "userinfofloor"}, tools.Config{OBO: x, Graph: svc, Logger: logger})
	floor.Serve(logger, s)
}
