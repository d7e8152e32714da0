package hosting

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// fuzzMaxBody is the body limit of the fuzzed handler: small, so that the
// fuzzer reaches the 413 path without building megabytes.
const fuzzMaxBody = 4096

// fuzzBound is how long one request may take. Every request here is local
// and the one tool answers at once, so anything near the bound is a hang.
const fuzzBound = 5 * time.Second

// errorCounter is a slog handler that discards records but counts those at
// Error level: the hosting layer logs a panic, and nothing else, as an error.
type errorCounter struct {
	errors atomic.Int64
	last   atomic.Value // string
}

func (h *errorCounter) Enabled(context.Context, slog.Level) bool { return true }

func (h *errorCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		h.errors.Add(1)
		h.last.Store(r.Message)
	}
	return nil
}

func (h *errorCounter) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *errorCounter) WithGroup(string) slog.Handler      { return h }

// fuzzHandler builds the real HTTP handler (logging, panic recovery, body
// limit, the SDK's streamable handler) around a server with one tool.
func fuzzHandler(tb testing.TB) (http.Handler, *errorCounter) {
	tb.Helper()
	s := mcp.NewServer(&mcp.Implementation{Name: "fuzz", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "echo"}, func(ctx context.Context, req *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, echoOut, error) {
		return nil, echoOut{Echo: in.Text}, nil
	})
	counter := &errorCounter{}
	cfg := newConfig([]Option{WithLogger(slog.New(counter)), withGetenv(env(nil)), WithMaxRequestBytes(fuzzMaxBody)})
	h, err := newHandler(s, cfg, make(chan struct{}))
	if err != nil {
		tb.Fatal(err)
	}
	return h, counter
}

// validHeaderValue reports whether v could travel in an HTTP/1.1 header
// field (no control characters other than tab); a real client could not
// send anything else, and net/http would reject it before the handler.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// newMeta is the per-request _meta of a 2026-07-28 client.
const newMeta = `{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"c","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}`

// FuzzHTTPEntry posts arbitrary bytes to /mcp through the whole handler,
// with an arbitrary MCP-Protocol-Version header. Invariants: never a 5xx,
// never a panic (recovered or not), an answer within fuzzBound, and a 200
// application/json answer is valid JSON.
func FuzzHTTPEntry(f *testing.F) {
	for _, seed := range []struct {
		body, version string
		mcpHeaders    bool
	}{
		{`{"jsonrpc":"2.0","id":1,"method":"ping"}`, "", false},
		{`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`, "", false},
		{`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`, "2025-11-25", false},
		{`{"jsonrpc":"2.0","id":3,"method":"tools/list"}`, "2025-06-18", false},
		{`[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"}]`, "", false},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"},"_meta":` + newMeta + `}}`, "2026-07-28", true},
		{`{"jsonrpc":"2.0","id":1,"method":"subscriptions/listen","params":{"notifications":{"toolsListChanged":true},"_meta":` + newMeta + `}}`, "2026-07-28", true},
		{`{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta":` + newMeta + `}}`, "2026-07-28", true},
		{`{"jsonrpc":"2.0","id":1,"method":"nope"}`, "", false},
		{`{"jsonrpc":"2.0","id":1,"result":{}}`, "", false},
		{`{"jsonrpc":`, "", false},
		{`[]`, "", false},
		{strings.Repeat("[", 2000) + strings.Repeat("]", 2000), "", false},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"` + strings.Repeat("a", fuzzMaxBody) + `"}}}`, "", false},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"text\":\"\\ud800\x00\xc0\xaf\u202e\"}}}", "", false},
		{`{"jsonrpc":"2.0","id":1,"method":"ping"}`, "1999-01-01", false},
	} {
		f.Add([]byte(seed.body), seed.version, seed.mcpHeaders)
	}
	h, counter := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, body []byte, version string, mcpHeaders bool) {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:7071"+MCPPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if version != "" && validHeaderValue(version) {
			req.Header.Set("MCP-Protocol-Version", version)
		}
		if mcpHeaders {
			// Like a 2026-07-28 client: name the method and tool in headers.
			var m rpcSummary
			if json.Unmarshal(body, &m) == nil {
				if validHeaderValue(m.Method) {
					req.Header.Set(headerMCPMethod, m.Method)
				}
				if m.Params.Name != "" && validHeaderValue(m.Params.Name) {
					req.Header.Set(headerMCPName, m.Params.Name)
				}
			}
		}
		ctx, cancel := context.WithCancel(req.Context())
		defer cancel()
		req = req.WithContext(ctx)
		rec := newStreamRecorder()
		done := make(chan any, 1)
		go func() {
			defer func() { done <- recover() }()
			h.ServeHTTP(rec, req)
		}()
		timer := time.NewTimer(fuzzBound)
		defer timer.Stop()
		streamed := false
		select {
		case p := <-done:
			if p != nil {
				t.Fatalf("panic: %v", p)
			}
		case <-rec.streaming:
			// A subscriptions/listen request opens an SSE stream that
			// lasts until the client goes away: go away, and the handler
			// must return.
			streamed = true
			cancel()
			select {
			case p := <-done:
				if p != nil {
					t.Fatalf("panic: %v", p)
				}
			case <-timer.C:
				t.Fatalf("an event stream did not end within %s of the client leaving", fuzzBound)
			}
		case <-timer.C:
			cancel()
			<-done
			code, _, b := rec.result()
			t.Fatalf("no answer within %s (status so far %d, body %.200q)", fuzzBound, code, b)
		}
		code, ctype, b := rec.result()
		if code >= 500 {
			t.Fatalf("status %d: %q", code, b)
		}
		if n := counter.errors.Swap(0); n != 0 {
			t.Fatalf("%d error log lines, last %q", n, counter.last.Load())
		}
		if !streamed && code == http.StatusOK && strings.HasPrefix(ctype, "application/json") && !json.Valid(b) {
			t.Fatalf("200 with invalid JSON body %q", b)
		}
	})
}

// streamRecorder is a ResponseWriter safe to read while the handler runs.
// It signals streaming once an event-stream response has been flushed or
// written to.
type streamRecorder struct {
	header    http.Header
	streaming chan struct{}

	mu     sync.Mutex
	code   int
	ctype  string
	body   bytes.Buffer
	signal sync.Once
}

func newStreamRecorder() *streamRecorder {
	return &streamRecorder{header: http.Header{}, streaming: make(chan struct{})}
}

func (r *streamRecorder) Header() http.Header { return r.header }

func (r *streamRecorder) WriteHeader(code int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writeHeaderLocked(code)
}

func (r *streamRecorder) writeHeaderLocked(code int) {
	if r.code != 0 {
		return
	}
	r.code = code
	r.ctype = r.header.Get("Content-Type")
}

func (r *streamRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.writeHeaderLocked(http.StatusOK)
	n, _ := r.body.Write(p)
	r.mu.Unlock()
	r.maybeStreaming()
	return n, nil
}

func (r *streamRecorder) Flush() {
	r.mu.Lock()
	r.writeHeaderLocked(http.StatusOK)
	r.mu.Unlock()
	r.maybeStreaming()
}

func (r *streamRecorder) maybeStreaming() {
	r.mu.Lock()
	sse := strings.HasPrefix(r.ctype, "text/event-stream")
	r.mu.Unlock()
	if sse {
		r.signal.Do(func() { close(r.streaming) })
	}
}

func (r *streamRecorder) result() (code int, ctype string, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	code = r.code
	if code == 0 {
		code = http.StatusOK
	}
	return code, r.ctype, bytes.Clone(r.body.Bytes())
}
