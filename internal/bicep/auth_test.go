package bicep

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/mcpfunc/mcpfunc/internal/workspace"
)

// authFixture is infra/ parsed once, with an evaluator over it.
type authFixture struct {
	files []*File
	ev    *evaluator
}

func newAuthFixture(t *testing.T) *authFixture {
	t.Helper()
	files := parse(t, repoInfra, bicepFiles(t, repoInfra)...)
	return &authFixture{files: files, ev: &evaluator{c: &checker{files: files}}}
}

func (fx *authFixture) file(t *testing.T, path string) *File {
	t.Helper()
	for _, f := range fx.files {
		if f.Path == path {
			return f
		}
	}
	t.Fatalf("infra/%s not parsed", path)
	return nil
}

// decl returns the declaration name of infra/path.
func (fx *authFixture) decl(t *testing.T, path, name string) *Decl {
	t.Helper()
	d := fx.file(t, path).Decl(name)
	if d == nil {
		t.Fatalf("infra/%s declares no %s", path, name)
	}
	return d
}

// scope instantiates infra/path with its parameters bound to args.
func (fx *authFixture) scope(t *testing.T, path string, args map[string]any) *scope {
	t.Helper()
	bound := map[string]func() ([]any, error){}
	for k, v := range args {
		v := normalizeJSON(v)
		bound[k] = func() ([]any, error) { return []any{v}, nil }
	}
	return fx.ev.newScope(fx.file(t, path), bound, "", false)
}

// value evaluates n in s to its one value, made plain (objects and arrays
// evaluated all the way down) when plain is set.
func value(t *testing.T, s *scope, n *Node, what string) any {
	t.Helper()
	vs, err := s.eval(n)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if vs = dedupeValues(vs); len(vs) != 1 {
		t.Fatalf("%s has %d possible values: %v", what, len(vs), vs)
	}
	return vs[0]
}

// member evaluates the property path of o (a lazy object) to one value.
func member(t *testing.T, s *scope, o any, path ...string) any {
	t.Helper()
	for _, p := range path {
		vs, err := s.member(o, p, false)
		if err != nil {
			t.Fatalf("%s: %v", strings.Join(path, "."), err)
		}
		if vs = dedupeValues(vs); len(vs) != 1 {
			t.Fatalf("%s has %d possible values", strings.Join(path, "."), len(vs))
		}
		o = vs[0]
	}
	return o
}

