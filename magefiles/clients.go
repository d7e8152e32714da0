//go:build mage

package main

// MCP clients we did not write, pinned in clients/ (package.json and
// package-lock.json): the MCP conformance suite, the official TypeScript SDK,
// the MCP Inspector and mcp-remote, on the Node 22 binary of the npm package
// "node". e2e/clients_test.go runs them against every server; this file
// installs them and runs those tests, and prints the configuration that
// connects each client to each server (internal/clientcfg). The install check (a hash of package.json,
// package-lock.json and the platform in node_modules/.lock-hash) is the same
// as the test's, so whichever runs first installs for the other.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/magefile/mage/mg"
	"github.com/mcpfunc/mcpfunc/internal/clientcfg"
	"github.com/mcpfunc/mcpfunc/internal/deployment"
	"github.com/mcpfunc/mcpfunc/internal/funchost"
	"github.com/mcpfunc/mcpfunc/internal/npmclients"
	"github.com/mcpfunc/mcpfunc/internal/workspace"
)

const (
	clientsFolder = "clients"
	// clientsSkipVar, set to 1, skips the Node client checks (for machines
	// without Node; CI has it).
	clientsSkipVar = "MCP_SKIP_NODE_CLIENTS"
)

// ClientsCheck runs the conformance suite, the TypeScript SDK client and the
// Inspector CLI against every server.
func ClientsCheck(ctx context.Context) error {
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

// Clients prints ready-to-paste configuration connecting VS Code, Claude Desktop (mcp-remote), Cursor, Claude Code, a Foundry agent and curl to every server: local (mage dev), or deployed with -env=NAME (azd env get-values); -server=a,b and -client=x,y keep some; -clientid= fills in the Entra public client; -readme rewrites README's recipes.
func Clients(ctx context.Context,
	// the azd environment whose deployed servers to print (default: the local servers of mage dev)
	env *string,
	// comma-separated servers to print (default: all)
	server *string,
	// comma-separated clients to print: vscode, claude-desktop, cursor, claude-code, foundry, curl (default: all)
	client *string,
	// the client ID of your public client app registration, for the Entra recipes
	clientid *string,
	// rewrite README.md's client recipes instead of printing
	readme *bool,
) error {
	if readme != nil && *readme {
		b, err := os.ReadFile("README.md")
		if err != nil {
			return err
		}
		out, err := clientcfg.UpdateReadme(b)
		if err != nil {
			return err
		}
		if string(out) == string(b) {
			fmt.Println("README.md's client recipes are up to date")
			return nil
		}
		if err := workspace.WriteFileAtomic("README.md", out, 0o644); err != nil {
			return err
		}
		fmt.Println("rewrote README.md's client recipes")
		return nil
	}
	var servers []clientcfg.Server
	var err error
	if env != nil {
		if *env == "" {
			return errors.New("-env needs the name of an azd environment (azd env list shows them)")
		}
		servers, err = deployedRecipeServers(ctx, *env)
	} else {
		servers, err = localRecipeServers()
	}
	if err != nil {
		return err
	}
	if server != nil {
		if servers, err = pickServers(servers, func(s clientcfg.Server) string { return s.Name }, *server); err != nil {
			return fmt.Errorf("-server: %w", err)
		}
	}
	if clientid != nil {
		for i := range servers {
			servers[i].ClientID = *clientid
		}
	}
	var clients []string
	if client != nil {
		clients = splitList(*client)
	}
	return clientcfg.WriteText(os.Stdout, servers, clients)
}

// localRecipeServers describes the servers as `mage dev` serves them: a
// server whose host requires keys (host.json, or the app setting in
// local.settings.json) with its local key; one whose local.settings.json
// sets MCP_AUTH=entra as Entra; the others anonymous.
func localRecipeServers() ([]clientcfg.Server, error) {
	all, err := loadServers()
	if err != nil {
		return nil, err
	}
	levels, err := devAuthLevels(all)
	if err != nil {
		return nil, err
	}
	keys, err := localKeys(all, levels)
	if err != nil {
		return nil, err
	}
	var out []clientcfg.Server
	for _, s := range all {
		c := clientcfg.Server{Name: s.Name, URL: s.MCPURL(), Auth: clientcfg.Anonymous}
		switch {
		case levels[s.Name] == funchost.Admin:
			c.Auth, c.Key = clientcfg.Key, keys[s.Name].Master
		case levels[s.Name] != funchost.Anonymous:
			c.Auth, c.Key = clientcfg.Key, keys[s.Name].Function
		case strings.EqualFold(s.Settings["MCP_AUTH"], "entra"):
			c.Auth, c.Scope = clientcfg.Entra, firstOf(splitList(s.Settings["MCP_AUTH_SCOPES"]))
		}
		out = append(out, c)
	}
	return out, nil
}

// deployedRecipeServers describes the servers deployed in azd environment
// env, from its outputs.
func deployedRecipeServers(ctx context.Context, env string) ([]clientcfg.Server, error) {
	out, err := deployment.Read(ctx, ".", env, func(string) (string, bool) { return "", false })
	if err != nil {
		return nil, err
	}
	if len(out.Servers) == 0 {
		return nil, fmt.Errorf("SERVERS of %s lists no servers: run azd provision first", out.Describe())
	}
	var servers []clientcfg.Server
	for _, s := range out.Servers {
		servers = append(servers, clientcfg.Server{
			Name: s.Name, URL: s.URL(), Auth: s.Mode(), Deployed: true,
			KeyCommand: s.KeyCommand(), Scope: s.DelegatedScope(),
		})
	}
	return servers, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func firstOf(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[0]
}
