//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// This file sends hand-written bad requests to each server, started like
// the Functions host does it: through the host's proxy, and where the proxy
// would normalise a request (the Host header, framing), straight to the
// worker's port. Every row names the outcome it expects; none may be a 5xx,
// none may reach the upstream unless the row says so, and the process must
// be alive and clean afterwards.

// outcome is the class of answer a bad request must get.
type outcome int

const (
	// want4xx: an HTTP 4xx status whose body (plain text or a JSON-RPC
	// error) contains msg.
	want4xx outcome = iota
	// wantRPCError: a JSON-RPC error object (HTTP 200 or 4xx) whose message
	// contains msg.
	wantRPCError
	// wantToolError: HTTP 200 with a tools/call result that has isError
	// true and text containing msg; for a batch, every element.
	wantToolError
	// wantAccepted: 202 with no body, the answer to a notification or a
	// response, which by JSON-RPC get none.
	wantAccepted
)

func (o outcome) String() string {
	return [...]string{"4xx", "JSON-RPC error", "tool error", "202 accepted"}[o]
}

// hostileRow is one bad request.
type hostileRow struct {
	name   string
	method string            // default POST
	path   string            // default /mcp
	body   string            // the request body
	header map[string]string // replaces default headers; "" deletes one
	// chunked sends the body without a Content-Length.
	chunked bool
	// raw is a whole HTTP/1.1 request sent as is on a new connection;
	// {{HOST}} becomes the target's host:port.
	raw string
	// direct sends the request to the worker's port instead of the proxy.
	direct bool

	want   outcome
	status int    // exact status wanted; 0 accepts any in the class
	msg    string // substring of the error text
	// upstream is the number of upstream requests the row causes: 0 for
	// every invalid input.
	upstream int
}

const pingBody = `{"jsonrpc":"2.0","id":1,"method":"ping"}`

// originMsg starts the error a cross-origin request gets.
const originMsg = "cross-origin request refused"

// rpc builds a JSON-RPC request with raw (already encoded) params.
func rpc(method, params string) string {
	if params == "" {
		return `{"jsonrpc":"2.0","id":7,"method":"` + method + `"}`
	}
	return `{"jsonrpc":"2.0","id":7,"method":"` + method + `","params":` + params + `}`
}

// toolCall builds a tools/call request; name and args are raw JSON text.
func toolCall(name, args string) string {
	return rpc("tools/call", `{"name":`+name+`,"arguments":`+args+`}`)
}

func alerts(state string) string { return toolCall(`"get_alerts"`, `{"state":`+state+`}`) }

func forecast(lat, lon string) string {
	return toolCall(`"get_forecast"`, `{"latitude":`+lat+`,"longitude":`+lon+`}`)
}

