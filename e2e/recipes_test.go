//go:build e2e

package e2e

// The connection recipes `go tool mage clients` prints (internal/clientcfg),
// pasted into real clients: weather in key mode behind the local Functions
// host, reached by curl, by mcp-remote as Claude Desktop would start it and
// by the TypeScript SDK client with the headers VS Code would send; and
// applications calling for themselves (app-only tokens with the MCP.Invoke
// role) in Entra mode. The Entra sign-in of the recipes is in
// oauth_test.go.

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpfunc/mcpfunc/internal/clientcfg"
	"github.com/mcpfunc/mcpfunc/internal/funchost"
	"github.com/mcpfunc/mcpfunc/internal/workspace"
	"github.com/mcpfunc/mcpfunc/shared/auth/authtest"
)

// setAuthLevel rewrites host.json in app to the authorization level level,
// as `mage sync` writes it for a server whose "auth" is key.
func setAuthLevel(t *testing.T, app, level string) {
	t.Helper()
	path := filepath.Join(app, "host.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var hj map[string]any
	if err := json.Unmarshal(b, &hj); err != nil {
		t.Fatal(err)
	}
	ch, _ := hj["customHandler"].(map[string]any)
	if ch == nil {
		t.Fatalf("%s has no customHandler", path)
	}
	ch["http"] = map[string]any{"DefaultAuthorizationLevel": level}
	out, err := json.MarshalIndent(hj, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// recipe returns the recipe for client among recipes.
func recipe(t *testing.T, recipes []clientcfg.Recipe, client string) clientcfg.Recipe {
	t.Helper()
	for _, r := range recipes {
		if r.Client == client {
			return r
		}
	}
	t.Fatalf("no %s recipe", client)
	return clientcfg.Recipe{}
}

// listToolsStatus posts tools/list to url with headers and returns the
// HTTP status.
func listToolsStatus(t *testing.T, url string, headers map[string]string) int {
	t.Helper()
	req := mcpPost(url, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`), "2025-06-18")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestRecipes: weather as `mage dev` runs it, in key mode (host.json's
// level function; the host emulation requires the key, the server runs
// MCP_AUTH=key) and anonymous, is reached with the recipes of `go tool
// mage clients` as printed: curl lists the tools, mcp-remote started with
// the Claude Desktop recipe's arguments and environment lists and calls
// them over stdio, and the TypeScript SDK client sending the VS Code
// recipe's headers does too. In key mode a request without the key, or
// with a wrong one, gets 401.
func TestRecipes(t *testing.T) {
	nc := needNodeClients(t)
	nws := newFakeNWS(t)
	for _, mode := range []string{clientcfg.Key, clientcfg.Anonymous} {
		t.Run(mode, func(t *testing.T) {
			testRecipes(t, nc, nws.URL, mode)
		})
	}
}

func testRecipes(t *testing.T, nc *nodeClients, nwsURL, mode string) {
	app := appDir(t, "weather")
	env := map[string]string{"NWS_API_BASE_URL": nwsURL, "MCP_AUTH": "none"}
	var key string
	var keys funchost.Keys
	if mode == clientcfg.Key {
		setAuthLevel(t, app, "function")
		key = funchost.NewKey()
		keys = funchost.Keys{Function: key, Master: funchost.NewKey()}
		env["MCP_AUTH"] = "key"
	}
	host := startUnderHostKeys(t, app, "app", env, yarpProxy, keys)
	url := host.URL + "/mcp"
	recipes, err := clientcfg.Recipes(clientcfg.Server{Name: "weather", URL: url, Auth: mode, Key: key})
	if err != nil {
		t.Fatal(err)
	}

	if mode == clientcfg.Key {
		t.Run("no key or a wrong one: 401", func(t *testing.T) {
			for name, h := range map[string]map[string]string{
				"no key":    nil,
				"wrong key": {workspace.FunctionKeyHeader: funchost.NewKey()},
			} {
				if got := listToolsStatus(t, url, h); got != http.StatusUnauthorized {
					t.Errorf("%s: status %d, want 401", name, got)
				}
			}
			res := nc.run(t, time.Minute, nil, filepath.Join(nc.dir, "ts-client.mjs"), "--url", url)
			// The host's 401 has an empty body, so the SDK's message names
			// no status.
			if res.code != 1 || !strings.Contains(res.stderr, "Error POSTing to endpoint") {
				t.Errorf("ts-client.mjs without the key: exit %d, want 1 with the SDK's connect error\nstderr:\n%s", res.code, res.stderr)
			}
		})
	}

	t.Run("curl", func(t *testing.T) {
		if _, err := exec.LookPath("curl"); err != nil {
			t.Skip("curl is not installed: the curl recipe is not run (the other clients are)")
		}
		r := recipe(t, recipes, "curl")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "sh", "-c", r.Text).CombinedOutput()
		if err != nil || !strings.Contains(string(out), `"get_forecast"`) || !strings.Contains(string(out), `"get_alerts"`) {
			t.Fatalf("the curl recipe: %v\n%s\nrecipe:\n%s", err, out, r.Text)
		}
	})

	t.Run("mcp-remote as Claude Desktop starts it", func(t *testing.T) {
		r := recipe(t, recipes, "claude-desktop")
		var doc struct {
			MCPServers map[string]struct {
				Command string            `json:"command"`
				Args    []string          `json:"args"`
				Env     map[string]string `json:"env"`
			} `json:"mcpServers"`
		}
		if err := json.Unmarshal([]byte(r.Text), &doc); err != nil {
			t.Fatal(err)
		}
		entry, ok := doc.MCPServers["weather-local"]
		if !ok || entry.Command != "npx" || len(entry.Args) < 3 || entry.Args[2] != url {
			t.Fatalf("the recipe is not npx -y <mcp-remote> %s …:\n%s", url, r.Text)
		}
		if pinned := pinnedClientVersion(t, "mcp-remote"); entry.Args[1] != "mcp-remote@"+pinned {
			t.Errorf("the recipe runs %s, the tests the pinned mcp-remote@%s", entry.Args[1], pinned)
		}
		m := newMCPRemoteEnv(t, nc)
		for k, v := range entry.Env {
			m.env = append(m.env, k+"="+v)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cs, stderr, err := m.connect(ctx, t, nc, url, entry.Args[3:]...)
		if err != nil {
			t.Fatalf("mcp-remote %s: %v\nstderr:\n%s", strings.Join(entry.Args[3:], " "), err, stderr)
		}
		checkWeatherOverStdio(t, cs)
		if key != "" && strings.Contains(stderr.String(), key) {
			t.Error("mcp-remote's output holds the key")
		}
	})

	t.Run("TypeScript SDK with VS Code's headers", func(t *testing.T) {
		var doc struct {
			Inputs []struct {
				ID string `json:"id"`
			} `json:"inputs"`
			Servers map[string]struct {
				URL     string            `json:"url"`
				Headers map[string]string `json:"headers"`
			} `json:"servers"`
		}
		if err := json.Unmarshal([]byte(recipe(t, recipes, "vscode").Text), &doc); err != nil {
			t.Fatal(err)
		}
		entry := doc.Servers["weather-local"]
		if keyed := mode == clientcfg.Key; entry.URL != url || (len(doc.Inputs) == 1) != keyed || (len(entry.Headers) > 0) != keyed {
			t.Fatalf("VS Code recipe: %+v", doc)
		}
		args := []string{"--url", entry.URL, "--call", `get_alerts={"state":"CA"}`}
		for k, v := range entry.Headers {
			// VS Code puts what the user typed at the prompt in place of
			// ${input:<id>}.
			args = append(args, "--header", k+": "+strings.ReplaceAll(v, "${input:"+doc.Inputs[0].ID+"}", key))
		}
		res := nc.run(t, time.Minute, nil, filepath.Join(nc.dir, "ts-client.mjs"), args...)
		if res.code != 0 {
			t.Fatalf("ts-client.mjs exit %d\nstderr:\n%s", res.code, res.stderr)
		}
		var sum tsSummary
		if err := json.Unmarshal([]byte(res.stdout), &sum); err != nil {
			t.Fatal(err)
		}
		if len(sum.Tools) != 2 || len(sum.Calls) != 1 || sum.Calls[0].IsError || !strings.Contains(sum.Calls[0].Text, "Wind Advisory") {
			t.Fatalf("ts-client.mjs summary: %s", res.stdout)
		}
	})

	if key != "" && strings.Contains(host.Stdout.String()+host.Stderr.String(), key) {
		t.Error("the server's log holds the key")
	}
}

// TestAppOnlyCallers: an application calling for itself (client
// credentials: a token with roles and no user, as a managed identity or a
// Foundry agent's identity gets) reaches a server in Entra mode only with
// the MCP.Invoke role; weather's tools run for it, and userinfo's
// get_user_info answers it with its clear message instead of trying
// On-Behalf-Of. The clients are the TypeScript SDK's, sending the token.
func TestAppOnlyCallers(t *testing.T) {
	nc := needNodeClients(t)
	const (
		tenant   = "7a7a7a7a-0000-4000-8000-00000000a001"
		clientID = "7a7a7a7a-0000-4000-8000-00000000a002"
	)
	// Plain http: the servers run in other processes, which cannot trust
	// the test's certificate.
	entra := authtest.NewEntra(t, tenant, clientID, authtest.PlainHTTP())
	// What the Bicep sets for an entra server, in MCP_AUTH=entra (Easy
	// Auth, which only Azure runs, is not in front here).
	env := func(publicURL string) map[string]string {
		return map[string]string{
			"MCP_AUTH":             "entra",
			"MCP_AUTH_TENANT_IDS":  tenant,
			"MCP_AUTH_AUDIENCES":   clientID,
			"MCP_AUTH_SCOPES":      "user_impersonation",
			"MCP_AUTH_ROLES":       "MCP.Invoke",
			"AZURE_AUTHORITY_HOST": entra.URL,
			"MCP_PUBLIC_URL":       publicURL,
		}
	}
	nws := newFakeNWS(t)
	weatherEnv := env("http://localhost")
	weatherEnv["NWS_API_BASE_URL"] = nws.URL
	weather := startUnderHost(t, appDir(t, "weather"), "app", weatherEnv, yarpProxy)
	userinfo := startUnderHost(t, appDir(t, "userinfo"), "app", env("http://localhost"), yarpProxy)

	withRole := entra.AppToken("foundry-agent", "MCP.Invoke")
	tests := []struct {
		name    string
		url     string
		token   string
		call    string
		want    []string // in the call's text
		isError bool
		status  int // of tools/list, when not 200
	}{
		{name: "weather, the role", url: weather.URL, token: withRole, call: `get_alerts={"state":"CA"}`, want: []string{"Wind Advisory"}},
		{name: "userinfo, the role", url: userinfo.URL, token: withRole, call: "get_user_info", isError: true,
			want: []string{"this tool acts on behalf of a signed-in user; an application cannot call it"}},
		{name: "weather, another role", url: weather.URL, token: entra.AppToken("foundry-agent", "Other.Role"), status: http.StatusForbidden},
		{name: "userinfo, no role", url: userinfo.URL, token: entra.AppToken("foundry-agent"), status: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			auth := "Bearer " + tt.token
			if tt.status != 0 {
				if got := listToolsStatus(t, tt.url+"/mcp", map[string]string{"Authorization": auth}); got != tt.status {
					t.Fatalf("tools/list: status %d, want %d", got, tt.status)
				}
				return
			}
			res := nc.run(t, time.Minute, nil, filepath.Join(nc.dir, "ts-client.mjs"), "--url", tt.url+"/mcp", "--header", "Authorization: "+auth, "--call", tt.call)
			if res.code != 0 {
				t.Fatalf("ts-client.mjs exit %d\nstderr:\n%s", res.code, res.stderr)
			}
			var sum tsSummary
			if err := json.Unmarshal([]byte(res.stdout), &sum); err != nil {
				t.Fatal(err)
			}
			if len(sum.Calls) != 1 || sum.Calls[0].IsError != tt.isError {
				t.Fatalf("ts-client.mjs summary: %s", res.stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(sum.Calls[0].Text, w) {
					t.Errorf("call text %q lacks %q", sum.Calls[0].Text, w)
				}
			}
		})
	}
	// No On-Behalf-Of was tried for the application: the fake's token
	// endpoint saw nothing.
	if n := entra.TokenRequests(); n != 0 {
		t.Errorf("%d requests to the token endpoint, want none", n)
	}
	if p := entra.Problems(); len(p) > 0 {
		t.Errorf("the fake Entra saw problems: %v", p)
	}
	for _, h := range []*fakeHost{weather, userinfo} {
		if strings.Contains(h.Stdout.String()+h.Stderr.String(), withRole) {
			t.Error("a server's log holds the token")
		}
	}
}
