package deploy

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mcpfunc/mcpfunc/internal/workspace"
)

// repoRoot is the repository root, from this package's folder.
const repoRoot = "../.."

// TestEveryServerDeploysItsOwnVersions checks, for every server under
// servers/, that azd's workspace build and the module's own GOWORK=off
// build select the same module versions, so the binary tested on its own
// is the binary deployed.
func TestEveryServerDeploysItsOwnVersions(t *testing.T) {
	servers, err := workspace.Servers(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	if len(servers) == 0 {
		t.Fatal("no servers under servers/")
	}
	for _, s := range servers {
		t.Run(s.Name, func(t *testing.T) {
			if err := CheckVersionsExplicit(context.Background(), s.Dir); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestCheckVersionsExplicitFindsDrift builds a workspace in which one
// module needs a newer golang.org/x/sync than another module's go.mod
// names: the workspace build of the older module then uses the newer
// version, and the check must say so and name the fix.
func TestCheckVersionsExplicitFindsDrift(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs the go command and the module cache")
	}
	ctx := context.Background()
	root := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const mainSrc = "package main\n\nimport \"golang.org/x/sync/errgroup\"\n\nfunc main() { var g errgroup.Group; _ = g.Wait() }\n"
	write("old/go.mod", "module example.com/old\n\ngo 1.26.0\n\nrequire golang.org/x/sync v0.20.0\n")
	write("old/main.go", mainSrc)
	write("new/go.mod", "module example.com/new\n\ngo 1.26.0\n\nrequire golang.org/x/sync v0.25.0\n")
	write("new/main.go", mainSrc)
	write("go.work", "go 1.26.0\n\nuse (\n\t./old\n\t./new\n)\n")
	for _, d := range []string{"old", "new"} {
		cmd := exec.CommandContext(ctx, "go", "mod", "tidy")
		cmd.Dir = filepath.Join(root, d)
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go mod tidy in %s: %v\n%s", d, err, out)
		}
	}

	err := CheckVersionsExplicit(ctx, filepath.Join(root, "old"))
	if err == nil {
		t.Fatal("CheckVersionsExplicit(old) = nil, want the x/sync drift")
	}
	for _, want := range []string{"golang.org/x/sync v0.25.0 in the workspace build (what azd deploys), v0.20.0 in the module's own go.mod (GOWORK=off)", "go work sync"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if err := CheckVersionsExplicit(ctx, filepath.Join(root, "new")); err != nil {
		t.Errorf("CheckVersionsExplicit(new) = %v, want nil", err)
	}

	// The package binary records the workspace's versions: what azd deploys.
	bin := filepath.Join(t.TempDir(), "app")
	if err := BuildDeployable(ctx, filepath.Join(root, "old"), bin, false); err != nil {
		t.Fatal(err)
	}
	got, err := BinaryModules(bin)
	if err != nil {
		t.Fatal(err)
	}
	if got["golang.org/x/sync"] != "v0.25.0" {
		t.Errorf("package binary has x/sync %q, want v0.25.0 (the workspace's)", got["golang.org/x/sync"])
	}
}

func TestModulesDiff(t *testing.T) {
	tests := []struct {
		name string
		a, b Modules
		want []string
	}{
		{"equal", Modules{"x": "v1"}, Modules{"x": "v1"}, nil},
		{"both empty", Modules{}, Modules{}, nil},
		{"version differs", Modules{"x": "v2"}, Modules{"x": "v1"}, []string{"x v2 in A, v1 in B"}},
		{"only in a", Modules{"x": "v1", "y": "v1"}, Modules{"x": "v1"}, []string{"y v1 in A, absent from B"}},
		{"only in b", Modules{}, Modules{"z": "v3"}, []string{"z v3 in B, absent from A"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Diff("A", tt.b, "B"); !slices.Equal(got, tt.want) {
				t.Errorf("Diff = %q, want %q", got, tt.want)
			}
		})
	}
}