// jsonString encodes s as a JSON string.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// commonHostileRows apply to every server: framing, JSON, JSON-RPC,
// headers and methods, nothing tool-specific.
func commonHostileRows() []hostileRow {
	huge := strings.Repeat("a", 2<<20)
	nearLimit := strings.Repeat("b", 1<<20-200)
	return []hostileRow{
		// Malformed and truncated JSON.
		{name: "truncated tools/call", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_al`, want: want4xx, status: 400, msg: "malformed payload"},
		{name: "truncated after key", body: `{"jsonrpc":`, want: want4xx, status: 400, msg: "malformed payload"},
		{name: "lone brace", body: `{`, want: want4xx, status: 400, msg: "malformed payload"},
		{name: "not JSON", body: `hello, server`, want: want4xx, status: 400, msg: "malformed payload"},
		{name: "empty body", body: ``, want: want4xx, status: 400, msg: "non-empty body"},
		{name: "whitespace body", body: " \r\n\t ", want: want4xx, status: 400, msg: "malformed payload"},
		{name: "single quotes", body: `{'jsonrpc':'2.0','id':1,'method':'ping'}`, want: want4xx, status: 400, msg: "malformed payload"},
		{name: "comment", body: `{"jsonrpc":"2.0",/* hi */"id":1,"method":"ping"}`, want: want4xx, status: 400, msg: "malformed payload"},
		{name: "bare NaN", body: `{"jsonrpc":"2.0","id":NaN,"method":"ping"}`, want: want4xx, status: 400, msg: "malformed payload"},
		{name: "byte order mark", body: "\xef\xbb\xbf" + pingBody, want: want4xx, status: 400, msg: "malformed payload"},
		{name: "JSON string", body: `"ping"`, want: want4xx, status: 400, msg: "malformed payload"},
		{name: "JSON null", body: `null`, want: want4xx, status: 400},

		// Wrong JSON-RPC types.
		{name: "no jsonrpc member", body: `{"id":1,"method":"ping"}`, want: want4xx, status: 400, msg: "version tag"},
		{name: "jsonrpc 1.0", body: `{"jsonrpc":"1.0","id":1,"method":"ping"}`, want: want4xx, status: 400, msg: "version tag"},
		{name: "jsonrpc number", body: `{"jsonrpc":2.0,"id":1,"method":"ping"}`, want: want4xx, status: 400, msg: "malformed payload"},
		{name: "id object", body: `{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}`, want: want4xx, status: 400, msg: "invalid ID"},
		{name: "id array", body: `{"jsonrpc":"2.0","id":[1],"method":"ping"}`, want: want4xx, status: 400, msg: "invalid ID"},
		{name: "id null on a request", body: `{"jsonrpc":"2.0","id":null,"method":"ping"}`, want: want4xx, status: 400, msg: "missing id"},
		{name: "method number", body: `{"jsonrpc":"2.0","id":1,"method":5}`, want: want4xx, status: 400, msg: "malformed payload"},
		{name: "params string", body: rpc("tools/call", `"x"`), want: wantRPCError, msg: "invalid params"},
		{name: "params array", body: rpc("tools/call", `[1,2]`), want: wantRPCError, msg: "invalid params"},
		{name: "tool name number", body: rpc("tools/call", `{"name":5}`), want: wantRPCError, msg: "invalid params"},
		{name: "tools/list params number", body: rpc("tools/list", `5`), want: wantRPCError, msg: "invalid params"},
		{name: "initialize without params", body: rpc("initialize", ""), want: want4xx, status: 400, msg: "missing required"},

		// Huge strings and oversize bodies (the limit is 1 MiB).
		{name: "method of 1 MiB minus a bit", body: `{"jsonrpc":"2.0","id":1,"method":"` + nearLimit + `"}`, want: want4xx, status: 400, msg: "not handled"},
		{name: "tool name of 1 MiB minus a bit", body: toolCall(`"`+nearLimit+`"`, `{}`), want: wantRPCError, msg: "unknown tool"},
		{name: "body of 2 MiB", body: `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"` + huge + `"}}`, want: want4xx, status: 413, msg: "exceeds"},
		{name: "body of 2 MiB, chunked", chunked: true, body: `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"` + huge + `"}}`, want: want4xx, status: 413, msg: "exceeds"},
		{name: "body of 2 MiB, chunked, direct", direct: true, chunked: true, body: `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"` + huge + `"}}`, want: want4xx, status: 413, msg: "exceeds"},
		{name: "whitespace padding past 1 MiB", body: pingBody + strings.Repeat(" ", 1<<20), want: want4xx, status: 413, msg: "exceeds"},

		// Deep nesting.
		{name: "100k nested arrays", body: strings.Repeat("[", 100000) + strings.Repeat("]", 100000), want: wantRPCError, status: 400, msg: batchMsg},
		{name: "100k nested objects in params", body: `{"jsonrpc":"2.0","id":1,"method":"ping","params":` + strings.Repeat(`{"a":`, 100000) + `1` + strings.Repeat("}", 100000) + `}`, want: want4xx, status: 400, msg: "nesting depth"},
		{name: "unterminated nesting", body: strings.Repeat("[", 500000), want: want4xx, status: 400},

		// Batches: refused whatever the protocol version, with a JSON-RPC
		// -32600 error and no id.
		{name: "empty batch", body: `[]`, want: wantRPCError, status: 400, msg: batchMsg},
		{name: "batch under protocol 2025-11-25", body: `[` + pingBody + `]`, header: map[string]string{"MCP-Protocol-Version": "2025-11-25"}, want: wantRPCError, status: 400, msg: batchMsg},
		{name: "batch of garbage", body: `[1,2,3]`, want: wantRPCError, status: 400, msg: batchMsg},
		{name: "nested batch", body: `[[` + pingBody + `]]`, want: wantRPCError, status: 400, msg: batchMsg},
		{name: "batch with an unknown method", body: `[` + pingBody + `,` + rpc("nope/nope", "") + `]`, want: wantRPCError, status: 400, msg: batchMsg},
		{name: "batch of one ping, no protocol header", body: `[` + pingBody + `]`, want: wantRPCError, status: 400, msg: batchMsg},
		{name: "batch of one ping at 2025-03-26", body: `[` + pingBody + `]`, header: map[string]string{"MCP-Protocol-Version": "2025-03-26"}, want: wantRPCError, status: 400, msg: batchMsg},
		{name: "batch of one ping at 2024-11-05", body: `[` + pingBody + `]`, header: map[string]string{"MCP-Protocol-Version": "2024-11-05"}, want: wantRPCError, status: 400, msg: batchMsg},
		{name: "batch after whitespace", body: " \r\n\t[" + pingBody + `]`, want: wantRPCError, status: 400, msg: batchMsg},
		{name: "batch of 500 pings", body: repeatBatch(500, pingBody), want: wantRPCError, status: 400, msg: batchMsg},
		{name: "batch of one notification", body: `[{"jsonrpc":"2.0","method":"notifications/initialized"}]`, want: wantRPCError, status: 400, msg: batchMsg},
		{name: "batch with lying Mcp-Method", body: `[` + pingBody + `]`, header: map[string]string{"Mcp-Method": "ping"}, want: wantRPCError, status: 400, msg: batchMsg},
		{name: "unterminated batch", body: `[` + pingBody + `,`, want: wantRPCError, status: 400, msg: batchMsg},

		// Content-Type and Accept.
		{name: "Content-Type text/plain", body: pingBody, header: map[string]string{"Content-Type": "text/plain"}, want: want4xx, status: 415, msg: "Content-Type"},
		{name: "no Content-Type", body: pingBody, header: map[string]string{"Content-Type": ""}, want: want4xx, status: 415, msg: "Content-Type"},
		{name: "Content-Type form", body: "a=1&b=2", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, want: want4xx, status: 415},
		{name: "Content-Type unparsable", body: pingBody, header: map[string]string{"Content-Type": "application/json; ;;=="}, want: want4xx, status: 415},
		{name: "Content-Type jsonp", body: pingBody, header: map[string]string{"Content-Type": "application/jsonp"}, want: want4xx, status: 415},
		{name: "no Accept", body: pingBody, header: map[string]string{"Accept": ""}, want: want4xx, status: 400, msg: "Accept must contain"},
		{name: "Accept JSON only", body: pingBody, header: map[string]string{"Accept": "application/json"}, want: want4xx, status: 400, msg: "Accept must contain"},
		{name: "Accept event stream only", body: pingBody, header: map[string]string{"Accept": "text/event-stream"}, want: want4xx, status: 400, msg: "Accept must contain"},
		{name: "Accept text/html", body: pingBody, header: map[string]string{"Accept": "text/html"}, want: want4xx, status: 400, msg: "Accept must contain"},

		// Unknown methods and tools.
		{name: "unknown method", body: rpc("foo/bar", ""), want: want4xx, status: 400, msg: "not handled"},
		{name: "empty method", body: rpc("", ""), want: want4xx, status: 400},
		{name: "resources/read of a file", body: rpc("resources/read", `{"uri":"file:///etc/passwd"}`), want: wantRPCError},
		{name: "prompts/get without the capability", body: rpc("prompts/get", `{"name":"x"}`), want: wantRPCError},
		{name: "unknown tool", body: toolCall(`"rm_rf"`, `{}`), want: wantRPCError, msg: "unknown tool"},
		{name: "empty tool name", body: toolCall(`""`, `{}`), want: wantRPCError, msg: "unknown tool"},
		{name: "tool name with NUL", body: toolCall(`"get_alerts\u0000"`, `{"state":"CA"}`), want: wantRPCError, msg: "unknown tool"},
		{name: "tool name with RTL override", body: toolCall(`"\u202estrela_teg"`, `{}`), want: wantRPCError, msg: "unknown tool"},
		{name: "unknown notification", body: `{"jsonrpc":"2.0","method":"notifications/bogus"}`, want: want4xx, status: 400, msg: "not handled"},
		{name: "notification of a known method", body: `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"nope"}}`, want: wantAccepted, status: 202},
		{name: "unsolicited response", body: `{"jsonrpc":"2.0","id":99,"result":{}}`, want: wantAccepted, status: 202},

		// Protocol version headers.
		{name: "protocol version 1999-01-01", body: pingBody, header: map[string]string{"MCP-Protocol-Version": "1999-01-01"}, want: want4xx, status: 400, msg: "Unsupported protocol version"},
		{name: "protocol version 2025-13-45", body: pingBody, header: map[string]string{"MCP-Protocol-Version": "2025-13-45"}, want: want4xx, status: 400, msg: "Unsupported protocol version"},
		{name: "protocol version garbage", body: pingBody, header: map[string]string{"MCP-Protocol-Version": "zzz; DROP TABLE"}, want: wantRPCError, status: 400},
		{name: "protocol 2026-07-28 without Mcp-Method", body: rpc("tools/list", ""), header: map[string]string{"MCP-Protocol-Version": "2026-07-28"}, want: wantRPCError, status: 400, msg: "_meta"},
		{name: "protocol 2026-07-28 with a lying Mcp-Method", body: rpc("tools/list", `{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}`), header: map[string]string{"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "ping"}, want: wantRPCError, status: 400},
		{name: "protocol 2026-07-28, _meta says 2025-11-25", body: rpc("tools/list", `{"_meta":{"io.modelcontextprotocol/protocolVersion":"2025-11-25"}}`), header: map[string]string{"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list"}, want: wantRPCError, status: 400},

		// HTTP methods and paths.
		{name: "GET /mcp", method: http.MethodGet, want: want4xx, status: 405},
		{name: "GET /mcp with an event-stream Accept", method: http.MethodGet, header: map[string]string{"Accept": "text/event-stream"}, want: want4xx, status: 405},
		{name: "DELETE /mcp", method: http.MethodDelete, header: map[string]string{"Mcp-Session-Id": "abc"}, want: want4xx, status: 405},
		{name: "PUT /mcp", method: http.MethodPut, body: pingBody, want: want4xx, status: 405},
		{name: "PATCH /mcp", method: http.MethodPatch, body: pingBody, want: want4xx, status: 405},
		{name: "OPTIONS /mcp", method: http.MethodOptions, header: map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}, want: want4xx, status: 405},
		{name: "HEAD /mcp", method: http.MethodHead, want: want4xx, status: 405},
		{name: "POST /", path: "/", body: pingBody, want: want4xx, status: 405},
		{name: "POST /mcp/x", path: "/mcp/x", body: pingBody, want: want4xx, status: 404},
		{name: "encoded traversal", method: http.MethodGet, path: "/..%2f..%2fetc%2fpasswd", want: want4xx, status: 404},

		// Browser pages on other origins: 403 with a JSON-RPC error.
		{name: "cross-site Origin", body: pingBody, header: map[string]string{"Origin": "https://evil.example.com", "Sec-Fetch-Site": "cross-site"}, want: wantRPCError, status: 403, msg: originMsg},
		{name: "cross-site Origin, direct", direct: true, body: pingBody, header: map[string]string{"Origin": "https://evil.example.com", "Sec-Fetch-Site": "cross-site"}, want: wantRPCError, status: 403, msg: originMsg},
		{name: "foreign Origin without Sec-Fetch-Site", body: pingBody, header: map[string]string{"Origin": "https://evil.example.com"}, want: wantRPCError, status: 403, msg: originMsg},
		{name: "Origin null", body: pingBody, header: map[string]string{"Origin": "null"}, want: wantRPCError, status: 403, msg: originMsg},
		{name: "Origin of the public host, old browser", body: pingBody, header: map[string]string{"Origin": "https://app.azurewebsites.net"}, want: wantRPCError, status: 403, msg: originMsg},
		{name: "Sec-Fetch-Site same-site", body: pingBody, header: map[string]string{"Origin": "https://evil.azurewebsites.net", "Sec-Fetch-Site": "same-site"}, want: wantRPCError, status: 403, msg: originMsg},
		{name: "Sec-Fetch-Site cross-site without Origin", body: pingBody, header: map[string]string{"Sec-Fetch-Site": "cross-site"}, want: wantRPCError, status: 403, msg: originMsg},
		{name: "cross-site batch", body: `[` + pingBody + `]`, header: map[string]string{"Origin": "https://evil.example.com", "Sec-Fetch-Site": "cross-site"}, want: wantRPCError, status: 403, msg: originMsg},
		{name: "cross-site Origin as text/plain (a simple request)", body: pingBody, header: map[string]string{"Content-Type": "text/plain", "Origin": "https://evil.example.com", "Sec-Fetch-Site": "cross-site"}, want: wantRPCError, status: 403, msg: originMsg},
		{name: "cross-site GET", method: http.MethodGet, header: map[string]string{"Origin": "https://evil.example.com", "Sec-Fetch-Site": "cross-site"}, want: want4xx, status: 405},

		// What the proxy would normalise: send straight to the worker.
		{name: "foreign Host header, direct", direct: true, body: pingBody, header: map[string]string{"Host": "evil.example"}, want: want4xx, status: 403, msg: "invalid Host header"},
		{name: "look-alike loopback Host, direct", direct: true, body: pingBody, header: map[string]string{"Host": "localhost.evil.example"}, want: want4xx, status: 403, msg: "invalid Host header"},
		// (No proxied variant: with a declared body that never arrives, the
		// fake host's Go ReverseProxy waits for the rest of it; that tests
		// the fake, not the server. YARP on Azure is its own matter.)
		{name: "absurd Content-Length, direct", direct: true, raw: "POST /mcp HTTP/1.1\r\nHost: {{HOST}}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 99999999999\r\n\r\n" + pingBody, want: want4xx, status: 413, msg: "exceeds"},
		{name: "Content-Length past uint64, direct", direct: true, raw: "POST /mcp HTTP/1.1\r\nHost: {{HOST}}\r\nContent-Type: application/json\r\nContent-Length: 18446744073709551616\r\n\r\n" + pingBody, want: want4xx, status: 400},
		{name: "negative Content-Length, direct", direct: true, raw: "POST /mcp HTTP/1.1\r\nHost: {{HOST}}\r\nContent-Type: application/json\r\nContent-Length: -5\r\n\r\n" + pingBody, want: want4xx, status: 400},
		{name: "two Content-Lengths, direct", direct: true, raw: "POST /mcp HTTP/1.1\r\nHost: {{HOST}}\r\nContent-Type: application/json\r\nContent-Length: 10\r\nContent-Length: 40\r\n\r\n" + pingBody, want: want4xx, status: 400},
		{name: "short Content-Length, direct", direct: true, raw: "POST /mcp HTTP/1.1\r\nHost: {{HOST}}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 10\r\nConnection: close\r\n\r\n" + pingBody, want: want4xx, status: 400, msg: "malformed payload"},
		{name: "bad chunk size, direct", direct: true, raw: "POST /mcp HTTP/1.1\r\nHost: {{HOST}}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n" + pingBody + "\r\n0\r\n\r\n", want: want4xx, status: 400},
	}
}

// weatherHostileRows are bad tool inputs for get_alerts and get_forecast,
// including injection attempts in state codes and coordinates.
func weatherHostileRows() []hostileRow {
	const stateMsg = "invalid state"
	const schema = `validating "arguments"`
	return []hostileRow{
		// Wrong types.
		{name: "arguments array", body: toolCall(`"get_alerts"`, `["CA"]`), want: wantToolError, msg: "unmarshal"},
		{name: "arguments string", body: toolCall(`"get_alerts"`, `"CA"`), want: wantToolError, msg: "unmarshal"},
		{name: "arguments null", body: toolCall(`"get_alerts"`, `null`), want: wantToolError, msg: "state"},
		{name: "state number", body: alerts(`5`), want: wantToolError, msg: schema},
		{name: "state null", body: alerts(`null`), want: wantToolError, msg: schema},
		{name: "state array", body: alerts(`["CA"]`), want: wantToolError, msg: schema},
		{name: "state object", body: alerts(`{"code":"CA"}`), want: wantToolError, msg: schema},
		{name: "state missing", body: toolCall(`"get_alerts"`, `{}`), want: wantToolError, msg: "state"},
		{name: "extra argument", body: toolCall(`"get_alerts"`, `{"state":"CA","url":"http://evil"}`), want: wantToolError, msg: schema},
		{name: "upper-case key", body: toolCall(`"get_alerts"`, `{"STATE":"CA"}`), want: wantToolError, msg: schema},
		{name: "latitude string", body: forecast(`"39.7456"`, `-97.0892`), want: wantToolError, msg: schema},
		{name: "latitude bool", body: forecast(`true`, `-97.0892`), want: wantToolError, msg: schema},
		{name: "longitude missing", body: toolCall(`"get_forecast"`, `{"latitude":39.7456}`), want: wantToolError, msg: "longitude"},

		// Huge strings.
		{name: "state of 512 KiB", body: alerts(jsonString(strings.Repeat("CA", 256<<10))), want: wantToolError, msg: stateMsg},

		// Injection attempts in state codes.
		{name: "state CA/../..", body: alerts(`"CA/../.."`), want: wantToolError, msg: stateMsg},
		{name: "state CA%2F", body: alerts(`"CA%2F"`), want: wantToolError, msg: stateMsg},
		{name: "state CA newline Host", body: alerts(`"CA\nHost: evil.example"`), want: wantToolError, msg: stateMsg},
		{name: "state CR LF header injection", body: alerts(`"CA\r\nX-Injected: 1\r\n\r\nGET /"`), want: wantToolError, msg: stateMsg},
		{name: "state SQL", body: alerts(`"'; DROP TABLE alerts;--"`), want: wantToolError, msg: stateMsg},
		{name: "state query", body: alerts(`"CA?limit=500"`), want: wantToolError, msg: stateMsg},
		{name: "state fragment", body: alerts(`"CA#x"`), want: wantToolError, msg: stateMsg},
		{name: "state absolute URL", body: alerts(`"http://evil.example/"`), want: wantToolError, msg: stateMsg},
		{name: "state traversal", body: alerts(`"../../../../etc/passwd"`), want: wantToolError, msg: stateMsg},
		{name: "state template", body: alerts(`"{{BASE}}"`), want: wantToolError, msg: stateMsg},

		// Odd Unicode in state codes.
		{name: "state with NUL", body: alerts(`"C\u0000A"`), want: wantToolError, msg: stateMsg},
		{name: "state with raw NUL byte", body: alerts("\"C\x00A\""), want: want4xx, status: 400, msg: "malformed payload"},
		{name: "state with RTL override", body: alerts(`"\u202eAC"`), want: wantToolError, msg: stateMsg},
		{name: "state lone surrogate", body: alerts(`"\ud800"`), want: wantToolError, msg: stateMsg},
		{name: "state overlong UTF-8", body: alerts("\"\xc1\x83\xc1\x81\""), want: wantToolError, msg: stateMsg},
		{name: "state invalid UTF-8", body: alerts("\"\xff\xfe\""), want: wantToolError, msg: stateMsg},
		{name: "state fullwidth letters", body: alerts(`"ＣＡ"`), want: wantToolError, msg: stateMsg},
		{name: "state with combining mark", body: alerts(`"C\u0301A"`), want: wantToolError, msg: stateMsg},
		{name: "state with zero-width space", body: alerts(`"C\u200bA"`), want: wantToolError, msg: stateMsg},
		{name: "state Cyrillic look-alike", body: alerts(`"СА"`), want: wantToolError, msg: stateMsg},

		// Coordinates.
		{name: "latitude 1e309", body: forecast(`1e309`, `0`), want: wantToolError, msg: "latitude"},
		{name: "latitude NaN string", body: forecast(`"NaN"`, `0`), want: wantToolError, msg: "latitude"},
		{name: "latitude Infinity token", body: forecast(`Infinity`, `0`), want: want4xx, status: 400, msg: "malformed payload"},
		{name: "latitude hex float", body: forecast(`0x1p-2`, `0`), want: want4xx, status: 400, msg: "malformed payload"},
		{name: "latitude 91", body: forecast(`91`, `0`), want: wantToolError, msg: "invalid latitude 91"},
		{name: "longitude -180.00001", body: forecast(`0`, `-180.00001`), want: wantToolError, msg: "invalid longitude"},
		{name: "latitude 1e300", body: forecast(`1e300`, `1e300`), want: wantToolError, msg: "invalid latitude"},
		{name: "coordinate with a path", body: forecast(`39.7456`, `"-97.0892/../../alerts"`), want: wantToolError, msg: "longitude"},
		{name: "coordinates as SQL", body: forecast(`"0; DROP TABLE points"`, `0`), want: wantToolError, msg: "latitude"},
		// -0 is a valid coordinate: it reaches the upstream as 0, outside
		// coverage there (the fake answers 404).
		{name: "latitude and longitude -0", body: forecast(`-0`, `-0`), want: wantToolError, msg: "no NWS forecast for 0,0", upstream: 1},

		// A tool call from a page on another site never reaches the NWS.
		{name: "cross-site forecast", body: forecast(`39.7456`, `-97.0892`), header: map[string]string{"Origin": "https://evil.example.com", "Sec-Fetch-Site": "cross-site"}, want: wantRPCError, status: 403, msg: originMsg},
		{name: "cross-site forecast, direct", direct: true, body: forecast(`39.7456`, `-97.0892`), header: map[string]string{"Origin": "https://evil.example.com", "Sec-Fetch-Site": "cross-site"}, want: wantRPCError, status: 403, msg: originMsg},
		{name: "same-origin forecast", body: forecast(`91`, `0`), header: map[string]string{"Origin": "https://app.azurewebsites.net", "Sec-Fetch-Site": "same-origin"}, want: wantToolError, msg: "invalid latitude 91"},

		// Headers that lie about the call: the request log names what the
		// body asks for (checked by checkRequestLog).
		{name: "lying Mcp-Method and Mcp-Name", body: alerts(`"XX"`), header: map[string]string{"Mcp-Method": "tools/list", "Mcp-Name": "nothing-to-see"}, want: wantToolError, msg: stateMsg},
		{name: "lying Mcp-Method and Mcp-Name at 2025-03-26", body: alerts(`"XX"`), header: map[string]string{"MCP-Protocol-Version": "2025-03-26", "Mcp-Method": "ping", "Mcp-Name": "nothing-to-see"}, want: wantToolError, msg: stateMsg},
		{name: "forged invocation id through the host", body: alerts(`"XX"`), header: map[string]string{"X-Azure-Functions-InvocationId": "forged-invocation", "X-Ms-Invocation-Id": "forged-invocation"}, want: wantToolError, msg: stateMsg},
		{name: "log injection in the tool name", body: toolCall(`"get_alerts\n{\"level\":\"ERROR\",\"msg\":\"forged\"}"`, `{}`), want: wantRPCError, msg: "unknown tool"},

		// Batches of tool calls: refused before any tool runs.
		{name: "batch of 200 bad tool calls", body: badAlertsBatch(200), want: wantRPCError, status: 400, msg: batchMsg},
		{name: "batch of 500 distinct forecasts", body: forecastBatch(500), want: wantRPCError, status: 400, msg: batchMsg},
		{name: "batch of 500 distinct forecasts at 2025-03-26", body: forecastBatch(500), header: map[string]string{"MCP-Protocol-Version": "2025-03-26"}, want: wantRPCError, status: 400, msg: batchMsg},
		{name: "batch of 20 valid alerts calls", body: repeatBatch(20, alerts(`"CA"`)), want: wantRPCError, status: 400, msg: batchMsg},
	}
}

// repeatBatch is a batch of n copies of msg.
func repeatBatch(n int, msg string) string {
	return "[" + strings.Repeat(msg+",", n-1) + msg + "]"
}

// badAlertsBatch is a batch of n get_alerts calls, each with a bad state.
func badAlertsBatch(n int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"get_alerts","arguments":{"state":"X%d"}}}`, i+1, i)
	}
	b.WriteByte(']')
	return b.String()
}

