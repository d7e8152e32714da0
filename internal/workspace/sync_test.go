package workspace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// srv is a server for the sync writers' tests.
func srv(name string, devPort int, goVersion string, hosting bool) Server {
	return Server{Name: name, DevPort: devPort, HandlerPort: devPort + 1000, GoVersion: goVersion, UsesHosting: hosting}
}

func TestSyncGoWork(t *testing.T) {
	root := t.TempDir()
	write(t, root, "go.mod", "module example.com/root\n\ngo 1.26.0\n")
	write(t, root, "shared/hosting/go.mod", "module example.com/hosting\n\ngo 1.26.0 // a comment\n")
	a, b, c := srv("a1", 7071, "1.26.0", true), srv("b1", 7072, "1.26.0", true), srv("c1", 7073, "1.26.0", true)
	tests := []struct {
		name    string
		src     string
		servers []Server
		opts    SyncOptions
		want    string
		edits   []string
	}{
		{
			name:    "in the block, sorted, comments kept",
			src:     "go 1.26.0\n\n// the workspace\nuse (\n\t. // root\n\t./servers/b1\n\t./shared/hosting\n)\n\nreplace example.com/x => ./x\n",
			servers: []Server{a, b, c},
			want:    "go 1.26.0\n\n// the workspace\nuse (\n\t. // root\n\t./servers/a1\n\t./servers/b1\n\t./servers/c1\n\t./shared/hosting\n)\n\nreplace example.com/x => ./x\n",
			edits:   []string{"add use ./servers/a1", "add use ./servers/c1"},
		},
		{
			name:    "stale and duplicate uses removed",
			src:     "go 1.26.0\n\nuse (\n\t./servers/a1\n\t./servers/gone\n\t\"./servers/a1/\"\n\t./shared/hosting\n)\n",
			servers: []Server{a},
			want:    "go 1.26.0\n\nuse (\n\t./servers/a1\n\t./shared/hosting\n)\n",
			edits:   []string{"remove use ./servers/gone", "remove the second use ./servers/a1/"},
		},
		{
			name:    "single-line uses",
			src:     "go 1.26.0\n\nuse ./servers/a1\nuse ./shared/hosting\n",
			servers: []Server{a, b},
			want:    "go 1.26.0\n\nuse ./servers/a1\nuse ./shared/hosting\nuse ./servers/b1\n",
		},
		{
			name:    "no use yet",
			src:     "go 1.26.0\n",
			servers: []Server{a},
			want:    "go 1.26.0\n\nuse (\n\t./servers/a1\n)\n",
		},
		{
			name:    "go line raised, implied toolchain dropped",
			src:     "go 1.26.0\n\ntoolchain go1.26.5\n\nuse (\n\t./servers/a1\n)\n",
			servers: []Server{srv("a1", 7071, "1.26.8", false)},
			want:    "go 1.26.8\n\nuse (\n\t./servers/a1\n)\n",
			edits:   []string{"raise the go line to go 1.26.8", "remove toolchain go1.26.5"},
		},
		{
			name:    "go line raised, newer toolchain kept",
			src:     "go 1.26.0\ntoolchain go1.27.1\n\nuse ./servers/a1\n",
			servers: []Server{srv("a1", 7071, "1.26.8", false)},
			want:    "go 1.26.8\ntoolchain go1.27.1\n\nuse ./servers/a1\n",
		},
		{
			name:    "raised by a module being added",
			src:     "go 1.26.0\n\nuse (\n\t./servers/a1\n)\n",
			servers: []Server{a, srv("b1", 7072, "1.26.8", false)},
			want:    "go 1.26.8\n\nuse (\n\t./servers/a1\n\t./servers/b1\n)\n",
			edits:   []string{"add use ./servers/b1", "raise the go line to go 1.26.8"},
		},
		{
			name:    "a go line above every module's stays",
			src:     "go 1.26.8\n\nuse (\n\t.\n\t./servers/a1\n)\n",
			servers: []Server{a},
			want:    "go 1.26.8\n\nuse (\n\t.\n\t./servers/a1\n)\n",
		},
		{
			name:    "lowered when asked",
			src:     "go 1.26.8\n\nuse (\n\t.\n\t./servers/a1\n\t./servers/b1\n)\n",
			servers: []Server{a},
			opts:    SyncOptions{LowerGo: true},
			want:    "go 1.26.0\n\nuse (\n\t.\n\t./servers/a1\n)\n",
			edits:   []string{"remove use ./servers/b1", "lower the go line to go 1.26.0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, edits, err := syncGoWork(root, []byte(tt.src), tt.servers, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			checkEdits(t, edits, tt.edits)
			if _, err := ParseGoWork(got); err != nil {
				t.Errorf("the result does not parse: %v", err)
			}
			again, edits, err := syncGoWork(root, got, tt.servers, SyncOptions{})
			if err != nil || string(again) != string(got) || len(edits) > 0 {
				t.Errorf("a second sync changes %v (%v)", edits, err)
			}
		})
	}
}

