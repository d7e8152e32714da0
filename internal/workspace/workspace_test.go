package workspace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goodHost = `{"version":"2.0","configurationProfile":"mcp-custom-handler",
 "customHandler":{"description":{"defaultExecutablePath":"app"},"http":{"DefaultAuthorizationLevel":"anonymous"},"port":"%PORT%"}}`

func writeServer(t *testing.T, root, name, hostJSON, localSettings string) {
	t.Helper()
	dir := filepath.Join(root, "servers", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"go.mod": "module x/" + name + "\n", "host.json": hostJSON, "local.settings.json": localSettings}
	for f, c := range files {
		if c == "" {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, f), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func local(port string) string {
	return `{"IsEncrypted":false,"Values":{"FUNCTIONS_WORKER_RUNTIME":"custom"},"Host":{"LocalHttpPort":` + port + `}}`
}

func host(port string) string { return strings.ReplaceAll(goodHost, "%PORT%", port) }

func TestServersAndCheck(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(t *testing.T, root string)
		wantNames  string
		wantErr    string // from Servers
		wantCheck  string // from Check
		wantCheck2 string
	}{
		{
			name: "two good servers sorted",
			setup: func(t *testing.T, root string) {
				writeServer(t, root, "weather", host("8081"), local("7071"))
				writeServer(t, root, "userinfo", host("8082"), local("7072"))
				os.MkdirAll(filepath.Join(root, "servers", "notamodule"), 0o755)
			},
			wantNames: "userinfo,weather",
		},
		{
			name: "duplicate ports name the file",
			setup: func(t *testing.T, root string) {
				writeServer(t, root, "a1", host("8081"), local("7071"))
				writeServer(t, root, "b1", host("8081"), local("7071"))
			},
			wantNames:  "a1,b1",
			wantCheck:  filepath.Join("b1", "local.settings.json") + ": Host.LocalHttpPort 7071 is also used by a1",
			wantCheck2: filepath.Join("b1", "host.json") + ": customHandler.port 8081 is also used by a1",
		},
		{
			name: "handler port equal to another local port",
			setup: func(t *testing.T, root string) {
				writeServer(t, root, "a1", host("8081"), local("7071"))
				writeServer(t, root, "b1", host("7071"), local("7072"))
			},
			wantNames: "a1,b1",
			wantCheck: "collides with the local port of a1",
		},
		{
			name: "host.json off contract",
			setup: func(t *testing.T, root string) {
				bad := `{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"weather","arguments":["-v"]},"port":"8081"}}`
				writeServer(t, root, "a1", bad, local("7071"))
			},
			wantNames:  "a1",
			wantCheck:  `configurationProfile must be "mcp-custom-handler"`,
			wantCheck2: `DefaultAuthorizationLevel must be "anonymous" ("auth" entra or anonymous in infra/servers.json) or "function" ("auth": "key"), not ""`,
		},
		{
			name:    "missing local port",
			setup:   func(t *testing.T, root string) { writeServer(t, root, "a1", host("8081"), `{"Values":{}}`) },
			wantErr: "Host.LocalHttpPort must be set",
		},
		{
			name:    "bad handler port",
			setup:   func(t *testing.T, root string) { writeServer(t, root, "a1", host("eighty"), local("7071")) },
			wantErr: `customHandler.port "eighty" is not a port number`,
		},
		{
			name:    "missing host.json",
			setup:   func(t *testing.T, root string) { writeServer(t, root, "a1", "", local("7071")) },
			wantErr: "host.json",
		},
		{
			name:    "invalid folder name",
			setup:   func(t *testing.T, root string) { writeServer(t, root, "My_Server", host("8081"), local("7071")) },
			wantErr: "not a valid server name",
		},
		{
			name:    "malformed json",
			setup:   func(t *testing.T, root string) { writeServer(t, root, "a1", "{", local("7071")) },
			wantErr: "parse",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			tt.setup(t, root)
			got, err := Servers(root)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Servers err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range got {
				names = append(names, s.Name)
			}
			if strings.Join(names, ",") != tt.wantNames {
				t.Fatalf("names = %v, want %s", names, tt.wantNames)
			}
			cerr := Check(got)
			for _, want := range []string{tt.wantCheck, tt.wantCheck2} {
				if want == "" {
					continue
				}
				if cerr == nil || !strings.Contains(cerr.Error(), want) {
					t.Errorf("Check = %v, want it to contain %q", cerr, want)
				}
			}
			if tt.wantCheck == "" && cerr != nil {
				t.Errorf("Check = %v, want nil", cerr)
			}
		})
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{
		"weather": true, "user-info": true, "a1": true, "x": false, "1abc": false, "Weather": false,
		"has_underscore": false, "trailing-": false, "": false, strings.Repeat("a", 33): false, "../etc": false,
	} {
		if got := ValidName(name); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestRepositoryServers checks this repository's own servers.
func TestRepositoryServers(t *testing.T) {
	servers, err := Servers(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if len(servers) == 0 {
		t.Fatal("no servers found")
	}
	if err := Check(servers); err != nil {
		t.Fatal(err)
	}
	for _, s := range servers {
		if s.Name == "weather" && (s.DevPort != 7071 || s.MCPURL() != "http://localhost:7071/mcp") {
			t.Errorf("weather local URL = %s, want http://localhost:7071/mcp (README promises it)", s.MCPURL())
		}
	}
}

// TestCheckHostJSONArguments: arguments are allowed beside the executable
// "app" (adopt writes them for servers that need flags to serve HTTP):
// the Functions host resolves a relative executable against the app folder
// whenever the file exists, with or without arguments.
func TestCheckHostJSONArguments(t *testing.T) {
	for name, tt := range map[string]struct {
		hostJSON string
		wantErr  string
	}{
		"app with arguments": {hostJSON: `{"version":"2.0","configurationProfile":"mcp-custom-handler","customHandler":{"description":{"defaultExecutablePath":"app","arguments":["-http","127.0.0.1:8083"]},"http":{"DefaultAuthorizationLevel":"anonymous"},"port":"8083"}}`},
		"other executable with arguments": {
			hostJSON: `{"version":"2.0","configurationProfile":"mcp-custom-handler","customHandler":{"description":{"defaultExecutablePath":"python","arguments":["server.py"]},"http":{"DefaultAuthorizationLevel":"anonymous"},"port":"8083"}}`,
			wantErr:  `defaultExecutablePath must be "app"`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "host.json"), []byte(tt.hostJSON), 0o644); err != nil {
				t.Fatal(err)
			}
			err := CheckHostJSON(dir)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("CheckHostJSON = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("CheckHostJSON = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