// userinfoHostileRows are bad tool inputs for get_user_info, which takes
// no arguments; with MCP_AUTH=none and no On-Behalf-Of settings, a valid
// call gets the not-configured tool error.
func userinfoHostileRows() []hostileRow {
	const schema = `validating "arguments"`
	return []hostileRow{
		{name: "arguments array", body: toolCall(`"get_user_info"`, `[1]`), want: wantToolError, msg: "unmarshal"},
		{name: "arguments string", body: toolCall(`"get_user_info"`, `"me"`), want: wantToolError, msg: "unmarshal"},
		{name: "unexpected argument", body: toolCall(`"get_user_info"`, `{"user":"admin@evil.example"}`), want: wantToolError, msg: schema},
		{name: "token in arguments", body: toolCall(`"get_user_info"`, `{"authorization":"Bearer x"}`), want: wantToolError, msg: schema},
		{name: "weather tool on userinfo", body: toolCall(`"get_alerts"`, `{"state":"CA"}`), want: wantRPCError, msg: "unknown tool"},
		{name: "no OBO configured", body: toolCall(`"get_user_info"`, `{}`), want: wantToolError, msg: "AZURE_TENANT_ID"},
		{name: "forged bearer without OBO", body: toolCall(`"get_user_info"`, `{}`), header: map[string]string{"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."}, want: wantToolError, msg: "AZURE_TENANT_ID"},
		{name: "forged Easy Auth principal", body: toolCall(`"get_user_info"`, `{}`), header: map[string]string{"X-MS-CLIENT-PRINCIPAL": "!!!not base64!!!"}, want: wantToolError, msg: "AZURE_TENANT_ID"},
	}
}