// TestServerAuthModes evaluates main.bicep's parsing of MCP_SERVER_AUTH
// (param serverAuth) with ANONYMOUS_SERVER_AUTH and servers.json's "auth":
// each server's mode, and the deployment failing with a message that
// names the bad pair or entry.
func TestServerAuthModes(t *testing.T) {
	fx := newAuthFixture(t)
	serverApps := fx.decl(t, "main.bicep", "serverApps")
	authArg := Property(serverApps.Params(), "authMode")
	if authArg == nil {
		t.Fatal("main.bicep: module serverApps passes no authMode")
	}
	// A fixed server list, not infra/servers.json: the servers there are
	// the user's to add and remove.
	twoServers := func() []any {
		return []any{
			map[string]any{"name": "userinfo", "graph": true, "auth": "entra"},
			map[string]any{"name": "weather", "graph": false, "auth": "entra"},
		}
	}
	withAuth := func(name, auth string) []any {
		servers := twoServers()
		for _, s := range servers {
			if m := s.(map[string]any); m["name"] == name {
				m["auth"] = auth
			}
		}
		return servers
	}
	for _, tt := range []struct {
		name, serverAuth, anonymous string
		servers                     []any
		want                        map[string]string // mode per server
		wantFail                    string
	}{
		{name: "servers.json alone", want: map[string]string{"userinfo": "entra", "weather": "entra"}},
		{name: "one override", serverAuth: "weather=anonymous", want: map[string]string{"userinfo": "entra", "weather": "anonymous"}},
		{name: "override to key where servers.json says key", servers: withAuth("weather", "key"), serverAuth: "weather=key", want: map[string]string{"userinfo": "entra", "weather": "key"}},
		{name: "spaces, case, empty pairs", servers: withAuth("weather", "key"), serverAuth: " weather = Key ,, userinfo=Anonymous ,", want: map[string]string{"userinfo": "anonymous", "weather": "key"}},
		// key needs host.json's own level: servers.json must say key.
		{name: "override to key where servers.json says entra", serverAuth: "weather=key", wantFail: `MCP_SERVER_AUTH: weather=key needs "auth": "key" for weather in infra/servers.json (then go tool mage sync`},
		{name: "servers.json key, override back to entra", servers: withAuth("weather", "key"), serverAuth: "weather=entra", want: map[string]string{"userinfo": "entra", "weather": "entra"}},
		{name: "servers.json key", servers: withAuth("weather", "key"), want: map[string]string{"userinfo": "entra", "weather": "key"}},
		{name: "servers.json without auth", servers: []any{map[string]any{"name": "weather", "graph": false}}, want: map[string]string{"weather": "entra"}},
		{name: "ANONYMOUS_SERVER_AUTH wins", anonymous: "True", serverAuth: "weather=entra", servers: withAuth("userinfo", "key"), want: map[string]string{"userinfo": "anonymous", "weather": "anonymous"}},
		{name: "unknown server", serverAuth: "wether=key", wantFail: `MCP_SERVER_AUTH: "wether=key" names no server; the servers are userinfo, weather`},
		{name: "unknown mode", serverAuth: "weather=keys", wantFail: `MCP_SERVER_AUTH: "weather=keys" is not name=mode with mode entra, key, anonymous`},
		{name: "no mode", serverAuth: "weather", wantFail: `MCP_SERVER_AUTH: "weather" is not name=mode`},
		{name: "servers.json mode unknown", servers: withAuth("weather", "Key"), wantFail: `infra/servers.json: server weather has "auth": "Key"; allowed values are entra, key, anonymous`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			servers := tt.servers
			if servers == nil {
				servers = twoServers()
			}
			s := fx.scope(t, "main.bicep", map[string]any{"servers": servers, "serverAuth": tt.serverAuth, "anonymousServerAuth": tt.anonymous})
			got := map[string]string{}
			for i, srv := range servers {
				srv := normalizeJSON(srv)
				loop := s.withLocals(map[string]func() ([]any, error){
					"s": func() ([]any, error) { return []any{srv}, nil },
					"i": func() ([]any, error) { return []any{int64(i)}, nil },
				})
				vs, err := loop.eval(authArg)
				if tt.wantFail != "" {
					if err == nil || !strings.Contains(err.Error(), "fail(") || !strings.Contains(err.Error(), strings.ReplaceAll(tt.wantFail, `"`, `\"`)) {
						t.Fatalf("authMode = %v, %v; want fail() with %q", vs, err, tt.wantFail)
					}
					return
				}
				if err != nil || len(vs) != 1 {
					t.Fatalf("authMode of %v = %v, %v", srv, vs, err)
				}
				got[srv.(map[string]any)["name"].(string)] = vs[0].(string)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("modes %v, want %v", got, tt.want)
			}
			if outs := value(t, s, fx.decl(t, "main.bicep", "SERVER_AUTH_MODES").Value, "SERVER_AUTH_MODES"); fmt.Sprint(outs) != fmt.Sprint(tt.want) {
				t.Errorf("SERVER_AUTH_MODES = %v, want %v", outs, tt.want)
			}
			wantEnabled := false
			for _, m := range tt.want {
				wantEnabled = wantEnabled || m == workspace.AuthEntra
			}
			if enabled := value(t, s, fx.decl(t, "main.bicep", "AUTH_ENABLED").Value, "AUTH_ENABLED"); enabled != wantEnabled {
				t.Errorf("AUTH_ENABLED = %v, want %v", enabled, wantEnabled)
			}
		})
	}
}

