package main

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/mcpfunc/mcpfunc/bench/userinfofake"
)

// caller makes the id-th request of a load: its body and the headers it
// adds (nil for none; shared, so never modified).
type caller func(id int64) ([]byte, http.Header)

// benchUser is the user of the userinfo rows with one token.
const benchUser = "bench-user-ada"

// newCaller returns the requests of server's load: tools/call get_alerts
// for California for weather; tools/call get_user_info for userinfo, as
// Easy Auth forwards it, with one user's token (signed by the fake Entra
// in ids, which userinfo verifies) for all calls, or with a new user's per
// call when fresh.
func newCaller(ids *userinfofake.Upstreams, server string, fresh bool) caller {
	switch server {
	case "userinfo":
		one := userinfofake.Headers(ids.UserToken(benchUser))
		return func(id int64) ([]byte, http.Header) {
			body := fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"get_user_info","arguments":{}}}`, id)
			if fresh {
				return body, userinfofake.Headers(ids.UserToken("bench-user-" + strconv.FormatInt(id, 36)))
			}
			return body, one
		}
	default:
		return func(id int64) ([]byte, http.Header) { return callBody(id), nil }
	}
}

// readyHeader is what the server needs on initialize to answer 200.
func readyHeader(ids *userinfofake.Upstreams, server string) http.Header {
	if server == "userinfo" {
		return userinfofake.Headers(ids.UserToken(benchUser))
	}
	return nil
}

// upstreamNames are the column titles of the counters upstream returns for
// server, each reported per successful call.
var upstreamNames = map[string][]string{
	"weather":  {"NWS req/call", "NWS conns/call"},
	"userinfo": {"Graph req/call", "Entra req/call", "new conns/call"},
}

// upstream returns the counters of server's fakes: for weather the fake
// NWS's requests and the connections it accepted; for userinfo the fake
// Graph's requests, the fake Entra's token requests, and the connections
// the three fakes (Entra, managed identity, Graph) accepted.
func (b *bench) upstream(server string) func() []int64 {
	switch server {
	case "userinfo":
		return func() []int64 {
			c := b.ids.Counts()
			return []int64{c.Graph, c.Token, c.Conns()}
		}
	default:
		return func() []int64 { return []int64{int64(b.nws.Requests("")), b.nws.Connections()} }
	}
}

// callBody is a tools/call get_alerts request for California.
func callBody(id int64) []byte {
	return fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"get_alerts","arguments":{"state":"CA"}}}`, id)
}