// hostileResult is what came back for a row.
type hostileResult struct {
	status int
	ctype  string
	body   []byte
}

// sendHostile sends row to base (http://127.0.0.1:port).
func sendHostile(t *testing.T, client *http.Client, base string, row hostileRow) (hostileResult, error) {
	u, _ := url.Parse(base)
	if row.raw != "" {
		return sendRaw(u.Host, strings.ReplaceAll(row.raw, "{{HOST}}", u.Host))
	}
	method, path := row.method, row.path
	if method == "" {
		method = http.MethodPost
	}
	if path == "" {
		path = "/mcp"
	}
	var body io.Reader
	if row.body != "" || method == http.MethodPost {
		body = strings.NewReader(row.body)
		if row.chunked {
			body = io.MultiReader(strings.NewReader(row.body)) // hides the length
		}
	}
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range row.header {
		switch {
		case k == "Host":
			req.Host = v
		case v == "":
			req.Header.Del(k)
		default:
			req.Header.Set(k, v)
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		return hostileResult{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return hostileResult{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), body: b}, err
}

// sendRaw writes a raw request on a new connection and reads one response.
func sendRaw(addr, request string) (hostileResult, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return hostileResult{}, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		return hostileResult{}, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return hostileResult{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return hostileResult{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), body: b}, nil
}

// rpcReply is a JSON-RPC response as the checks need it.
type rpcReply struct {
	ID    json.RawMessage `json:"id"`
	Error *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Result *struct {
		IsError bool `json:"isError"`
		Content []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
	} `json:"result"`
}

// replies decodes a single response or a batch of them.
func replies(body []byte) ([]rpcReply, bool) {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		var rs []rpcReply
		return rs, json.Unmarshal(body, &rs) == nil && len(rs) > 0
	}
	var r rpcReply
	return []rpcReply{r}, json.Unmarshal(body, &r) == nil
}

// checkOutcome returns what is wrong with res for row, or "".
func checkOutcome(row hostileRow, res hostileResult) string {
	if res.status >= 500 {
		return fmt.Sprintf("5xx: %d %.300q", res.status, res.body)
	}
	if row.status != 0 && res.status != row.status {
		return fmt.Sprintf("status %d, want %d (%s): %.300q", res.status, row.status, row.want, res.body)
	}
	switch row.want {
	case want4xx:
		if res.status < 400 || res.status > 499 {
			return fmt.Sprintf("status %d, want a 4xx: %.300q", res.status, res.body)
		}
		if !bytes.Contains(res.body, []byte(row.msg)) {
			return fmt.Sprintf("%d body %.300q lacks %q", res.status, res.body, row.msg)
		}
	case wantRPCError:
		rs, ok := replies(res.body)
		if !ok || len(rs) != 1 || rs[0].Error == nil {
			return fmt.Sprintf("%d %.300q is not a JSON-RPC error", res.status, res.body)
		}
		if res.status != 200 && (res.status < 400 || res.status > 499) {
			return fmt.Sprintf("JSON-RPC error with status %d", res.status)
		}
		if !strings.Contains(rs[0].Error.Message, row.msg) {
			return fmt.Sprintf("JSON-RPC error %q lacks %q", rs[0].Error.Message, row.msg)
		}
	case wantToolError:
		if res.status != 200 {
			return fmt.Sprintf("status %d, want 200 with a tool error: %.300q", res.status, res.body)
		}
		rs, ok := replies(res.body)
		if !ok {
			return fmt.Sprintf("body %.300q is not a JSON-RPC response", res.body)
		}
		for _, r := range rs {
			if r.Result == nil || !r.Result.IsError || len(r.Result.Content) == 0 {
				return fmt.Sprintf("not a tool error: %.300q", res.body)
			}
			if text := r.Result.Content[0].Text; !strings.Contains(text, row.msg) {
				return fmt.Sprintf("tool error %.300q lacks %q", text, row.msg)
			}
		}
	case wantAccepted:
		if res.status != http.StatusAccepted || len(bytes.TrimSpace(res.body)) != 0 {
			return fmt.Sprintf("status %d body %.300q, want 202 and no body", res.status, res.body)
		}
	}
	return ""
}

// runHostile sends every row to h and checks the outcome, the upstream
// count (if upstream is not nil) and that the worker survives.
func runHostile(t *testing.T, h *fakeHost, rows []hostileRow, upstream func() int64) {
	t.Helper()
	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true},
	}
	direct := fmt.Sprintf("http://127.0.0.1:%d", h.WorkerPort)
	counts := map[outcome]int{}
	for _, row := range rows {
		counts[row.want]++
		t.Run(row.name, func(t *testing.T) {
			base := h.URL
			if row.direct {
				base = direct
			}
			var before int64
			if upstream != nil {
				before = upstream()
			}
			start := time.Now()
			res, err := sendHostile(t, client, base, row)
			took := time.Since(start)
			if err != nil {
				t.Fatalf("request failed after %s: %v", took, err)
			}
			if took > 10*time.Second {
				t.Errorf("answered after %s; a bad request must be answered at once", took)
			}
			if problem := checkOutcome(row, res); problem != "" {
				t.Errorf("want %s: %s", row.want, problem)
			}
			if upstream != nil {
				if n := upstream() - before; n != int64(row.upstream) {
					t.Errorf("%d upstream requests, want %d", n, row.upstream)
				}
			}
		})
	}
	t.Logf("%d rows: %d 4xx, %d JSON-RPC error, %d tool error, %d 202", len(rows), counts[want4xx], counts[wantRPCError], counts[wantToolError], counts[wantAccepted])

	// Still alive and serving, through the proxy and directly.
	for _, base := range []string{h.URL, direct} {
		resp, err := client.Get(base + "/")
		if err != nil {
			t.Fatalf("GET %s/ after the table: %v", base, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s/ after the table = %d", base, resp.StatusCode)
		}
	}
	select {
	case err := <-h.exited:
		t.Fatalf("worker exited: %v", err)
	default:
	}
	checkWorkerLogs(t, h)
}

