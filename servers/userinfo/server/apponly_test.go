package server

import (
	"net/http"
	"testing"

	"github.com/mcpfunc/mcpfunc/shared/auth/authtest"
)

// TestAppOnlyCaller: an application calling for itself (a managed
// identity or an agent's identity granted the app role MCP.Invoke) gets
// through Easy Auth and the in-process checks, and get_user_info answers
// it with a tool error without asking Entra for an On-Behalf-Of exchange
// (which Entra refuses for app-only tokens, AADSTS7000114) or the managed
// identity for its assertion. A signed-in user still gets the profile.
func TestAppOnlyCaller(t *testing.T) {
	c := newChain(t, "mi-apponly-"+authtest.ShortHash(t.Name()),
		"MCP_AUTH_ROLES", "MCP.Invoke", "MCP_AUTH_SCOPES", "api://"+appID+"/user_impersonation")
	agent := c.entra.AppToken("foundry-agent", "MCP.Invoke")

	res, text := callUserInfo(t, c.connect(t, easyAuthRT{"Bearer " + agent, true}))
	if want := "this tool acts on behalf of a signed-in user; an application cannot call it"; !res.IsError || text != want {
		t.Fatalf("app-only call: isError %v, %q; want the tool error %q", res.IsError, text, want)
	}
	if n, m := c.entra.TokenRequests(), c.mi.Requests(); n != 0 || m != 0 {
		t.Fatalf("app-only call: %d token requests to Entra, %d to the managed identity; want none", n, m)
	}

	// Without the role, or with its principal not the token's, the
	// endpoint refuses the application before any tool runs.
	for _, tt := range []struct {
		name string
		rt   easyAuthRT
		want int
	}{
		{"app-only without the role", easyAuthRT{"Bearer " + c.entra.AppToken("foundry-agent", "Other.Role"), true}, http.StatusForbidden},
		{"app-only without Easy Auth's principal", easyAuthRT{"Bearer " + agent, false}, http.StatusUnauthorized},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if status := post(t, c.url, tt.rt); status != tt.want {
				t.Fatalf("status %d, want %d", status, tt.want)
			}
		})
	}

	if res, text := callUserInfo(t, c.connect(t, c.asUser("ada"))); res.IsError {
		t.Fatalf("Ada's call: %q", text)
	}
	if n := c.entra.TokenRequests(); n != 1 {
		t.Fatalf("%d token requests, want 1 (Ada's)", n)
	}
	if logs := c.logs.String(); authtest.ContainsAny(logs, agent) {
		t.Errorf("logs contain the agent's token:\n%s", logs)
	}
}
