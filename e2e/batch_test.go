//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// batchMsg is what a refused JSON-RPC batch's error says.
const batchMsg = "batches are not supported (removed in protocol 2025-06-18); send one message per request"

// forecastBatch is a batch of n get_forecast calls for n distinct points.
func forecastBatch(n int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"get_forecast","arguments":{"latitude":%.4f,"longitude":-97.0892}}}`, i+1, 30+float64(i)/100)
	}
	b.WriteByte(']')
	return b.String()
}

// TestBatchesRefusedUnderHost: the weather server, under the fake
// Functions host, answers a batch of 500 distinct get_forecast calls with
// one 400 JSON-RPC error and no upstream request, whatever the protocol
// header says, and logs the batch's size and tools. A client at protocol
// 2025-03-26, which allowed batches, still works one message at a time.
func TestBatchesRefusedUnderHost(t *testing.T) {
	nws := newFakeNWS(t)
	app := appDir(t, "weather")
	host := startUnderHost(t, app, "app", map[string]string{"NWS_API_BASE_URL": nws.URL, "MCP_AUTH": "none"}, yarpProxy)
	client := &http.Client{Timeout: 30 * time.Second}

	for _, protocol := range []string{"", "2025-03-26", "2025-06-18"} {
		t.Run("protocol "+protocol, func(t *testing.T) {
			before := nws.requests.Load()
			resp, err := client.Do(mcpPost(host.URL+"/mcp", strings.NewReader(forecastBatch(500)), protocol))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			rs, ok := replies(body)
			if resp.StatusCode != http.StatusBadRequest || !ok || len(rs) != 1 || rs[0].Error == nil ||
				rs[0].Error.Code != -32600 || rs[0].Error.Message != batchMsg || string(rs[0].ID) != "null" {
				t.Fatalf("batch of 500 = %d %.300q; want 400 with JSON-RPC error -32600 %q", resp.StatusCode, body, batchMsg)
			}
			if n := nws.requests.Load() - before; n != 0 {
				t.Errorf("a refused batch caused %d upstream requests", n)
			}
		})
	}

	// One message per request at 2025-03-26, as mcp-remote, @ai-sdk/mcp and
	// the LangChain adapters send, still works.
	cs := connectMCP(t, host.URL+"/mcp", "2025-03-26")
	if got := cs.InitializeResult().ProtocolVersion; got != "2025-03-26" {
		t.Errorf("negotiated protocol %q, want 2025-03-26", got)
	}
	if res, text := call(t, cs, "get_forecast", map[string]any{"latitude": 39.7456, "longitude": -97.0892}); res.IsError {
		t.Fatalf("get_forecast at 2025-03-26: %s", text)
	}

	// The request line names the batch.
	var refused int
	for _, l := range lines(host.Stdout.String()) {
		var rec map[string]any
		if json.Unmarshal([]byte(l), &rec) != nil || rec["msg"] != "request" || rec["rejected"] != "batch" {
			continue
		}
		refused++
		if rec["batch_size"] != float64(500) || rec["batch_tools"] != "get_forecast" || rec["status"] != float64(400) {
			t.Errorf("request line %s: want batch_size 500, batch_tools get_forecast, status 400", l)
		}
	}
	if refused != 3 {
		t.Errorf("%d request lines for refused batches, want 3:\n%s", refused, host.Stdout)
	}
	checkWorkerLogs(t, host)
}
