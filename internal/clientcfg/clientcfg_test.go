package clientcfg

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpfunc/mcpfunc/internal/npmclients"
	"github.com/mcpfunc/mcpfunc/internal/workspace"
)

func TestRecipes(t *testing.T) {
	const remote = "https://func-demo-x1.azurewebsites.net/mcp"
	const localKey = "LocalKey_abc-123"
	tests := []struct {
		name string
		s    Server
		// want maps a client id to substrings its text must hold.
		want map[string][]string
		// not are substrings no recipe text may hold.
		not []string
	}{
		{
			name: "anonymous local",
			s:    Server{Name: "demo", URL: "http://localhost:7073/mcp", Auth: Anonymous},
			want: map[string][]string{
				"vscode":         {`"demo-local"`, `"url": "http://localhost:7073/mcp"`},
				"claude-desktop": {`"npx"`, MCPRemote, `"http://localhost:7073/mcp"`, `"http-only"`},
				"cursor":         {`"url": "http://localhost:7073/mcp"`},
				"claude-code":    {"claude mcp add --transport http demo-local http://localhost:7073/mcp"},
				"foundry":        {"--auth-type none"},
				"curl":           {"curl -sS http://localhost:7073/mcp", `"method":"tools/list"`},
			},
			not: []string{"x-functions-key", "Authorization", "client_id"},
		},
		{
			name: "key local writes the local key",
			s:    Server{Name: "demo", URL: "http://localhost:7073/mcp", Auth: Key, Key: localKey},
			want: map[string][]string{
				"vscode":         {`"x-functions-key": "${input:demo-function-key}"`, `"password": true`},
				"claude-desktop": {`"x-functions-key:${DEMO_FUNCTION_KEY}"`, `"DEMO_FUNCTION_KEY": "` + localKey + `"`},
				"cursor":         {`"x-functions-key": "${env:DEMO_FUNCTION_KEY}"`},
				"claude-code":    {"export DEMO_FUNCTION_KEY=" + localKey, `--header "x-functions-key: $DEMO_FUNCTION_KEY"`},
				"curl":           {"export DEMO_FUNCTION_KEY=" + localKey, `-H "x-functions-key: $DEMO_FUNCTION_KEY"`},
			},
		},
		{
			name: "key deployed never holds a key",
			s:    Server{Name: "my-tools", URL: remote, Auth: Key, Deployed: true, KeyCommand: "az functionapp keys list -g rg-1 -n func-my-tools-x1 --query functionKeys.default -o tsv"},
			want: map[string][]string{
				"vscode":         {`"my-tools-remote"`, `"${input:my-tools-remote-function-key}"`},
				"claude-desktop": {`"MY_TOOLS_FUNCTION_KEY": "<function key>"`},
				"claude-code":    {"export MY_TOOLS_FUNCTION_KEY=$(az functionapp keys list -g rg-1 -n func-my-tools-x1"},
				"foundry":        {"--auth-type custom-keys", `"x-functions-key=$MY_TOOLS_FUNCTION_KEY"`, "project_connection_id=\"my-tools-mcp\""},
				"curl":           {"$(az functionapp keys list -g rg-1"},
			},
		},
		{
			name: "entra deployed",
			s:    Server{Name: "demo", URL: remote, Auth: Entra, Deployed: true, Scope: "api://t1/demo/user_impersonation", ClientID: "11111111-2222-3333-4444-555555555555"},
			want: map[string][]string{
				"vscode": {`"demo-remote"`, `"url": "` + remote + `"`},
				"claude-desktop": {`"--static-oauth-client-info"`, `"{\"client_id\":\"11111111-2222-3333-4444-555555555555\"}"`,
					`"{\"scope\":\"api://t1/demo/user_impersonation offline_access\"}"`, `"--disable-resource-parameter"`},
				"cursor":      {`"CLIENT_ID": "11111111-2222-3333-4444-555555555555"`, `"api://t1/demo/user_impersonation"`},
				"claude-code": {"--client-id 11111111-2222-3333-4444-555555555555 demo-remote " + remote},
				"foundry":     {"--auth-type project-managed-identity --audience api://t1/demo"},
				"curl":        {"--scope api://t1/demo/.default", `Authorization: Bearer $TOKEN`},
			},
			not: []string{"x-functions-key"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := Recipes(tt.s)
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != len(Clients()) {
				t.Fatalf("%d recipes, want one per client (%d)", len(rs), len(Clients()))
			}
			for i, r := range rs {
				if r.Client != Clients()[i].ID {
					t.Errorf("recipe %d is for %s, want %s", i, r.Client, Clients()[i].ID)
				}
				for _, w := range tt.want[r.Client] {
					if !strings.Contains(r.Text, w) {
						t.Errorf("%s recipe lacks %s:\n%s", r.Client, w, r.Text)
					}
				}
				for _, n := range tt.not {
					if strings.Contains(r.Text, n) {
						t.Errorf("%s recipe holds %s:\n%s", r.Client, n, r.Text)
					}
				}
				if r.Lang == "json" && !json.Valid([]byte(r.Text)) {
					t.Errorf("%s recipe is not valid JSON:\n%s", r.Client, r.Text)
				}
				if tt.s.Deployed && tt.s.Key == "" && strings.Contains(r.Text, localKey) {
					t.Errorf("%s recipe of a deployed server holds a key", r.Client)
				}
			}
		})
	}
}

