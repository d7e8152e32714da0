//go:build mage

package main

// Targets to add, adopt, sync and remove servers. The work is done by internal/scaffold,
// where it is tested; these targets print progress and what to do next.

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/mcpfunc/mcpfunc/internal/scaffold"
	"github.com/mcpfunc/mcpfunc/internal/workspace"
)

// New scaffolds servers/NAME, a new MCP server on shared/hosting with an example tool, and registers it everywhere (sync).
func New(ctx context.Context, name string) error {
	res, err := scaffold.New(ctx, ".", name, scaffold.Options{Out: os.Stdout})
	if err != nil {
		return err
	}
	printResult(res)
	fmt.Println("Next:")
	printSteps(
		"go test ./"+res.Dir+"/...", "the example tool's test",
		"go tool mage dev", fmt.Sprintf("run every server; %s on http://localhost:%d/mcp", res.Name, res.DevPort),
		"edit "+res.Dir+"/tools/tools.go", "add your tools",
		"azd up", "provision its Function app and deploy (a new server needs provisioning once)",
	)
	return nil
}

// printSteps prints command, explanation pairs in two aligned columns.
func printSteps(pairs ...string) {
	width := 0
	for i := 0; i < len(pairs); i += 2 {
		width = max(width, len(pairs[i]))
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		fmt.Printf("  %-*s  %s\n", width, pairs[i], pairs[i+1])
	}
}

// Adopt hosts an existing Go MCP server module in servers/NAME without code changes and registers it (sync); it probes the server first (-args='...' for host.json arguments, -port=N to force the port).
func Adopt(ctx context.Context, dir string,
	// customHandler.port; adopt finds the port the server listens on by itself, so this is rarely needed
	port *int,
	// arguments for the server (host.json customHandler.description.arguments), e.g. -args='-http 127.0.0.1:{port}'; {port} becomes customHandler.port
	args *string,
) error {
	if strings.HasPrefix(dir, "-") {
		return adoptFlagFirst(dir)
	}
	opts := scaffold.Options{Out: os.Stdout}
	if port != nil {
		opts.HandlerPort = *port
	}
	if args != nil {
		a, err := scaffold.SplitArgs(*args)
		if err != nil {
			return fmt.Errorf("-args: %w; nothing was changed", err)
		}
		opts.Args = a
	}
	res, err := scaffold.Adopt(ctx, ".", dir, opts)
	if err != nil {
		return err
	}
	printResult(res)
	if len(res.Args) > 0 {
		fmt.Printf("    host.json arguments: %s\n", scaffold.JoinArgs(res.Args))
	}
	if len(res.GoModChanged) > 0 {
		fmt.Printf("    changed your %s/go.mod and go.sum: %d module version(s) raised to the workspace's (see above); review and commit them with the server\n", res.Dir, len(res.GoModChanged))
	}
	if len(res.Warnings) > 0 {
		fmt.Printf("%d warning(s) above: it runs as it is, but read them before you deploy.\n", len(res.Warnings))
	}
	fmt.Println("adopt did not call your tools (they may have side effects): try them locally before you deploy.")
	fmt.Println("Next:")
	printSteps(
		"go tool mage package -server="+res.Name, "build and check the zip azd deploys",
		"go tool mage dev", fmt.Sprintf("run every server; %s on http://localhost:%d/mcp", res.Name, res.DevPort),
		"azd up", "provision its Function app and deploy",
	)
	return nil
}

// adoptFlagFirst answers `mage adopt -port=N servers/x`: mage hands a
// target its positional arguments first and reads -flags only after them,
// so the first word after "adopt" is always the folder. It names the
// command in the order mage reads.
func adoptFlagFirst(first string) error {
	words := []string{first}
	// os.Args of the compiled magefile are the target and its words.
	if i := slices.IndexFunc(os.Args, func(a string) bool { return strings.EqualFold(a, "adopt") }); i >= 0 {
		words = os.Args[i+1:]
	}
	var flags, folders []string
	for _, w := range words {
		if strings.HasPrefix(w, "-") {
			flags = append(flags, w)
		} else {
			folders = append(folders, w)
		}
	}
	folder := "servers/<name>"
	if len(folders) > 0 {
		folder = folders[0]
	}
	for i, f := range flags {
		if k, v, ok := strings.Cut(f, "="); ok && strings.ContainsAny(v, " \t") {
			flags[i] = k + "='" + v + "'"
		}
	}
	return fmt.Errorf("%q is not a folder: mage reads the first word after `adopt` as the folder and its -flags after it, so put the folder first:\n  go tool mage adopt %s %s\nnothing was changed", first, folder, strings.Join(flags, " "))
}

