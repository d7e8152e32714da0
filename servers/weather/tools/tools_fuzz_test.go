package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfunc/mcpfunc/servers/weather/nws"
	"github.com/mcpfunc/mcpfunc/servers/weather/nws/nwstest"
)

// fuzzSession connects an in-memory client to the real tools server (cache
// off, so every valid call reaches the upstream).
func fuzzSession(tb testing.TB, base string) *mcp.ClientSession {
	tb.Helper()
	client, err := nws.New(nws.Config{BaseURL: base, RequestTimeout: 2 * time.Second, MaxAttempts: 1})
	if err != nil {
		tb.Fatal(err)
	}
	server := NewServer(&mcp.Implementation{Name: "weather", Version: "fuzz"}, Config{NWS: client})
	ctx := context.Background()
	ct, st := mcp.NewInMemoryTransports()
	ss, err := server.Connect(ctx, st, nil)
	if err != nil {
		tb.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "fuzz", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cs.Close(); ss.Close() })
	return cs
}

// fuzzAreaCodes is this test's own list of the codes NWS accepts.
var fuzzAreaCodes = strings.Fields(`AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD
	MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY
	DC AS GU MP PR VI UM FM MH PW AM AN GM LC LE LH LM LO LS PH PK PM PS PZ SL`)

// objectFields decodes a JSON object with exactly the given keys (matched
// case-sensitively, as MCP argument decoding does). ok is false for
// anything else: not an object, a missing or extra key, trailing data.
func objectFields(args []byte, keys ...string) (map[string]json.RawMessage, bool) {
	dec := json.NewDecoder(bytes.NewReader(args))
	var m map[string]json.RawMessage
	if err := dec.Decode(&m); err != nil || m == nil || dec.More() {
		return nil, false
	}
	if len(m) != len(keys) {
		return nil, false
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			return nil, false
		}
	}
	return m, true
}

// wantAlertsPath returns the upstream path valid get_alerts arguments must
// produce, or "" when the arguments are invalid.
func wantAlertsPath(args []byte) string {
	m, ok := objectFields(args, "state")
	if !ok {
		return ""
	}
	var state string
	if json.Unmarshal(m["state"], &state) != nil || bytes.Equal(bytes.TrimSpace(m["state"]), []byte("null")) {
		return ""
	}
	code := strings.ToUpper(strings.TrimSpace(state))
	if !slices.Contains(fuzzAreaCodes, code) {
		return ""
	}
	return "/alerts/active/area/" + code
}

// validCoordinates reports whether get_forecast arguments are valid, and
// returns them.
func validCoordinates(args []byte) (lat, lon float64, ok bool) {
	m, ok := objectFields(args, "latitude", "longitude")
	if !ok {
		return 0, 0, false
	}
	num := func(raw json.RawMessage, limit float64) (float64, bool) {
		var n json.Number
		if json.Unmarshal(raw, &n) != nil || n == "" {
			return 0, false
		}
		if _, err := strconv.ParseFloat(string(bytes.TrimSpace(raw)), 64); err != nil {
			return 0, false // not a JSON number (a string), or out of float64 range
		}
		v, err := n.Float64()
		if err != nil || math.IsNaN(v) || v < -limit || v > limit {
			return 0, false
		}
		return v, true
	}
	lat, okLat := num(m["latitude"], 90)
	lon, okLon := num(m["longitude"], 180)
	return lat, lon, okLat && okLon
}

var pointPath = regexp.MustCompile(`^/points/(-?\d+(?:\.\d{1,4})?),(-?\d+(?:\.\d{1,4})?)$`)

