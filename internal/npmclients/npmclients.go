// Package npmclients installs the pinned MCP clients of clients/ (the
// conformance suite, the TypeScript SDK, the Inspector and a Node 22
// binary) with npm ci, once per lockfile: the magefile and the end-to-end
// tests both call Install, so whichever runs first installs for the other.
package npmclients

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Hint says what to do when Node or npm is missing.
const Hint = "install Node.js and npm (Debian/Ubuntu: sudo apt-get install nodejs npm; otherwise https://nodejs.org), " +
	"or set MCP_SKIP_NODE_CLIENTS=1 to skip the MCP client checks"

// Install runs npm ci in dir (the clients/ folder) unless node_modules
// already matches package.json, package-lock.json and the platform. It
// reports whether it installed. Concurrent installs take turns through a
// lock file in dir/.npm-cache, which is also npm's cache.
func Install(ctx context.Context, dir string) (installed bool, err error) {
	want, err := lockHash(dir)
	if err != nil {
		return false, err
	}
	cache := filepath.Join(dir, ".npm-cache")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return false, err
	}
	unlock, err := lock(ctx, filepath.Join(cache, "install.lock"))
	if err != nil {
		return false, err
	}
	defer unlock()
	marker := filepath.Join(dir, "node_modules", ".lock-hash")
	if got, err := os.ReadFile(marker); err == nil && strings.TrimSpace(string(got)) == want {
		if _, err := NodeBinary(dir); err == nil {
			return false, nil
		}
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return false, fmt.Errorf("%s is not on PATH, so the pinned clients in %s cannot be installed: %s", tool, dir, Hint)
		}
	}
	cmd := exec.CommandContext(ctx, "npm", "ci", "--cache", cache, "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "npm_config_update_notifier=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		return false, fmt.Errorf("npm ci in %s: %w\n%s\n(if Node or npm is missing or broken: %s)", dir, err, out, Hint)
	}
	if _, err := NodeBinary(dir); err != nil {
		return false, fmt.Errorf("npm ci in %s did not install the node package's binary (were install scripts blocked? clients/package.json allowScripts must allow node): %w", dir, err)
	}
	if err := os.WriteFile(marker, []byte(want+"\n"), 0o644); err != nil {
		return false, err
	}
	return true, nil
}

// NodeBinary finds the binary of the npm package "node" under dir.
func NodeBinary(dir string) (string, error) {
	for _, p := range []string{"node_modules/node/bin/node", "node_modules/node/bin/node.exe"} {
		p = filepath.Join(dir, filepath.FromSlash(p))
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Node binary under %s", filepath.Join(dir, "node_modules", "node", "bin"))
}

// lockHash identifies an install: the package files and the platform (the
// node package's binary is platform-specific).
func lockHash(dir string) (string, error) {
	h := sha256.New()
	for _, name := range []string{"package.json", "package-lock.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", name, len(b))
		h.Write(b)
	}
	fmt.Fprintf(h, "%s/%s\n", runtime.GOOS, runtime.GOARCH)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// lock takes a lock file (portable: O_EXCL), waiting for another holder; a
// lock older than 15 minutes is taken to be left over.
func lock(ctx context.Context, path string) (func(), error) {
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintf(f, "%d\n", os.Getpid())
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		if fi, err := os.Stat(path); err == nil && time.Since(fi.ModTime()) > 15*time.Minute {
			os.Remove(path)
			continue
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %s (another npm ci?): %w", path, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
