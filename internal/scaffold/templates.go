package scaffold

import (
	"fmt"
	"text/template"
)

// modulePrefix is the module path of every server: <prefix>/<name>.
const modulePrefix = "github.com/mcpfunc/mcpfunc/servers/"

// hostingModule is the shared custom-handler bootstrap every new server uses.
const hostingModule = "github.com/mcpfunc/mcpfunc/shared/hosting"

// authModule decides, from MCP_AUTH, how every server's /mcp is protected.
const authModule = "github.com/mcpfunc/mcpfunc/shared/auth"

// sdkModule is the official Go MCP SDK.
const sdkModule = "github.com/modelcontextprotocol/go-sdk"

// defaultSDKVersion is used when shared/hosting/go.mod does not say which
// SDK version it uses; defaultGoVersion when go.work has no go line.
const (
	defaultSDKVersion = "v1.8.0"
	defaultGoVersion  = "1.26.0"
)

// serverData fills the templates of a new server.
type serverData struct {
	Name        string
	Module      string
	GoVersion   string
	SDKVersion  string
	DevPort     int
	HandlerPort int
}

// serverTemplates returns the templates of a new server's Go files and
// .funcignore, by path in the server's folder. The shape is weather's and
// userinfo's: a one-line main calling server.Main, a package server that
// builds the server from the environment (New) and serves it (Main), and
// the tools in package tools.
func serverTemplates() map[string]*template.Template {
	return map[string]*template.Template{
		"go.mod":                template.Must(template.New("go.mod").Parse(goModTemplate)),
		"main.go":               template.Must(template.New("main.go").Parse(mainTemplate)),
		"server/server.go":      template.Must(template.New("server.go").Parse(serverTemplate)),
		"server/server_test.go": template.Must(template.New("server_test.go").Parse(serverTestTemplate)),
		"tools/tools.go":        template.Must(template.New("tools.go").Parse(toolsTemplate)),
		"tools/tools_test.go":   template.Must(template.New("tools_test.go").Parse(toolsTestTemplate)),
		".funcignore":           template.Must(template.New(".funcignore").Parse(funcignoreTemplate)),
	}
}

const goModTemplate = `module {{.Module}}

go {{.GoVersion}}

require (
	` + sdkModule + ` {{.SDKVersion}}
	` + authModule + ` v0.0.0
	` + hostingModule + ` v0.0.0
)

// azd builds this server from its own folder, outside the workspace.
replace ` + hostingModule + ` => ../../shared/hosting

replace ` + authModule + ` => ../../shared/auth
`

const mainTemplate = `// Command {{.Name}} is an MCP server with one example tool, hello. It runs as
// an Azure Functions custom handler (see shared/hosting) or on its own:
//
//	go run . -port {{.DevPort}}
//
// Settings: MCP_AUTH and the other authorization settings (see
// shared/auth), plus those of shared/hosting. The server is built in
// package server; add tools in package tools.
package main

import "{{.Module}}/server"

func main() { server.Main() }
`

