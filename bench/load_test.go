package main

import (
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0.1, time.Millisecond}} {
		if got := percentile(d, c.p); got != c.want {
			t.Errorf("percentile(1..100 ms, %v) = %v, want %v", c.p, got, c.want)
		}
	}
	if got := percentile([]time.Duration{7}, 99); got != 7 {
		t.Errorf("percentile of one value = %v, want 7", got)
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile of none = %v, want 0", got)
	}
}

func TestCheckToolResult(t *testing.T) {
	for _, c := range []struct {
		status  int
		body    string
		wantErr string // "" for success
	}{
		{200, `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ok"}]}}`, ""},
		{200, `{"jsonrpc":"2.0","id":1,"result":{"content":[],"isError":true}}`, "tool error"},
		{200, `{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"unknown tool"}}`, "-32602"},
		{200, `{"jsonrpc":"2.0","id":1}`, "no result"},
		{200, `event: message`, "not JSON-RPC"},
		{400, `bad`, "HTTP 400"},
	} {
		err := checkToolResult(c.status, []byte(c.body))
		if c.wantErr == "" && err != nil || c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
			t.Errorf("checkToolResult(%d, %s) = %v, want error containing %q", c.status, c.body, err, c.wantErr)
		}
	}
}