// Sync writes go.work, azure.yaml, infra/servers.json and .vscode/{mcp,launch}.json from servers/*, keeping your edits (-dryRun only shows what it would change).
func Sync(ctx context.Context,
	// show what sync would change, write nothing
	dryRun *bool,
) error {
	servers, err := workspace.Servers(".")
	if err != nil {
		return fmt.Errorf("%w; nothing was changed", err)
	}
	fmt.Printf("==> the registry files for the servers under servers/: %s\n", strings.Join(workspace.Names(servers), ", "))
	plan, err := workspace.PlanSync(".", servers, workspace.SyncOptions{})
	if err != nil {
		return fmt.Errorf("%w; fix it, then run sync again (nothing was changed)", err)
	}
	if len(plan.Changes) == 0 {
		fmt.Printf("    nothing to change: %s register exactly these servers\n", strings.Join(workspace.RegistryFiles(), ", "))
		return nil
	}
	for _, l := range plan.Explained() {
		fmt.Printf("    %s\n", l)
	}
	if dryRun != nil && *dryRun {
		fmt.Printf("==> dry run: nothing was written (%s would change); run `%s` to write them\n", strings.Join(plan.Files(), ", "), workspace.SyncCommand)
		return nil
	}
	if err := plan.Apply(); err != nil {
		return err
	}
	fmt.Printf("==> wrote %s\n", strings.Join(plan.Files(), ", "))
	return nil
}

// Remove unregisters servers/NAME everywhere (sync); -delete also deletes its folder, else only its host.json and local.settings.json go.
func Remove(ctx context.Context, name string,
	// delete the server's folder too (otherwise only host.json and local.settings.json are removed, and the Go module stays)
	delete *bool,
) error {
	if strings.HasPrefix(name, "-") {
		return fmt.Errorf("%q is not a server name: mage reads the first word after `remove` as the name and its -flags after it, so put the name first: go tool mage remove NAME -delete; nothing was changed", name)
	}
	opts := scaffold.RemoveOptions{Out: os.Stdout, Delete: delete != nil && *delete}
	res, err := scaffold.Remove(ctx, ".", name, opts)
	if err != nil {
		return err
	}
	registered := "unregistered from " + strings.Join(res.Sync.Files(), ", ")
	if len(res.Sync.Changes) == 0 {
		registered = "it was registered nowhere"
	}
	if res.Deleted {
		fmt.Printf("==> %s is removed: %s, and its folder deleted\n", res.Dir, registered)
	} else {
		fmt.Printf("==> %s is unregistered from %s; removed %s\n", res.Dir, strings.Join(res.Sync.Files(), ", "), strings.Join(res.Removed, " and "))
		fmt.Printf("    the rest of %s is still there, a Go module outside the workspace: `go tool mage adopt %s` hosts it again, `go tool mage remove %s -delete` deletes it\n", res.Dir, res.Dir, res.Name)
	}
	if res.GoWorkGo[0] != "" {
		fmt.Printf("    go.work's go line went back from %s to %s, the highest go line of the modules left\n", res.GoWorkGo[0], res.GoWorkGo[1])
	}
	for _, w := range res.Warnings {
		fmt.Printf("warning: %s\n", w)
	}
	fmt.Printf("If it was deployed, its Function app, identity, storage and app registration are still in Azure (azd provision does not delete them): delete the resources tagged azd-service-name: %s in its resource group, and its app registration in Entra.\n", res.Name)
	return nil
}

func printResult(res *scaffold.Result) {
	fmt.Printf("==> %s is ready: local URL http://localhost:%d/mcp, customHandler.port %d\n", res.Dir, res.DevPort, res.HandlerPort)
	fmt.Printf("    wrote: %s\n", strings.Join(res.Created, ", "))
	fmt.Printf("    registered in: %s\n", strings.Join(res.Registered, ", "))
	if res.Warning != "" {
		fmt.Printf("warning: the repository's registry check reports problems (fix them before `mage test`):\n%s\n", res.Warning)
	}
}
