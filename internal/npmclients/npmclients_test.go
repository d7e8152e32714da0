package npmclients

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeNode puts an executable where NodeBinary looks on this platform.
func fakeNode(t *testing.T, dir string) {
	t.Helper()
	pkg, bin, ok := nodePackage(runtime.GOOS, runtime.GOARCH)
	if !ok {
		t.Skipf("no pinned Node binary for %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	p := filepath.Join(dir, "node_modules", pkg, filepath.FromSlash(bin))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestInstallIgnoresScripts runs Install against a fake npm that records
// its arguments and lays out what npm ci would: npm ci must be told to run
// no install scripts.
func TestInstallIgnoresScripts(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake npm is a shell script")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{}`), 0o644)
	os.WriteFile(filepath.Join(dir, "package-lock.json"), []byte(`{}`), 0o644)
	pkg, bin, ok := nodePackage(runtime.GOOS, runtime.GOARCH)
	if !ok {
		t.Skipf("no pinned Node binary for %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	tools := t.TempDir()
	node := filepath.Join("node_modules", pkg, filepath.FromSlash(bin))
	npm := "#!/bin/sh\necho \"$@\" > " + filepath.Join(tools, "args") + "\nmkdir -p " + filepath.Dir(node) + " && printf '#!/bin/sh\\n' > " + node + " && chmod +x " + node + "\n"
	os.WriteFile(filepath.Join(tools, "npm"), []byte(npm), 0o755)
	os.WriteFile(filepath.Join(tools, "node"), []byte("#!/bin/sh\n"), 0o755)
	t.Setenv("PATH", tools+string(os.PathListSeparator)+"/usr/bin"+string(os.PathListSeparator)+"/bin") // fakes first; mkdir and chmod for the fake npm
	installed, err := Install(context.Background(), dir)
	if err != nil || !installed {
		t.Fatalf("Install = %v, %v; want an install", installed, err)
	}
	b, err := os.ReadFile(filepath.Join(tools, "args"))
	if err != nil {
		t.Fatal(err)
	}
	if args := strings.Fields(string(b)); len(args) == 0 || args[0] != "ci" || !slices.Contains(args, "--ignore-scripts") {
		t.Errorf("npm %s, want npm ci --ignore-scripts", b)
	}
}

// TestLockfilePinsEveryPackage reads clients/package-lock.json: every
// package npm ci installs is fetched from a URL with an integrity hash
// (nothing left for an install script to download unchecked), the Node
// binary of every platform NodeBinary knows is one of them, and the
// clients need no install script.
func TestLockfilePinsEveryPackage(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "clients", "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	var lock struct {
		Packages map[string]struct {
			Resolved  string `json:"resolved"`
			Integrity string `json:"integrity"`
			Link      bool   `json:"link"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(b, &lock); err != nil {
		t.Fatal(err)
	}
	for path, p := range lock.Packages {
		if path == "" || p.Link {
			continue
		}
		if p.Resolved == "" || !strings.HasPrefix(p.Integrity, "sha512-") {
			t.Errorf("%s: resolved %q integrity %q; every package needs a sha512 integrity hash", path, p.Resolved, p.Integrity)
		}
	}
	for _, pl := range [][2]string{{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "amd64"}, {"windows", "amd64"}} {
		pkg, _, ok := nodePackage(pl[0], pl[1])
		if !ok {
			t.Errorf("nodePackage(%s, %s) knows no package", pl[0], pl[1])
			continue
		}
		if _, ok := lock.Packages["node_modules/"+pkg]; !ok {
			t.Errorf("the lockfile has no %s, the Node binary NodeBinary uses on %s/%s", pkg, pl[0], pl[1])
		}
	}
	if _, ok := lock.Packages["node_modules/node"]; ok {
		t.Error(`the lockfile has the "node" package, whose install script downloads the binary outside the lockfile`)
	}
}

func TestLockHash(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := lockHash(dir); err == nil {
		t.Fatal("lockHash without package files: want an error")
	}
	write("package.json", `{"a":1}`)
	write("package-lock.json", `{"b":2}`)
	h1, err := lockHash(dir)
	if err != nil {
		t.Fatal(err)
	}
	write("package-lock.json", `{"b":3}`)
	h2, _ := lockHash(dir)
	if h1 == h2 {
		t.Fatal("changing the lockfile did not change the hash")
	}
}

func TestInstallSkipsWhenCurrent(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{}`), 0o644)
	os.WriteFile(filepath.Join(dir, "package-lock.json"), []byte(`{}`), 0o644)
	fakeNode(t, dir)
	h, _ := lockHash(dir)
	os.WriteFile(filepath.Join(dir, "node_modules", ".lock-hash"), []byte(h+"\n"), 0o644)
	t.Setenv("PATH", "") // npm must not be needed
	installed, err := Install(context.Background(), dir)
	if err != nil || installed {
		t.Fatalf("Install = %v, %v; want no install", installed, err)
	}
	// A stale marker needs npm, which is missing: a clear error.
	os.WriteFile(filepath.Join(dir, "node_modules", ".lock-hash"), []byte("stale\n"), 0o644)
	if _, err := Install(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "apt-get install nodejs npm") {
		t.Fatalf("Install with a stale marker and no npm = %v, want the install hint", err)
	}
}

func TestLockWaitsAndExpires(t *testing.T) {
	path := filepath.Join(t.TempDir(), "install.lock")
	unlock, err := lock(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := lock(ctx, path); err == nil {
		t.Fatal("second lock while held: want a wait that ends with the context")
	}
	unlock()
	// A lock left over from a crashed run is taken after 15 minutes.
	os.WriteFile(path, []byte("1\n"), 0o644)
	old := time.Now().Add(-16 * time.Minute)
	os.Chtimes(path, old, old)
	unlock, err = lock(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
}

func TestPinned(t *testing.T) {
	tests := []struct {
		name, packageJSON, pkg, want, wantErr string
	}{
		{"pinned", `{"dependencies": {"mcp-remote": "0.1.49"}}`, "mcp-remote", "0.1.49", ""},
		{"not pinned", `{"dependencies": {"other": "1.0.0"}}`, "mcp-remote", "", "pins no mcp-remote"},
		{"only optional", `{"optionalDependencies": {"mcp-remote": "0.1.49"}}`, "mcp-remote", "", "pins no mcp-remote"},
		{"not JSON", `{`, "mcp-remote", "", "package.json"},
		{"no file", "", "mcp-remote", "", "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.packageJSON != "" {
				if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(tt.packageJSON), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := Pinned(dir, tt.pkg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Pinned = %q, %v; want an error with %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Pinned = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
