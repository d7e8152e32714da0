package clientcfg

import (
	"fmt"
	"strings"

	"github.com/mcpfunc/mcpfunc/internal/workspace"
)

// entryName is the server's name in a client's configuration: the same
// <name>-local / <name>-remote as .vscode/mcp.json.
func (s Server) entryName() string {
	if s.Deployed {
		return workspace.MCPRemoteName(s.Name)
	}
	return workspace.MCPLocalName(s.Name)
}

// vscodeKeyInput is the mcp.json input that asks for the key, the one
// `mage sync` writes for this entry.
func (s Server) vscodeKeyInput() workspace.MCPKeyEntry {
	for _, e := range workspace.MCPKeyEntries(s.Name) {
		if e.Entry == s.entryName() {
			return e
		}
	}
	panic("clientcfg: no key input for " + s.entryName())
}

func vscode(s Server) Recipe {
	r := Recipe{Client: "vscode", Where: ".vscode/mcp.json (go tool mage sync writes these entries), or the user profile's mcp.json", Lang: "json"}
	entry := obj{{"type", "http"}, {"url", s.URL}}
	doc := obj{}
	switch s.Auth {
	case Key:
		in := s.vscodeKeyInput()
		entry = append(entry, kv{"headers", obj{{workspace.FunctionKeyHeader, "${input:" + in.Input + "}"}}})
		doc = append(doc, kv{"inputs", []obj{{{"id", in.Input}, {"type", "promptString"}, {"description", in.Description}, {"password", true}}}})
		r.Notes = append(r.Notes, "VS Code asks for the key once, when the server first starts, and keeps it in its secret storage.", s.keyNote())
	case Entra:
		r.Notes = append(r.Notes, "VS Code signs you in itself, with its own client ID (aebc6443-996d-45c2-90f0-388ff96faa56): that ID must be in PRE_AUTHORIZED_CLIENT_IDS when the server is provisioned (README's deploy commands set it).")
	}
	doc = append(doc, kv{"servers", obj{{s.entryName(), entry}}})
	r.Text = marshal(doc)
	return r
}

func claudeDesktop(s Server) Recipe {
	r := Recipe{
		Client: "claude-desktop",
		Where:  "claude_desktop_config.json (macOS: ~/Library/Application Support/Claude/, Windows: %APPDATA%\\Claude\\); the same command works in any host that starts stdio servers",
		Lang:   "json",
	}
	args := []string{"-y", MCPRemote, s.URL}
	entry := obj{{"command", "npx"}}
	switch s.Auth {
	case Key:
		// No space after the colon: some hosts split arguments on spaces
		// (mcp-remote's README); the value comes from env.
		args = append(args, "--transport", "http-only", "--header", workspace.FunctionKeyHeader+":${"+s.keyEnv()+"}")
		entry = append(entry, kv{"args", args}, kv{"env", obj{{s.keyEnv(), s.keyValue()}}})
		r.Notes = append(r.Notes, s.keyNote())
	case Entra:
		args = append(args, "--transport", "http-only",
			"--static-oauth-client-info", marshalCompact(obj{{"client_id", s.clientID()}}),
			"--static-oauth-client-metadata", marshalCompact(obj{{"scope", s.scope() + " offline_access"}}),
			"--disable-resource-parameter")
		entry = append(entry, kv{"args", args})
		r.Notes = append(r.Notes,
			fmt.Sprintf("Entra has no dynamic client registration: register a public client app (Mobile and desktop applications) with the redirect URI http://localhost/oauth/callback (Entra ignores the port of a localhost redirect URI, and mcp-remote picks its own), give it the delegated permission %s, and add its client ID to PRE_AUTHORIZED_CLIENT_IDS (azd env set, then azd provision); put that ID in client_id.", s.scope()),
			"--disable-resource-parameter is needed: Entra refuses the RFC 8707 resource parameter next to a v2 scope (AADSTS9010010).",
			"mcp-remote keeps its tokens in ~/.mcp-auth (MCP_REMOTE_CONFIG_DIR moves it); delete that folder to sign in again.")
	default:
		args = append(args, "--transport", "http-only")
		entry = append(entry, kv{"args", args})
	}
	if !s.Deployed {
		r.Notes = append(r.Notes, "mcp-remote allows plain http only for localhost, which is what mage dev serves on.")
	}
	r.Text = marshal(obj{{"mcpServers", obj{{s.entryName(), entry}}}})
	return r
}

func cursor(s Server) Recipe {
	r := Recipe{Client: "cursor", Where: ".cursor/mcp.json in the project, or ~/.cursor/mcp.json", Lang: "json"}
	entry := obj{{"url", s.URL}}
	switch s.Auth {
	case Key:
		entry = append(entry, kv{"headers", obj{{workspace.FunctionKeyHeader, "${env:" + s.keyEnv() + "}"}}})
		r.Notes = append(r.Notes, fmt.Sprintf("Cursor reads %s from the environment it was started in.", s.keyEnv()), s.keyNote())
	case Entra:
		entry = append(entry, kv{"auth", obj{{"CLIENT_ID", s.clientID()}, {"scopes", []string{s.scope(), "offline_access"}}}})
		r.Notes = append(r.Notes, "Register a public client app as for mcp-remote, with Cursor's redirect URIs (cursor://anysphere.cursor-mcp/oauth/callback; some builds use http://localhost:8787/callback: register both), and add its client ID to PRE_AUTHORIZED_CLIENT_IDS. [UNCERTAIN] whether Cursor sends the resource parameter Entra refuses (AADSTS9010010); if sign-in fails with that code, use the mcp-remote recipe (command: npx, args as above) in Cursor instead.")
	}
	r.Text = marshal(obj{{"mcpServers", obj{{s.entryName(), entry}}}})
	return r
}

