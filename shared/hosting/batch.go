package hosting

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// msgBatch is the error message a JSON-RPC batch gets.
const msgBatch = "batches are not supported (removed in protocol 2025-06-18); send one message per request"

// Bounds on what the request log says about a batch.
const (
	maxBatchTools = 8  // distinct tool names listed
	maxLogValue   = 64 // bytes of any client-supplied value in the log
)

// reqInfo is what the request log says about a request to /mcp. The
// request logger puts one in the request's context; the handlers in front
// of the MCP handler add to it.
type reqInfo struct {
	method, tool string
	// headersMismatch: the Mcp-Method or Mcp-Name header disagrees with
	// the body.
	headersMismatch bool
	// batch is set when the body is a JSON array.
	batch *batchSummary
	// rejected names the check that refused the request, if one did.
	rejected string
	// origin is the Origin header of a request refused as cross-origin.
	origin string
}

// batchSummary describes a JSON-RPC batch for the log.
type batchSummary struct {
	size  int      // elements, or -1 when the array does not parse
	tools []string // distinct tools/call names, first seen first, at most maxBatchTools
	more  int      // further distinct tool names
}

type reqInfoKey struct{}

// withReqInfo returns r with info in its context.
func withReqInfo(r *http.Request, info *reqInfo) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), reqInfoKey{}, info))
}

// requestInfo returns the reqInfo the request logger attached to r, or,
// for a handler used without it, a fresh summary of r's body.
func requestInfo(r *http.Request) *reqInfo {
	if info, ok := r.Context().Value(reqInfoKey{}).(*reqInfo); ok {
		return info
	}
	info := peekRPC(r)
	return &info
}

// isBatch reports whether a JSON body is an array.
func isBatch(body []byte) bool {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	return len(trimmed) > 0 && trimmed[0] == '['
}

// summarizeBatch counts the elements of a batch body and collects the
// tool names its tools/call requests name, bounded for the log.
func summarizeBatch(body []byte) *batchSummary {
	var elems []json.RawMessage
	if json.Unmarshal(body, &elems) != nil {
		return &batchSummary{size: -1}
	}
	b := &batchSummary{size: len(elems)}
	seen := make(map[string]bool)
	for _, e := range elems {
		var s rpcSummary
		if json.Unmarshal(e, &s) != nil || s.Method != "tools/call" || s.Params.Name == "" {
			continue
		}
		name := clip(s.Params.Name, maxLogValue)
		if seen[name] {
			continue
		}
		seen[name] = true
		if len(b.tools) < maxBatchTools {
			b.tools = append(b.tools, name)
		} else {
			b.more++
		}
	}
	return b
}

// logTools is the batch's tool names as one log value.
func (b *batchSummary) logTools() string {
	s := strings.Join(b.tools, ",")
	if b.more > 0 {
		s += ",+" + strconv.Itoa(b.more) + " more"
	}
	return s
}

// clip makes a client-supplied name safe and short for the log: control
// characters become U+FFFD and the result is at most n bytes of valid
// UTF-8.
func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(s, string(utf8.RuneError)))
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// refuseBatches answers a JSON-RPC batch with 400 and a JSON-RPC error.
// Protocol 2025-06-18 removed batches, but the SDK still accepts them at
// 2025-03-26 (or with no MCP-Protocol-Version header) and runs their calls
// concurrently, so one POST could start hundreds of tool calls, each with
// its upstream requests. No client we know of sends batches; clients at
// 2025-03-26 send one message per request, and those keep working.
func refuseBatches(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := requestInfo(r)
		if info.batch == nil {
			next.ServeHTTP(w, r)
			return
		}
		info.rejected = "batch"
		writeRPCError(w, http.StatusBadRequest, jsonrpc.CodeInvalidRequest, msgBatch)
	})
}

// writeRPCError answers with a JSON-RPC error response that has no id, as
// the MCP transport allows for errors about a request as a whole.
func writeRPCError(w http.ResponseWriter, status int, code int64, msg string) {
	type rpcError struct {
		Code    int64  `json:"code"`
		Message string `json:"message"`
	}
	body, _ := json.Marshal(struct {
		JSONRPC string    `json:"jsonrpc"`
		ID      *struct{} `json:"id"` // always null
		Error   rpcError  `json:"error"`
	}{JSONRPC: "2.0", Error: rpcError{Code: code, Message: msg}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
}
