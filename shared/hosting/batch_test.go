package hosting

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// callBatch is a JSON-RPC batch of n tools/call requests to tool, with
// distinct arguments.
func callBatch(n int, tool string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":{"text":"t%d"}}}`, i+1, tool, i)
	}
	b.WriteByte(']')
	return b.String()
}

// TestBatchesRefused: a JSON array body is refused with 400 and a
// JSON-RPC -32600 error whatever the protocol version, no tool runs, and
// the request line names the batch's size and tools. Single messages at
// 2025-03-26, the protocol that allowed batches, still work.
func TestBatchesRefused(t *testing.T) {
	var calls atomic.Int64
	s := mcp.NewServer(&mcp.Implementation{Name: "batch", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "count"}, func(ctx context.Context, req *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, echoOut, error) {
		calls.Add(1)
		return nil, echoOut{Echo: in.Text}, nil
	})
	st := startRun(t, s)

	mixed := `[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"count","arguments":{}}},` +
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_forecast","arguments":{}}},` +
		`{"jsonrpc":"2.0","id":3,"method":"ping"},` +
		`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"count","arguments":{}}}]`
	tests := []struct {
		name     string
		body     string
		protocol string
		wantLog  []string // in the request line
	}{
		{name: "500 tool calls, no protocol header", body: callBatch(500, "count"), wantLog: []string{"batch_size=500", "batch_tools=count"}},
		{name: "10 tool calls at 2025-03-26", body: callBatch(10, "count"), protocol: "2025-03-26", wantLog: []string{"batch_size=10", "batch_tools=count"}},
		{name: "one ping at 2024-11-05", body: `[` + pingBody + `]`, protocol: "2024-11-05", wantLog: []string{"batch_size=1"}},
		{name: "batch at 2025-11-25", body: `[` + pingBody + `]`, protocol: "2025-11-25", wantLog: []string{"batch_size=1"}},
		{name: "mixed, distinct tools in order", body: mixed, wantLog: []string{"batch_size=4", "batch_tools=count,get_forecast"}},
		{name: "leading whitespace", body: " \r\n\t" + callBatch(2, "count"), wantLog: []string{"batch_size=2"}},
		{name: "empty batch", body: `[]`, wantLog: []string{"batch_size=0"}},
		{name: "batch of garbage", body: `[1,2,3]`, wantLog: []string{"batch_size=3"}},
		{name: "unparsable batch", body: `[{"jsonrpc":`, wantLog: []string{"mcp_method=batch"}},
		{name: "many tool names, bounded", body: manyToolsBatch(40), wantLog: []string{"batch_size=40", "+32 more"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(st.logs.String())
			hdr := map[string]string{}
			if tt.protocol != "" {
				hdr["Mcp-Protocol-Version"] = tt.protocol
			}
			code, body := post(t, st.url+MCPPath, "", tt.body, hdr)
			if code != http.StatusBadRequest {
				t.Fatalf("status %d body %.300q; want 400", code, body)
			}
			var reply struct {
				JSONRPC string          `json:"jsonrpc"`
				ID      json.RawMessage `json:"id"`
				Error   *struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal([]byte(body), &reply); err != nil || reply.Error == nil {
				t.Fatalf("body %.300q is not a JSON-RPC error (%v)", body, err)
			}
			if reply.JSONRPC != "2.0" || string(reply.ID) != "null" || reply.Error.Code != -32600 ||
				!strings.Contains(reply.Error.Message, "batches are not supported (removed in protocol 2025-06-18); send one message per request") {
				t.Errorf("reply %s, want a -32600 error with id null saying batches are not supported", body)
			}
			line := ""
			for l := range strings.Lines(st.logs.String()[before:]) {
				if strings.Contains(l, "msg=request") {
					line = l
				}
			}
			for _, want := range append([]string{"status=400", "rejected=batch"}, tt.wantLog...) {
				if !strings.Contains(line, want) {
					t.Errorf("request line lacks %q: %s", want, line)
				}
			}
			if len(line) > 2048 {
				t.Errorf("request line of %d bytes; want it bounded", len(line))
			}
		})
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("the tool ran %d times for refused batches", n)
	}

	// One message per request at 2025-03-26 still works.
	code, body := post(t, st.url+MCPPath, "", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"count","arguments":{"text":"one"}}}`,
		map[string]string{"Mcp-Protocol-Version": "2025-03-26"})
	if code != http.StatusOK || !strings.Contains(body, `"echo":"one"`) {
		t.Fatalf("single tools/call at 2025-03-26 = %d %.300q", code, body)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("tool ran %d times, want 1", n)
	}
}

// manyToolsBatch is a batch of n calls, each to a different tool name.
func manyToolsBatch(n int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"tool_%d_%s","arguments":{}}}`, i+1, i, strings.Repeat("x", 200))
	}
	b.WriteByte(']')
	return b.String()
}
