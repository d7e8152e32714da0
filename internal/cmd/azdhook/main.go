// Command azdhook is azure.yaml's postprovision and postdeploy hook. It
// reads the SERVERS output of infra/main.bicep, prints each server's MCP
// URL and how it authenticates, and points the <name>-remote entries of
// .vscode/mcp.json at the deployed host names instead of the
// ${input:<name>-host} prompt.
//
//	go run ./internal/cmd/azdhook [-C dir] [-e environment] [-dry-run]
//
// As a hook it needs no azd call: azd runs project hooks in the project
// folder with the environment's values as environment variables (SERVERS
// among them). Run by hand, or with -e, it asks `azd env get-values`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/mcpfunc/mcpfunc/internal/deployment"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "azdhook:", err)
		os.Exit(1)
	}
}

// run is the whole command; lookupEnv reads the process environment.
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("azdhook", flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("C", ".", "the repository `folder` (azure.yaml, .vscode/mcp.json)")
	envName := fs.String("e", "", "read this azd `environment` with `azd env get-values` instead of the hook's environment variables")
	dryRun := fs.Bool("dry-run", false, "print what would change in .vscode/mcp.json without writing it")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./internal/cmd/azdhook [-C folder] [-e environment] [-dry-run]")
		fmt.Fprintln(stderr, "Prints each deployed MCP server's URL and auth and points .vscode/mcp.json's <name>-remote entries at them.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	out, err := deployment.Read(ctx, *root, *envName, lookupEnv)
	if err != nil {
		return err
	}
	servers := out.Servers
	if len(servers) == 0 {
		fmt.Fprintf(stdout, "%s of %s lists no servers: nothing to print or write.\n", deployment.ServersOutput, out.Describe())
		return nil
	}
	printServers(stdout, out)

	mcpPath := filepath.Join(*root, filepath.FromSlash(mcpJSONFile))
	src, err := os.ReadFile(mcpPath)
	if errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stdout, "\nNo %s in %s: connect any MCP client (streamable HTTP) to the URLs above.\n", mcpJSONFile, *root)
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", mcpJSONFile, err)
	}
	results, err := updateMCPJSONFile(mcpPath, src, servers, *dryRun)
	if err != nil {
		return err
	}
	printConnect(stdout, servers, results, *dryRun)
	return nil
}
