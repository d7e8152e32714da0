package hosting_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfunc/mcpfunc/shared/hosting"
)

// A server's main builds its *mcp.Server and hands it to Start, which
// serves it until SIGTERM and exits. Start is not run here: it never
// returns.
func ExampleStart() {
	impl := &mcp.Implementation{Name: "hello", Version: hosting.Version()}
	s := mcp.NewServer(impl, nil)
	hosting.Start(s, hosting.WithInfo(impl), hosting.WithPort(7071))
}

// Run serves until its context is done and returns; tests use it with a
// listener of their own.
func ExampleRun() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	impl := &mcp.Implementation{Name: "hello", Version: "v1"}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // stop at once; a real caller cancels on shutdown
	err = hosting.Run(ctx, mcp.NewServer(impl, nil), hosting.WithInfo(impl), hosting.WithListener(l),
		hosting.WithLogger(slog.New(slog.DiscardHandler)))
	fmt.Println("stopped:", err)
	// Output: stopped: <nil>
}
