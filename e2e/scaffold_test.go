//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpfunc/mcpfunc/internal/treehash"
	"github.com/mcpfunc/mcpfunc/internal/workspace"
)

// hashTree snapshots every file and folder under root (see treehash).
func hashTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out, err := treehash.Snapshot(root)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestScaffoldNew runs `go tool mage new demo` in a copy of the repository,
// then builds the new server, starts it as the Functions host would, calls
// its tool over HTTP, and runs the new module's tests and the repository's
// registry and infra checks in the copy.
func TestScaffoldNew(t *testing.T) {
	root := copyRepo(t)
	existing, err := workspace.Servers(root)
	if err != nil {
		t.Fatal(err)
	}
	dev, hdl := workspace.NextFreePorts(existing)
	start := time.Now()
	out, err := runMage(t, root, "new", "demo")
	if err != nil {
		t.Fatalf("mage new demo: %v\n%s", err, out)
	}
	t.Logf("mage new demo took %s", time.Since(start).Round(time.Millisecond))
	for _, want := range []string{
		"==> go mod tidy in servers/demo", "==> go work use ./servers/demo",
		fmt.Sprintf("==> servers/demo is ready: local URL http://localhost:%d/mcp, customHandler.port %d", dev, hdl),
		"registered in: .vscode/launch.json, .vscode/mcp.json, azure.yaml, go.work, infra/servers.json",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("mage new output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "warning:") {
		t.Errorf("mage new warned:\n%s", out)
	}
	if err := workspace.CheckRegistry(root); err != nil {
		t.Errorf("registry after mage new: %v", err)
	}
	if err := workspace.CheckInfra(root); err != nil {
		t.Errorf("infra after mage new: %v", err)
	}
	dir := filepath.Join(root, "servers", "demo")
	s, err := workspace.ReadServer(dir)
	if err != nil {
		t.Fatal(err)
	}

	// Start it as the Functions host does and call its tool.
	app := t.TempDir()
	goBuild(t, dir, filepath.Join(app, "app"))
	hj, err := os.ReadFile(filepath.Join(dir, "host.json"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(app, "host.json"), hj, 0o644)
	host := startUnderHost(t, app, "app", nil, yarpProxy)
	resp, err := http.Get(host.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	var info map[string]string
	json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if resp.StatusCode != 200 || info["name"] != "demo" {
		t.Errorf("GET / = %d %v", resp.StatusCode, info)
	}
	cs := connectMCP(t, host.URL+"/mcp", "2025-11-25")
	res, text := call(t, cs, "hello", map[string]any{"name": "Functions"})
	if res.IsError || text != "Hello, Functions!" {
		t.Errorf("hello = %v %q", res.IsError, text)
	}
	res, text = call(t, cs, "hello", map[string]any{"name": ""})
	if !res.IsError || !strings.Contains(text, "name is empty") {
		t.Errorf("hello with no name = %v %q, want a tool error", res.IsError, text)
	}
	cs.Close()
	if err, _ := host.Stop(t, 15*time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
	if e := strings.TrimSpace(host.Stderr.String()); e != "" {
		t.Errorf("stderr is not empty:\n%s", e)
	}
	if !strings.Contains(host.Stdout.String(), `"tool":"hello"`) {
		t.Errorf("the request log lacks the hello call:\n%s", host.Stdout)
	}

	// The new module is formatted, vetted, tidy and builds on its own (as
	// azd builds it); its tests and the copy's registry checks pass.
	if out, err := exec.Command("gofmt", "-l", dir).CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("gofmt -l servers/demo: %v %s", err, out)
	}
	runGo(t, dir, nil, "vet", "./...")
	runGo(t, dir, []string{"GOWORK=off"}, "build", "./...")
	runGo(t, dir, []string{"GOWORK=off"}, "mod", "tidy", "-diff")
	testOut := runGo(t, dir, nil, "test", "-count=1", "-v", "./...")
	for _, want := range []string{"--- PASS: TestHello", "--- PASS: TestToolList"} {
		if !strings.Contains(testOut, want) {
			t.Errorf("go test in servers/demo lacks %q:\n%s", want, testOut)
		}
	}
	runGo(t, root, nil, "test", "-count=1", "-run", "TestRepositoryRegistry|TestRepositoryInfra|TestRepositoryServers|TestReadmeDocumentsParameters", "./internal/workspace")
	t.Logf("servers/demo: local port %d, handler port %d; whole test %s", s.DevPort, s.HandlerPort, time.Since(start).Round(time.Millisecond))
}

// TestScaffoldRefusals checks that invalid names, existing folders and
// folders adopt cannot take are refused with a message saying why and
// what to do, and that nothing in the repository changes.
func TestScaffoldRefusals(t *testing.T) {
	root := copyRepo(t)
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "go.mod"), []byte("module example.com/outside\n"), 0o644)
	os.MkdirAll(filepath.Join(root, "servers", "notes"), 0o755)
	os.WriteFile(filepath.Join(root, "servers", "notes", "README"), []byte("not a module\n"), 0o644)
	before := hashTree(t, root)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"new", "Demo"}, `"Demo" is not a valid server name: use 2 to 32 lower-case letters, digits and single inner hyphens`},
		{[]string{"new", "my_server"}, `"my_server" is not a valid server name`},
		{[]string{"new", "../escape"}, `"../escape" is not a valid server name`},
		{[]string{"new", "x"}, `"x" is not a valid server name`},
		{[]string{"new", "a--b"}, `"a--b" is not a valid server name`},
		{[]string{"new", "weather"}, "servers/weather already exists: choose another name"},
		{[]string{"new", "notes"}, "servers/notes already exists"},
		{[]string{"adopt", outside}, "is not a folder directly under servers/: adopt registers servers/<name> only"},
		{[]string{"adopt", "servers/missing"}, "servers/missing is not a folder"},
		{[]string{"adopt", "servers/notes"}, "servers/notes has no go.mod: adopt takes a Go module"},
		{[]string{"adopt", "servers/weather"}, "servers/weather is already hosted here: it has host.json and local.settings.json and is registered in go.work and azure.yaml"},
		{[]string{"adopt", "-port=9000", "servers/notes"}, "\"-port=9000\" is not a folder: mage reads the first word after `adopt` as the folder and its -flags after it, so put the folder first:\n  go tool mage adopt servers/notes -port=9000"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, err := runMage(t, root, tt.args...)
			if err == nil {
				t.Fatalf("mage %v succeeded:\n%s", tt.args, out)
			}
			if !strings.Contains(out, tt.want) || !strings.Contains(out, "nothing was changed") {
				t.Errorf("mage %v output lacks %q and \"nothing was changed\":\n%s", tt.args, tt.want, out)
			}
			if d := treehash.Diff(before, hashTree(t, root)); len(d) > 0 {
				t.Errorf("mage %v changed the repository:\n%s", tt.args, strings.Join(d, "\n"))
			}
		})
	}
}

