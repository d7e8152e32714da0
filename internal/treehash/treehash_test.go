package treehash

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestSnapshotAndDiff(t *testing.T) {
	tests := []struct {
		name   string
		change func(root string) error
		want   []string
	}{
		{name: "nothing", change: func(string) error { return nil }},
		{name: "file changed", change: func(root string) error {
			return os.WriteFile(filepath.Join(root, "a.txt"), []byte("A"), 0o644)
		}, want: []string{"changed or removed: a.txt"}},
		{name: "file removed", change: func(root string) error {
			return os.Remove(filepath.Join(root, "sub", "b.txt"))
		}, want: []string{"changed or removed: sub/b.txt"}},
		{name: "file and folder created", change: func(root string) error {
			if err := os.Mkdir(filepath.Join(root, "new"), 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(root, "new", "c.txt"), nil, 0o644)
		}, want: []string{"created: new/", "created: new/c.txt"}},
		{name: "same bytes rewritten", change: func(root string) error {
			return os.WriteFile(filepath.Join(root, "a.txt"), []byte("a"), 0o600)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			if err := os.Mkdir(filepath.Join(root, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			for f, body := range map[string]string{"a.txt": "a", "sub/b.txt": "b"} {
				if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(f)), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			before, err := Snapshot(root)
			if err != nil {
				t.Fatal(err)
			}
			if before["sub/"] != "dir" || len(before["a.txt"]) != 64 || len(before) != 4 {
				t.Fatalf("snapshot %v: want ./, sub/, a.txt and sub/b.txt", before)
			}
			if err := tt.change(root); err != nil {
				t.Fatal(err)
			}
			after, err := Snapshot(root)
			if err != nil {
				t.Fatal(err)
			}
			if got := Diff(before, after); !slices.Equal(got, tt.want) {
				t.Errorf("Diff = %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := Snapshot(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("Snapshot of a missing folder: no error")
	}
}
