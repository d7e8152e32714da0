package main

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/mcpfunc/mcpfunc/bench/userinfofake"
)

func TestNewCaller(t *testing.T) {
	ids, err := userinfofake.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer ids.Close()
	for _, server := range serverNames {
		for _, fresh := range []bool{false, true} {
			call := newCaller(ids, server, fresh)
			b1, h1 := call(1)
			b2, h2 := call(2)
			var req struct {
				Method string `json:"method"`
				ID     int64  `json:"id"`
			}
			if err := json.Unmarshal(b2, &req); err != nil || req.Method != "tools/call" || req.ID != 2 {
				t.Errorf("%s: body %s: %+v %v", server, b2, req, err)
			}
			if string(b1) == string(b2) {
				t.Errorf("%s: two calls share the id", server)
			}
			if server == "weather" {
				if h1 != nil || h2 != nil {
					t.Errorf("weather: headers %v", h1)
				}
				continue
			}
			if h1.Get("X-MS-CLIENT-PRINCIPAL") == "" || h1.Get("Authorization") == "" {
				t.Errorf("userinfo: headers %v lack the principal or the token", h1)
			}
			if same := h1.Get("Authorization") == h2.Get("Authorization"); same == fresh {
				t.Errorf("userinfo fresh=%v: tokens %q and %q", fresh, h1.Get("Authorization"), h2.Get("Authorization"))
			}
		}
	}
}

func TestServersFlag(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
		ok   bool
	}{
		{"weather,userinfo", []string{"weather", "userinfo"}, true},
		{"userinfo, weather,userinfo", []string{"userinfo", "weather"}, true},
		{"userinfo", []string{"userinfo"}, true},
		{"weather,nope", nil, false},
		{"", nil, false},
	} {
		o := options{duration: 5 * time.Second, warmup: time.Second, coldRuns: 1, rounds: 1, timeout: time.Minute}
		err := o.check("1", c.in)
		if (err == nil) != c.ok || c.ok && !slices.Equal(o.servers, c.want) {
			t.Errorf("-servers=%q: %v %v, want %v ok=%v", c.in, o.servers, err, c.want, c.ok)
		}
	}
	// Every config and ratio belongs to a known server and a known binary.
	for _, c := range configs {
		if !slices.Contains(serverNames, c.server) || !slices.ContainsFunc(binaries, func(b binary) bool { return b.name == c.bin && b.server == c.server }) {
			t.Errorf("config %q: server %q or binary %q unknown", c.label, c.server, c.bin)
		}
	}
	for server, rs := range ratios {
		for _, r := range rs {
			if configs[r.num].server != server || configs[r.den].server != server {
				t.Errorf("ratio %q mixes servers", r.label)
			}
		}
	}
}
