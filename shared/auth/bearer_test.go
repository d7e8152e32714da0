package auth

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfunc/mcpfunc/shared/auth/authtest"
)

func TestBearerToken(t *testing.T) {
	tests := []struct {
		name    string
		values  []string
		want    string
		wantErr error
	}{
		{"no header", nil, "", ErrNoBearerToken},
		{"empty", []string{""}, "", ErrNoBearerToken},
		{"blank", []string{"   "}, "", ErrNoBearerToken},
		{"bearer", []string{"Bearer abc.def.ghi"}, "abc.def.ghi", nil},
		{"lower-case scheme", []string{"bearer abc"}, "abc", nil},
		{"upper-case scheme", []string{"BEARER abc"}, "abc", nil},
		{"b64token chars", []string{"Bearer a-b_c.d~e+f/g=="}, "a-b_c.d~e+f/g==", nil},
		{"outer spaces", []string{"  Bearer abc  "}, "abc", nil},
		{"scheme only", []string{"Bearer"}, "", errMalformedBearerToken},
		{"scheme and space", []string{"Bearer "}, "", errMalformedBearerToken},
		{"basic", []string{"Basic dXNlcjpwYXNz"}, "", errMalformedBearerToken},
		{"two tokens", []string{"Bearer a b"}, "", errMalformedBearerToken},
		{"no scheme", []string{"abc.def.ghi"}, "", errMalformedBearerToken},
		{"comma", []string{"Bearer a,b"}, "", errMalformedBearerToken},
		{"only padding", []string{"Bearer =="}, "", errMalformedBearerToken},
		{"padding inside", []string{"Bearer a=b"}, "", errMalformedBearerToken},
		{"two headers", []string{"Bearer a", "Bearer b"}, "", errMalformedBearerToken},
		{"bearer prefix glued", []string{"Bearerabc"}, "", errMalformedBearerToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.values {
				h.Add("Authorization", v)
			}
			got, err := BearerToken(h)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("BearerToken() error = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("BearerToken() = %q, want %q", got, tt.want)
			}
			if err != nil && len(tt.values) > 0 && tt.values[0] != "" && authtest.ContainsAny(err.Error(), "abc", "dXNlcjpwYXNz") {
				t.Fatalf("error %q echoes the header", err)
			}
		})
	}
	if _, err := BearerToken(nil); !errors.Is(err, ErrNoBearerToken) {
		t.Fatalf("nil header: %v", err)
	}
}

func TestRequestHeader(t *testing.T) {
	if h := RequestHeader(nil); h != nil {
		t.Fatalf("nil request: %v", h)
	}
	var typedNil *mcp.CallToolRequest
	if h := RequestHeader(typedNil); h != nil {
		t.Fatalf("typed nil request: %v", h)
	}
	if h := RequestHeader(&mcp.CallToolRequest{}); h != nil {
		t.Fatalf("nil Extra: %v", h)
	}
	want := http.Header{"Authorization": {"Bearer x"}}
	if h := RequestHeader(&mcp.CallToolRequest{Extra: &mcp.RequestExtra{Header: want}}); h.Get("Authorization") != "Bearer x" {
		t.Fatalf("got %v", h)
	}
}

// TestRequestHeaderInMemory runs a tool over in-memory transports, where
// req.Extra is nil, and checks the helpers degrade to "no token".
func TestRequestHeaderInMemory(t *testing.T) {
	ctx := context.Background()
	s := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	var gotErr error
	mcp.AddTool(s, &mcp.Tool{Name: "who"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, struct{}, error) {
		_, gotErr = BearerToken(RequestHeader(req))
		return nil, struct{}{}, nil
	})
	ct, st := mcp.NewInMemoryTransports()
	ss, err := s.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "who", Arguments: map[string]any{}}); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(gotErr, ErrNoBearerToken) {
		t.Fatalf("in-memory: %v", gotErr)
	}
}