// checkEdits fails if a wanted fix is missing from edits.
func checkEdits(t *testing.T, edits []Edit, want []string) {
	t.Helper()
	var fixes []string
	for _, e := range edits {
		fixes = append(fixes, e.Fix)
	}
	for _, w := range want {
		found := false
		for _, f := range fixes {
			found = found || strings.Contains(f, w)
		}
		if !found {
			t.Errorf("edits %q lack %q", fixes, w)
		}
	}
}

func TestSyncAzureYAML(t *testing.T) {
	demo := srv("demo", 7073, "1.26.0", true)
	block := "  demo:\n    project: ./servers/demo\n    language: go\n    host: function\n"
	tests := []struct {
		name    string
		src     string
		servers []Server
		want    string
	}{
		{"after the last service", "name: x\nservices:\n  a:\n    project: ./servers/a\n", []Server{srv("a", 1, "", false), demo},
			"name: x\nservices:\n  a:\n    project: ./servers/a\n" + block},
		{"before a later top-level key", "services:\n  a:\n    project: ./servers/a\n\n# hooks\nhooks:\n  x: y\n", []Server{srv("a", 1, "", false), demo},
			"services:\n  a:\n    project: ./servers/a\n" + block + "\n# hooks\nhooks:\n  x: y\n"},
		{"four-space indentation", "services:\n    a:\n        project: ./servers/a", []Server{srv("a", 1, "", false), demo},
			"services:\n    a:\n        project: ./servers/a\n    demo:\n        project: ./servers/demo\n        language: go\n        host: function\n"},
		{"no services block", "name: x", []Server{demo}, "name: x\nservices:\n" + block},
		{"empty services block", "name: x\nservices:\nhooks:\n  a: b\n", []Server{demo}, "name: x\nservices:\n" + block + "hooks:\n  a: b\n"},
		{
			name: "a removed server's service goes; comments, hooks and other services stay",
			src: "# top\nname: x\nhooks:\n  postprovision:\n    run: go run ./internal/cmd/azdhook\nservices:\n  # weather first\n  weather:\n    project: ./servers/weather\n    language: go\n    host: function\n" +
				"  ghost:\n    project: ./servers/ghost\n    language: custom\n    dist: ./dist\n    hooks:\n      prepackage:\n        posix:\n          run: go build\n\n  # the last one\n  demo:\n    project: ./servers/demo # mine\n    language: go\n    host: function\n",
			servers: []Server{demo, srv("weather", 7071, "", true)},
			want: "# top\nname: x\nhooks:\n  postprovision:\n    run: go run ./internal/cmd/azdhook\nservices:\n  # weather first\n  weather:\n    project: ./servers/weather\n    language: go\n    host: function\n" +
				"\n  # the last one\n  demo:\n    project: ./servers/demo # mine\n    language: go\n    host: function\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := syncAzureYAML([]byte(tt.src), tt.servers)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tt.want)
			}
			a, err := ParseAzureYAML(got)
			if err != nil {
				t.Fatal(err)
			}
			if s, ok := a.Service("demo"); !ok || s.Project != "./servers/demo" || s.Language != "go" || s.Host != "function" {
				t.Fatalf("parsed back: %+v", a.Services)
			}
			if again, edits, err := syncAzureYAML(got, tt.servers); err != nil || string(again) != string(got) {
				t.Errorf("a second sync changes %v (%v)", edits, err)
			}
		})
	}
}

