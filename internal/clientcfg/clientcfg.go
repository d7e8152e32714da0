// Package clientcfg writes ready-to-paste configuration that connects MCP
// clients to the servers of this repository: VS Code, Claude Desktop (and
// any stdio-only host) through mcp-remote, Cursor, Claude Code, a Foundry
// agent's MCP tool, and a curl check. `go tool mage clients` prints them
// for the local servers or a deployment, and README's client sections are
// rendered by the same code (see README and Render), so the two cannot
// disagree.
//
// Each recipe depends on how the server authenticates its callers:
//
//   - anonymous: the URL is all a client needs.
//   - key: the Functions host checks a function key, sent as the header
//     x-functions-key. Deployed keys are never printed: recipes name an
//     environment variable (or a VS Code password prompt) and say which
//     command prints the key. A local key (mage dev's, a development
//     secret kept in .mcpfunc/dev-keys.json) is written in full.
//   - entra: Easy Auth on the Function app; the client signs the user in
//     with Microsoft Entra ID. Entra has no dynamic client registration,
//     so every client but VS Code (whose client ID the deployment
//     pre-authorizes) needs a public client app registration of its own.
package clientcfg

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mcpfunc/mcpfunc/internal/workspace"
)

// Auth modes, as infra/servers.json spells them.
const (
	Entra     = "entra"
	Key       = "key"
	Anonymous = "anonymous"
)

// MCPRemote is the mcp-remote release the recipes run with npx; the tests
// run the same release, pinned in clients/package.json (a test checks).
const MCPRemote = "mcp-remote@0.1.49"

// Server is one MCP server a client connects to.
type Server struct {
	// Name is the server's name (servers/<name>).
	Name string
	// URL is its MCP endpoint, such as http://localhost:7071/mcp.
	URL string
	// Auth is Entra, Key or Anonymous.
	Auth string
	// Deployed is true for a server on Azure, false for one `mage dev`
	// runs.
	Deployed bool
	// Key is the function key written into the recipes (local keys only;
	// leave it empty for a deployed server).
	Key string
	// KeyCommand prints the deployed server's function key (key mode).
	KeyCommand string
	// Scope is the delegated scope a signed-in client asks for (entra),
	// such as api://<tenant>/weather/user_impersonation.
	Scope string
	// ClientID is the public client app registration the non-VS Code
	// recipes sign in with (entra); a placeholder when empty.
	ClientID string
}

// Recipe is the configuration of one client for one server.
type Recipe struct {
	// Client is the client's id: vscode, claude-desktop, cursor,
	// claude-code, foundry or curl.
	Client string
	// Where says where the text goes.
	Where string
	// Lang is the text's language for a Markdown code fence.
	Lang string
	// Text is what to paste or run.
	Text string
	// Notes are what else the user must know or do, one sentence each.
	Notes []string
}

// Client is an MCP client the recipes are for.
type Client struct {
	// ID names it on the command line: vscode, claude-desktop, cursor,
	// claude-code, foundry or curl.
	ID string
	// Name is how people call it.
	Name string
}

// Clients returns the clients in the order recipes come in.
func Clients() []Client {
	return []Client{
		{"vscode", "VS Code"},
		{"claude-desktop", "Claude Desktop (and other stdio-only hosts) through mcp-remote"},
		{"cursor", "Cursor"},
		{"claude-code", "Claude Code"},
		{"foundry", "Azure AI Foundry agent"},
		{"curl", "curl"},
	}
}

// ClientName returns the name of a client id, or the id.
func ClientName(id string) string {
	for _, c := range Clients() {
		if c.ID == id {
			return c.Name
		}
	}
	return id
}

// Recipes returns s's recipe for every client, in the order of Clients.
// It fails for an unknown auth mode or a server without name or URL.
func Recipes(s Server) ([]Recipe, error) {
	switch {
	case s.Name == "":
		return nil, fmt.Errorf("clientcfg: a server without a name")
	case s.URL == "":
		return nil, fmt.Errorf("clientcfg: server %s has no URL", s.Name)
	}
	switch s.Auth {
	case Entra, Key, Anonymous:
	default:
		return nil, fmt.Errorf("clientcfg: server %s: auth %q is not %s, %s or %s", s.Name, s.Auth, Entra, Key, Anonymous)
	}
	return []Recipe{vscode(s), claudeDesktop(s), cursor(s), claudeCode(s), foundry(s), curl(s)}, nil
}

// keyEnv is the environment variable the key-mode recipes read the
// function key from: WEATHER_FUNCTION_KEY for weather.
func (s Server) keyEnv() string {
	return strings.ToUpper(strings.ReplaceAll(s.Name, "-", "_")) + "_FUNCTION_KEY"
}

// keyValue is the key as a recipe writes it where no variable can be read.
func (s Server) keyValue() string {
	if s.Key != "" {
		return s.Key
	}
	return "<function key>"
}

func (s Server) clientID() string {
	if s.ClientID != "" {
		return s.ClientID
	}
	return "<public client app id>"
}

func (s Server) scope() string {
	if s.Scope != "" {
		return s.Scope
	}
	return "api://<tenant id>/" + s.Name + "/user_impersonation"
}

// audience is the Application ID URI of the server's app registration:
// its scope without the scope name.
func (s Server) audience() string {
	sc := s.scope()
	if i := strings.LastIndex(sc, "/"); i > 0 {
		return sc[:i]
	}
	return sc
}

// keyNote says how to get the key into the variable the recipe reads.
func (s Server) keyNote() string {
	if s.Key != "" {
		return fmt.Sprintf("The key is %s's local key from .mcpfunc/dev-keys.json (mage dev prints it); Azure's keys are others.", s.Name)
	}
	return fmt.Sprintf("Get the key with `%s` and keep it out of version control.", s.keyCommand())
}

// keyCommand prints the deployed key: KeyCommand, or the az command with
// placeholders.
func (s Server) keyCommand() string {
	if s.KeyCommand != "" {
		return s.KeyCommand
	}
	return workspace.FunctionKeyCommand("<resource group>", "<function app>")
}

// marshal writes v as indented JSON, leaving <, > and & as they are (the
// placeholders have them).
func marshal(v any) string {
	b, err := encode(v, "  ")
	if err != nil {
		panic(err) // only objects, slices and strings are marshaled
	}
	return string(b)
}

func encode(v any, indent string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// obj is a JSON object that keeps its keys in the order given.
type obj []kv

type kv struct {
	k string
	v any
}

func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := encode(e.k, "")
		if err != nil {
			return nil, err
		}
		v, err := encode(e.v, "")
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
