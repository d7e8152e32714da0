package scaffold

import (
	"bytes"
	"context"
	"encoding/json"
	"go/format"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mcpfunc/mcpfunc/internal/treehash"
	"github.com/mcpfunc/mcpfunc/internal/workspace"
)

const repoRoot = "../.."

// fixture copies from this repository what New and Adopt read and change:
// go.work, the root go.mod, the registry files, shared/hosting and
// shared/auth (a new server builds against them), the other modules'
// go.mod, and each server's go.mod and Functions files. Other modules are
// not built, so their sources are left out.
func fixture(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	files := []string{workspace.GoWorkFile, "go.mod", "go.sum", workspace.AzureYAMLFile, workspace.ServerListFile, workspace.MCPJSONFile, workspace.LaunchJSONFile}
	b, err := os.ReadFile(filepath.Join(repoRoot, workspace.GoWorkFile))
	if err != nil {
		t.Fatal(err)
	}
	w, err := workspace.ParseGoWork(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range w.Use {
		if u == "." {
			continue
		}
		for _, f := range []string{"go.mod", "go.sum", "host.json", "local.settings.json"} {
			if _, err := os.Stat(filepath.Join(repoRoot, u, f)); err == nil {
				files = append(files, filepath.ToSlash(filepath.Join(u, f)))
			}
		}
	}
	for _, shared := range []string{"hosting", "auth"} {
		err = filepath.WalkDir(filepath.Join(repoRoot, "shared", shared), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(repoRoot, p)
			files = append(files, filepath.ToSlash(rel))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dst, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The fixture keeps only the servers' go.mod and Functions files; a
	// server without sources is still a server to workspace.Servers.
	if err := workspace.CheckRegistry(dst); err != nil {
		t.Fatalf("fixture is not consistent: %v", err)
	}
	return dst
}

// snapshot snapshots every file and folder under root (see treehash).
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out, err := treehash.Snapshot(root)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameFiles fails the test if root changed since before.
func sameFiles(t *testing.T, root string, before map[string]string) {
	t.Helper()
	for _, d := range treehash.Diff(before, snapshot(t, root)) {
		t.Error(d)
	}
}

func readFile(t *testing.T, root, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestNewRefuses(t *testing.T) {
	root := fixture(t)
	tests := []struct {
		name    string
		server  string
		setup   func(t *testing.T, root string)
		wantErr string
	}{
		{name: "upper case", server: "Demo", wantErr: `"Demo" is not a valid server name: use 2 to 32 lower-case letters`},
		{name: "underscore", server: "my_server", wantErr: "is not a valid server name"},
		{name: "path", server: "../evil", wantErr: "is not a valid server name"},
		{name: "empty", server: "", wantErr: "is not a valid server name"},
		{name: "too long", server: strings.Repeat("a", 33), wantErr: "is not a valid server name"},
		{name: "existing server", server: "weather", wantErr: "servers/weather already exists: choose another name"},
		{name: "existing plain folder", server: "notes", setup: func(t *testing.T, root string) {
			os.MkdirAll(filepath.Join(root, "servers", "notes"), 0o755)
		}, wantErr: "servers/notes already exists"},
		{name: "a broken server", server: "ghost", setup: func(t *testing.T, root string) {
			writeLegacy(t, root, "broken", map[string]string{"go.mod": "module example.com/broken\n", "host.json": string(hostJSON(8099))})
		}, wantErr: "read the existing servers (fix this first"},
		{name: "go.work that does not parse", server: "ghost", setup: func(t *testing.T, root string) {
			appendTo(t, root, workspace.GoWorkFile, "use (\n")
		}, wantErr: "go.work: unterminated ( block"},
		{name: "mcp.json with comments", server: "ghost", setup: func(t *testing.T, root string) {
			os.WriteFile(filepath.Join(root, ".vscode", "mcp.json"), []byte("{\n  // mine\n  \"servers\": {}\n}\n"), 0o644)
		}, wantErr: "parse .vscode/mcp.json"},
	}
	// Leftovers of a removed server (a service, entries) are not refused:
	// the sync that registers the new server adopts or removes them (see
	// internal/workspace's sync tests).
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := root
			if tt.setup != nil {
				root = fixture(t)
				tt.setup(t, root)
			}
			before := snapshot(t, root)
			_, err := New(context.Background(), root, tt.server, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New(%q) = %v, want %q", tt.server, err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), "nothing was changed") {
				t.Errorf("error does not say that nothing was changed: %v", err)
			}
			sameFiles(t, root, before)
		})
	}
}

func appendTo(t *testing.T, root, rel, text string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, append(b, text...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestNew scaffolds a server into a copy of the repository and checks every
// file it writes and changes. It runs go mod tidy and go vet (module cache
// or proxy needed).
func TestNew(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go mod tidy and go vet")
	}
	root := fixture(t)
	existing, err := workspace.Servers(root)
	if err != nil {
		t.Fatal(err)
	}
	dev, hdl := workspace.NextFreePorts(existing) // 7073 and 8083 next to weather and userinfo
	devs := strconv.Itoa(dev)
	// The new module's go line is go.work's, and its SDK version the one
	// shared/hosting requires: derived here as New derives them, so that
	// adopting a module with a newer go line (which raises go.work's) or
	// moving the SDK does not break this test.
	gw0, err := workspace.ParseGoWork([]byte(readFile(t, root, workspace.GoWorkFile)))
	if err != nil {
		t.Fatal(err)
	}
	sdk := regexp.MustCompile(`(?m)^\s*(?:require\s+)?github\.com/modelcontextprotocol/go-sdk\s+(v\S+)`).FindStringSubmatch(readFile(t, root, "shared/hosting/go.mod"))
	if sdk == nil {
		t.Fatal("shared/hosting/go.mod does not require the go-sdk")
	}
	before := snapshot(t, root)
	var progress bytes.Buffer
	res, err := New(context.Background(), root, "demo", Options{Out: &progress})
	if err != nil {
		t.Fatalf("New: %v\n%s", err, progress.String())
	}
	if res.Warning != "" {
		t.Errorf("warning: %s", res.Warning)
	}
	if res.Dir != "servers/demo" || res.DevPort != dev || res.HandlerPort != hdl {
		t.Errorf("result = %+v", res)
	}
	wantCreated := []string{"servers/demo/.funcignore", "servers/demo/go.mod", "servers/demo/go.sum", "servers/demo/host.json", "servers/demo/local.settings.json", "servers/demo/main.go", "servers/demo/server/server.go", "servers/demo/server/server_test.go", "servers/demo/tools/tools.go", "servers/demo/tools/tools_test.go"}
	if !slices.Equal(res.Created, wantCreated) {
		t.Errorf("Created = %v, want %v", res.Created, wantCreated)
	}
	wantRegistered := []string{".vscode/launch.json", ".vscode/mcp.json", "azure.yaml", "go.work", "infra/servers.json"}
	if !slices.Equal(res.Registered, wantRegistered) {
		t.Errorf("Registered = %v, want %v", res.Registered, wantRegistered)
	}
	for _, want := range []string{"==> go mod tidy in servers/demo", "==> registering servers/demo (go tool mage sync)", "    go.work: add use ./servers/demo",
		"    azure.yaml: add service demo", "==> building servers/demo as azd does"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, progress.String())
		}
	}

	// Exactly the reported files changed or appeared.
	after := snapshot(t, root)
	for f, h := range after {
		if strings.HasSuffix(f, "/") {
			continue // folders
		}
		changed := before[f] != h
		if changed != (slices.Contains(res.Created, f) || slices.Contains(res.Registered, f)) {
			t.Errorf("%s: changed = %v, but the result says otherwise", f, changed)
		}
	}

	// The new server's files.
	s, err := workspace.ReadServer(filepath.Join(root, "servers", "demo"))
	if err != nil {
		t.Fatal(err)
	}
	if s.DevPort != dev || s.HandlerPort != hdl || s.Settings["FUNCTIONS_WORKER_RUNTIME"] != "custom" || s.Settings["AzureWebJobsFeatureFlags"] != "EnableMcpCustomHandlerPreview" || s.Settings["MCP_AUTH"] != "none" {
		t.Errorf("server = %+v", s)
	}
	if err := workspace.CheckHostJSON(s.Dir); err != nil {
		t.Errorf("host.json: %v", err)
	}
	gomod := readFile(t, root, "servers/demo/go.mod")
	for _, want := range []string{
		"module github.com/mcpfunc/mcpfunc/servers/demo\n", "\ngo " + gw0.Go + "\n",
		"github.com/modelcontextprotocol/go-sdk " + sdk[1], "github.com/mcpfunc/mcpfunc/shared/hosting v0.0.0",
		"replace github.com/mcpfunc/mcpfunc/shared/hosting => ../../shared/hosting",
		"github.com/mcpfunc/mcpfunc/shared/auth v0.0.0",
		"replace github.com/mcpfunc/mcpfunc/shared/auth => ../../shared/auth",
	} {
		if !strings.Contains(gomod, want) {
			t.Errorf("go.mod lacks %q:\n%s", want, gomod)
		}
	}
	for _, f := range []string{"main.go", "server/server.go", "server/server_test.go", "tools/tools.go", "tools/tools_test.go"} {
		src := readFile(t, root, "servers/demo/"+f)
		if formatted, err := format.Source([]byte(src)); err != nil || string(formatted) != src {
			t.Errorf("%s is not gofmt-formatted (%v)", f, err)
		}
	}
	// The shape of weather and userinfo: main calls server.Main; package
	// server builds the server (New) and serves it (Main).
	if main := readFile(t, root, "servers/demo/main.go"); !strings.Contains(main, "import \"github.com/mcpfunc/mcpfunc/servers/demo/server\"\n") || !strings.Contains(main, "func main() { server.Main() }\n") {
		t.Errorf("main.go:\n%s", main)
	}
	if srv := readFile(t, root, "servers/demo/server/server.go"); !strings.Contains(srv, "hosting.Start(") || !strings.Contains(srv, `Name: "demo"`) || !strings.Contains(srv, "hosting.WithPort("+devs+")") ||
		!strings.Contains(srv, "auth.ProtectFromEnv(") || !strings.Contains(srv, "hosting.WithMiddleware(p.Middleware)") ||
		!strings.Contains(srv, "\nfunc Main(extra ...hosting.Option) {\n") ||
		!strings.Contains(srv, "\nfunc New(ctx context.Context, impl *mcp.Implementation, getenv func(string) string, logger *slog.Logger) (*Server, error) {\n") {
		t.Errorf("server/server.go:\n%s", srv)
	}

	// Registrations, each file's other bytes untouched.
	yml := readFile(t, root, workspace.AzureYAMLFile)
	origYML := readFile(t, repoRoot, workspace.AzureYAMLFile)
	if yml != origYML+"  demo:\n    project: ./servers/demo\n    language: go\n    host: function\n" {
		t.Errorf("azure.yaml:\n%s", yml)
	}
	var list []workspace.ServerEntry
	json.Unmarshal([]byte(readFile(t, root, workspace.ServerListFile)), &list)
	sorted := slices.IsSortedFunc(list, func(a, b workspace.ServerEntry) int { return strings.Compare(a.Name, b.Name) })
	i := slices.IndexFunc(list, func(e workspace.ServerEntry) bool { return e.Name == "demo" })
	if len(list) != len(existing)+1 || i < 0 || list[i].Graph || !sorted || !strings.HasSuffix(readFile(t, root, workspace.ServerListFile), "]\n") {
		t.Errorf("servers.json = %+v", list)
	}
	mcpj := readFile(t, root, workspace.MCPJSONFile)
	for _, want := range []string{
		"\"demo-local\": {\n      \"type\": \"http\",\n      \"url\": \"http://localhost:" + devs + "/mcp\"\n    }",
		"\"demo-remote\": {\n      \"type\": \"http\",\n      \"url\": \"https://${input:demo-host}/mcp\"\n    }\n  }\n}\n",
		"{\n      \"id\": \"demo-host\",\n      \"type\": \"promptString\",",
	} {
		if !strings.Contains(mcpj, want) {
			t.Errorf("mcp.json lacks %q:\n%s", want, mcpj)
		}
	}
	launch := readFile(t, root, workspace.LaunchJSONFile)
	if !strings.Contains(launch, `"args": ["-port", "`+devs+`"],`) || !strings.Contains(launch, `"program": "${workspaceFolder}/servers/demo",`) {
		t.Errorf("launch.json:\n%s", launch)
	}
	if !strings.Contains(launch, `"env": { "LOG_LEVEL": "debug", "MCP_AUTH": "none" }`) {
		t.Errorf("launch.json's existing entries were reformatted:\n%s", launch)
	}
	gw, _ := workspace.ParseGoWork([]byte(readFile(t, root, workspace.GoWorkFile)))
	if !slices.Contains(gw.Use, "./servers/demo") {
		t.Errorf("go.work uses %v", gw.Use)
	}
	if err := workspace.CheckRegistry(root); err != nil {
		t.Errorf("CheckRegistry after New: %v", err)
	}

	// A second server gets the next ports; the same name is refused.
	if _, err := New(context.Background(), root, "demo", Options{}); err == nil || !strings.Contains(err.Error(), "servers/demo already exists") {
		t.Errorf("second New(demo) = %v", err)
	}
}

