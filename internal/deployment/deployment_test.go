package deployment_test

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mcpfunc/mcpfunc/internal/deployment"
	dt "github.com/mcpfunc/mcpfunc/internal/deployment/deploymenttest"
	"github.com/mcpfunc/mcpfunc/internal/workspace"
)

// TestReadFromAzd: outside a hook, or with an environment name, the
// values come from `azd env get-values --output json`, run in root.
func TestReadFromAzd(t *testing.T) {
	values := dt.HookEnv(t)
	values["AZURE_RESOURCE_GROUP"] = "rg-dev"
	names := []string{"weather", "userinfo", "extra", "notes"}
	tests := []struct {
		name      string
		env       map[string]string
		envName   string
		stdout    string
		stderr    string
		code      int
		wantArgs  string // "" when azd must not run
		want      deployment.Outputs
		wantNames []string
		wantErr   string
	}{
		{
			name:      "by hand",
			env:       map[string]string{},
			stdout:    dt.GetValuesJSON(t, values),
			wantArgs:  "env\nget-values\n--output\njson\n--no-prompt\n",
			want:      deployment.Outputs{ResourceGroup: "rg-dev", Env: "dev", From: "azd env get-values"},
			wantNames: names,
		},
		{
			name:      "-e wins over the hook's environment",
			env:       map[string]string{"SERVERS": "[]", "AZURE_ENV_NAME": "other"},
			envName:   "dev",
			stdout:    dt.GetValuesJSON(t, values),
			wantArgs:  "env\nget-values\n--output\njson\n--no-prompt\n-e\ndev\n",
			want:      deployment.Outputs{ResourceGroup: "rg-dev", Env: "dev", From: "azd env get-values"},
			wantNames: names,
		},
		{
			name:      "the hook's environment",
			env:       values,
			want:      deployment.Outputs{ResourceGroup: "rg-dev", Env: "dev", From: "the hook's environment"},
			wantNames: names,
		},
		{
			name:      "-e names the environment azd does not print",
			env:       map[string]string{},
			envName:   "test",
			stdout:    dt.GetValuesJSON(t, map[string]string{"SERVERS": "[]"}),
			wantArgs:  "env\nget-values\n--output\njson\n--no-prompt\n-e\ntest\n",
			want:      deployment.Outputs{Env: "test", From: "azd env get-values"},
			wantNames: []string{},
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
		{
			name:    "no SERVERS output",
			env:     map[string]string{},
			stdout:  dt.GetValuesJSON(t, map[string]string{"AZURE_ENV_NAME": "dev", "APPLICATIONINSIGHTS_CONNECTION_STRING": dt.Secret}),
			wantErr: "azd environment \"dev\" has no SERVERS output: run `azd provision` (or `azd up`) first, with this repository's infra/main.bicep",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			azd := dt.FakeAzd(t, tt.stdout, tt.stderr, tt.code)
			root := t.TempDir()
			got, err := deployment.Read(context.Background(), root, tt.envName, dt.Lookup(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), dt.Secret) {
					t.Errorf("error shows an environment value: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var gotNames []string
			for _, s := range got.Servers {
				gotNames = append(gotNames, s.Name)
				if want := workspace.FunctionKeyCommand(tt.want.ResourceGroup, s.AppName); tt.want.ResourceGroup != "" && s.KeyCommand() != want {
					t.Errorf("%s: KeyCommand %q, want %q", s.Name, s.KeyCommand(), want)
				}
			}
			if !slices.Equal(gotNames, tt.wantNames) {
				t.Errorf("servers %q, want %q", gotNames, tt.wantNames)
			}
			if got.Servers = nil; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Read = %+v, want %+v", got, tt.want)
			}
			if args := azd.Args(t); args != tt.wantArgs {
				t.Errorf("azd args %q, want %q", args, tt.wantArgs)
			}
			if tt.wantArgs == "" {
				return
			}
			cwd := azd.Dir(t)
			if realRoot, _ := filepath.EvalSymlinks(root); cwd != realRoot && cwd != root {
				t.Errorf("azd ran in %s, want %s", cwd, root)
			}
		})
	}
}

// readServers reads SERVERS text as a hook does, with no azd on PATH.
func readServers(t *testing.T, text string) []deployment.Server {
	t.Helper()
	dt.NoAzd(t)
	out, err := deployment.Read(context.Background(), t.TempDir(), "", dt.Lookup(map[string]string{"SERVERS": text}))
	if err != nil {
		t.Fatal(err)
	}
	return out.Servers
}

func TestServers(t *testing.T) {
	type view struct{ name, host, url, mode, scope, keyCommand string }
	noKey := func(app string) string { return workspace.FunctionKeyCommand("<resource group>", app) }
	want := []view{
		{"weather", "func-weather-abc123.azurewebsites.net", "https://func-weather-abc123.azurewebsites.net/mcp", workspace.AuthEntra, "api://" + dt.WeatherApp + "/user_impersonation", noKey("func-weather-abc123")},
		{"userinfo", "func-userinfo-abc123.azurewebsites.net", "https://func-userinfo-abc123.azurewebsites.net/mcp", workspace.AuthAnonymous, "", noKey("func-userinfo-abc123")},
		{"extra", "func-extra-abc123.azurewebsites.net", "https://func-extra-abc123.azurewebsites.net/mcp", workspace.AuthEntra, "api://extra/tools.call", noKey("func-extra-abc123")},
		{"notes", "func-notes-abc123.azurewebsites.net", "https://func-notes-abc123.azurewebsites.net/mcp", workspace.AuthAnonymous, "", noKey("func-notes-abc123")},
	}
	servers := readServers(t, dt.ServersValue(t, dt.FakeServers()))
	if len(servers) != len(want) {
		t.Fatalf("%d servers, want %d", len(servers), len(want))
	}
	for i, s := range servers {
		if got := (view{s.Name, s.Host(), s.URL(), s.Mode(), s.DelegatedScope(), s.KeyCommand()}); got != want[i] {
			t.Errorf("server %d = %+v, want %+v", i, got, want[i])
		}
	}
	if s := servers[0]; s.ApplicationID != dt.WeatherApp || s.AppName != "func-weather-abc123" {
		t.Errorf("weather: application id %q, app %q", s.ApplicationID, s.AppName)
	}

	for _, tt := range []struct {
		name, json, wantURL, wantMode, wantScope, wantKeyCommand string
	}{
		{"only a name and mcpUrl", `[{"name": "weather", "mcpUrl": "https://h.example.net/mcp"}]`, "https://h.example.net/mcp", workspace.AuthAnonymous, "", noKey("<function app>")},
		{"app id without identifier URI", `[{"name": "weather", "hostname": "h.example.net", "applicationId": "abc"}]`, "https://h.example.net/mcp", workspace.AuthEntra, "", noKey("<function app>")},
		{"auth says anonymous", `[{"name": "weather", "hostname": "h.example.net", "applicationId": "abc", "auth": "anonymous"}]`, "https://h.example.net/mcp", workspace.AuthAnonymous, "", noKey("<function app>")},
		{"auth says none", `[{"name": "weather", "hostname": "h.example.net", "applicationId": "abc", "auth": "None"}]`, "https://h.example.net/mcp", workspace.AuthAnonymous, "", noKey("<function app>")},
		{"auth says entra without an app id", `[{"name": "weather", "hostname": "h.example.net", "auth": "entra"}]`, "https://h.example.net/mcp", workspace.AuthAnonymous, "", noKey("<function app>")},
		{"auth says key", `[{"name": "weather", "hostname": "h.example.net", "appName": "func-weather-x", "applicationId": "", "auth": "key"}]`, "https://h.example.net/mcp", workspace.AuthKey, "",
			"az functionapp keys list -g <resource group> -n func-weather-x --query functionKeys.default -o tsv"},
		{"auth says KEY with an app id", `[{"name": "weather", "hostname": "h.example.net", "applicationId": "abc", "identifierUri": "api://abc", "auth": "KEY"}]`, "https://h.example.net/mcp", workspace.AuthKey, "api://abc/user_impersonation", noKey("<function app>")},
		{"identifier URI with a slash", `[{"name": "weather", "hostname": "h.example.net", "applicationId": "abc", "identifierUri": "api://abc/"}]`, "https://h.example.net/mcp", workspace.AuthEntra, "api://abc/user_impersonation", noKey("<function app>")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := readServers(t, tt.json)[0]
			if s.URL() != tt.wantURL || s.Mode() != tt.wantMode || s.DelegatedScope() != tt.wantScope || s.KeyCommand() != tt.wantKeyCommand {
				t.Errorf("URL %q Mode %q DelegatedScope %q KeyCommand %q, want %q %q %q %q", s.URL(), s.Mode(), s.DelegatedScope(), s.KeyCommand(), tt.wantURL, tt.wantMode, tt.wantScope, tt.wantKeyCommand)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	if got, want := (deployment.Outputs{}).Describe(), "the azd environment"; got != want {
		t.Errorf("Describe() = %q, want %q", got, want)
	}
	if got, want := (deployment.Outputs{Env: "dev"}).Describe(), `azd environment "dev"`; got != want {
		t.Errorf("Describe() = %q, want %q", got, want)
	}
}

// Without azd, reading a named environment says which one needs azd.
func TestReadNamedEnvironmentWithoutAzd(t *testing.T) {
	dt.NoAzd(t)
	_, err := deployment.Read(context.Background(), t.TempDir(), "dev", dt.Lookup(nil))
	if err == nil || !strings.Contains(err.Error(), `reading azd environment "dev" needs azd, which is not on PATH`) || !strings.Contains(err.Error(), "https://aka.ms/install-azd") {
		t.Errorf("Read = %v", err)
	}
}
