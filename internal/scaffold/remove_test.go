package scaffold

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpfunc/mcpfunc/internal/treehash"
	"github.com/mcpfunc/mcpfunc/internal/workspace"
)

func TestRemoveRefuses(t *testing.T) {
	root := fixture(t)
	servers, err := workspace.Servers(root)
	if err != nil {
		t.Fatal(err)
	}
	list := "they are: " + strings.Join(workspace.Names(servers), ", ")
	writeLegacy(t, root, "unhosted", legacyFiles())
	tests := []struct {
		name    string
		setup   func(t *testing.T, root string)
		wantErr string
		keep    bool // refused without Delete only
	}{
		{name: "ghost", wantErr: "there is no server servers/ghost (" + list + ")"},
		{name: "Bad_Name", wantErr: `"Bad_Name" is not a server name (` + list + ")"},
		{name: "../etc", wantErr: `"../etc" is not a server name`},
		{name: "unhosted", wantErr: "servers/unhosted is a Go module but not a server here", keep: true},
		// The root module requires weather (bench/ imports it).
		{name: "weather", wantErr: "servers/weather (module github.com/mcpfunc/mcpfunc/servers/weather) is required by go.mod"},
		{name: "userinfo", setup: func(t *testing.T, root string) {
			// Nothing requires userinfo here, but mcp.json does not parse.
			gm := readFile(t, root, "go.mod")
			os.WriteFile(filepath.Join(root, "go.mod"), []byte(strings.ReplaceAll(gm, "github.com/mcpfunc/mcpfunc/servers/userinfo", "example.com/gone")), 0o644)
			os.WriteFile(filepath.Join(root, ".vscode", "mcp.json"), []byte("{\n  // mine\n}\n"), 0o644)
		}, wantErr: "parse .vscode/mcp.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := root
			if tt.setup != nil {
				root = fixture(t)
				tt.setup(t, root)
			}
			before := snapshot(t, root)
			for _, del := range []bool{false, true} {
				if del && tt.keep {
					continue
				}
				_, err := Remove(context.Background(), root, tt.name, RemoveOptions{Delete: del})
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "nothing was changed") {
					t.Errorf("Remove(%q, delete %v) = %v, want %q and nothing was changed", tt.name, del, err, tt.wantErr)
				}
				sameFiles(t, root, before)
			}
		})
	}
}

// TestRemoveUndoesAdopt adopts a server, removes it (its module stays),
// adopts it again and removes it with Delete: each time the registry files
// and the tree are back to what they were.
func TestRemoveUndoesAdopt(t *testing.T) {
	root := fixture(t)
	original := snapshot(t, root)
	writeLegacy(t, root, "legacy", legacyFiles())
	beforeAdopt := snapshot(t, root)
	for _, del := range []bool{false, true} {
		if _, err := Adopt(context.Background(), root, "servers/legacy", Options{}); err != nil {
			t.Fatal(err)
		}
		var progress bytes.Buffer
		res, err := Remove(context.Background(), root, "legacy", RemoveOptions{Out: &progress, Delete: del})
		if err != nil {
			t.Fatalf("Remove(delete %v): %v", del, err)
		}
		for _, want := range []string{"==> unregistering servers/legacy (go tool mage sync)", "    go.work: remove use ./servers/legacy\n", "azure.yaml: remove service legacy"} {
			if !strings.Contains(progress.String(), want) {
				t.Errorf("progress lacks %q:\n%s", want, progress.String())
			}
		}
		if got, want := strings.Join(res.Sync.Files(), ","), strings.Join(workspace.RegistryFiles(), ","); got != want {
			t.Errorf("sync changed %s, want %s", got, want)
		}
		if err := workspace.CheckRegistry(root); err != nil {
			t.Errorf("CheckRegistry after Remove: %v", err)
		}
		if del {
			if !res.Deleted || len(res.Removed) > 0 {
				t.Errorf("result = %+v", res)
			}
			sameFiles(t, root, original)
		} else {
			if res.Deleted || strings.Join(res.Removed, ",") != "servers/legacy/host.json,servers/legacy/local.settings.json" {
				t.Errorf("result = %+v", res)
			}
			sameFiles(t, root, beforeAdopt)
		}
	}
	// What a remove without Delete leaves, a remove with Delete deletes.
	writeLegacy(t, root, "legacy", legacyFiles())
	res, err := Remove(context.Background(), root, "legacy", RemoveOptions{Delete: true})
	if err != nil || !res.Deleted {
		t.Fatalf("Remove(delete) of an unhosted module = %+v, %v", res, err)
	}
	sameFiles(t, root, original)
	entries, _ := os.ReadDir(filepath.Join(root, "servers"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("Remove left servers/%s", e.Name())
		}
	}
}

// TestRemoveLowersGoLine: a server whose go line raised go.work's takes
// it back down when it goes, to the highest go line of the modules left.
func TestRemoveLowersGoLine(t *testing.T) {
	root := fixture(t)
	before := snapshot(t, root)
	gw := readFile(t, root, workspace.GoWorkFile)
	w, err := workspace.ParseGoWork([]byte(gw))
	if err != nil {
		t.Fatal(err)
	}
	writeLegacy(t, root, "newer", map[string]string{
		"go.mod":              "module example.com/newer\n\ngo 1.99.1\n",
		"host.json":           string(hostJSON(8099)),
		"local.settings.json": string(localSettingsJSON(7099)),
	})
	if _, err := workspace.Sync(root, workspace.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	if w2, _ := workspace.ParseGoWork([]byte(readFile(t, root, workspace.GoWorkFile))); w2.Go != "1.99.1" {
		t.Fatalf("go.work's go line after the sync: %s, want 1.99.1", w2.Go)
	}
	res, err := Remove(context.Background(), root, "newer", RemoveOptions{Delete: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.GoWorkGo != [2]string{"1.99.1", w.Go} {
		t.Errorf("GoWorkGo = %v, want 1.99.1 -> %s", res.GoWorkGo, w.Go)
	}
	if after := snapshot(t, root); !maps.Equal(before, after) {
		for _, d := range treehash.Diff(before, after) {
			t.Error(d)
		}
	}
}