// legacyServer is an MCP server written without this repository's
// shared/hosting: plain net/http and the SDK's stateless streamable HTTP
// handler, listening on FUNCTIONS_CUSTOMHANDLER_PORT. GET / gets the
// default 404, which is enough for the host's readiness ping.
const legacyServer = `package main

import (
	"context"
	"log"
	"net/http"
	"os"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type echoIn struct {
	Text string ` + "`json:\"text\"`" + `
}

type echoOut struct {
	Echo string ` + "`json:\"echo\"`" + `
}

func main() {
	s := mcp.NewServer(&mcp.Implementation{Name: "legacy", Version: "1.0.0"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "Echo the text back."},
		func(_ context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, echoOut, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Text}}}, echoOut{Echo: in.Text}, nil
		})
	http.Handle("/mcp", mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true}))
	port := os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT")
	if port == "" {
		port = "8080"
	}
	log.SetOutput(os.Stdout)
	log.Printf("legacy listening on %s", port)
	log.Fatal(http.ListenAndServe("127.0.0.1:"+port, nil))
}
`

// TestAdoptEndToEnd writes a minimal go-sdk server with no shared/hosting
// into servers/legacy of a copy of the repository, adopts it with
// `go tool mage adopt`, packages it with `go tool mage package`, and runs
// the package as the Functions host would.
func TestAdoptEndToEnd(t *testing.T) {
	root := copyRepo(t)
	existing, err := workspace.Servers(root)
	if err != nil {
		t.Fatal(err)
	}
	dev, hdl := workspace.NextFreePorts(existing)
	dir := filepath.Join(root, "servers", "legacy")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte(legacyServer), 0o644)
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/legacy\n\ngo 1.26.0\n\nrequire github.com/modelcontextprotocol/go-sdk v1.8.0\n"), 0o644)
	runGo(t, dir, []string{"GOWORK=off"}, "mod", "tidy") // the module as its author has it
	own := hashTree(t, dir)
	start := time.Now()
	out, err := runMage(t, root, "adopt", "servers/legacy")
	if err != nil {
		t.Fatalf("mage adopt: %v\n%s", err, out)
	}
	t.Logf("mage adopt took %s", time.Since(start).Round(time.Millisecond))
	for _, want := range []string{
		"==> checking that servers/legacy builds the way azd builds it",
		fmt.Sprintf("==> servers/legacy is ready: local URL http://localhost:%d/mcp, customHandler.port %d", dev, hdl),
		"wrote: servers/legacy/host.json, servers/legacy/local.settings.json",
		"port: it listens on FUNCTIONS_CUSTOMHANDLER_PORT",
		`mcp: /mcp answers MCP over streamable HTTP (JSON answers): server "legacy" 1.0.0`,
		"tools: 1 (echo)",
		"stateless: initialize carried no Mcp-Session-Id",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("mage adopt output lacks %q:\n%s", want, out)
		}
	}
	// Its code is untouched; go.mod and go.sum change only to name the
	// versions the workspace deploys, and adopt says so.
	after := hashTree(t, dir)
	for f, h := range own {
		if after[f] == h {
			continue
		}
		if (f == "go.mod" || f == "go.sum") && strings.Contains(out, "changed servers/legacy/go.mod and go.sum") {
			continue
		}
		t.Errorf("adopt changed the server's own file %s", f)
	}
	if err := workspace.CheckRegistry(root); err != nil {
		t.Errorf("registry after mage adopt: %v", err)
	}
	if err := workspace.CheckInfra(root); err != nil {
		t.Errorf("infra after mage adopt: %v", err)
	}

	out, err = runMage(t, root, "package", "-server=legacy")
	if err != nil {
		t.Fatalf("mage package -server=legacy: %v\n%s", err, out)
	}
	app := checkPackage(t, filepath.Join(root, "dist", "legacy.zip"))
	if !canRunLinuxAMD64() {
		t.Skip("the package is linux/amd64; cannot run it here")
	}
	host := startUnderHost(t, app, "app", nil, yarpProxy)
	cs := connectMCP(t, host.URL+"/mcp", "2025-11-25")
	res, text := call(t, cs, "echo", map[string]any{"text": "adopted"})
	if res.IsError || text != "adopted" {
		t.Errorf("echo = %v %q", res.IsError, text)
	}
	if !strings.Contains(host.Stdout.String(), "legacy listening on") {
		t.Errorf("stdout:\n%s", host.Stdout)
	}
	t.Logf("whole adopt test took %s", time.Since(start).Round(time.Millisecond))
}
