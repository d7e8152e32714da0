package deploy

import (
	"context"
	"strings"
	"testing"
)

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]version{
		"azd version 1.26.0 (commit 0123)":   {1, 26, 0},
		"go version go1.26.8 linux/amd64":    {1, 26, 8},
		"v22.11.0":                           {22, 11, 0},
		"4.5.0":                              {4, 5, 0},
		"go version go1.26 linux/amd64":      {1, 26, 0},
		"{\n  \"azure-cli\": \"2.67.0\",\n}": {2, 67, 0},
	} {
		got, ok := parseVersion(in)
		if !ok || got != want {
			t.Errorf("parseVersion(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	if _, ok := parseVersion("dev"); ok {
		t.Error(`parseVersion("dev") ok`)
	}
	if !(version{1, 25, 9}).less("1.26.0") || (version{1, 26, 0}).less("1.26.0") || (version{2, 0, 0}).less("1.99.99") {
		t.Error("Less is wrong")
	}
}

func TestCheckFunc(t *testing.T) {
	tests := []struct {
		name    string
		script  string // empty: no func on PATH
		wantErr string // empty: usable
	}{
		{name: "not installed", wantErr: "Azure Functions Core Tools (func) is not installed"},
		{name: "new enough", script: `echo "4.5.0"`},
		{name: "newer, no patch number", script: `echo "4.6"`},
		{name: "too old", script: `echo "4.4.1"`, wantErr: "func 4.4.1 is older than 4.5.0, the first to run MCP custom handlers"},
		{name: "version unreadable", script: `echo "dev build"`, wantErr: `cannot read the func version from "dev build"`},
		{name: "version command fails", script: `echo "boom" >&2; exit 3`, wantErr: "`func --version` failed (exit status 3: boom)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scripts := map[string]string{}
			if tt.script != "" {
				scripts["func"] = tt.script
			}
			fakeTools(t, scripts)
			err := CheckFunc(context.Background())
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("CheckFunc = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("CheckFunc = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
