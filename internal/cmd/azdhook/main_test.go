package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

const (
	weatherApp = "11111111-2222-3333-4444-555555555555"
	extraApp   = "66666666-7777-8888-9999-000000000000"
	// secret stands for the values of the environment this must never
	// print (there are none in SERVERS).
	secret = "InstrumentationKey=00000000-secret"
)

// fakeServers is a SERVERS output as infra/main.bicep's for loop yields
// it, plus what a later main.bicep might add (auth, scope, region).
func fakeServers() []map[string]any {
	entry := func(name, token, appID, uri string) map[string]any {
		host := "func-" + name + "-" + token + ".azurewebsites.net"
		return map[string]any{
			"name": name, "appName": "func-" + name + "-" + token, "hostname": host,
			"mcpUrl": "https://" + host + "/mcp", "applicationId": appID, "identifierUri": uri,
		}
	}
	extra := entry("extra", "abc123", extraApp, "api://"+extraApp)
	extra["auth"], extra["scope"], extra["region"] = "easyauth", "api://extra/tools.call", "eastus"
	return []map[string]any{
		entry("weather", "abc123", weatherApp, "api://"+weatherApp),
		entry("userinfo", "abc123", "", ""),
		extra,
		entry("notes", "abc123", "", ""),
	}
}

// serversValue is the value azd stores for an array output: json.Marshal
// of the decoded ARM value (azure-dev cli/azd/pkg/infra/provisioning/
// manager.go UpdateEnvironment), so map keys come out sorted.
func serversValue(t *testing.T, servers []map[string]any) string {
	t.Helper()
	b, err := json.Marshal(servers)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// hookEnv is the environment azd gives a hook: the .env values as
// variables (azure-dev cli/azd/pkg/ext/hooks_runner.go execHook).
func hookEnv(t *testing.T) map[string]string {
	return map[string]string{
		"AZURE_ENV_NAME":                        "dev",
		"AZURE_LOCATION":                        "eastus",
		"APPLICATIONINSIGHTS_CONNECTION_STRING": secret,
		"SERVERS":                               serversValue(t, fakeServers()),
	}
}

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

// noAzd makes PATH an empty folder: any azd call fails.
func noAzd(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
}

// fakeAzd puts first on PATH an azd that records its arguments and working
// folder in dir and prints stdout (and stderr, exiting with code).
func fakeAzd(t *testing.T, stdout, stderr string, code int) (dir string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake azd is a shell script")
	}
	dir = t.TempDir()
	for name, content := range map[string]string{"stdout": stdout, "stderr": stderr} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := "#!/bin/sh\npwd > '" + dir + "/cwd'\nprintf '%s\\n' \"$@\" > '" + dir + "/args'\ncat '" + dir + "/stdout'\ncat '" + dir + "/stderr' >&2\nexit " + strconv.Itoa(code) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "azd"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return dir
}