func TestSyncServerList(t *testing.T) {
	two := "[\n  {\n    \"name\": \"userinfo\",\n    \"graph\": true\n  },\n  {\n    \"name\": \"weather\",\n    \"graph\": false\n  }\n]\n"
	u, w := srv("userinfo", 7072, "", true), srv("weather", 7071, "", true)
	tests := []struct {
		name, src string
		servers   []Server
		want      string
	}{
		{"added in order, graph kept", two, []Server{srv("tools", 7073, "", true), u, w},
			"[\n  {\n    \"name\": \"tools\",\n    \"graph\": false,\n    \"auth\": \"entra\"\n  },\n  {\n    \"name\": \"userinfo\",\n    \"graph\": true\n  },\n  {\n    \"name\": \"weather\",\n    \"graph\": false\n  }\n]\n"},
		{"added last", two, []Server{u, w, srv("zeta", 7073, "", true)},
			"[\n  {\n    \"name\": \"userinfo\",\n    \"graph\": true\n  },\n  {\n    \"name\": \"weather\",\n    \"graph\": false\n  },\n  {\n    \"name\": \"zeta\",\n    \"graph\": false,\n    \"auth\": \"entra\"\n  }\n]\n"},
		{"removed", two, []Server{w}, "[\n  {\n    \"name\": \"weather\",\n    \"graph\": false\n  }\n]\n"},
		{"into an empty list", "[]", []Server{srv("a1", 7071, "", true)}, "[\n  {\n    \"name\": \"a1\",\n    \"graph\": false,\n    \"auth\": \"entra\"\n  }\n]"},
		{"one line", `[{"name": "b1", "graph": true}]`, []Server{srv("a1", 7071, "", true), srv("b1", 7072, "", true)}, `[{"name":"a1","graph":false,"auth":"entra"}, {"name": "b1", "graph": true}]`},
		{"auth kept", `[{"name": "b1", "graph": false, "auth": "key"}, {"name": "c1", "graph": false, "auth": "anonymous"}]`, []Server{srv("b1", 7072, "", true), srv("c1", 7073, "", true)},
			`[{"name": "b1", "graph": false, "auth": "key"}, {"name": "c1", "graph": false, "auth": "anonymous"}]`},
		{"unsorted and duplicated", `[{"name": "weather", "graph": false}, {"name": "userinfo", "graph": true}, {"name": "weather"}]`, []Server{u, w},
			"[\n  {\n    \"name\": \"userinfo\",\n    \"graph\": true\n  },\n  {\n    \"name\": \"weather\",\n    \"graph\": false\n  }\n]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := syncServerList([]byte(tt.src), tt.servers)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tt.want)
			}
			if again, edits, err := syncServerList(got, tt.servers); err != nil || string(again) != string(got) {
				t.Errorf("a second sync changes %v (%v)", edits, err)
			}
		})
	}
	if _, _, err := syncServerList([]byte(`[{"name": "a1", "graph": false, "extra": 1}]`), nil); err == nil || !strings.Contains(err.Error(), "parse infra/servers.json") {
		t.Errorf("unknown field: %v", err)
	}
	want := `infra/servers.json: server "a1" has "auth": "Key"; allowed values are "entra", "key", "anonymous" (none means "entra")`
	if _, _, err := syncServerList([]byte(`[{"name": "a1", "graph": false, "auth": "Key"}, {"name": "b1", "auth": "entra"}]`), nil); err == nil || err.Error() != want {
		t.Errorf("unknown auth mode: %v, want %s", err, want)
	}
}

