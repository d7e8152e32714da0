package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpfunc/mcpfunc/internal/deployment"
	dt "github.com/mcpfunc/mcpfunc/internal/deployment/deploymenttest"
)

// repo makes a folder whose .vscode/mcp.json is content.
func repo(t *testing.T, content []byte, perm os.FileMode) (root, mcpPath string) {
	t.Helper()
	root = t.TempDir()
	mcpPath = filepath.Join(root, ".vscode", "mcp.json")
	if err := os.MkdirAll(filepath.Dir(mcpPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mcpPath, content, perm); err != nil {
		t.Fatal(err)
	}
	return root, mcpPath
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func runHook(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	err = run(context.Background(), args, dt.Lookup(env), &o, &e)
	return o.String(), e.String(), err
}

// TestRunGolden runs the hook as azd does (SERVERS in its environment, no
// azd on PATH) on a mcp.json with each kind of entry, then again.
func TestRunGolden(t *testing.T) {
	dt.NoAzd(t)
	root, mcpPath := repo(t, readTestdata(t, "mcp.before.json"), 0o644)
	stdout, _, err := runHook(t, dt.HookEnv(t), "-C", root)
	if err != nil {
		t.Fatal(err)
	}
	if want := string(readTestdata(t, "report.txt")); stdout != want {
		t.Errorf("report:\n%s\nwant (testdata/report.txt):\n%s", stdout, want)
	}
	got, _ := os.ReadFile(mcpPath)
	if want := readTestdata(t, "mcp.after.json"); !bytes.Equal(got, want) {
		t.Errorf("mcp.json:\n%s\nwant (testdata/mcp.after.json):\n%s", got, want)
	}
	if strings.Contains(stdout, dt.Secret) {
		t.Error("the report shows an environment value besides SERVERS")
	}
	if leftovers, _ := filepath.Glob(filepath.Join(root, ".vscode", ".mcp.json.tmp-*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	// Idempotent: the second run neither changes nor rewrites the file.
	before, _ := os.Stat(mcpPath)
	stdout, _, err = runHook(t, dt.HookEnv(t), "-C", root)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(mcpPath)
	if again, _ := os.ReadFile(mcpPath); !bytes.Equal(again, got) || !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("second run changed or rewrote mcp.json:\n%s", again)
	}
	for _, want := range []string{
		"weather: in VS Code start weather-remote from the MCP view (.vscode/mcp.json already points it at https://func-weather-abc123.azurewebsites.net/mcp); VS Code signs you in",
		".vscode/mcp.json is up to date.\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("second run's report lacks %q:\n%s", want, stdout)
		}
	}
}

func TestRunDryRun(t *testing.T) {
	dt.NoAzd(t)
	root, mcpPath := repo(t, readTestdata(t, "mcp.before.json"), 0o644)
	stdout, _, err := runHook(t, dt.HookEnv(t), "-C", root, "-dry-run")
	if err != nil {
		t.Fatal(err)
	}
	if got := readFileT(t, mcpPath); got != string(readTestdata(t, "mcp.before.json")) {
		t.Errorf("dry run wrote mcp.json:\n%s", got)
	}
	for _, want := range []string{"(.vscode/mcp.json would point it at https://func-weather-abc123.azurewebsites.net/mcp)", "Dry run: .vscode/mcp.json not written."} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
}

// TestRunRepositoryMCPJSON rewrites a copy of this repository's own
// .vscode/mcp.json: only the two remote urls change.
func TestRunRepositoryMCPJSON(t *testing.T) {
	dt.NoAzd(t)
	orig, err := os.ReadFile(filepath.Join("..", "..", "..", ".vscode", "mcp.json"))
	if err != nil {
		t.Fatal(err)
	}
	root, mcpPath := repo(t, orig, 0o600)
	env := dt.HookEnv(t)
	env["SERVERS"] = dt.ServersValue(t, dt.FakeServers()[:2])
	if _, _, err := runHook(t, env, "-C", root); err != nil {
		t.Fatal(err)
	}
	got := readFileT(t, mcpPath)
	want := string(orig)
	for _, name := range []string{"weather", "userinfo"} {
		// The repository's file may hold the prompt or a host already.
		want = replaceRemoteURL(t, want, name, "https://func-"+name+"-abc123.azurewebsites.net/mcp")
	}
	if got != want {
		t.Errorf("mcp.json:\n%s\nwant:\n%s", got, want)
	}
	if info, _ := os.Stat(mcpPath); info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want the file's 0600 kept", info.Mode().Perm())
	}
}

// replaceRemoteURL replaces the one occurrence of name-remote's url.
func replaceRemoteURL(t *testing.T, src, name, url string) string {
	t.Helper()
	var m struct {
		Servers map[string]struct{ URL string } `json:"servers"`
	}
	if err := json.Unmarshal([]byte(src), &m); err != nil {
		t.Fatal(err)
	}
	old := `"` + m.Servers[name+"-remote"].URL + `"`
	if strings.Count(src, old) != 1 {
		t.Fatalf("%s appears %d times", old, strings.Count(src, old))
	}
	return strings.Replace(src, old, `"`+url+`"`, 1)
}

func readFileT(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		mcpJSON string   // "" for no file
		azd     bool     // a fake azd printing an environment without SERVERS
		want    []string // in the error
		wantOut string   // for a success
	}{
		{
			name: "no SERVERS and no azd",
			env:  map[string]string{"AZURE_ENV_NAME": "dev"},
			want: []string{"SERVERS is not set (azd sets it when this runs as azure.yaml's postprovision hook) and azd is not on PATH to ask for it: install the Azure Developer CLI (https://aka.ms/install-azd)"},
		},
		{
			name: "no SERVERS output",
			env:  map[string]string{},
			azd:  true,
			want: []string{"azd environment \"dev\" has no SERVERS output: run `azd provision` (or `azd up`) first"},
		},
		{
			name: "SERVERS empty",
			env:  map[string]string{"SERVERS": ""},
			want: []string{"SERVERS is empty: run `azd provision`"},
		},
		{
			name: "SERVERS malformed",
			env:  map[string]string{"SERVERS": `[{"name": "weather", "hostname": "func-weather-abc123.azurewebsites.net"},, {"name": "x"}]`},
			want: []string{`SERVERS is not a JSON array of {name, hostname, …} objects: invalid character ',' looking for beginning of value (near "`, `azurewebsites.net\"},, {\"name\": \"x\"}`},
		},
		{
			name: "SERVERS not an array",
			env:  map[string]string{"SERVERS": `{"name": "weather"}`},
			want: []string{"SERVERS is not a JSON array of {name, hostname, …} objects: json: cannot unmarshal object into Go value of type []deployment.Server"},
		},
		{
			name: "SERVERS with a bad name and a bad host",
			env:  map[string]string{"SERVERS": `[{"name": "Weather", "hostname": "x.net"}, {"name": "notes", "hostname": "https://x.net/"}, {"name": "empty"}]`},
			want: []string{"SERVERS[0]: name \"Weather\" is not a server name\nSERVERS[1] (notes): hostname \"https://x.net/\" is not a host name: run `azd provision` again\nSERVERS[2] (empty): hostname \"\" is not a host name"},
		},
		{
			name:    "mcp.json malformed",
			env:     dt.HookEnv(t),
			mcpJSON: "{\n  \"servers\": {\n    // my servers\n  }\n}\n",
			want:    []string{`parse .vscode/mcp.json (plain JSON: remove comments and trailing commas): invalid character '/' looking for beginning of object key string (near "{\n  \"servers\": {\n    // my servers\n`},
		},
		{
			name:    "mcp.json with weather-remote twice",
			env:     dt.HookEnv(t),
			mcpJSON: `{"servers": {"weather-remote": {"url": "https://${input:weather-host}/mcp"}, "weather-remote": {"url": "https://${input:weather-host}/mcp"}}}`,
			want:    []string{".vscode/mcp.json: servers.weather-remote.url reads back as \"https://${input:weather-host}/mcp\", not \"https://func-weather-abc123.azurewebsites.net/mcp\" (a duplicate key?): the file was not written"},
		},
		{
			name:    "no mcp.json",
			env:     dt.HookEnv(t),
			wantOut: "\nNo .vscode/mcp.json in ",
		},
		{
			name:    "no servers",
			env:     map[string]string{"SERVERS": "[]", "AZURE_ENV_NAME": "dev"},
			mcpJSON: "{}",
			wantOut: "SERVERS of azd environment \"dev\" lists no servers: nothing to print or write.\n",
		},
		{
			name: "unexpected argument",
			env:  dt.HookEnv(t),
			args: []string{"weather"},
			want: []string{`unexpected argument "weather"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.azd {
				dt.FakeAzd(t, dt.GetValuesJSON(t, map[string]string{"AZURE_ENV_NAME": "dev", "AZURE_LOCATION": "eastus"}), "", 0)
			} else {
				dt.NoAzd(t)
			}
			root := t.TempDir()
			if tt.mcpJSON != "" {
				root, _ = repo(t, []byte(tt.mcpJSON), 0o644)
			}
			stdout, _, err := runHook(t, tt.env, append([]string{"-C", root}, tt.args...)...)
			switch {
			case tt.want != nil && err == nil:
				t.Errorf("no error, want %q", tt.want)
			case tt.want == nil && err != nil:
				t.Errorf("error: %v", err)
			case !strings.Contains(stdout, tt.wantOut):
				t.Errorf("stdout:\n%s\nwant it to contain %q", stdout, tt.wantOut)
			}
			for _, want := range tt.want {
				if err != nil && !strings.Contains(err.Error(), want) {
					t.Errorf("error:\n%v\nwant it to contain:\n%s", err, want)
				}
			}
			if tt.mcpJSON != "" {
				if got := readFileT(t, filepath.Join(root, ".vscode", "mcp.json")); got != tt.mcpJSON {
					t.Errorf("mcp.json changed:\n%s", got)
				}
			}
		})
	}
}

// TestAuthText: the AUTH column for each auth mode (package deployment's
// tests check the modes themselves).
func TestAuthText(t *testing.T) {
	for _, tt := range []struct {
		name string
		s    deployment.Server
		want string
	}{
		{"Entra with a scope", deployment.Server{ApplicationID: "abc", IdentifierURI: "api://abc/"}, "Easy Auth: Entra app abc, scope api://abc/user_impersonation"},
		{"Entra without an identifier URI", deployment.Server{ApplicationID: "abc"}, "Easy Auth: Entra app abc"},
		{"Entra with its own scope", deployment.Server{ApplicationID: "abc", Auth: "easyauth", Scope: "api://extra/tools.call"}, "Easy Auth: Entra app abc, scope api://extra/tools.call"},
		{"anonymous", deployment.Server{ApplicationID: "abc", Auth: "anonymous"}, "anonymous (no sign-in)"},
		{"no app", deployment.Server{}, "anonymous (no sign-in)"},
		{"key", deployment.Server{AppName: "func-weather-x", Auth: "key"},
			"function key (x-functions-key header): az functionapp keys list -g <resource group> -n func-weather-x --query functionKeys.default -o tsv"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := authText(tt.s); got != tt.want {
				t.Errorf("authText = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSetString(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		path      []string
		value     string
		want      string // or the error
	}{
		{"nested, spaced", `{"a": 1, "servers" : { "x-remote" :{"url"  :	"old" , "type":"http"}}}`, []string{"servers", "x-remote", "url"}, "https://h/mcp", `{"a": 1, "servers" : { "x-remote" :{"url"  :	"https://h/mcp" , "type":"http"}}}`},
		{"escaped key and value", `{"s": {"k\u0065y": "a\"b", "z": [1, {"key": "no"}]}}`, []string{"s", "key"}, `<"&>`, `{"s": {"k\u0065y": "<\"&>", "z": [1, {"key": "no"}]}}`},
		{"skips nested look-alikes", `{"x": {"url": "no"}, "y": {"url": "yes"}}`, []string{"y", "url"}, "v", `{"x": {"url": "no"}, "y": {"url": "v"}}`},
		{"missing", `{"servers": {}}`, []string{"servers", "x", "url"}, "v", "servers.x is missing"},
		{"not an object", `{"servers": []}`, []string{"servers", "x"}, "v", "(top level).servers is not an object"},
		{"not a string", `{"url": 7}`, []string{"url"}, "v", "is 7, not a string"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := setString([]byte(tt.src), tt.value, tt.path...)
			if err != nil {
				if err.Error() != tt.want {
					t.Errorf("error %v, want %q", err, tt.want)
				}
				return
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestWriteFileAtomicMissing(t *testing.T) {
	err := writeFileAtomic(filepath.Join(t.TempDir(), "none.json"), []byte("{}"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("writeFileAtomic on a missing file = %v, want ErrNotExist", err)
	}
}

// TestRunKeyMode: a key-mode server's row and connect line say how to get
// its function key, with the environment's resource group.
func TestRunKeyMode(t *testing.T) {
	dt.NoAzd(t)
	servers := dt.FakeServers()
	servers[0]["auth"], servers[0]["applicationId"], servers[0]["identifierUri"] = "key", "", ""
	env := dt.HookEnv(t)
	env["SERVERS"] = dt.ServersValue(t, servers)
	env["AZURE_RESOURCE_GROUP"] = "rg-dev"
	root, _ := repo(t, readTestdata(t, "mcp.before.json"), 0o644)
	stdout, _, err := runHook(t, env, "-C", root, "-dry-run")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"weather   https://func-weather-abc123.azurewebsites.net/mcp   function key (x-functions-key header): az functionapp keys list -g rg-dev -n func-weather-abc123 --query functionKeys.default -o tsv\n",
		"(.vscode/mcp.json would point it at https://func-weather-abc123.azurewebsites.net/mcp); VS Code asks for its function key, which the command above prints.\n",
		"  A function key app (weather) answers 401 unless the request sends its key in the x-functions-key header.\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
}