// getValuesJSON is what `azd env get-values --output json` prints: the
// environment's map[string]string through json.MarshalIndent with two
// spaces and a newline (azure-dev cli/azd/pkg/output/json.go).
func getValuesJSON(t *testing.T, values map[string]string) string {
	t.Helper()
	b, err := json.MarshalIndent(values, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

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
	err = run(context.Background(), args, lookup(env), &o, &e)
	return o.String(), e.String(), err
}

// TestRunGolden runs the hook as azd does (SERVERS in its environment, no
// azd on PATH) on a mcp.json with each kind of entry, then again.
func TestRunGolden(t *testing.T) {
	noAzd(t)
	root, mcpPath := repo(t, readTestdata(t, "mcp.before.json"), 0o644)
	stdout, _, err := runHook(t, hookEnv(t), "-C", root)
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
	if strings.Contains(stdout, secret) {
		t.Error("the report shows an environment value besides SERVERS")
	}
	if leftovers, _ := filepath.Glob(filepath.Join(root, ".vscode", ".mcp.json.tmp-*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	// Idempotent: the second run neither changes nor rewrites the file.
	before, _ := os.Stat(mcpPath)
	stdout, _, err = runHook(t, hookEnv(t), "-C", root)
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
	noAzd(t)
	root, mcpPath := repo(t, readTestdata(t, "mcp.before.json"), 0o644)
	stdout, _, err := runHook(t, hookEnv(t), "-C", root, "-dry-run")
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
	noAzd(t)
	orig, err := os.ReadFile(filepath.Join("..", "..", "..", ".vscode", "mcp.json"))
	if err != nil {
		t.Fatal(err)
	}
	root, mcpPath := repo(t, orig, 0o600)
	env := hookEnv(t)
	env["SERVERS"] = serversValue(t, fakeServers()[:2])
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
			want: []string{"SERVERS is not a JSON array of {name, hostname, …} objects: json: cannot unmarshal object into Go value of type []main.server"},
		},
		{
			name: "SERVERS with a bad name and a bad host",
			env:  map[string]string{"SERVERS": `[{"name": "Weather", "hostname": "x.net"}, {"name": "notes", "hostname": "https://x.net/"}, {"name": "empty"}]`},
			want: []string{"SERVERS[0]: name \"Weather\" is not a server name\nSERVERS[1] (notes): hostname \"https://x.net/\" is not a host name: run `azd provision` again\nSERVERS[2] (empty): hostname \"\" is not a host name"},
		},
		{
			name:    "mcp.json malformed",
			env:     hookEnv(t),
			mcpJSON: "{\n  \"servers\": {\n    // my servers\n  }\n}\n",
			want:    []string{`parse .vscode/mcp.json (plain JSON: remove comments and trailing commas): invalid character '/' looking for beginning of object key string (near "{\n  \"servers\": {\n    // my servers\n`},
		},
		{
			name:    "mcp.json with weather-remote twice",
			env:     hookEnv(t),
			mcpJSON: `{"servers": {"weather-remote": {"url": "https://${input:weather-host}/mcp"}, "weather-remote": {"url": "https://${input:weather-host}/mcp"}}}`,
			want:    []string{".vscode/mcp.json: servers.weather-remote.url reads back as \"https://${input:weather-host}/mcp\", not \"https://func-weather-abc123.azurewebsites.net/mcp\" (a duplicate key?): the file was not written"},
		},
		{
			name:    "no mcp.json",
			env:     hookEnv(t),
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
			env:  hookEnv(t),
			args: []string{"weather"},
			want: []string{`unexpected argument "weather"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.azd {
				fakeAzd(t, getValuesJSON(t, map[string]string{"AZURE_ENV_NAME": "dev", "AZURE_LOCATION": "eastus"}), "", 0)
			} else {
				noAzd(t)
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

// TestReadOutputsFromAzd: outside a hook, or with -e, the values come
// from `azd env get-values --output json`, run in the repository folder.
func TestReadOutputsFromAzd(t *testing.T) {
	values := hookEnv(t)
	values["AZURE_RESOURCE_GROUP"] = "rg-dev"
	tests := []struct {
		name     string
		env      map[string]string
		envName  string
		stdout   string
		stderr   string
		code     int
		wantArgs string
		want     outputs
		wantErr  string
	}{
		{
			name:     "by hand",
			env:      map[string]string{},
			stdout:   getValuesJSON(t, values),
			wantArgs: "env\nget-values\n--output\njson\n--no-prompt\n",
			want:     outputs{servers: values["SERVERS"], resourceGroup: "rg-dev", env: "dev", from: "azd env get-values"},
		},
		{
			name:     "-e wins over the hook's environment",
			env:      map[string]string{"SERVERS": "[]", "AZURE_ENV_NAME": "other"},
			envName:  "dev",
			stdout:   getValuesJSON(t, values),
			wantArgs: "env\nget-values\n--output\njson\n--no-prompt\n-e\ndev\n",
			want:     outputs{servers: values["SERVERS"], resourceGroup: "rg-dev", env: "dev", from: "azd env get-values"},
		},
		{
			name:    "azd fails",
			env:     map[string]string{},
			envName: "nope",
			stderr:  "ERROR: environment does not exist: environment not found\n",
			code:    1,
			wantErr: "azd env get-values --output json --no-prompt -e nope: exit status 1 (ERROR: environment does not exist: environment not found); run it in the repository folder after `azd provision`, or pass -e <environment>",
		},
		{
			name:    "azd prints dotenv",
			env:     map[string]string{},
			stdout:  "AZURE_ENV_NAME=\"dev\"\n",
			wantErr: "azd env get-values --output json --no-prompt did not print a JSON object of strings",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := fakeAzd(t, tt.stdout, tt.stderr, tt.code)
			root := t.TempDir()
			got, err := readOutputs(context.Background(), root, tt.envName, lookup(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error shows an environment value: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("readOutputs = %+v, want %+v", got, tt.want)
			}
			if args := readFileT(t, filepath.Join(dir, "args")); args != tt.wantArgs {
				t.Errorf("azd args %q, want %q", args, tt.wantArgs)
			}
			cwd := strings.TrimSpace(readFileT(t, filepath.Join(dir, "cwd")))
			if realRoot, _ := filepath.EvalSymlinks(root); cwd != realRoot && cwd != root {
				t.Errorf("azd ran in %s, want %s", cwd, root)
			}
		})
	}
}

func TestParseServers(t *testing.T) {
	servers, err := parseServers(serversValue(t, fakeServers()))
	if err != nil {
		t.Fatal(err)
	}
	type view struct{ name, url, auth string }
	want := []view{
		{"weather", "https://func-weather-abc123.azurewebsites.net/mcp", "Easy Auth: Entra app " + weatherApp + ", scope api://" + weatherApp + "/user_impersonation"},
		{"userinfo", "https://func-userinfo-abc123.azurewebsites.net/mcp", "anonymous (no sign-in)"},
		{"extra", "https://func-extra-abc123.azurewebsites.net/mcp", "Easy Auth: Entra app " + extraApp + ", scope api://extra/tools.call"},
		{"notes", "https://func-notes-abc123.azurewebsites.net/mcp", "anonymous (no sign-in)"},
	}
	if len(servers) != len(want) {
		t.Fatalf("%d servers, want %d", len(servers), len(want))
	}
	for i, s := range servers {
		if got := (view{s.Name, s.url(), authText(s)}); got != want[i] {
			t.Errorf("server %d = %+v, want %+v", i, got, want[i])
		}
	}

	for _, tt := range []struct {
		name, json, wantURL, wantAuth string
	}{
		{"only a name and mcpUrl", `[{"name": "weather", "mcpUrl": "https://h.example.net/mcp"}]`, "https://h.example.net/mcp", "anonymous (no sign-in)"},
		{"app id without identifier URI", `[{"name": "weather", "hostname": "h.example.net", "applicationId": "abc"}]`, "https://h.example.net/mcp", "Easy Auth: Entra app abc"},
		{"auth says anonymous", `[{"name": "weather", "hostname": "h.example.net", "applicationId": "abc", "auth": "anonymous"}]`, "https://h.example.net/mcp", "anonymous (no sign-in)"},
		{"auth says key", `[{"name": "weather", "hostname": "h.example.net", "appName": "func-weather-x", "applicationId": "", "auth": "key"}]`, "https://h.example.net/mcp",
			"function key (x-functions-key header): az functionapp keys list -g <resource group> -n func-weather-x --query functionKeys.default -o tsv"},
		{"identifier URI with a slash", `[{"name": "weather", "hostname": "h.example.net", "applicationId": "abc", "identifierUri": "api://abc/"}]`, "https://h.example.net/mcp", "Easy Auth: Entra app abc, scope api://abc/user_impersonation"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			servers, err := parseServers(tt.json)
			if err != nil {
				t.Fatal(err)
			}
			if s := servers[0]; s.url() != tt.wantURL || authText(s) != tt.wantAuth {
				t.Errorf("url %q auth %q, want %q %q", s.url(), authText(s), tt.wantURL, tt.wantAuth)
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
	noAzd(t)
	servers := fakeServers()
	servers[0]["auth"], servers[0]["applicationId"], servers[0]["identifierUri"] = "key", "", ""
	env := hookEnv(t)
	env["SERVERS"] = serversValue(t, servers)
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