// legacyMain is a minimal dependency-free MCP server: enough for Adopt's
// build and probe. It answers initialize and tools/list statelessly with
// JSON on FUNCTIONS_CUSTOMHANDLER_PORT, at every path.
const legacyMain = `package main

import (
	"encoding/json"
	"net/http"
	"os"
)

func main() {
	http.ListenAndServe("127.0.0.1:"+os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID     any    ` + "`json:\"id\"`" + `
			Method string ` + "`json:\"method\"`" + `
		}
		if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&req) != nil {
			http.NotFound(w, r)
			return
		}
		var result any
		switch req.Method {
		case "initialize":
			result = map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{"tools": map[string]any{}}, "serverInfo": map[string]any{"name": "legacy", "version": "1.0.0"}}
		case "tools/list":
			result = map[string]any{"tools": []any{map[string]any{"name": "echo", "inputSchema": map[string]any{"type": "object"}}}}
		default:
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": result})
	}))
}
`

func writeLegacy(t *testing.T, root, name string, files map[string]string) {
	t.Helper()
	for f, c := range files {
		p := filepath.Join(root, "servers", name, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func legacyFiles() map[string]string {
	return map[string]string{"go.mod": "module example.com/legacy\n\ngo 1.26.0\n", "main.go": legacyMain}
}

func TestAdopt(t *testing.T) {
	root := fixture(t)
	existing, err := workspace.Servers(root)
	if err != nil {
		t.Fatal(err)
	}
	dev, hdl := workspace.NextFreePorts(existing)
	devs := strconv.Itoa(dev)
	writeLegacy(t, root, "legacy", legacyFiles())
	before := snapshot(t, root)
	var progress bytes.Buffer
	res, err := Adopt(context.Background(), root, filepath.Join("servers", "legacy"), Options{Out: &progress})
	if err != nil {
		t.Fatalf("Adopt: %v\n%s", err, progress.String())
	}
	if res.Warning != "" {
		t.Errorf("warning: %s", res.Warning)
	}
	if res.Name != "legacy" || res.DevPort != dev || res.HandlerPort != hdl {
		t.Errorf("result = %+v", res)
	}
	if want := []string{"servers/legacy/host.json", "servers/legacy/local.settings.json"}; !slices.Equal(res.Created, want) {
		t.Errorf("Created = %v, want %v", res.Created, want)
	}
	after := snapshot(t, root)
	for f, h := range before {
		if strings.HasPrefix(f, "servers/legacy/") && after[f] != h {
			t.Errorf("adopt changed the server's own file %s", f)
		}
	}
	if err := workspace.CheckHostJSON(filepath.Join(root, "servers", "legacy")); err != nil {
		t.Error(err)
	}
	launch := readFile(t, root, workspace.LaunchJSONFile)
	if !strings.Contains(launch, `"env": { "FUNCTIONS_CUSTOMHANDLER_PORT": "`+devs+`" }`) || strings.Contains(launch, `"args": ["-port", "`+devs+`"]`) {
		t.Errorf("launch.json for an adopted server:\n%s", launch)
	}
	if err := workspace.CheckRegistry(root); err != nil {
		t.Errorf("CheckRegistry after Adopt: %v", err)
	}

	// A fixed port the server listens on becomes customHandler.port.
	writeLegacy(t, root, "fixed", legacyFiles())
	writeLegacy(t, root, "fixed", map[string]string{"go.mod": "module example.com/fixed\n\ngo 1.26.0\n"})
	res, err = Adopt(context.Background(), root, "servers/fixed", Options{HandlerPort: 9090})
	if err != nil {
		t.Fatal(err)
	}
	if res.Name != "fixed" || res.HandlerPort != 9090 || res.DevPort != dev+1 {
		t.Errorf("fixed port result = %+v", res)
	}
	s, err := workspace.ReadServer(filepath.Join(root, "servers", "fixed"))
	if err != nil || s.HandlerPort != 9090 || s.DevPort != dev+1 {
		t.Errorf("fixed port server = %+v, %v", s, err)
	}
}

func TestAdoptRefuses(t *testing.T) {
	root := fixture(t)
	writeLegacy(t, root, "legacy", legacyFiles())
	writeLegacy(t, root, "lib", map[string]string{"go.mod": "module example.com/lib\n\ngo 1.26.0\n", "lib.go": "package lib\n"})
	writeLegacy(t, root, "nomod", map[string]string{"main.go": legacyMain})
	writeLegacy(t, root, "nested", map[string]string{"cmd/server/main.go": legacyMain, "go.mod": "module example.com/nested\n"})
	writeLegacy(t, root, "broken", map[string]string{"go.mod": "module example.com/broken\n\ngo 1.26.0\n", "main.go": "package main\n\nfunc main() { undefined() }\n"})
	writeLegacy(t, root, "cgo", map[string]string{"go.mod": "module example.com/cgo\n\ngo 1.26.0\n", "main.go": "package main\n\n// int one() { return 1; }\nimport \"C\"\n\nfunc main() { _ = C.one() }\n"})
	writeLegacy(t, root, "hosted", legacyFiles())
	writeLegacy(t, root, "hosted", map[string]string{"host.json": string(hostJSON(8090)), "local.settings.json": string(localSettingsJSON(7090))})
	writeLegacy(t, root, "Bad_Name", legacyFiles())
	outside := t.TempDir()
	tests := []struct {
		dir     string
		port    int
		wantErr string
	}{
		{dir: outside, wantErr: "is not a folder directly under servers/: adopt registers servers/<name> only"},
		{dir: "shared/hosting", wantErr: "is not a folder directly under servers/"},
		{dir: "servers", wantErr: "is not a folder directly under servers/"},
		{dir: "servers/legacy/sub", wantErr: "is not a folder directly under servers/"},
		{dir: "", wantErr: "adopt needs the server's folder"},
		{dir: "servers/Bad_Name", wantErr: `"Bad_Name" is not a valid server name`},
		{dir: "servers/missing", wantErr: "servers/missing is not a folder"},
		{dir: "servers/nomod", wantErr: "servers/nomod has no go.mod: adopt takes a Go module"},
		{dir: "servers/lib", wantErr: "servers/lib holds package lib, not package main"},
		{dir: "servers/nested", wantErr: "servers/nested has no Go package to build for linux/amd64 without cgo in its root folder"},
		{dir: "servers/broken", wantErr: "servers/broken does not build on its own for linux/amd64 without cgo"},
		{dir: "servers/cgo", wantErr: "servers/cgo has no Go package to build for linux/amd64 without cgo"},
		{dir: "servers/hosted", wantErr: "servers/hosted/host.json already exists: adopt writes it and will not overwrite yours"},
		{dir: "servers/weather", wantErr: "servers/weather is already hosted here: it has host.json and local.settings.json and is registered in go.work and azure.yaml, so there is nothing to adopt"},
		{dir: "servers/legacy", port: 8081, wantErr: "handler port 8081 is already used by servers/weather"},
		{dir: "servers/legacy", port: 80, wantErr: "handler port 80: use a port from 1024 to 65535"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			before := snapshot(t, root)
			_, err := Adopt(context.Background(), root, tt.dir, Options{HandlerPort: tt.port})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Adopt(%q) = %v, want %q", tt.dir, err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), "nothing was changed") {
				t.Errorf("error does not say that nothing was changed: %v", err)
			}
			if after := snapshot(t, root); !maps.Equal(before, after) {
				t.Errorf("files changed")
			}
		})
	}
}

// TestRollback makes a step after the registration fail (the workspace
// build: go.work gets a directive the go command rejects) and checks that
// every registry file is restored and nothing the command wrote is left.
func TestRollback(t *testing.T) {
	for _, tt := range []struct {
		name string
		slow bool // runs go mod tidy
		run  func(root string) error
	}{
		{"adopt", false, func(root string) error {
			_, err := Adopt(context.Background(), root, "servers/legacy", Options{})
			return err
		}},
		{"new", true, func(root string) error {
			_, err := New(context.Background(), root, "demo", Options{})
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.slow && testing.Short() {
				t.Skip("runs go mod tidy, which needs the module proxy or a warm module cache")
			}
			root := fixture(t)
			writeLegacy(t, root, "legacy", legacyFiles())
			// A directive the go command rejects; ParseGoWork skips it.
			appendTo(t, root, workspace.GoWorkFile, "\nfrobnicate ./x\n")
			before := snapshot(t, root)
			err := tt.run(root)
			if err == nil || !strings.Contains(err.Error(), "so every change was undone") || !strings.Contains(err.Error(), "frobnicate") {
				t.Fatalf("err = %v, want a workspace failure that was rolled back", err)
			}
			sameFiles(t, root, before)
		})
	}
}
