package workspace

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// repoRoot is this repository, seen from this package's folder.
const repoRoot = "../.."

// copyRepo copies what the registry and infra checks read from this
// repository (the registry files, infra/, and the sources and Functions
// files of shared/ and servers/, without binaries or test data) to a
// temporary folder, so each test case can break its own copy.
func copyRepo(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	for _, f := range []string{GoWorkFile, "go.mod", AzureYAMLFile, ".vscode", "infra", "shared", "servers"} {
		src := filepath.Join(repoRoot, f)
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(repoRoot, p)
			if d.IsDir() {
				if d.Name() == "testdata" {
					return filepath.SkipDir
				}
				return os.MkdirAll(filepath.Join(dst, rel), 0o755)
			}
			if !d.Type().IsRegular() || d.Name() == "app" || d.Name() == "app.exe" {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
		})
		if err != nil {
			t.Fatalf("copy %s: %v", f, err)
		}
	}
	return dst
}

// edit replaces old with new in root/rel, failing if old is absent.
func edit(t *testing.T, root, rel, old, new string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q", rel, old)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRepositoryRegistry checks that this repository's servers are
// registered everywhere and nothing else is: above all, that running sync
// on the repository changes nothing.
func TestRepositoryRegistry(t *testing.T) {
	servers, err := Servers(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := PlanSync(repoRoot, servers, SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Changes) > 0 {
		t.Errorf("`%s` would change %s:\n  %s", SyncCommand, strings.Join(plan.Files(), ", "), strings.Join(plan.Lines(), "\n  "))
	}
	if err := CheckRegistry(repoRoot); err != nil {
		t.Fatal(err)
	}
}

// TestRepositorySyncKeepsEveryByte runs Sync itself on a copy of the
// repository: it writes nothing, and every registry file stays as it is.
func TestRepositorySyncKeepsEveryByte(t *testing.T) {
	root := copyRepo(t)
	before := readRegistry(t, root)
	plan, err := Sync(root, SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Changes) > 0 {
		t.Errorf("Sync changed %v", plan.Lines())
	}
	if after := readRegistry(t, root); !maps.Equal(before, after) {
		t.Error("the registry files changed")
	}
}

// readRegistry returns the registry files' contents by path.
func readRegistry(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	files := RegistryFiles()
	for _, s := range mustServers(t, root) {
		files = append(files, HostJSONFile(s.Name))
	}
	for _, f := range files {
		if b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f))); err == nil {
			out[f] = string(b)
		}
	}
	return out
}

// editList rewrites infra/servers.json in root with change applied to its
// entries.
func editList(t *testing.T, root string, change func([]ServerEntry) []ServerEntry) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(ServerListFile)))
	if err != nil {
		t.Fatal(err)
	}
	list, err := ParseServerList(b)
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(change(list))
	if err != nil {
		t.Fatal(err)
	}
	write(t, root, ServerListFile, string(out))
}

func without(name string) func([]ServerEntry) []ServerEntry {
	return func(l []ServerEntry) []ServerEntry {
		return slices.DeleteFunc(l, func(e ServerEntry) bool { return e.Name == name })
	}
}

// setAuth sets the auth mode of server in root's infra/servers.json.
func setAuth(t *testing.T, root, server, mode string) {
	t.Helper()
	editList(t, root, func(l []ServerEntry) []ServerEntry {
		for i := range l {
			if l[i].Name == server {
				l[i].Auth = mode
			}
		}
		return l
	})
}