// FuzzToolArguments sends arbitrary JSON as the arguments of get_alerts or
// get_forecast through an MCP session. Invariants: no panic and no
// protocol failure other than a JSON-RPC error; invalid arguments give a
// tool error and no upstream request; valid ones reach the upstream with
// the normalized value and succeed.
func FuzzToolArguments(f *testing.F) {
	for _, seed := range []struct {
		forecast bool
		args     string
	}{
		{false, `{"state":"CA"}`},
		{false, `{"state":" ny "}`},
		{false, `{"state":"XX"}`},
		{false, `{"state":"CA/../.."}`},
		{false, `{"state":"CA%2F"}`},
		{false, "{\"state\":\"CA\\nHost: evil\"}"},
		{false, `{"state":"ſc"}`},
		{false, `{"state":12}`},
		{false, `{"state":null}`},
		{false, `{"STATE":"CA"}`},
		{false, `{"state":"CA","state":"XX"}`},
		{false, `{"state":"CA","extra":1}`},
		{false, `["CA"]`},
		{false, `null`},
		{true, `{"latitude":39.7456,"longitude":-97.0892}`},
		{true, `{"latitude":-0,"longitude":0}`},
		{true, `{"latitude":90,"longitude":-180}`},
		{true, `{"latitude":90.00001,"longitude":0}`},
		{true, `{"latitude":1e309,"longitude":0}`},
		{true, `{"latitude":"NaN","longitude":0}`},
		{true, `{"latitude":"39.7","longitude":-97}`},
		{true, `{"latitude":0x1p-2,"longitude":0}`},
		{true, `{"latitude":1e-400,"longitude":5e-324}`},
		{true, `{"latitude":39.7456}`},
		{true, `{"latitude":39.7456,"longitude":-97.0892,"latitude":91}`},
		{true, `{}`},
	} {
		f.Add(seed.forecast, []byte(seed.args))
	}
	// Every alerts, points and forecast path answers with its kind's
	// fixture; the paths asked are taken after each call.
	up := nwstest.Start(f, nwstest.Config{ByKind: true})
	cs := fuzzSession(f, up.URL)
	f.Fuzz(func(t *testing.T, forecast bool, args []byte) {
		if !json.Valid(args) {
			return // a client cannot send it as arguments; FuzzHTTPEntry covers raw bodies
		}
		tool := "get_alerts"
		if forecast {
			tool = "get_forecast"
		}
		up.TakePaths()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: json.RawMessage(args)})
		paths := up.TakePaths()
		if err != nil {
			var rpcErr *jsonrpc.Error
			if !errors.As(err, &rpcErr) {
				t.Fatalf("%s(%s): not a JSON-RPC error: %v", tool, args, err)
			}
			if len(paths) != 0 {
				t.Fatalf("%s(%s): JSON-RPC error %v after upstream requests %q", tool, args, err, paths)
			}
			return
		}
		text := ""
		for _, c := range res.Content {
			if tc, ok := c.(*mcp.TextContent); ok {
				text += tc.Text
			}
		}
		if !forecast {
			want := wantAlertsPath(args)
			switch {
			case want == "" && (len(paths) != 0 || !res.IsError):
				t.Fatalf("get_alerts(%s) is invalid: got upstream %q, isError %v %q", args, paths, res.IsError, text)
			case want != "" && (!slices.Equal(paths, []string{want}) || res.IsError):
				t.Fatalf("get_alerts(%s): upstream %q, want %s; isError %v %q", args, paths, want, res.IsError, text)
			}
			return
		}
		lat, lon, valid := validCoordinates(args)
		if !valid {
			if len(paths) != 0 || !res.IsError {
				t.Fatalf("get_forecast(%s) is invalid: got upstream %q, isError %v %q", args, paths, res.IsError, text)
			}
			return
		}
		if res.IsError || len(paths) != 2 {
			t.Fatalf("get_forecast(%s): upstream %q, isError %v %q", args, paths, res.IsError, text)
		}
		m := pointPath.FindStringSubmatch(paths[0])
		if m == nil {
			t.Fatalf("get_forecast(%s): upstream path %q", args, paths[0])
		}
		gotLat, _ := strconv.ParseFloat(m[1], 64)
		gotLon, _ := strconv.ParseFloat(m[2], 64)
		if math.Abs(gotLat-lat) > 0.00005+1e-9 || math.Abs(gotLon-lon) > 0.00005+1e-9 {
			t.Fatalf("get_forecast(%s): upstream asked for %v,%v", args, gotLat, gotLon)
		}
	})
}
