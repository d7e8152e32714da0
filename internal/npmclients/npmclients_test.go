package npmclients

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

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
	bin := filepath.Join(dir, "node_modules", "node", "bin")
	os.MkdirAll(bin, 0o755)
	os.WriteFile(filepath.Join(bin, "node"), []byte("#!/bin/sh\n"), 0o755)
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
