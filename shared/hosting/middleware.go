package hosting

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Headers the Functions host adds when it proxies a request.
const (
	headerInvocationID      = "X-Azure-Functions-InvocationId"
	headerProxyInvocationID = "X-Ms-Invocation-Id"
	// Protocol 2026-07-28 clients name the method and tool in headers.
	headerMCPMethod = "Mcp-Method"
	headerMCPName   = "Mcp-Name"
)

// statusWriter records the status code and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// Flush keeps streaming (SSE) responses working through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		if w.status == 0 {
			w.status = http.StatusOK
		}
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// rpcSummary is what the request log needs from a JSON-RPC body.
type rpcSummary struct {
	Method string `json:"method"`
	Params struct {
		Name string `json:"name"`
		URI  string `json:"uri"`
	} `json:"params"`
}

// peekRPC reads the request body (bounded by limitBody), puts it back
// for the next handler, and summarizes it for the request log: the
// JSON-RPC method and tool name, or, for a JSON array, the batch.
//
// The method and tool always come from the body, which is what the SDK
// serves. Protocol 2026-07-28 clients repeat them in the Mcp-Method and
// Mcp-Name headers, but the SDK checks those against the body only at that
// protocol version; at older ones a client could name any method in them.
// So the headers are only compared with the body, and a disagreement is
// flagged.
func peekRPC(r *http.Request) reqInfo {
	var info reqInfo
	if r.Method != http.MethodPost || r.Body == nil || r.Body == http.NoBody {
		return info
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	// Hand the bytes read so far, and any read error (such as
	// *http.MaxBytesError), on to the MCP handler, which answers for them.
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
	if err != nil {
		return info
	}
	if isBatch(body) {
		info.method, info.batch = "batch", summarizeBatch(body)
		return info
	}
	var s rpcSummary
	if json.Unmarshal(body, &s) == nil {
		info.method, info.tool = clip(s.Method, maxLogValue), clip(s.Params.Name, maxLogValue)
	}
	if m := r.Header.Get(headerMCPMethod); m != "" && m != s.Method {
		info.headersMismatch = true
	}
	if n := r.Header.Get(headerMCPName); n != "" && n != s.Params.Name && n != s.Params.URI {
		info.headersMismatch = true
	}
	return info
}

// invocationID returns the Functions invocation id of r, bounded, and
// where it came from: "functions_host" for X-Azure-Functions-InvocationId
// in a process the Functions host started (the host overwrites that
// header on every request it proxies), "client" otherwise. Without the
// host, or in x-ms-invocation-id alone, the id is whatever the sender of
// the request chose.
func invocationID(r *http.Request, underHost bool) (id, source string) {
	if id = r.Header.Get(headerInvocationID); id != "" {
		if underHost {
			return clip(id, maxLogValue), "functions_host"
		}
		return clip(id, maxLogValue), "client"
	}
	if id = r.Header.Get(headerProxyInvocationID); id != "" {
		return clip(id, maxLogValue), "client"
	}
	return "", ""
}

// errReader returns err, or io.EOF when err is nil.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	return 0, io.EOF
}

// serveLogged bounds the request body, serves the request, and logs one
// line for it. The body limit comes first, so that reading the body for the
// log line is bounded too. Headers are never logged, so tokens and
// Authorization values stay out of the logs. A subscriptions/listen stream,
// which a client keeps open for its whole session, is ended after
// listenLimit, well before the Functions host's 230 s response limit, and
// when stopping is closed (shutdown has begun), so that it can hold
// neither an instance nor shutdown. underHost says whether the Functions
// host started this process, which decides whether an invocation id is
// the host's.
func serveLogged(logger *slog.Logger, maxBytes int64, listenLimit time.Duration, underHost bool, stopping <-chan struct{}, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		if limitBody(sw, r, maxBytes) {
			info := &reqInfo{}
			// Read even when the request line is off: refuseBatches needs
			// to know whether the body is a batch.
			if r.URL.Path == MCPPath {
				*info = peekRPC(r)
			}
			r = withReqInfo(r, info)
			if r.Header.Get(headerMCPMethod) == methodListen || info.method == methodListen {
				ctx, cancel := context.WithTimeout(r.Context(), listenLimit)
				defer cancel()
				go func() {
					select {
					case <-stopping:
						cancel()
					case <-ctx.Done():
					}
				}()
				r = r.WithContext(ctx)
			}
			next.ServeHTTP(sw, r)
			logRequest(logger, r, sw, start, underHost, info)
			return
		}
		logRequest(logger, r, sw, start, underHost, &reqInfo{})
	})
}

// How much of an oversized request body is read and dropped after the 413,
// so that the client can read the answer.
const (
	drainBytes = 8 << 20
	drainTime  = 2 * time.Second
)