// checkRequestLog checks the worker's request lines after the weather
// table: the lying-header rows are logged as what their bodies asked for,
// an invocation id a client sent through the host is the host's, and every
// line is bounded although some rows carry megabyte names.
func checkRequestLog(t *testing.T, h *fakeHost) {
	t.Helper()
	var mismatched int
	for _, l := range lines(h.Stdout.String()) {
		if len(l) > 4096 {
			t.Errorf("log line of %d bytes: %.200s", len(l), l)
		}
		var rec map[string]any
		if json.Unmarshal([]byte(l), &rec) != nil || rec["msg"] != "request" {
			continue
		}
		if rec["tool"] == "nothing-to-see" {
			t.Errorf("the log took the Mcp-Name header on trust: %s", l)
		}
		if rec["mcp_headers_mismatch"] == true && rec["mcp_method"] == "tools/call" && rec["tool"] == "get_alerts" {
			mismatched++
		}
		if rec["invocation_id"] == "forged-invocation" {
			t.Errorf("the client's invocation id reached the log through the host: %s", l)
		}
		if id, ok := rec["invocation_id"]; ok && rec["invocation_id_source"] != "functions_host" {
			t.Errorf("invocation id %v through the host has source %v", id, rec["invocation_id_source"])
		}
	}
	if mismatched < 2 {
		t.Errorf("%d get_alerts request lines flag mcp_headers_mismatch, want at least the 2 lying-header rows", mismatched)
	}
}

