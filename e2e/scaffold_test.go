//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"go/version"
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

// sameTree fails the test if root differs from before, but for
// go.work.sum, which the go command keeps (go test adds the checksums a
// new module's dependencies need).
func sameTree(t *testing.T, root string, before map[string]string, what string) {
	t.Helper()
	var diff []string
	for _, d := range treehash.Diff(before, hashTree(t, root)) {
		if !strings.HasSuffix(d, " go.work.sum") {
			diff = append(diff, d)
		}
	}
	if len(diff) > 0 {
		t.Errorf("%s: the tree is not what it was:\n%s", what, strings.Join(diff, "\n"))
	}
}

// TestScaffoldNew runs `go tool mage new demo-tools` in a copy of the
// repository, then builds the new server, starts it as the Functions host
// would, calls its tool over HTTP, and runs the new module's tests and the
// repository's registry and infra checks in the copy. Then the workflow
// goes on as a user's does: a second tool, the module's tests and the
// repository's, `mage sync` (nothing to change), and `mage remove
// demo-tools -delete`, after which the tree is what it was.
func TestScaffoldNew(t *testing.T) {
	root := copyRepo(t)
	original := hashTree(t, root)
	existing, err := workspace.Servers(root)
	if err != nil {
		t.Fatal(err)
	}
	dev, hdl := workspace.NextFreePorts(existing)
	start := time.Now()
	out, err := runMage(t, root, "new", "demo-tools")
	if err != nil {
		t.Fatalf("mage new demo-tools: %v\n%s", err, out)
	}
	t.Logf("mage new demo-tools took %s", time.Since(start).Round(time.Millisecond))
	for _, want := range []string{
		"==> go mod tidy in servers/demo-tools", "==> registering servers/demo-tools (go tool mage sync)", "    go.work: add use ./servers/demo-tools",
		"==> building servers/demo-tools as azd does",
		fmt.Sprintf("==> servers/demo-tools is ready: local URL http://localhost:%d/mcp, customHandler.port %d", dev, hdl),
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
	dir := filepath.Join(root, "servers", "demo-tools")
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
	if resp.StatusCode != 200 || info["name"] != "demo-tools" {
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
	if _, err := host.Stop(t, 15*time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
	if e := strings.TrimSpace(host.Stderr.String()); e != "" {
		t.Errorf("stderr is not empty:\n%s", e)
	}
	if !strings.Contains(host.Stdout.String(), `"tool":"hello"`) {
		t.Errorf("the request log lacks the hello call:\n%s", host.Stdout)
	}

	// The new module is formatted, vetted, staticcheck-clean, tidy and
	// builds on its own (as azd builds it); its tests and the copy's
	// registry checks pass.
	if out, err := exec.Command("gofmt", "-l", dir).CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("gofmt -l servers/demo-tools: %v %s", err, out)
	}
	runGo(t, dir, nil, "vet", "./...")
	runGo(t, dir, nil, "tool", "staticcheck", "./...")
	runGo(t, dir, []string{"GOWORK=off"}, "build", "./...")
	runGo(t, dir, []string{"GOWORK=off"}, "mod", "tidy", "-diff")
	runGo(t, dir, []string{"GOWORK=off"}, "test", "-count=1", "./...")
	testOut := runGo(t, dir, nil, "test", "-count=1", "-v", "./...")
	for _, want := range []string{"--- PASS: TestHello", "--- PASS: TestToolList", "--- PASS: TestNew"} {
		if !strings.Contains(testOut, want) {
			t.Errorf("go test in servers/demo-tools lacks %q:\n%s", want, testOut)
		}
	}
	runGo(t, root, nil, "test", "-count=1", "-run", "TestRepositoryRegistry|TestRepositoryInfra|TestRepositoryServers|TestReadmeDocumentsParameters", "./internal/workspace")
	t.Logf("servers/demo-tools: local port %d, handler port %d; %s so far", s.DevPort, s.HandlerPort, time.Since(start).Round(time.Millisecond))

	// A second tool: the generated tests go on passing.
	toolsGo := filepath.Join(dir, "tools", "tools.go")
	src, err := os.ReadFile(toolsGo)
	if err != nil {
		t.Fatal(err)
	}
	withSecond := strings.Replace(string(src), "\treturn s\n}", `	mcp.AddTool(s, &mcp.Tool{Name: "goodbye", Description: "Say goodbye."}, goodbye)
	return s
}

func goodbye(_ context.Context, _ *mcp.CallToolRequest, in HelloInput) (*mcp.CallToolResult, HelloOutput, error) {
	out := HelloOutput{Greeting: "Goodbye, " + in.Name + "!"}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: out.Greeting}}}, out, nil
}`, 1)
	if withSecond == string(src) {
		t.Fatalf("tools.go has no \"return s\" to add a tool before:\n%s", src)
	}
	os.WriteFile(toolsGo, []byte(withSecond), 0o644)
	testOut = runGo(t, dir, nil, "test", "-count=1", "-v", "./...")
	if !strings.Contains(testOut, "--- PASS: TestToolList") {
		t.Errorf("TestToolList with a second tool:\n%s", testOut)
	}
	// What the workspace's own tests say with the new server in it,
	// scaffold's TestNew (which derives the go line it expects) among them.
	runGo(t, root, nil, "test", "-count=1", "./internal/workspace", "./internal/treehash")
	runGo(t, root, nil, "test", "-count=1", "-run", "TestNew$|TestRemove", "./internal/scaffold")

	out, err = runMage(t, root, "sync")
	if err != nil || !strings.Contains(out, "nothing to change") || !strings.Contains(out, "demo-tools") {
		t.Errorf("mage sync after mage new: %v\n%s", err, out)
	}
	out, err = runMage(t, root, "remove", "demo-tools", "-delete")
	if err != nil {
		t.Fatalf("mage remove demo-tools -delete: %v\n%s", err, out)
	}
	for _, want := range []string{"==> unregistering servers/demo-tools", "    azure.yaml: remove service demo-tools", "==> deleting servers/demo-tools",
		"==> servers/demo-tools is removed: unregistered from go.work, azure.yaml, infra/servers.json, .vscode/mcp.json, .vscode/launch.json, and its folder deleted"} {
		if !strings.Contains(out, want) {
			t.Errorf("mage remove output lacks %q:\n%s", want, out)
		}
	}
	sameTree(t, root, original, "after mage new demo-tools and mage remove demo-tools -delete")
	t.Logf("whole test %s", time.Since(start).Round(time.Millisecond))
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
		{[]string{"remove", "ghost"}, "there is no server servers/ghost (they are: " + serverNames(t, root) + ")"},
		{[]string{"remove", "notes", "-delete"}, "there is no server servers/notes"},
		{[]string{"remove", "weather"}, "servers/weather (module github.com/mcpfunc/mcpfunc/servers/weather) is required by go.mod"},
		{[]string{"remove", "-delete", "weather"}, "\"-delete\" is not a server name: mage reads the first word after `remove` as the name"},
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

// serverNames lists the servers under root/servers, as mage lists them.
func serverNames(t *testing.T, root string) string {
	t.Helper()
	servers, err := workspace.Servers(root)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(workspace.Names(servers), ", ")
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
// and a go line of 1.26.8 into servers/legacy of a copy of the repository,
// adopts it with `go tool mage adopt` (which raises go.work's go line),
// runs the repository's registry and scaffold tests, packages it with `go
// tool mage package`, runs the package as the Functions host would, and
// undoes it all with `go tool mage remove legacy`.
func TestAdoptEndToEnd(t *testing.T) {
	root := copyRepo(t)
	original := hashTree(t, root)
	existing, err := workspace.Servers(root)
	if err != nil {
		t.Fatal(err)
	}
	dev, hdl := workspace.NextFreePorts(existing)
	dir := filepath.Join(root, "servers", "legacy")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte(legacyServer), 0o644)
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/legacy\n\ngo 1.26.8\n\nrequire github.com/modelcontextprotocol/go-sdk v1.8.0\n"), 0o644)
	runGo(t, dir, []string{"GOWORK=off"}, "mod", "tidy") // the module as its author has it
	own := hashTree(t, dir)
	gw0, err := os.ReadFile(filepath.Join(root, workspace.GoWorkFile))
	if err != nil {
		t.Fatal(err)
	}
	w0, _ := workspace.ParseGoWork(gw0)
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
	gw, _ := os.ReadFile(filepath.Join(root, workspace.GoWorkFile))
	if w, _ := workspace.ParseGoWork(gw); version.Compare("go"+w0.Go, "go1.26.8") < 0 && w.Go != "1.26.8" {
		t.Errorf("go.work's go line after adopting a go 1.26.8 module: %s, want 1.26.8", w.Go)
	}
	// The repository's tests with an adopted server and a raised go line:
	// nothing may fail (scaffold's TestNew once expected go 1.26.0).
	runGo(t, root, nil, "test", "-count=1", "./internal/workspace")
	runGo(t, root, nil, "test", "-count=1", "-run", "TestNew$", "./internal/scaffold")

	out, err = runMage(t, root, "package", "-server=legacy")
	if err != nil {
		t.Fatalf("mage package -server=legacy: %v\n%s", err, out)
	}
	app := checkPackage(t, filepath.Join(root, "dist", "legacy.zip"))
	if canRunLinuxAMD64() {
		host := startUnderHost(t, app, "app", nil, yarpProxy)
		cs := connectMCP(t, host.URL+"/mcp", "2025-11-25")
		res, text := call(t, cs, "echo", map[string]any{"text": "adopted"})
		if res.IsError || text != "adopted" {
			t.Errorf("echo = %v %q", res.IsError, text)
		}
		if !strings.Contains(host.Stdout.String(), "legacy listening on") {
			t.Errorf("stdout:\n%s", host.Stdout)
		}
		cs.Close()
	} else {
		t.Log("the package is linux/amd64; cannot run it here")
	}

	// Undo it: the registry files and go.work's go line are as they were,
	// and servers/legacy is the author's module again.
	out, err = runMage(t, root, "remove", "legacy")
	if err != nil {
		t.Fatalf("mage remove legacy: %v\n%s", err, out)
	}
	for _, want := range []string{"removed servers/legacy/host.json and servers/legacy/local.settings.json", "`go tool mage adopt servers/legacy` hosts it again"} {
		if !strings.Contains(out, want) {
			t.Errorf("mage remove output lacks %q:\n%s", want, out)
		}
	}
	if w0.Go != "1.26.8" && !strings.Contains(out, "go.work's go line went back from 1.26.8 to "+w0.Go) {
		t.Errorf("mage remove does not say it lowered go.work's go line:\n%s", out)
	}
	os.RemoveAll(filepath.Join(root, "dist"))
	left := hashTree(t, dir)
	for f, h := range own {
		if f != "go.mod" && f != "go.sum" && left[f] != h { // adopt may raise versions there, and says so
			t.Errorf("servers/legacy/%s changed or is gone", f)
		}
	}
	for f := range left {
		if _, ok := own[f]; !ok {
			t.Errorf("servers/legacy/%s was left behind", f)
		}
	}
	os.RemoveAll(dir)
	sameTree(t, root, original, "after mage adopt servers/legacy, mage remove legacy and deleting the folder")
	t.Logf("whole adopt test took %s", time.Since(start).Round(time.Millisecond))
}