// TestCheckRegistryBrokenCopies breaks a copy of the repository in each
// way a hand edit or a folder deleted by hand can, and checks what
// CheckRegistry says; then, where sync can repair it, that Sync does and
// that it gives back the original bytes where that is possible.
func TestCheckRegistryBrokenCopies(t *testing.T) {
	// The ghost service below goes on the line after services:, wherever
	// that is in azure.yaml (its hooks come first).
	yml, err := os.ReadFile(filepath.Join(repoRoot, AzureYAMLFile))
	if err != nil {
		t.Fatal(err)
	}
	ghostLine := slices.Index(strings.Split(string(yml), "\n"), "services:") + 2
	const (
		handFix  = iota // sync cannot fix it
		synced          // sync fixes it
		restored        // sync fixes it and gives back the original files
	)
	tests := []struct {
		name    string
		breakIt func(t *testing.T, root string)
		want    []string
		sync    int
	}{
		{
			name: "go.work lacks a server",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, GoWorkFile, "\t./servers/weather\n", "")
			},
			want: []string{"go.work: servers/weather is missing: run `go tool mage sync` (it will add use ./servers/weather)"},
			sync: restored,
		},
		{
			name: "go.work uses a server that does not exist",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, GoWorkFile, "\t./servers/weather\n", "\t./servers/weather\n\t./servers/ghost\n")
			},
			want: []string{"use ./servers/ghost, but there is no server servers/ghost: run `go tool mage sync` (it will remove use ./servers/ghost)"},
			sync: restored,
		},
		{
			name: "go.work uses a folder without a module",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, GoWorkFile, "\t./shared/hosting\n", "\t./shared/hosting\n\t./shared/gone\n")
			},
			want: []string{"go.work: use ./shared/gone, but ./shared/gone has no go.mod: remove the line"},
			sync: handFix,
		},
		{
			name: "go.work's go line below a module's",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, "servers/weather/go.mod", "\ngo ", "\ngo 1.99.0\n\n// was: go ")
			},
			want: []string{"is older than go 1.99.0 in servers/weather/go.mod", "(it will raise the go line to go 1.99.0)"},
			sync: synced,
		},
		{
			name: "azure.yaml lacks a service",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, AzureYAMLFile, "  weather:\n    project: ./servers/weather\n    language: go\n    host: function\n", "")
			},
			want: []string{"azure.yaml: servers/weather has no service: run `go tool mage sync` (it will add service weather"},
			sync: synced,
		},
		{
			name: "azure.yaml service with the wrong language, project and host",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, AzureYAMLFile, "  weather:\n    project: ./servers/weather\n    language: go\n    host: function\n",
					"  weather:\n    project: ./servers/userinfo\n    language: python\n    host: containerapp\n")
			},
			want: []string{"service weather: project must be ./servers/weather", `language must be go, not "python"`, `host must be function, not "containerapp"`},
			sync: handFix,
		},
		{
			name: "azure.yaml custom language without dist",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, AzureYAMLFile, "    project: ./servers/weather\n    language: go\n", "    project: ./servers/weather\n    language: custom\n")
			},
			want: []string{"language custom needs dist:"},
			sync: handFix,
		},
		{
			name: "azure.yaml service without a server",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, AzureYAMLFile, "services:\n", "services:\n  ghost:\n    project: ./servers/ghost\n    language: go\n    host: function\n")
			},
			want: []string{fmt.Sprintf("azure.yaml:%d: service ghost: there is no server servers/ghost: run `go tool mage sync` (it will remove service ghost)", ghostLine)},
			sync: restored,
		},
		{
			name: "azure.yaml service for something else",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, AzureYAMLFile, "services:\n", "services:\n  web:\n    project: ./web\n    language: js\n    host: appservice\n")
			},
			want: []string{fmt.Sprintf("azure.yaml:%d: service web: there is no server servers/web: remove the service", ghostLine)},
			sync: handFix,
		},
		{
			name: "azure.yaml in flow style",
			breakIt: func(t *testing.T, root string) {
				write(t, root, AzureYAMLFile, "name: x\nservices: {weather: {project: ./servers/weather}}\n")
			},
			want: []string{"azure.yaml:2: write services as an indented block"},
			sync: handFix,
		},
		{
			name:    "servers.json lacks a server",
			breakIt: func(t *testing.T, root string) { editList(t, root, without("weather")) },
			want:    []string{`infra/servers.json: servers/weather is missing: run ` + "`go tool mage sync`" + ` (it will add {"name": "weather", "graph": false, "auth": "entra"}`},
			sync:    synced,
		},
		{
			name: "servers.json unsorted, duplicated and stale",
			breakIt: func(t *testing.T, root string) {
				editList(t, root, func(l []ServerEntry) []ServerEntry {
					slices.Reverse(l)
					return append(l, l[0], ServerEntry{Name: "zzz"})
				})
			},
			want: []string{`entries must be sorted by name`, `appears twice`, `"zzz" is not a server under servers/`},
			sync: synced,
		},
		{
			name: "servers.json malformed",
			breakIt: func(t *testing.T, root string) {
				write(t, root, ServerListFile, `[{"nam": "weather"}]`)
			},
			want: []string{"parse infra/servers.json"},
			sync: handFix,
		},
		{
			name: "servers.json auth mode unknown",
			breakIt: func(t *testing.T, root string) {
				editList(t, root, func(l []ServerEntry) []ServerEntry {
					for i := range l {
						if l[i].Name == "weather" {
							l[i].Auth = "Entra ID"
						}
					}
					return l
				})
			},
			want: []string{`infra/servers.json: server "weather" has "auth": "Entra ID"; allowed values are "entra", "key", "anonymous" (none means "entra")`},
			sync: handFix,
		},
		{
			name: "servers.json deploys a server with a function key",
			breakIt: func(t *testing.T, root string) {
				setAuth(t, root, "weather", AuthKey)
			},
			want: []string{
				`servers/weather/host.json: customHandler.http.DefaultAuthorizationLevel is "anonymous", but infra/servers.json deploys weather with "auth": "key", which needs "function": run ` + "`go tool mage sync`" + ` (it will set customHandler.http.DefaultAuthorizationLevel to "function")`,
				`.vscode/mcp.json: servers.weather-local sends no x-functions-key header, but infra/servers.json deploys weather with "auth": "key"`,
				`.vscode/mcp.json: servers.weather-remote sends no x-functions-key header`,
				`.vscode/mcp.json: inputs lacks "weather-function-key"`,
				`.vscode/mcp.json: inputs lacks "weather-remote-function-key"`,
			},
			sync: synced,
		},
		{
			name: "host.json asks for a function key, servers.json does not",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, "servers/weather/host.json", `"DefaultAuthorizationLevel": "anonymous"`, `"DefaultAuthorizationLevel": "function"`)
			},
			want: []string{`servers/weather/host.json: customHandler.http.DefaultAuthorizationLevel is "function", but infra/servers.json deploys weather with "auth": "entra", which needs "anonymous"`},
			sync: restored,
		},
		{
			name: "host.json with an authorization level no mode uses",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, "servers/weather/host.json", `"DefaultAuthorizationLevel": "anonymous"`, `"DefaultAuthorizationLevel": "admin"`)
			},
			want: []string{filepath.Join("servers", "weather", "host.json") + `: customHandler.http.DefaultAuthorizationLevel must be "anonymous" ("auth" entra or anonymous in infra/servers.json) or "function" ("auth": "key"), not "admin"`},
			sync: restored,
		},
		{
			name: "mcp.json local entry on the wrong port",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, MCPJSONFile, "http://localhost:7071/mcp", "http://localhost:7079/mcp")
			},
			want: []string{`.vscode/mcp.json: servers.weather-local must be {"type": "http", "url": "http://localhost:7071/mcp"}`},
			sync: restored,
		},
		{
			name: "mcp.json without a remote entry and its input",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, MCPJSONFile, `"weather-remote"`, `"weather-cloud"`)
				edit(t, root, MCPJSONFile, `"id": "weather-host"`, `"id": "weather-hostname"`)
			},
			want: []string{".vscode/mcp.json: servers.weather-remote is missing", `.vscode/mcp.json: inputs lacks "weather-host"`},
			sync: synced,
		},
		{
			name: "mcp.json entries for a server that does not exist",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, MCPJSONFile, `"servers": {`, `"servers": {
    "ghost-local": {"type": "http", "url": "http://localhost:7099/mcp"},
    "ghost-remote": {"type": "http", "url": "https://${input:ghost-host}/mcp"},`)
			},
			want: []string{`.vscode/mcp.json: "ghost-local" is for a server that does not exist`, `.vscode/mcp.json: "ghost-remote" is for a server that does not exist`},
			sync: restored,
		},
		{
			name: "launch.json debugs a server that does not exist",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, LaunchJSONFile, "${workspaceFolder}/servers/weather\"", "${workspaceFolder}/servers/wether\"")
			},
			want: []string{`.vscode/launch.json: configuration "Debug weather (port 7071)" debugs servers/wether`, ".vscode/launch.json: no configuration debugs servers/weather"},
			sync: synced,
		},
		{
			name: "duplicate local port",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, "servers/weather/local.settings.json", `"LocalHttpPort": 7071`, `"LocalHttpPort": 7072`)
			},
			want: []string{filepath.Join("servers", "weather", "local.settings.json") + ": Host.LocalHttpPort 7072 is also used by userinfo"},
			sync: handFix,
		},
		{
			name: "host.json off contract",
			breakIt: func(t *testing.T, root string) {
				edit(t, root, "servers/weather/host.json", `"defaultExecutablePath": "app"`, `"defaultExecutablePath": "weather"`)
			},
			want: []string{filepath.Join("servers", "weather", "host.json") + `: customHandler.description.defaultExecutablePath must be "app"`},
			sync: handFix,
		},
		{
			name: "a server registered nowhere",
			breakIt: func(t *testing.T, root string) {
				write(t, root, "servers/extra/go.mod", "module example.com/extra\n")
				write(t, root, "servers/extra/host.json", strings.ReplaceAll(goodHost, "%PORT%", "8089"))
				write(t, root, "servers/extra/local.settings.json", local("7079"))
			},
			want: []string{
				"go.work: servers/extra is missing", "azure.yaml: servers/extra has no service", "infra/servers.json: servers/extra is missing",
				".vscode/mcp.json: servers.extra-local is missing", ".vscode/mcp.json: servers.extra-remote is missing", ".vscode/launch.json: no configuration debugs servers/extra",
			},
			sync: synced,
		},
		{
			name: "a server's folder deleted by hand",
			breakIt: func(t *testing.T, root string) {
				if err := os.RemoveAll(filepath.Join(root, "servers", "userinfo")); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{
				"go.work:", "use ./servers/userinfo, but there is no server servers/userinfo", "service userinfo: there is no server servers/userinfo",
				`infra/servers.json: "userinfo" is not a server`, `.vscode/mcp.json: "userinfo-local" is for a server that does not exist`,
				`.vscode/mcp.json: input "userinfo-host" is for a server that does not exist`, `debugs servers/userinfo, which does not exist`,
			},
			sync: synced,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := copyRepo(t)
			if err := CheckRegistry(root); err != nil {
				t.Fatalf("intact copy: %v", err)
			}
			original := readRegistry(t, root)
			tt.breakIt(t, root)
			err := CheckRegistry(root)
			if err == nil {
				t.Fatal("CheckRegistry = nil, want errors")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("CheckRegistry errors lack %q:\n%v", want, err)
				}
			}
			if tt.sync == handFix {
				return
			}
			plan, err := Sync(root, SyncOptions{})
			if err != nil {
				t.Fatalf("Sync: %v", err)
			}
			if err := CheckRegistry(root); err != nil {
				t.Errorf("CheckRegistry after Sync (which changed %v): %v", plan.Lines(), err)
			}
			if plan, err := PlanSync(root, mustServers(t, root), SyncOptions{}); err != nil || len(plan.Changes) > 0 {
				t.Errorf("a second sync would change %v (%v)", plan.Lines(), err)
			}
			if tt.sync == restored {
				after := readRegistry(t, root)
				for f, b := range original {
					if after[f] != b {
						t.Errorf("%s after Sync:\n%s\nwant the original:\n%s", f, after[f], b)
					}
				}
			}
		})
	}
}

