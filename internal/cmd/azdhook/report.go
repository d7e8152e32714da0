package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/mcpfunc/mcpfunc/internal/deployment"

	"github.com/mcpfunc/mcpfunc/internal/workspace"
)

// printServers writes the table of servers: name, MCP URL and auth. It
// prints nothing from the environment but SERVERS' public fields.
func printServers(w io.Writer, out deployment.Outputs) {
	fmt.Fprintf(w, "MCP servers of %s (%s, from %s):\n\n", out.Describe(), deployment.ServersOutput, out.From)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  SERVER\tMCP URL\tAUTH")
	for _, s := range out.Servers {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Name, s.URL(), authText(s))
	}
	tw.Flush()
}

// authText describes how a server authenticates its callers.
func authText(s deployment.Server) string {
	switch s.Mode() {
	case workspace.AuthKey:
		return fmt.Sprintf("function key (%s header): %s", workspace.FunctionKeyHeader, s.KeyCommand())
	case workspace.AuthAnonymous:
		return "anonymous (no sign-in)"
	}
	if scope := s.DelegatedScope(); scope != "" {
		return fmt.Sprintf("Easy Auth: Entra app %s, scope %s", s.ApplicationID, scope)
	}
	return fmt.Sprintf("Easy Auth: Entra app %s", s.ApplicationID)
}

// printConnect writes one line per server telling how to connect to it,
// and what became of .vscode/mcp.json.
func printConnect(w io.Writer, servers []deployment.Server, results map[string]result, dryRun bool) {
	fmt.Fprintln(w, "\nConnect:")
	changed := 0
	for _, s := range servers {
		r := results[s.Name]
		key := workspace.MCPRemoteName(s.Name)
		signIn := ""
		switch {
		case s.Mode() == workspace.AuthEntra:
			signIn = "; VS Code signs you in with your Microsoft account"
		case s.Mode() == workspace.AuthKey:
			signIn = "; VS Code asks for its function key, which the command above prints"
		}
		switch r.state {
		case pointed:
			changed++
			verb := "now points"
			if dryRun {
				verb = "would point"
			}
			was := ""
			if _, ok := workspace.MCPRemoteHost(r.url); ok {
				was = ", instead of " + r.url
			}
			fmt.Fprintf(w, "  %s: in VS Code start %s from the MCP view (%s %s it at %s%s)%s.\n", s.Name, key, mcpJSONFile, verb, s.URL(), was, signIn)
		case already:
			fmt.Fprintf(w, "  %s: in VS Code start %s from the MCP view (%s already points it at %s)%s.\n", s.Name, key, mcpJSONFile, s.URL(), signIn)
		case missing:
			fmt.Fprintf(w, "  %s: %s has no %s entry; add \"%s\": {\"type\": \"http\", \"url\": %q} to its \"servers\", or point any MCP client at %s.\n", s.Name, mcpJSONFile, key, key, s.URL(), s.URL())
		case custom:
			fmt.Fprintf(w, "  %s: %s's %s has url %q, which this hook leaves alone; set it to %q to use this deployment.\n", s.Name, mcpJSONFile, key, r.url, s.URL())
		}
	}
	fmt.Fprintln(w, "  Other MCP clients: streamable HTTP at the MCP URL; an Easy Auth app answers 401 with protected resource metadata naming its scope.")
	for _, s := range servers {
		if s.Mode() == workspace.AuthKey {
			fmt.Fprintf(w, "  A function key app (%s) answers 401 unless the request sends its key in the %s header.\n", s.Name, workspace.FunctionKeyHeader)
		}
	}
	switch {
	case changed == 0:
		fmt.Fprintf(w, "%s is up to date.\n", mcpJSONFile)
	case dryRun:
		fmt.Fprintf(w, "Dry run: %s not written.\n", mcpJSONFile)
	default:
		fmt.Fprintf(w, "Updated %s (%d %s); `git checkout %s` brings back the host name prompts.\n", mcpJSONFile, changed, plural(changed, "entry", "entries"), mcpJSONFile)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
