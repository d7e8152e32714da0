// Package deploymenttest fakes what package deployment reads, for tests:
// a SERVERS output as infra/main.bicep yields it, the environment azd
// gives a hook, and an azd on PATH that prints `azd env get-values`.
package deploymenttest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

const (
	// WeatherApp and ExtraApp are the application ids of FakeServers'
	// weather and extra entries.
	WeatherApp = "11111111-2222-3333-4444-555555555555"
	ExtraApp   = "66666666-7777-8888-9999-000000000000"
	// Secret stands for the values of the environment a report or an
	// error must never show (there are none in SERVERS).
	Secret = "InstrumentationKey=00000000-secret"
)

// FakeServers is a SERVERS output as infra/main.bicep's for loop yields
// it (weather with an Entra app, userinfo without, notes without), plus
// what a later main.bicep might add (extra's auth, scope and region).
func FakeServers() []map[string]any {
	entry := func(name, token, appID, uri string) map[string]any {
		host := "func-" + name + "-" + token + ".azurewebsites.net"
		return map[string]any{
			"name": name, "appName": "func-" + name + "-" + token, "hostname": host,
			"mcpUrl": "https://" + host + "/mcp", "applicationId": appID, "identifierUri": uri,
		}
	}
	extra := entry("extra", "abc123", ExtraApp, "api://"+ExtraApp)
	extra["auth"], extra["scope"], extra["region"] = "easyauth", "api://extra/tools.call", "eastus"
	return []map[string]any{
		entry("weather", "abc123", WeatherApp, "api://"+WeatherApp),
		entry("userinfo", "abc123", "", ""),
		extra,
		entry("notes", "abc123", "", ""),
	}
}

// ServersValue is the value azd stores for an array output: json.Marshal
// of the decoded ARM value (azure-dev cli/azd/pkg/infra/provisioning/
// manager.go UpdateEnvironment), so map keys come out sorted.
func ServersValue(t testing.TB, servers []map[string]any) string {
	t.Helper()
	b, err := json.Marshal(servers)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// HookEnv is the environment azd gives a hook: the .env values as
// variables (azure-dev cli/azd/pkg/ext/hooks_runner.go execHook), with
// FakeServers as SERVERS and Secret as a value never to show.
func HookEnv(t testing.TB) map[string]string {
	return map[string]string{
		"AZURE_ENV_NAME":                        "dev",
		"AZURE_LOCATION":                        "eastus",
		"APPLICATIONINSIGHTS_CONNECTION_STRING": Secret,
		"SERVERS":                               ServersValue(t, FakeServers()),
	}
}

// Lookup reads env as os.LookupEnv reads the process environment.
func Lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

// GetValuesJSON is what `azd env get-values --output json` prints: the
// environment's map[string]string through json.MarshalIndent with two
// spaces and a newline (azure-dev cli/azd/pkg/output/json.go).
func GetValuesJSON(t testing.TB, values map[string]string) string {
	t.Helper()
	b, err := json.MarshalIndent(values, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

// NoAzd makes PATH an empty folder for the test: any azd call fails.
func NoAzd(t testing.TB) {
	t.Setenv("PATH", t.TempDir())
}

// Azd is a fake azd that FakeAzd put on PATH.
type Azd struct{ dir string }

// FakeAzd puts first on PATH, for the test, an azd that prints stdout
// (and stderr, exiting with code) and records its arguments and working
// folder. It skips the test on Windows.
func FakeAzd(t testing.TB, stdout, stderr string, code int) Azd {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake azd is a shell script")
	}
	dir := t.TempDir()
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
	return Azd{dir}
}

// Args is the arguments of azd's last run, one a line, or "" if it did
// not run.
func (a Azd) Args(t testing.TB) string { return a.read(t, "args") }

// Dir is the working folder of azd's last run, or "" if it did not run.
func (a Azd) Dir(t testing.TB) string { return strings.TrimSpace(a.read(t, "cwd")) }

func (a Azd) read(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(a.dir, name))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}
