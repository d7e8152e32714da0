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
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/magefile/mage/mg"
	"github.com/mcpfunc/mcpfunc/internal/npmclients"
)

const (
	clientsFolder = "clients"
	// clientsSkipVar, set to 1, skips the Node client checks (for machines
	// without Node; CI has it).
	clientsSkipVar = "MCP_SKIP_NODE_CLIENTS"
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
	start := time.Now()
	installed, err := npmclients.Install(ctx, dir)
	if err != nil {
		return err
	}
	if installed {
		fmt.Printf("==> installed the pinned MCP clients in clients/ with npm ci in %s\n", time.Since(start).Round(100*time.Millisecond))
	}
	return nil
}
