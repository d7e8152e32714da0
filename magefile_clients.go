//go:build mage

package main

// MCP clients we did not write, pinned in clients/ (package.json and
// package-lock.json): the MCP conformance suite, the official TypeScript SDK
// and the MCP Inspector, on the Node 22 binary of the npm package "node".
// e2e/clients_test.go runs them against every server; this file installs
// them and runs those tests. The install check (a hash of package.json,
// package-lock.json and the platform in node_modules/.lock-hash) is the same
// as the test's, so whichever runs first installs for the other.

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

	"github.com/magefile/mage/mg"
)

const (
	clientsFolder = "clients"
	// clientsSkipVar, set to 1, skips the Node client checks (for machines
	// without Node; CI has it).
	clientsSkipVar = "MCP_SKIP_NODE_CLIENTS"
	clientsHint    = "install Node.js and npm (Debian/Ubuntu: sudo apt-get install nodejs npm; otherwise https://nodejs.org), " +
		"or set " + clientsSkipVar + "=1 to skip the MCP client checks"
)

// Clients runs the conformance suite, the TypeScript SDK client and the
// Inspector CLI against every server.
func Clients(ctx context.Context) error {
	if os.Getenv(clientsSkipVar) == "1" {
		fmt.Printf("==> %s=1: skipping the MCP client checks\n", clientsSkipVar)
		return nil
	}
	mg.CtxDeps(ctx, ClientsSetup)
	fmt.Println("==> MCP clients against every server: conformance suite, TypeScript SDK, Inspector CLI (-race)")
	s, err := goTestJSON(ctx, "test", "-race", "-count=1", "-json", "-tags", "e2e", "-timeout", "10m", "-run", "^TestClients$", "./e2e/")
	for _, sk := range s.Skips {
		fmt.Println("skipped:", sk)
	}
	fmt.Println(s.String())
	if err != nil || !s.OK() {
		return fmt.Errorf("MCP client checks failed (details above; rerun with: go test -race -count=1 -tags e2e -run TestClients -v ./e2e/)")
	}
	return nil
}

// ClientsSetup installs the pinned MCP clients in clients/ with npm ci,
// unless node_modules already matches package-lock.json. Test calls it
// before the end-to-end tests, which include the client checks.
func ClientsSetup(ctx context.Context) error {
	if os.Getenv(clientsSkipVar) == "1" {
		return nil
	}
	dir, err := filepath.Abs(clientsFolder)
	if err != nil {
		return err
	}
	want, err := clientsInstallHash(dir)
	if err != nil {
		return err
	}
	cache := filepath.Join(dir, ".npm-cache")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return err
	}
	unlock, err := clientsInstallLock(ctx, filepath.Join(cache, "install.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	marker := filepath.Join(dir, "node_modules", ".lock-hash")
	if got, err := os.ReadFile(marker); err == nil && strings.TrimSpace(string(got)) == want && clientsNodeInstalled(dir) {
		return nil
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not on PATH; the MCP client checks need it to install clients/: %s", tool, clientsHint)
		}
	}
	fmt.Println("==> npm ci in clients/ (pinned conformance suite, TypeScript SDK, Inspector and Node 22; cached in clients/.npm-cache)")
	start := time.Now()
	if err := run(ctx, dir, []string{"npm_config_update_notifier=false"},
		"npm", "ci", "--cache", cache, "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"); err != nil {
		return fmt.Errorf("%w\n(if Node or npm is missing or broken: %s)", err, clientsHint)
	}
	if !clientsNodeInstalled(dir) {
		return errors.New("npm ci did not install the node package's binary under clients/node_modules/node/bin (were install scripts blocked? clients/package.json allowScripts must allow node)")
	}
	if err := os.WriteFile(marker, []byte(want+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Printf("    installed in %s\n", time.Since(start).Round(100*time.Millisecond))
	return nil
}

// clientsInstallHash identifies an install: the package files and the
// platform (the node package's binary is platform-specific). It must match
// clientsLockHash in e2e/clients_test.go.
func clientsInstallHash(dir string) (string, error) {
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

// clientsInstallLock takes a lock file (portable: O_EXCL) so that two
// installs never run at once; a lock older than 15 minutes is left over.
func clientsInstallLock(ctx context.Context, path string) (func(), error) {
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

func clientsNodeInstalled(dir string) bool {
	for _, p := range []string{"node_modules/node/bin/node", "node_modules/node/bin/node.exe"} {
		if fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p))); err == nil && !fi.IsDir() {
			return true
		}
	}
	return false
}