// TestServerBicepPerAuthMode evaluates app/server.bicep for each auth
// mode: the app registration only for entra, Easy Auth on for entra and
// explicitly off otherwise, MCP_AUTH and the host's authorization level
// app setting (the one host.json carries, workspace.AuthorizationLevel),
// and for entra the MCP.Invoke role the server requires of app-only
// tokens.
func TestServerBicepPerAuthMode(t *testing.T) {
	fx := newAuthFixture(t)
	const server = "app/server.bicep"
	param := fx.decl(t, server, "authMode")
	allowed := param.Decorator("allowed")
	if allowed == nil || len(allowed.Children) != 1 {
		t.Fatalf("%s: param authMode has no @allowed list", server)
	}
	s0 := fx.scope(t, server, nil)
	allowedModes, err := fx.ev.elements(value(t, s0, allowed.Children[0], "@allowed"))
	if err != nil || fmt.Sprint(allowedModes) != fmt.Sprint(workspace.AuthModes()) {
		t.Errorf("%s: authMode @allowed %v (%v), want %v", server, allowedModes, err, workspace.AuthModes())
	}
	wantMCPAuth := map[string]string{workspace.AuthEntra: "easyauth", workspace.AuthKey: "key", workspace.AuthAnonymous: "none"}
	const levelSetting = "AzureFunctionsJobHost__customHandler__http__DefaultAuthorizationLevel"
	for _, mode := range workspace.AuthModes() {
		t.Run(mode, func(t *testing.T) {
			entra := mode == workspace.AuthEntra
			s := fx.scope(t, server, map[string]any{"authMode": mode, "serverName": "weather", "resourceToken": "abcdefghij012", "callsGraph": false})

			reg := fx.decl(t, server, "entra")
			if reg.Condition == nil {
				t.Fatalf("%s: module entra is deployed in every mode", server)
			}
			if got := value(t, s, reg.Condition, "entra's condition"); got != entra {
				t.Errorf("module entra deployed = %v, want %v", got, entra)
			}

			easyAuth := fx.decl(t, server, "easyAuth")
			if easyAuth.Condition != nil {
				t.Errorf("%s: resource easyAuth is conditional (if (%s)): it must be deployed in every mode, to turn Easy Auth off where an earlier deployment turned it on", server, easyAuth.Condition.Text)
			}
			if name, _ := StringLiteral(Property(easyAuth.Body, "name")); name != "authsettingsV2" || !strings.HasPrefix(easyAuth.Source, "Microsoft.Web/sites/config@") {
				t.Errorf("easyAuth is %s named %q, want Microsoft.Web/sites/config authsettingsV2", easyAuth.Source, name)
			}
			props := value(t, s, Property(easyAuth.Body, "properties"), "easyAuth properties")
			if on := member(t, s, props, "platform", "enabled"); on != entra {
				t.Errorf("Easy Auth platform.enabled = %v, want %v", on, entra)
			}

			base := value(t, s, fx.decl(t, server, "baseSettings").Value, "baseSettings")
			if got := member(t, s, base, "MCP_AUTH"); got != wantMCPAuth[mode] {
				t.Errorf("MCP_AUTH = %v, want %s", got, wantMCPAuth[mode])
			}
			if got := member(t, s, base, levelSetting); got != workspace.AuthorizationLevel(mode) {
				t.Errorf("%s = %v, want %s (as host.json)", levelSetting, got, workspace.AuthorizationLevel(mode))
			}

			authSettings := value(t, s, fx.decl(t, server, "authSettings").Value, "authSettings")
			vs, err := s.member(authSettings, "MCP_AUTH_ROLES", true)
			roles := any(nil)
			if err == nil && len(vs) == 1 {
				roles = vs[0]
			}
			switch {
			case entra && roles != "MCP.Invoke":
				t.Errorf("MCP_AUTH_ROLES = %v (%v), want MCP.Invoke", roles, err)
			case !entra && roles != nil:
				t.Errorf("MCP_AUTH_ROLES = %v without Entra", roles)
			}
			// With roles alone, shared/auth would require the role of
			// signed-in users too: entra sets the delegated scope as well.
			if vs, err := s.member(authSettings, "MCP_AUTH_SCOPES", true); entra && (err != nil || len(vs) != 1 || !strings.HasSuffix(fmt.Sprint(vs[0]), "/user_impersonation")) {
				t.Errorf("MCP_AUTH_SCOPES = %v (%v), want <identifier URI>/user_impersonation", vs, err)
			}
			if got := value(t, s, fx.decl(t, server, "authMode").Node.Child("identifier"), "authMode"); got != mode {
				t.Errorf("authMode = %v", got)
			}
		})
	}
	app := fx.decl(t, server, "app")
	pairs := Property(app.Params(), "appSettingsKeyValuePairs")
	if pairs == nil || !strings.Contains(NormalizeExpr(pairs), "baseSettings") || !strings.Contains(NormalizeExpr(pairs), "authSettings") {
		t.Errorf("%s: the app's appSettingsKeyValuePairs must take baseSettings and authSettings", server)
	}
	allowedApps := NormalizeExpr(fx.decl(t, server, "allowedApplications").Value)
	for _, want := range []string{"preAuthorizedClientIds", "appCallerClientIds"} {
		if !strings.Contains(allowedApps, want) {
			t.Errorf("%s: allowedApplications = %s lacks %s", server, allowedApps, want)
		}
	}
}

// TestInvokeAppRole: every app registration defines the app role
// MCP.Invoke for applications (managed identities, Foundry projects), with
// an id that stays the same across deployments, and outputs its value and
// id.
func TestInvokeAppRole(t *testing.T) {
	fx := newAuthFixture(t)
	const file = "app/entra.bicep"
	s := fx.scope(t, file, map[string]any{"uniqueName": "func-weather-abc-app", "displayName": "MCP server weather"})
	reg := fx.decl(t, file, "registration")
	rolesNode := Property(reg.Body, "appRoles")
	if rolesNode == nil {
		t.Fatalf("%s: the registration has no appRoles", file)
	}
	roles, err := fx.ev.elements(value(t, s, rolesNode, "appRoles"))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range roles {
		if member(t, s, r, "value") != "MCP.Invoke" {
			continue
		}
		found = true
		types, err := fx.ev.elements(member(t, s, r, "allowedMemberTypes"))
		if err != nil || !reflect.DeepEqual(types, []any{"Application"}) {
			t.Errorf("MCP.Invoke allowedMemberTypes = %v (%v), want [Application]", types, err)
		}
		if member(t, s, r, "isEnabled") != true {
			t.Error("MCP.Invoke is not enabled")
		}
		if d, _ := member(t, s, r, "description").(string); d == "" {
			t.Error("MCP.Invoke has no description")
		}
	}
	if !found {
		t.Fatalf("%s: no app role with value MCP.Invoke", file)
	}
	if id := NormalizeExpr(fx.decl(t, file, "invokeRoleId").Value); !strings.HasPrefix(id, "guid(uniqueName,") {
		t.Errorf("%s: invokeRoleId = %s, want a guid() of the registration's uniqueName (stable across deployments)", file, id)
	}
	for _, out := range []string{"appRole", "appRoleId"} {
		if d := fx.file(t, file).Decl(out); d == nil || d.Kind != "output" {
			t.Errorf("%s: no output %s", file, out)
		}
	}
}
