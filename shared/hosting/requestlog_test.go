package hosting

import (
	"strings"
	"testing"
)

// TestRequestLogSources: the request line's mcp_method and tool come from
// the body, which the SDK serves, never from the Mcp-Method and Mcp-Name
// headers, which the SDK checks against the body only from protocol
// 2026-07-28; a disagreement is flagged. The invocation id says whether
// the Functions host set it. Client-supplied values are bounded.
func TestRequestLogSources(t *testing.T) {
	const echoCall = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"c","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}`
	newEchoCall := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"},` + meta + `}}`
	long := strings.Repeat("z", 10000)
	lying := map[string]string{"Mcp-Method": "tools/list", "Mcp-Name": "nothing-to-see"}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	tests := []struct {
		name      string
		underHost bool
		body      string
		hdr       map[string]string
		status    int
		want      []string
		wantNot   []string
	}{
		{name: "lying headers, no protocol header", body: echoCall, hdr: lying, status: 200,
			want:    []string{"mcp_method=tools/call", "tool=echo", "mcp_headers_mismatch=true"},
			wantNot: []string{"nothing-to-see", "tools/list"}},
		{name: "lying headers at 2025-11-25", body: echoCall, hdr: with(lying, "Mcp-Protocol-Version", "2025-11-25"), status: 200,
			want:    []string{"mcp_method=tools/call", "tool=echo", "mcp_headers_mismatch=true"},
			wantNot: []string{"nothing-to-see", "tools/list"}},
		{name: "lying headers at 2026-07-28 (the SDK refuses)", body: newEchoCall, hdr: with(lying, "Mcp-Protocol-Version", "2026-07-28"), status: 400,
			want:    []string{"mcp_method=tools/call", "tool=echo", "mcp_headers_mismatch=true"},
			wantNot: []string{"nothing-to-see", "tools/list"}},
		{name: "lying name only", body: echoCall, hdr: map[string]string{"Mcp-Name": "other"}, status: 200,
			want: []string{"tool=echo", "mcp_headers_mismatch=true"}, wantNot: []string{"other"}},
		{name: "honest headers at 2026-07-28", body: newEchoCall, hdr: map[string]string{"Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "echo"}, status: 200,
			want: []string{"mcp_method=tools/call", "tool=echo"}, wantNot: []string{"mismatch"}},
		{name: "no headers", body: echoCall, status: 200,
			want: []string{"mcp_method=tools/call", "tool=echo"}, wantNot: []string{"mismatch", "invocation_id"}},
		{name: "invocation id without the host", body: pingBody, hdr: map[string]string{"X-Azure-Functions-InvocationId": "inv-1"}, status: 200,
			want: []string{"invocation_id=inv-1", "invocation_id_source=client"}},
		{name: "invocation id from the host", underHost: true, body: pingBody, hdr: map[string]string{"X-Azure-Functions-InvocationId": "inv-2", "X-Ms-Invocation-Id": "inv-2"}, status: 200,
			want: []string{"invocation_id=inv-2", "invocation_id_source=functions_host"}},
		{name: "only the correlation header under the host", underHost: true, body: pingBody, hdr: map[string]string{"X-Ms-Invocation-Id": "inv-3"}, status: 200,
			want: []string{"invocation_id=inv-3", "invocation_id_source=client"}},
		{name: "long invocation id", body: pingBody, hdr: map[string]string{"X-Azure-Functions-InvocationId": long}, status: 200,
			want: []string{"invocation_id_source=client"}, wantNot: []string{strings.Repeat("z", 200)}},
		{name: "long method", body: `{"jsonrpc":"2.0","id":1,"method":"` + long + `"}`, status: 400,
			want: []string{"mcp_method=zzz"}, wantNot: []string{strings.Repeat("z", 200)}},
		{name: "control characters in the tool name", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a\u001b[31mb\nc","arguments":{}}}`, status: 200,
			want: []string{"tool=\"a\uFFFD[31mb\uFFFDc\""}},
	}
	s, _ := testServer(nil, nil)
	plain := startRun(t, s)
	hs, _ := testServer(nil, nil)
	hosted := startRun(t, hs, withGetenv(env(map[string]string{envPort: "7071"})))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := plain
			if tt.underHost {
				st = hosted
			}
			before := len(st.logs.String())
			code, body := post(t, st.url+MCPPath, "", tt.body, tt.hdr)
			if code != tt.status {
				t.Fatalf("status %d body %.300q; want %d", code, body, tt.status)
			}
			line := ""
			for l := range strings.Lines(st.logs.String()[before:]) {
				if strings.Contains(l, "msg=request") {
					line = l
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(line, w) {
					t.Errorf("request line lacks %q: %.500s", w, line)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(line, w) {
					t.Errorf("request line contains %q: %.500s", w, line)
				}
			}
		})
	}
}