// The VS Code recipe of a key-mode server uses the very input `mage sync`
// writes into .vscode/mcp.json.
func TestVSCodeKeyInputIsSyncs(t *testing.T) {
	for _, deployed := range []bool{false, true} {
		s := Server{Name: "demo", URL: "http://localhost:7071/mcp", Auth: Key, Deployed: deployed}
		var doc struct {
			Inputs []struct {
				ID       string `json:"id"`
				Password bool   `json:"password"`
			} `json:"inputs"`
			Servers map[string]struct {
				Headers map[string]string `json:"headers"`
			} `json:"servers"`
		}
		if err := json.Unmarshal([]byte(vscode(s).Text), &doc); err != nil {
			t.Fatal(err)
		}
		var want workspace.MCPKeyEntry
		for _, e := range workspace.MCPKeyEntries("demo") {
			if e.Entry == s.entryName() {
				want = e
			}
		}
		if len(doc.Inputs) != 1 || doc.Inputs[0].ID != want.Input || !doc.Inputs[0].Password {
			t.Errorf("deployed=%v: inputs %+v, want one password input %s", deployed, doc.Inputs, want.Input)
		}
		if got := doc.Servers[want.Entry].Headers[workspace.FunctionKeyHeader]; got != "${input:"+want.Input+"}" {
			t.Errorf("deployed=%v: header %q", deployed, got)
		}
	}
}

func TestRecipesRefuse(t *testing.T) {
	tests := []struct {
		name string
		s    Server
		want string
	}{
		{"no name", Server{URL: "http://x/mcp", Auth: Key}, "without a name"},
		{"no URL", Server{Name: "a", Auth: Key}, "has no URL"},
		{"unknown auth", Server{Name: "a", URL: "http://x/mcp", Auth: "none"}, `auth "none" is not entra, key or anonymous`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Recipes(tt.s); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Recipes = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestWriteText(t *testing.T) {
	servers := []Server{
		{Name: "a", URL: "http://localhost:7071/mcp", Auth: Anonymous},
		{Name: "b", URL: "http://localhost:7072/mcp", Auth: Key, Key: "k"},
	}
	var b bytes.Buffer
	if err := WriteText(&b, servers, []string{"curl"}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, w := range []string{"==> a  http://localhost:7071/mcp  (anonymous)", "==> b  http://localhost:7072/mcp  (key:", "--- curl:", "export B_FUNCTION_KEY=k"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "--- VS Code") || strings.Count(out, "--- curl") != 2 {
		t.Errorf("-client=curl kept other clients or lost one:\n%s", out)
	}
	if err := WriteText(&b, servers, []string{"vim"}); err == nil || !strings.Contains(err.Error(), "vscode, claude-desktop") {
		t.Errorf("unknown client: %v", err)
	}
}

// README's client sections are what `go tool mage clients -readme` writes.
func TestReadmeUpToDate(t *testing.T) {
	path := filepath.Join("..", "..", "README.md")
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := UpdateReadme(readme)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readme, want) {
		t.Errorf("README.md's client recipes are out of date: run go tool mage clients -readme")
	}
	if _, err := UpdateReadme([]byte("no markers")); err == nil {
		t.Error("UpdateReadme accepted a README without markers")
	}
}

// The recipes run the mcp-remote release the end-to-end tests run.
func TestMCPRemotePinned(t *testing.T) {
	v, err := npmclients.Pinned(filepath.Join("..", "..", "clients"), "mcp-remote")
	if err != nil {
		t.Fatal(err)
	}
	if got := "mcp-remote@" + v; got != MCPRemote {
		t.Errorf("clients/package.json pins %s, the recipes run %s: keep them the same", got, MCPRemote)
	}
}