// checkWorkerLogs fails on a data race, a panic or an error-level log line
// in the worker's output.
func checkWorkerLogs(t *testing.T, h *fakeHost) {
	t.Helper()
	for _, s := range []string{h.Stdout.String(), h.Stderr.String()} {
		for _, bad := range []string{"DATA RACE", "panic", `"level":"ERROR"`} {
			if strings.Contains(s, bad) {
				t.Errorf("worker output contains %q", bad)
			}
		}
	}
}

func TestHostileWeather(t *testing.T) {
	nws := newFakeNWS(t)
	app := appDir(t, "weather")
	host := startUnderHost(t, app, "app", map[string]string{"NWS_API_BASE_URL": nws.URL, "NWS_CACHE_ENTRIES": "0"}, yarpProxy)
	rows := append(commonHostileRows(), weatherHostileRows()...)
	runHostile(t, host, rows, nws.requests.Load)
	checkRequestLog(t, host)
	// A good call still works afterwards.
	cs := connectMCP(t, host.URL+"/mcp", "2025-11-25")
	if res, text := call(t, cs, "get_alerts", map[string]any{"state": "CA"}); res.IsError {
		t.Fatalf("get_alerts after the table: %s", text)
	}
}

func TestHostileUserinfo(t *testing.T) {
	app := appDir(t, "userinfo")
	host := startUnderHost(t, app, "app", map[string]string{"MCP_AUTH": "none"}, yarpProxy)
	rows := append(commonHostileRows(), userinfoHostileRows()...)
	runHostile(t, host, rows, nil)
}