const serverTemplate = `// Package server builds the {{.Name}} MCP server from its environment: the
// authorization mode (MCP_AUTH, see shared/auth) and the tools of package
// tools. The command (servers/{{.Name}}) calls Main; tests call New with
// the settings they choose, so both build the same server.
package server

import (
	"context"
	"log/slog"
	"os"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"{{.Module}}/tools"
	"` + authModule + `"
	"` + hostingModule + `"
)

// Main runs {{.Name}} as its command does: it builds the server from the
// process's environment and serves it with hosting.Start (under the
// Functions host, or on -port, default {{.DevPort}}) until SIGTERM or SIGINT,
// with extra after its own hosting options. A bad configuration is logged
// and exits with status 2.
func Main(extra ...hosting.Option) {
	logger := hosting.NewLogger()
	impl := &mcp.Implementation{Name: "{{.Name}}", Version: hosting.Version()}
	s, err := New(context.Background(), impl, os.Getenv, logger)
	if err != nil {
		logger.Error("bad configuration", "err", err)
		os.Exit(2)
	}
	opts := append(s.Options, hosting.WithInfo(impl), hosting.WithLogger(logger), hosting.WithPort({{.DevPort}}))
	hosting.Start(s.MCP, append(opts, extra...)...)
}

// Server is the MCP server and the hosting options it needs.
type Server struct {
	MCP     *mcp.Server
	Options []hosting.Option
}

// New builds the server and its hosting options from the environment read
// with getenv, logging through logger. Read a new setting here, with
// getenv, so that tests can set it.
func New(ctx context.Context, impl *mcp.Implementation, getenv func(string) string, logger *slog.Logger) (*Server, error) {
	// The same MCP_AUTH as every server: Easy Auth plus token checks on
	// Azure, in-process Entra verification, or none for local development.
	p, err := auth.ProtectFromEnv(ctx, getenv, nil)
	if err != nil {
		return nil, err
	}
	p.LogNotice(ctx, logger)
	opts := []hosting.Option{hosting.WithMiddleware(p.Middleware)}
	if p.PRMHandler != nil {
		opts = append(opts, hosting.WithHandler(p.PRMPattern, p.PRMHandler))
	}
	return &Server{MCP: tools.NewServer(impl), Options: opts}, nil
}
`

const serverTestTemplate = `package server

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func TestNew(t *testing.T) {
	impl := &mcp.Implementation{Name: "{{.Name}}", Version: "test"}
	logger := slog.New(slog.DiscardHandler)
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // empty: New succeeds
	}{
		{name: "no authentication", env: map[string]string{"MCP_AUTH": "none"}},
		{name: "unknown MCP_AUTH", env: map[string]string{"MCP_AUTH": "bogus"}, wantErr: "MCP_AUTH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(t.Context(), impl, func(k string) string { return tt.env[k] }, logger)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if s.MCP == nil || len(s.Options) == 0 {
				t.Errorf("New = %+v, want the MCP server and its authorization middleware", s)
			}
		})
	}
}
`

const toolsTemplate = `// Package tools holds the {{.Name}} server's MCP tools. To add a tool, write
// a handler like hello and register it in NewServer with mcp.AddTool: the
// SDK derives the input and output schemas from the Go types, validates
// the arguments, and turns a returned error into a tool error.
package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"` + hostingModule + `"
)

// maxNameLen bounds hello's name argument, in characters.
const maxNameLen = 100

// HelloInput is the input of the hello tool.
type HelloInput struct {
	Name string ` + "`" + `json:"name" jsonschema:"who to greet"` + "`" + `
}

// HelloOutput is the structured result of the hello tool.
type HelloOutput struct {
	Greeting string ` + "`" + `json:"greeting" jsonschema:"the greeting"` + "`" + `
}

// NewServer creates the MCP server for impl with its tools registered.
// hosting.ServerOptions advertises the tools without listChanged: the
// server is stateless, so it never notifies a change.
func NewServer(impl *mcp.Implementation) *mcp.Server {
	s := mcp.NewServer(impl, hosting.ServerOptions())
	mcp.AddTool(s, &mcp.Tool{
		Name:        "hello",
		Title:       "Hello",
		Description: "Greet someone by name.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true},
	}, hello)
	return s
}

func hello(_ context.Context, _ *mcp.CallToolRequest, in HelloInput) (*mcp.CallToolResult, HelloOutput, error) {
	name := strings.TrimSpace(in.Name)
	switch {
	case name == "":
		return nil, HelloOutput{}, errors.New("name is empty: say who to greet")
	case utf8.RuneCountInString(name) > maxNameLen:
		return nil, HelloOutput{}, fmt.Errorf("name is longer than %d characters", maxNameLen)
	}
	out := HelloOutput{Greeting: "Hello, " + name + "!"}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: out.Greeting}}}, out, nil
}
`