func claudeCode(s Server) Recipe {
	r := Recipe{Client: "claude-code", Where: "a shell (options go before the name; --scope project writes .mcp.json)", Lang: "sh"}
	cmd := []string{"claude", "mcp", "add", "--transport", "http"}
	switch s.Auth {
	case Key:
		cmd = append(cmd, "--header", `"`+workspace.FunctionKeyHeader+`: $`+s.keyEnv()+`"`)
		r.Notes = append(r.Notes, s.keyNote())
	case Entra:
		cmd = append(cmd, "--client-id", shellQuote(s.clientID()))
		r.Notes = append(r.Notes,
			"Register a public client app with the redirect URIs http://localhost/callback and http://127.0.0.1/callback (Entra ignores their port), and add its client ID to PRE_AUTHORIZED_CLIENT_IDS; then run /mcp in Claude Code and choose Authenticate.",
			"Claude Code sends the RFC 8707 resource parameter, which Entra refuses next to a v2 scope (AADSTS9010010; anthropics/claude-code#89438): until it can leave it out, add the server as a stdio server running the mcp-remote command above (claude mcp add NAME -- npx -y "+MCPRemote+" …).")
	}
	cmd = append(cmd, s.entryName(), s.URL)
	r.Text = strings.Join(cmd, " ")
	if s.Auth == Key {
		r.Text = s.keyExport() + "\n" + r.Text
	}
	return r
}

func foundry(s Server) Recipe {
	r := Recipe{Client: "foundry", Where: "a shell with azd's AI extension, then the agent's definition (Python, azure-ai-projects 2.x)", Lang: "sh"}
	conn := s.Name + "-mcp"
	var c []string
	switch s.Auth {
	case Key:
		c = []string{"azd ai connection create " + conn + " --kind remote-tool --target " + s.URL + " \\",
			"  --auth-type custom-keys --custom-key \"" + workspace.FunctionKeyHeader + "=$" + s.keyEnv() + "\""}
		r.Notes = append(r.Notes, s.keyNote())
	case Entra:
		c = []string{"azd ai connection create " + conn + " --kind remote-tool --target " + s.URL + " \\",
			"  --auth-type project-managed-identity --audience " + s.audience()}
		r.Notes = append(r.Notes,
			"The agent calls as an application, with no user: grant the project's managed identity the app role MCP.Invoke on the server's app registration (Enterprise applications, or POST /servicePrincipals/{identity}/appRoleAssignments in Microsoft Graph), and add the identity's client ID to APP_CALLER_CLIENT_IDS (azd env set, then azd provision) so that Easy Auth and the server accept it.",
			"Tools that act for a signed-in user refuse such a caller with a clear message (get_user_info: \"this tool acts on behalf of a signed-in user; an application cannot call it\").")
	default:
		c = []string{"azd ai connection create " + conn + " --kind remote-tool --target " + s.URL + " --auth-type none"}
	}
	if !s.Deployed {
		r.Notes = append(r.Notes, "Foundry calls the server from Azure: it cannot reach localhost. Deploy first (go tool mage up), then run go tool mage clients -env=<environment>.")
	}
	tool := fmt.Sprintf("MCPTool(server_label=%q, server_url=%q, require_approval=\"never\", project_connection_id=%q)", strings.ReplaceAll(s.Name, "-", "_"), s.URL, conn)
	r.Text = strings.Join(c, "\n") + "\n# in the agent definition:\n# " + tool
	if s.Auth == Key {
		r.Text = s.keyExport() + "\n" + r.Text
	}
	return r
}

func curl(s Server) Recipe {
	r := Recipe{Client: "curl", Where: "a shell: lists the tools (stateless servers need no initialize)", Lang: "sh"}
	var pre []string
	h := []string{"-H 'Content-Type: application/json'", "-H 'Accept: application/json, text/event-stream'", "-H 'MCP-Protocol-Version: 2025-06-18'"}
	switch s.Auth {
	case Key:
		pre = append(pre, s.keyExport())
		h = append(h, `-H "`+workspace.FunctionKeyHeader+`: $`+s.keyEnv()+`"`)
		r.Notes = append(r.Notes, s.keyNote(), "Without the key the host answers 401.")
	case Entra:
		pre = append(pre, "TOKEN=$(az account get-access-token --scope "+s.audience()+"/.default --query accessToken -o tsv)")
		h = append(h, `-H "Authorization: Bearer $TOKEN"`)
		r.Notes = append(r.Notes, "The Azure CLI's client ID (04b07795-8ddb-461a-bbee-02f9e1bf7b46) must be in PRE_AUTHORIZED_CLIENT_IDS, or az account get-access-token fails with a consent error (AADSTS65001). Without a token the app answers 401 with a WWW-Authenticate header that names its protected resource metadata.")
	}
	lines := append(pre, "curl -sS "+s.URL+" \\")
	for _, x := range h {
		lines = append(lines, "  "+x+" \\")
	}
	lines = append(lines, `  -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'`)
	r.Text = strings.Join(lines, "\n")
	return r
}

// keyExport is the shell line that puts the key in its variable.
func (s Server) keyExport() string {
	if s.Key != "" {
		return "export " + s.keyEnv() + "=" + shellQuote(s.Key)
	}
	return "export " + s.keyEnv() + "=$(" + s.keyCommand() + ")"
}

func marshalCompact(v any) string {
	b, err := encode(v, "")
	if err != nil {
		panic(err)
	}
	return string(b)
}