// methodListen is the long-lived stream of protocol 2026-07-28 clients that
// subscribe to list changes.
const methodListen = "subscriptions/listen"

// defaultListenLimit bounds a subscriptions/listen stream: well under the
// 230 s after which Azure ends an HTTP response, so the stream ends
// cleanly rather than being cut.
const defaultListenLimit = 120 * time.Second

// logRequest writes the request line.
func logRequest(logger *slog.Logger, r *http.Request, sw *statusWriter, start time.Time, underHost bool, info *reqInfo) {
	if sw.status == 0 {
		sw.status = http.StatusOK
	}

	level := slog.LevelInfo
	switch {
	case sw.status >= 500:
		level = slog.LevelError
	case r.URL.Path == "/" && r.Method == http.MethodGet:
		level = slog.LevelDebug // the host's readiness ping
	}
	if !logger.Enabled(r.Context(), level) {
		return
	}
	attrs := make([]slog.Attr, 0, 12)
	attrs = append(attrs,
		slog.String("http_method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", sw.status),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		slog.Int64("bytes", sw.bytes))
	if info.method != "" {
		attrs = append(attrs, slog.String("mcp_method", info.method))
	}
	if info.tool != "" {
		attrs = append(attrs, slog.String("tool", info.tool))
	}
	if info.headersMismatch {
		attrs = append(attrs, slog.Bool("mcp_headers_mismatch", true))
	}
	if b := info.batch; b != nil {
		if b.size >= 0 {
			attrs = append(attrs, slog.Int("batch_size", b.size))
		}
		if len(b.tools) > 0 {
			attrs = append(attrs, slog.String("batch_tools", b.logTools()))
		}
	}
	if info.rejected != "" {
		attrs = append(attrs, slog.String("rejected", info.rejected))
	}
	if info.origin != "" {
		attrs = append(attrs, slog.String("origin", info.origin))
	}
	if id, source := invocationID(r, underHost); id != "" {
		attrs = append(attrs, slog.String("invocation_id", id), slog.String("invocation_id_source", source))
	}
	logger.LogAttrs(r.Context(), level, "request", attrs...)
}

// limitBody bounds r's body: a declared length over max is answered with
// 413 at once (and limitBody reports false); otherwise reading past max
// fails with *http.MaxBytesError, which the MCP handler answers with 413.
func limitBody(w *statusWriter, r *http.Request, max int64) bool {
	if max <= 0 || r.Body == nil || r.Body == http.NoBody {
		return true
	}
	if r.ContentLength > max {
		w.Header().Set("Connection", "close")
		http.Error(w, fmt.Sprintf("request body exceeds %d bytes", max), http.StatusRequestEntityTooLarge)
		// Closing the connection while the client is still sending makes
		// its kernel see a reset before the client reads the answer. So
		// send the answer now, then read and drop what the client is still
		// sending, bounded in size and time, before the connection closes.
		rc := http.NewResponseController(w)
		rc.Flush()
		rc.SetReadDeadline(time.Now().Add(drainTime))
		io.CopyN(io.Discard, r.Body, min(r.ContentLength, drainBytes))
		return false
	}
	// The reader gets the server's own ResponseWriter, not the wrapper: only
	// through it can the reader tell the server that the limit was hit, so
	// that the server sends the 413 and half-closes before closing. Through
	// a wrapper, a client still streaming its body sees a connection reset
	// instead of the 413.
	r.Body = http.MaxBytesReader(w.ResponseWriter, r.Body, max)
	return true
}

// recoverHTTP turns a panic in an HTTP handler into a 500 with a generic
// message; the stack goes to the error log.
func recoverHTTP(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			logger.Error("panic in HTTP handler", "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			http.Error(w, "internal server error", http.StatusInternalServerError)
		}()
		next.ServeHTTP(w, r)
	})
}

// recoverMCP turns a panic in an MCP method handler, such as a tool, into an
// error: a tool result with isError for tools/call, a JSON-RPC internal
// error otherwise. The caller sees a generic message; the stack is logged.
func recoverMCP(logger *slog.Logger) mcp.Middleware {
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (res mcp.Result, err error) {
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				tool := ""
				if p, ok := req.GetParams().(*mcp.CallToolParamsRaw); ok && p != nil {
					tool = p.Name
				}
				logger.ErrorContext(ctx, "panic in MCP handler", "mcp_method", method, "tool", tool,
					"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if method == "tools/call" {
					r := &mcp.CallToolResult{}
					r.SetError(errors.New("internal error in tool " + tool + "; the server logged the details"))
					res, err = r, nil
					return
				}
				res, err = nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "internal error; the server logged the details"}
			}()
			return next(ctx, method, req)
		}
	}
}