func TestSyncMCPJSON(t *testing.T) {
	src := `{
  "inputs": [
    {"id": "weather-host", "type": "promptString", "description": "mine"},
    {"id": "ghost-host", "type": "promptString", "description": "x"},
    {"id": "token", "type": "promptString", "password": true}
  ],
  "servers": {
    "github": {"type": "http", "url": "https://api.githubcopilot.com/mcp/"},
    "weather-local": {"type": "http", "url": "http://localhost:7079/mcp", "headers": {"X": "y"}},
    "weather-remote": {"type": "http", "url": "https://func-weather-abc.azurewebsites.net/mcp"},
    "ghost-local": {"type": "http", "url": "http://localhost:7099/mcp"},
    "ghost-remote": {"type": "http", "url": "https://func-ghost-abc.azurewebsites.net/mcp"},
    "other-local": {"type": "stdio", "command": "other"}
  }
}
`
	want := `{
  "inputs": [
    {"id": "weather-host", "type": "promptString", "description": "mine"},
    {"id": "token", "type": "promptString", "password": true},
    {
      "id": "demo-host",
      "type": "promptString",
      "description": "Host name of the demo Function app (azd env get-values: SERVERS[].hostname), e.g. func-demo-abc123.azurewebsites.net"
    }
  ],
  "servers": {
    "github": {"type": "http", "url": "https://api.githubcopilot.com/mcp/"},
    "weather-local": {"type": "http", "url": "http://localhost:7071/mcp", "headers": {"X": "y"}},
    "weather-remote": {"type": "http", "url": "https://func-weather-abc.azurewebsites.net/mcp"},
    "other-local": {"type": "stdio", "command": "other"},
    "demo-local": {
      "type": "http",
      "url": "http://localhost:7073/mcp"
    },
    "demo-remote": {
      "type": "http",
      "url": "https://${input:demo-host}/mcp"
    }
  }
}
`
	servers := []Server{srv("demo", 7073, "", true), srv("weather", 7071, "", true)}
	got, edits, err := syncMCPJSON([]byte(src), servers, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	checkEdits(t, edits, []string{`remove servers.ghost-local`, `remove servers.ghost-remote`, "remove the input ghost-host", `set servers.weather-local's url to "http://localhost:7071/mcp"`, "add the input demo-host"})
	if again, edits, err := syncMCPJSON(got, servers, nil); err != nil || string(again) != string(got) {
		t.Errorf("a second sync changes %v (%v)", edits, err)
	}

	// A remote URL that is neither the prompt nor a host goes back to the
	// prompt; so does a wrong type.
	got, _, err = syncMCPJSON([]byte(`{"inputs": [{"id": "weather-host"}], "servers": {"weather-local": {"type": "sse", "url": "http://localhost:7071/mcp"}, "weather-remote": {"type": "http", "url": "https://example.com/x/mcp"}}}`), servers[1:], nil)
	if err != nil {
		t.Fatal(err)
	}
	if w := `{"inputs": [{"id": "weather-host"}], "servers": {"weather-local": {"type": "http", "url": "http://localhost:7071/mcp"}, "weather-remote": {"type": "http", "url": "https://${input:weather-host}/mcp"}}}`; string(got) != w {
		t.Errorf("got\n%s\nwant\n%s", got, w)
	}
	if _, _, err := syncMCPJSON([]byte("{\n  // mine\n  \"servers\": {}\n}\n"), servers, nil); err == nil || !strings.Contains(err.Error(), "parse .vscode/mcp.json") {
		t.Errorf("comments: %v", err)
	}
}

func TestSyncLaunchJSON(t *testing.T) {
	src := "{\n  \"version\": \"0.2.0\",\n  \"configurations\": [\n    {\"name\": \"tool\", \"type\": \"go\", \"program\": \"${workspaceFolder}/internal/cmd/azdhook\"},\n    {\"name\": \"old\", \"type\": \"go\", \"program\": \"${workspaceFolder}/servers/ghost/\"}\n  ]\n}\n"
	servers := []Server{srv("adopted", 7074, "1.26.8", false), srv("demo", 7073, "1.26.0", true)}
	got, edits, err := syncLaunchJSON([]byte(src), servers)
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"version\": \"0.2.0\",\n  \"configurations\": [\n    {\"name\": \"tool\", \"type\": \"go\", \"program\": \"${workspaceFolder}/internal/cmd/azdhook\"},\n    " +
		strings.ReplaceAll(LaunchConfig(servers[0]), "\n", "\n    ") + ",\n    " + strings.ReplaceAll(LaunchConfig(servers[1]), "\n", "\n    ") + "\n  ]\n}\n"
	for _, w := range []string{`"env": { "FUNCTIONS_CUSTOMHANDLER_PORT": "7074" }`, `"args": ["-port", "7073"],`, `"env": { "LOG_LEVEL": "debug", "MCP_AUTH": "none" }`} {
		if !strings.Contains(want, w) {
			t.Errorf("the configurations lack %s", w)
		}
	}
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	checkEdits(t, edits, []string{`remove the configuration "old"`, `add the configuration "Debug adopted (port 7074)"`, `add the configuration "Debug demo (port 7073)"`})
	if again, edits, err := syncLaunchJSON(got, servers); err != nil || string(again) != string(got) {
		t.Errorf("a second sync changes %v (%v)", edits, err)
	}

	// Inline, like the entries there.
	got, _, err = syncLaunchJSON([]byte(`{"configurations": [{"name": "x", "program": "y"}]}`), servers[1:])
	if err != nil {
		t.Fatal(err)
	}
	if w := `{"configurations": [{"name": "x", "program": "y"}, {"name":"Debug demo (port 7073)","type":"go","request":"launch","mode":"debug","program":"${workspaceFolder}/servers/demo","cwd":"${workspaceFolder}/servers/demo","args":["-port","7073"],"env":{"LOG_LEVEL":"debug","MCP_AUTH":"none"}}]}`; string(got) != w {
		t.Errorf("got\n%s\nwant\n%s", got, w)
	}
}

// TestApplyRestores: when a write fails, the files already written get
// their old content back and the files created are removed.
func TestApplyRestores(t *testing.T) {
	root := copyRepo(t)
	before := readRegistry(t, root)
	write(t, root, "servers/extra/go.mod", "module example.com/extra\n\ngo 1.26.0\n")
	write(t, root, "servers/extra/host.json", host("8089"))
	write(t, root, "servers/extra/local.settings.json", local("7079"))
	os.Remove(filepath.Join(root, filepath.FromSlash(ServerListFile)))
	plan, err := PlanSync(root, mustServers(t, root), SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(plan.Files(), ","); got != strings.Join(RegistryFiles(), ",") {
		t.Fatalf("plan changes %s", got)
	}
	// launch.json, the last file, cannot be replaced: a folder is in its way.
	launch := filepath.Join(root, filepath.FromSlash(LaunchJSONFile))
	os.Remove(launch)
	write(t, root, LaunchJSONFile+"/in-the-way", "x")
	err = plan.Apply()
	if err == nil || !strings.Contains(err.Error(), "write .vscode/launch.json") || !strings.Contains(err.Error(), "the registry files were left as they were") {
		t.Fatalf("Apply = %v", err)
	}
	after := readRegistry(t, root)
	for _, f := range []string{GoWorkFile, AzureYAMLFile, MCPJSONFile} {
		if after[f] != before[f] {
			t.Errorf("%s was not restored", f)
		}
	}
	if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(ServerListFile))); err == nil {
		t.Errorf("%s, created by the failed Apply, is still there", ServerListFile)
	}
}