const toolsTestTemplate = `package tools

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// connect returns a client session with the server over in-memory
// transports.
func connect(t *testing.T) *mcp.ClientSession {
	t.Helper()
	ctx := t.Context()
	ct, st := mcp.NewInMemoryTransports()
	ss, err := NewServer(&mcp.Implementation{Name: "{{.Name}}", Version: "test"}).Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "test"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

func TestHello(t *testing.T) {
	cs := connect(t)
	tests := []struct {
		name      string
		args      map[string]any
		wantError bool
		wantText  string
	}{
		{name: "greets", args: map[string]any{"name": "Ada"}, wantText: "Hello, Ada!"},
		{name: "trims spaces", args: map[string]any{"name": "  Grace "}, wantText: "Hello, Grace!"},
		{name: "unicode", args: map[string]any{"name": "Zoë"}, wantText: "Hello, Zoë!"},
		{name: "empty name", args: map[string]any{"name": " "}, wantError: true, wantText: "name is empty"},
		{name: "too long", args: map[string]any{"name": strings.Repeat("a", maxNameLen+1)}, wantError: true, wantText: "longer than"},
		{name: "missing name", args: map[string]any{}, wantError: true, wantText: "name"},
		{name: "wrong type", args: map[string]any{"name": 42}, wantError: true, wantText: "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "hello", Arguments: tt.args})
			if err != nil {
				t.Fatalf("protocol error: %v", err)
			}
			var text strings.Builder
			for _, c := range res.Content {
				if tc, ok := c.(*mcp.TextContent); ok {
					text.WriteString(tc.Text)
				}
			}
			if res.IsError != tt.wantError || !strings.Contains(text.String(), tt.wantText) {
				t.Fatalf("hello(%v) = error %v %q; want error %v containing %q", tt.args, res.IsError, text.String(), tt.wantError, tt.wantText)
			}
			if tt.wantError {
				return
			}
			var out HelloOutput
			b, _ := json.Marshal(res.StructuredContent)
			if err := json.Unmarshal(b, &out); err != nil || out.Greeting != tt.wantText {
				t.Errorf("structured content = %s, want greeting %q", b, tt.wantText)
			}
		})
	}
}

// TestToolList checks the tools by name, so adding a tool does not break
// it: add the new tool's name to want.
func TestToolList(t *testing.T) {
	res, err := connect(t).ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	tools := map[string]*mcp.Tool{}
	var names []string
	for _, tool := range res.Tools {
		tools[tool.Name] = tool
		names = append(names, tool.Name)
	}
	for _, want := range []string{"hello"} {
		if tools[want] == nil {
			t.Errorf("tools/list = %v, want %s among them", names, want)
		}
	}
	for name, tool := range tools {
		if tool.InputSchema == nil {
			t.Errorf("tool %s has no input schema", name)
		}
	}
	if hello := tools["hello"]; hello != nil && hello.OutputSchema == nil {
		t.Error("hello has no output schema")
	}
}
`

const funcignoreTemplate = `*.go
go.mod
go.sum
server/
tools/
local.settings.json
`

// hostJSON is a server's host.json, following the custom-handler contract.
func hostJSON(handlerPort int) []byte {
	return []byte(fmt.Sprintf(`{
  "version": "2.0",
  "configurationProfile": "mcp-custom-handler",
  "customHandler": {
    "description": {
      "defaultExecutablePath": "app"
    },
    "http": {
      "DefaultAuthorizationLevel": "anonymous"
    },
    "port": "%d"
  }
}
`, handlerPort))
}

// localSettingsJSON is a server's local.settings.json. MCP_AUTH=none says
// that local runs serve without authentication (servers using shared/auth;
// others ignore it).
func localSettingsJSON(devPort int) []byte {
	return []byte(fmt.Sprintf(`{
  "IsEncrypted": false,
  "Values": {
    "FUNCTIONS_WORKER_RUNTIME": "custom",
    "AzureWebJobsFeatureFlags": "EnableMcpCustomHandlerPreview",
    "MCP_AUTH": "none"
  },
  "Host": {
    "LocalHttpPort": %d
  }
}
`, devPort))
}