func mustServers(t *testing.T, root string) []Server {
	t.Helper()
	s, err := Servers(root)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseAzureYAML(t *testing.T) {
	src := `# comment
name: demo   # trailing comment
metadata:
  template: x
services:
  # a comment inside the block
  alpha:
    project: "./servers/alpha"
    language: go
    host: function

  beta:
    project: './servers/beta' # quoted
    language: custom
    host: function
    dist: ./dist
    hooks:
      prepackage:
        posix:
          shell: sh
          run: mkdir -p dist && go build -o dist/app .
hooks:
  postprovision:
    run: echo hi
`
	a, err := ParseAzureYAML([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "demo" || len(a.Services) != 2 {
		t.Fatalf("parsed %+v", a)
	}
	want := []AzureService{
		{Name: "alpha", Project: "./servers/alpha", Language: "go", Host: "function", Line: 7, EndLine: 10},
		{Name: "beta", Project: "./servers/beta", Language: "custom", Host: "function", Dist: "./dist", Line: 12, EndLine: 21},
	}
	for i, w := range want {
		if a.Services[i] != w {
			t.Errorf("service %d = %+v, want %+v", i, a.Services[i], w)
		}
	}
	if got := src[:a.ServicesEnd]; !strings.HasSuffix(got, "run: mkdir -p dist && go build -o dist/app .\n") {
		t.Errorf("ServicesEnd at %q", got[max(0, len(got)-40):])
	}

	for _, bad := range []struct{ src, want string }{
		{"services:\n\tweather:\n", "tab"},
		{"services:\n  weather: ./servers/weather\n", "expected a service name"},
		{"services:\n    a:\n      x: 1\n  b:\n    x: 1\n", "inconsistent indentation"},
		{"services:\n  a:\n    project: x\nservices:\n", "appears twice"},
		{"- x\n", "top level"},
	} {
		if _, err := ParseAzureYAML([]byte(bad.src)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("ParseAzureYAML(%q) = %v, want %q", bad.src, err, bad.want)
		}
	}

	a, err = ParseAzureYAML([]byte("name: x"))
	if err != nil || len(a.Services) != 0 || a.ServicesEnd != len("name: x") {
		t.Errorf("no services: %+v, %v", a, err)
	}
}

func TestParseGoWork(t *testing.T) {
	src := `go 1.26.0

toolchain go1.26.8

// comment
use (
	.
	./servers/weather // trailing
	"./servers/with space"
)

use ./shared/hosting

replace (
	example.com/a => ./a
)
`
	w, err := ParseGoWork([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if w.Go != "1.26.0" || strings.Join(w.Use, ",") != ".,./servers/weather,./servers/with space,./shared/hosting" {
		t.Fatalf("parsed %+v", w)
	}
	for _, bad := range []string{"use (\n./a\n", "use (\n\"unterminated\n)\n"} {
		if _, err := ParseGoWork([]byte(bad)); err == nil {
			t.Errorf("ParseGoWork(%q) = nil error", bad)
		}
	}
}

func TestNextFreePorts(t *testing.T) {
	tests := []struct {
		servers          []Server
		wantDev, wantHdl int
	}{
		{nil, 7071, 8081},
		{[]Server{{DevPort: 7071, HandlerPort: 8081}, {DevPort: 7072, HandlerPort: 8082}}, 7073, 8083},
		{[]Server{{DevPort: 7072, HandlerPort: 8082}}, 7071, 8081},
		{[]Server{{DevPort: 7071, HandlerPort: 7072}, {DevPort: 8081, HandlerPort: 8083}}, 7073, 8082},
	}
	for _, tt := range tests {
		dev, hdl := NextFreePorts(tt.servers)
		if dev != tt.wantDev || hdl != tt.wantHdl {
			t.Errorf("NextFreePorts(%+v) = %d, %d; want %d, %d", tt.servers, dev, hdl, tt.wantDev, tt.wantHdl)
		}
	}
}

func TestServersSkipsHiddenFolders(t *testing.T) {
	root := t.TempDir()
	writeServer(t, root, "weather", host("8081"), local("7071"))
	// What an interrupted `mage new` leaves behind is not a server.
	writeServer(t, root, ".new-demo-123", host("8082"), local("7072"))
	writeServer(t, root, "_draft", host("8083"), local("7073"))
	// Nor is a Go module without its Functions files: one copied there to
	// be adopted, or one `mage remove` left without -delete.
	writeServer(t, root, "unhosted", "", "")
	got, err := Servers(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "weather" {
		t.Fatalf("Servers = %+v", got)
	}
}

// TestCheckRegistryRemoteURL: a remote entry's url is the prompt `mage
// new` writes or the https://<host>/mcp the azd hook writes, nothing else.
func TestCheckRegistryRemoteURL(t *testing.T) {
	root := copyRepo(t)
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(MCPJSONFile)))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseMCPJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	current := m.Servers[MCPRemoteName("weather")].URL
	for _, tt := range []struct {
		url  string
		host string // "" if the check refuses url
	}{
		{url: MCPRemoteURL("weather")},
		{url: "https://func-weather-abc123.azurewebsites.net/mcp", host: "func-weather-abc123.azurewebsites.net"},
		{url: "https://func-weather-abc123.eastus-01.azurewebsites.net/mcp", host: "func-weather-abc123.eastus-01.azurewebsites.net"},
		{url: "https://${input:userinfo-host}/mcp"},
		{url: "http://func-weather-abc123.azurewebsites.net/mcp"},
		{url: "https://func-weather-abc123.azurewebsites.net/mcp/"},
		{url: "https://func-weather-abc123.azurewebsites.net/"},
		{url: "https:///mcp"},
		{url: "https://a..b/mcp"},
		{url: "https://-a.example/mcp"},
		{url: "https://a b/mcp"},
		{url: "https://example.com/x/mcp"},
		{url: "https://user@example.com/mcp"},
	} {
		edit(t, root, MCPJSONFile, `"url": "`+current+`"`, `"url": "`+tt.url+`"`)
		current = tt.url
		host, ok := MCPRemoteHost(tt.url)
		if host != tt.host || ok != (tt.host != "") {
			t.Errorf("MCPRemoteHost(%q) = %q, %v; want %q", tt.url, host, ok, tt.host)
		}
		err := CheckRegistry(root)
		switch {
		case tt.url == MCPRemoteURL("weather") || tt.host != "":
			if err != nil {
				t.Errorf("url %q: %v", tt.url, err)
			}
		case err == nil || !strings.Contains(err.Error(), "servers.weather-remote must be"):
			t.Errorf("url %q: CheckRegistry = %v, want servers.weather-remote refused", tt.url, err)
		}
	}
}

func TestCheckRegistryMissingFiles(t *testing.T) {
	root := copyRepo(t)
	for _, f := range RegistryFiles() {
		if err := os.Remove(filepath.Join(root, filepath.FromSlash(f))); err != nil {
			t.Fatal(err)
		}
	}
	err := CheckRegistry(root)
	for _, want := range []string{
		"read " + GoWorkFile, "read " + AzureYAMLFile,
		ServerListFile + ": the file is missing: run `go tool mage sync` (it will create " + ServerListFile + ")",
		MCPJSONFile + ": the file is missing", LaunchJSONFile + ": the file is missing",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckRegistry = %v, want %q", err, want)
		}
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("CheckRegistry error does not wrap fs.ErrNotExist: %v", err)
	}
	if _, err := Sync(root, SyncOptions{}); err == nil || !strings.Contains(err.Error(), "nothing was changed") {
		t.Errorf("Sync without go.work and azure.yaml = %v, want a refusal", err)
	}
	if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(MCPJSONFile))); err == nil {
		t.Error("a refused Sync created .vscode/mcp.json")
	}

	// With go.work and azure.yaml back, Sync writes the JSON files again.
	for _, f := range []string{GoWorkFile, AzureYAMLFile} {
		b, err := os.ReadFile(filepath.Join(repoRoot, f))
		if err != nil {
			t.Fatal(err)
		}
		write(t, root, f, string(b))
	}
	if _, err := Sync(root, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := CheckRegistry(root); err != nil {
		t.Error(err)
	}
}

// TestSyncAuthModes switches weather to each auth mode and back: sync
// writes host.json's authorization level and, for key, the function key
// header and input of .vscode/mcp.json; back on entra every file is as it
// was, byte for byte.
func TestSyncAuthModes(t *testing.T) {
	root := copyRepo(t)
	original := readRegistry(t, root)
	for _, mode := range []string{AuthKey, AuthAnonymous, AuthKey, AuthEntra} {
		setAuth(t, root, "weather", mode)
		if _, err := Sync(root, SyncOptions{}); err != nil {
			t.Fatalf("Sync to %s: %v", mode, err)
		}
		if err := CheckRegistry(root); err != nil {
			t.Errorf("CheckRegistry after Sync to %s: %v", mode, err)
		}
		var hj HostJSON
		if err := readJSON(filepath.Join(root, "servers", "weather", "host.json"), &hj); err != nil {
			t.Fatal(err)
		}
		if got, want := hj.CustomHandler.HTTP.DefaultAuthorizationLevel, AuthorizationLevel(mode); got != want {
			t.Errorf("%s: host.json level %q, want %q", mode, got, want)
		}
		var m MCPJSON
		if err := readJSON(filepath.Join(root, filepath.FromSlash(MCPJSONFile)), &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []struct{ entry, input, desc string }{
			{"weather-local", "weather-function-key", ".mcpfunc/dev-keys.json"},
			{"weather-remote", "weather-remote-function-key", "az functionapp keys list"},
		} {
			header := m.Servers[k.entry].Headers["x-functions-key"]
			hasInput := false
			for _, in := range m.Inputs {
				if in.ID == k.input {
					hasInput = in.Type == "promptString" && in.Password && strings.Contains(in.Description, k.desc)
				}
			}
			if key := mode == AuthKey; (header == "${input:"+k.input+"}") != key || hasInput != key {
				t.Errorf("%s: %s header %q, input %s %v; want both only for key", mode, k.entry, header, k.input, hasInput)
			}
		}
		if h := m.Servers["userinfo-remote"].Headers; len(h) != 0 {
			t.Errorf("%s: headers on userinfo-remote %v", mode, h)
		}
	}
	after := readRegistry(t, root)
	for f, b := range original {
		if f != ServerListFile && after[f] != b {
			t.Errorf("%s after the round trip:\n%s\nwant the original:\n%s", f, after[f], b)
		}
	}
}

// TestSyncKeepsOwnHeaders: a key-mode entry with headers of its own keeps
// them, and a key header value of the user's own stays in every mode.
func TestSyncKeepsOwnHeaders(t *testing.T) {
	servers := []Server{srv("weather", 7071, "", true)}
	src := `{"inputs": [{"id": "weather-host", "type": "promptString", "description": "x"}], "servers": {"weather-local": {"type": "http", "url": "http://localhost:7071/mcp"}, "weather-remote": {"type": "http", "url": "https://${input:weather-host}/mcp", "headers": {"x-trace": "1"}}}}`
	got, edits, err := syncMCPJSON([]byte(src), servers, map[string]string{"weather": AuthKey})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"inputs": [{"id": "weather-host", "type": "promptString", "description": "x"}, ` +
		`{"type":"promptString","id":"weather-function-key","description":"Function key of the local weather server (go tool mage dev keeps its local keys in .mcpfunc/dev-keys.json)","password":true}, ` +
		`{"type":"promptString","id":"weather-remote-function-key","description":"Function key of the weather Function app: az functionapp keys list -g RESOURCE_GROUP -n APP_NAME --query functionKeys.default -o tsv (azd env get-values: AZURE_RESOURCE_GROUP, SERVERS[].appName)","password":true}], ` +
		`"servers": {"weather-local": {"type": "http", "url": "http://localhost:7071/mcp", "headers": {"x-functions-key":"${input:weather-function-key}"}}, ` +
		`"weather-remote": {"type": "http", "url": "https://${input:weather-host}/mcp", "headers": {"x-trace": "1", "x-functions-key": "${input:weather-remote-function-key}"}}}}`
	if string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	checkEdits(t, edits, []string{"add the header x-functions-key", "add the input weather-function-key", "add the input weather-remote-function-key"})
	back, _, err := syncMCPJSON(got, servers, map[string]string{"weather": AuthEntra})
	if err != nil || string(back) != src {
		t.Errorf("back to entra: %v\n%s\nwant\n%s", err, back, src)
	}
	own := strings.Replace(src, `"x-trace": "1"`, `"x-functions-key": "${input:my-key}"`, 1)
	for _, mode := range []string{AuthEntra, AuthAnonymous} {
		if got, edits, err := syncMCPJSON([]byte(own), servers, map[string]string{"weather": mode}); err != nil || string(got) != own {
			t.Errorf("%s with the user's own key header: %v %v\n%s", mode, edits, err, got)
		}
	}
	got, _, err = syncMCPJSON([]byte(own), servers, map[string]string{"weather": AuthKey})
	if err != nil || !strings.Contains(string(got), `"x-functions-key": "${input:my-key}"`) {
		t.Errorf("key mode replaced the user's own key header: %v\n%s", err, got)
	}
}

// TestSyncRemovesKeyInputsOfGoneServers: the function key inputs of a
// server that does not exist go, those of a server that does stay
// (ab-remote-function-key is ab's, not a server ab-remote's).
func TestSyncRemovesKeyInputsOfGoneServers(t *testing.T) {
	servers := []Server{srv("ab", 7071, "", true)}
	src := `{"inputs": [{"id": "ab-host"}, {"id": "ab-remote-function-key"}, {"id": "ghost-function-key"}, {"id": "ghost-remote-function-key"}], "servers": {"ab-local": {"type": "http", "url": "http://localhost:7071/mcp", "headers": {"x-functions-key": "${input:ab-function-key}"}}, "ab-remote": {"type": "http", "url": "https://${input:ab-host}/mcp", "headers": {"x-functions-key": "${input:ab-remote-function-key}"}}}}`
	got, edits, err := syncMCPJSON([]byte(src), servers, map[string]string{"ab": AuthKey})
	if err != nil {
		t.Fatal(err)
	}
	checkEdits(t, edits, []string{"remove the input ghost-function-key", "remove the input ghost-remote-function-key", "add the input ab-function-key"})
	if strings.Contains(string(got), "ghost") || !strings.Contains(string(got), `{"id": "ab-remote-function-key"}`) {
		t.Errorf("got %s", got)
	}
}
