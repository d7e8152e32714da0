package deploy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeTool writes an executable shell script named name into dir.
func fakeTool(t *testing.T, dir, name, script string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestBuildBicep runs BuildBicep against fake compilers on a PATH that
// holds nothing else: the Bicep CLI first, the Azure CLI's bicep command
// second, and a clear ErrNoBicep without either. A failing compiler's
// diagnostics (written to stderr, as the Bicep CLI does) are in the error.
func TestBuildBicep(t *testing.T) {
	const bcp138 = "infra/app/vnet.bicep(15,7) : Error BCP138: For-expressions are not supported in this context."
	tests := []struct {
		name     string
		tools    map[string]string // name -> script body
		wantCmd  string
		wantErr  string
		noBicep  bool
		wantArgs string
	}{
		{name: "bicep ok", tools: map[string]string{"bicep": `echo "$@" > "${0%/*}/args"; echo '{}'`}, wantCmd: "bicep build", wantArgs: "build " + "ROOT/infra/main.bicep --stdout"},
		{name: "bicep error", tools: map[string]string{"bicep": `echo '` + bcp138 + `' >&2; exit 1`}, wantCmd: "bicep build", wantErr: bcp138},
		{name: "az when no bicep", tools: map[string]string{"az": `echo "$@" > "${0%/*}/args"; echo '{}'`}, wantCmd: "az bicep build --file", wantArgs: "bicep build --file ROOT/infra/main.bicep --stdout"},
		{name: "bicep preferred over az", tools: map[string]string{"bicep": `echo "$@" > "${0%/*}/args"`, "az": `exit 7`}, wantCmd: "bicep build"},
		{name: "az error", tools: map[string]string{"az": `echo 'ERROR: ' >&2; echo '` + bcp138 + `' >&2; exit 1`}, wantErr: bcp138},
		{name: "neither", noBicep: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := t.TempDir()
			root := t.TempDir()
			for name, script := range tt.tools {
				fakeTool(t, bin, name, script)
			}
			t.Setenv("PATH", bin)
			cmd, err := BuildBicep(context.Background(), root)
			if tt.noBicep {
				if !errors.Is(err, ErrNoBicep) {
					t.Fatalf("BuildBicep = %v, want ErrNoBicep", err)
				}
				return
			}
			if !strings.Contains(cmd, tt.wantCmd) {
				t.Errorf("command %q, want it to contain %q", cmd, tt.wantCmd)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("BuildBicep: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "fix infra/ first")):
				t.Fatalf("BuildBicep = %v, want the compiler's %q", err, tt.wantErr)
			}
			if tt.wantArgs != "" {
				b, err := os.ReadFile(filepath.Join(bin, "args"))
				if err != nil {
					t.Fatal(err)
				}
				if got := strings.TrimSpace(strings.ReplaceAll(string(b), root, "ROOT")); got != tt.wantArgs {
					t.Errorf("compiler args %q, want %q", got, tt.wantArgs)
				}
			}
		})
	}
}
