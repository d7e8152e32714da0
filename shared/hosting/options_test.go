package hosting

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// listenClient connects at protocol 2026-07-28 with a tool-list handler, so
// the go-sdk client opens a subscriptions/listen stream exactly when the
// server advertises tools.listChanged.
func listenClient(t *testing.T, url string) *mcp.ClientSession {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "listen-client", Version: "1"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url + MCPPath}, &mcp.ClientSessionOptions{ProtocolVersion: "2026-07-28"})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// TestServerOptionsAdvertiseNoListChanged: a server made with
// ServerOptions advertises tools and logging but not tools.listChanged, so
// a 2026-07-28 client opens no subscriptions/listen stream. One made with
// the SDK's defaults does open one, and the server ends that stream after
// the listen limit (its request line is logged when it ends) while the
// client stays connected.
func TestServerOptionsAdvertiseNoListChanged(t *testing.T) {
	const limit = 200 * time.Millisecond
	tests := []struct {
		name       string
		opts       *mcp.ServerOptions
		wantListen bool
	}{
		{"hosting.ServerOptions", ServerOptions(), false},
		{"SDK defaults", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mcp.NewServer(&mcp.Implementation{Name: "caps", Version: "1"}, tt.opts)
			mcp.AddTool(s, &mcp.Tool{Name: "echo"}, func(ctx context.Context, req *mcp.CallToolRequest, in struct{}) (*mcp.CallToolResult, any, error) {
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "ok"}}}, nil, nil
			})
			st := startRun(t, s, withListenLimit(limit))
			cs := listenClient(t, st.url)
			caps := cs.InitializeResult().Capabilities
			if caps.Tools == nil || caps.Tools.ListChanged != tt.wantListen {
				t.Errorf("tools capability %+v, want present with listChanged %v", caps.Tools, tt.wantListen)
			}
			//lint:ignore SA1019 logging is deprecated as of protocol 2026-07-28 but still advertised for older clients; the test checks it is.
			if caps.Logging == nil {
				t.Error("logging capability missing")
			}
			if _, err := cs.ListTools(context.Background(), nil); err != nil {
				t.Fatalf("tools/list: %v", err)
			}
			// Wait for a listen stream to end: at most 10 s when one is
			// expected, 5× the limit when none is.
			wait := 10 * time.Second
			if !tt.wantListen {
				wait = 5 * limit
			}
			logged := func() bool { return strings.Contains(st.logs.String(), "mcp_method="+methodListen) }
			for deadline := time.Now().Add(wait); !logged() && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
			}
			if got := logged(); got != tt.wantListen {
				t.Errorf("a subscriptions/listen stream was opened and ended: %v, want %v\n%s", got, tt.wantListen, st.logs.String())
			}
			if _, err := cs.ListTools(context.Background(), nil); err != nil {
				t.Errorf("tools/list after the listen stream ended: %v", err)
			}
		})
	}
}

func ExampleServerOptions() {
	s := mcp.NewServer(&mcp.Implementation{Name: "example", Version: "1.0.0"}, ServerOptions())
	mcp.AddTool(s, &mcp.Tool{Name: "hello", Description: "Says hello."},
		func(ctx context.Context, req *mcp.CallToolRequest, in struct{}) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "hello"}}}, nil, nil
		})
	_ = s // hand it to Start or Run
	// Output:
}

// TestShutdownEndsListenStream: Run returns promptly when its context is
// cancelled while a client holds a subscriptions/listen stream open (a
// server built with the SDK's defaults, which advertise listChanged), long
// before the stream's own limit.
func TestShutdownEndsListenStream(t *testing.T) {
	s := mcp.NewServer(&mcp.Implementation{Name: "listen", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "echo"}, func(ctx context.Context, req *mcp.CallToolRequest, in struct{}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "ok"}}}, nil, nil
	})
	st := startRun(t, s, withListenLimit(time.Hour))
	cs := listenClient(t, st.url)
	if _, err := cs.ListTools(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	st.cancel()
	select {
	case err := <-st.done:
		st.done <- err // for startRun's cleanup
		if err != nil {
			t.Errorf("Run = %v, want nil after a clean shutdown", err)
		}
	case <-time.After(defaultShutdownTimeout + 5*time.Second):
		t.Fatal("Run did not return: the listen stream held shutdown")
	}
	if took := time.Since(start); took > defaultShutdownTimeout/2 {
		t.Errorf("shutdown took %s with a listen stream open, want well under the %s bound", took, defaultShutdownTimeout)
	}
	if !strings.Contains(st.logs.String(), "mcp_method="+methodListen) {
		t.Errorf("no subscriptions/listen request was served, so the test proved nothing:\n%s", st.logs.String())
	}
}