// TestHostileHugeBody streams a 64 MiB body straight to the worker: the
// 1 MiB limit must stop it early. The 413 must come before the client has
// sent much more than the limit, and the worker's memory must not grow by
// the size of the body.
func TestHostileHugeBody(t *testing.T) {
	app := appDir(t, "weather")
	host := startUnderHost(t, app, "app", map[string]string{"NWS_API_BASE_URL": "http://127.0.0.1:1"}, yarpProxy)
	pid := host.Cmd.Process.Pid
	before := procStatus(t, pid)

	const total = 64 << 20
	pr, pw := io.Pipe()
	var sent atomic.Int64
	go func() {
		chunk := bytes.Repeat([]byte("a"), 64<<10)
		if _, err := pw.Write([]byte(`{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"`)); err != nil {
			return
		}
		for sent.Load() < total {
			n, err := pw.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
		pw.Close()
	}()
	req := mcpPost(fmt.Sprintf("http://127.0.0.1:%d/mcp", host.WorkerPort), pr, "")
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	start := time.Now()
	resp, err := client.Do(req)
	at := sent.Load()
	pr.CloseWithError(errors.New("test done"))
	if err != nil {
		t.Fatalf("request failed after %s and %d MiB sent: %v", time.Since(start), at>>20, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	after := procStatus(t, pid)
	t.Logf("status %d after %s with %.1f MiB sent; worker RSS %d -> %d KiB", resp.StatusCode, time.Since(start).Round(time.Millisecond), float64(at)/(1<<20), before.rssKiB, after.rssKiB)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", resp.StatusCode)
	}
	if at > 16<<20 {
		t.Errorf("the worker read %.1f MiB of the body before answering; the limit is 1 MiB (the request log reads the body before the limit applies)", float64(at)/(1<<20))
	}
	if grew := after.rssKiB - before.rssKiB; grew > 32<<10 {
		t.Errorf("worker RSS grew by %d MiB for one oversized request", grew>>10)
	}
	checkWorkerLogs(t, host)
}
