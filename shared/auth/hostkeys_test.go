package auth

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mcpfunc/mcpfunc/shared/auth/authtest"
	"github.com/mcpfunc/mcpfunc/shared/auth/internal/azenv"
)

// TestConfigFromEnvKey: MCP_AUTH=key starts outside Azure without reading
// host.json, and on Azure only when the host's effective authorization
// level is not anonymous, or when MCP_REQUIRE_HOST_KEYS=off.
func TestConfigFromEnvKey(t *testing.T) {
	const root = "/home/site/wwwroot"
	local := map[string]string{envMCPAuth: "key"}
	azure := authtest.WithEnv(local, azenv.WebsiteSiteName, "func-weather", envAppRoot, root)
	hostJSONWith := func(level string) string {
		return `{"version":"2.0","configurationProfile":"mcp-custom-handler","customHandler":{"description":{"defaultExecutablePath":"app"},"http":{"DefaultAuthorizationLevel":` + level + `},"port":"8080"}}`
	}
	tests := []struct {
		name  string
		env   map[string]string
		files map[string]string // path -> content; a missing path does not exist
		// readErr, when set, is what reading any file returns.
		readErr    error
		wantErr    []string
		wantNotice []string
		// wantReads is how many times host.json is read.
		wantReads int64
	}{
		{name: "local", env: local, wantNotice: []string{"MCP_AUTH=key", "x-functions-key", "mage dev"}},
		{name: "local, anonymous host.json is not read", env: local, files: map[string]string{"host.json": hostJSONWith(`"anonymous"`)}, wantNotice: []string{"mage dev"}},
		{name: "local, upper case", env: authtest.WithEnv(local, envMCPAuth, "KEY"), wantNotice: []string{"mage dev"}},
		{name: "azure, host.json function", env: azure, files: map[string]string{root + "/host.json": hostJSONWith(`"function"`)}, wantReads: 1,
			wantNotice: []string{"DefaultAuthorizationLevel function", root + "/host.json"}},
		{name: "azure, host.json Admin", env: azure, files: map[string]string{root + "/host.json": hostJSONWith(`"Admin"`)}, wantReads: 1,
			wantNotice: []string{"DefaultAuthorizationLevel admin"}},
		{name: "azure, host.json keys in another case", env: azure, wantReads: 1, wantNotice: []string{"function"},
			files: map[string]string{root + "/host.json": `{"CUSTOMHANDLER":{"Http":{"defaultauthorizationlevel":"FUNCTION"}}}`}},
		{name: "azure, host.json anonymous", env: azure, files: map[string]string{root + "/host.json": hostJSONWith(`"anonymous"`)}, wantReads: 1,
			wantErr: []string{"refusing to start", `"anonymous"`, root + "/host.json", `"DefaultAuthorizationLevel": "function"`, envHostAuthLevel + "=function", "MCP_AUTH=entra", "MCP_AUTH=none", "MCP_REQUIRE_HOST_KEYS=off"}},
		{name: "azure, host.json Anonymous with spaces", env: azure, files: map[string]string{root + "/host.json": hostJSONWith(`" Anonymous "`)}, wantReads: 1,
			wantErr: []string{"refusing to start"}},
		{name: "azure, level absent: the host's default", env: azure, wantReads: 1, wantNotice: []string{"DefaultAuthorizationLevel function", "the host's default", "does not set"},
			files: map[string]string{root + "/host.json": `{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"app"}}}`}},
		{name: "azure, no customHandler.http", env: azure, wantReads: 1, wantNotice: []string{"the host's default"},
			files: map[string]string{root + "/host.json": `{"version":"2.0"}`}},
		{name: "azure, no host.json: the host's default", env: azure, wantReads: 1, wantNotice: []string{"the host's default", "no " + root + "/host.json"}},
		{name: "azure, host.json unreadable", env: azure, readErr: fs.ErrPermission, wantReads: 1, wantErr: []string{"reading " + root + "/host.json", "permission denied", "MCP_REQUIRE_HOST_KEYS=off"}},
		{name: "azure, host.json not JSON", env: azure, files: map[string]string{root + "/host.json": "{ // comment\n}"}, wantReads: 1,
			wantErr: []string{root + "/host.json", "not a JSON object", envHostAuthLevel, "MCP_REQUIRE_HOST_KEYS=off"}},
		{name: "azure, bad level in host.json", env: azure, files: map[string]string{root + "/host.json": hostJSONWith(`"everyone"`)}, wantReads: 1,
			wantErr: []string{`"everyone"`, "anonymous, function or admin", "use function"}},
		{name: "azure, level not a string", env: azure, files: map[string]string{root + "/host.json": hostJSONWith(`0`)}, wantReads: 1,
			wantErr: []string{"not a string"}},
		{name: "azure, http not an object", env: azure, files: map[string]string{root + "/host.json": `{"customHandler":{"http":"anonymous"}}`}, wantReads: 1,
			wantErr: []string{"customHandler.http is not a JSON object"}},
		{name: "azure, level set twice in different case", env: azure, wantReads: 1, wantErr: []string{"more than once"},
			files: map[string]string{root + "/host.json": `{"customHandler":{"http":{"DefaultAuthorizationLevel":"function","defaultAuthorizationLevel":"anonymous"}}}`}},
		{name: "azure, no app root: host.json of the working directory", env: authtest.WithEnv(azure, envAppRoot, ""), wantReads: 1,
			files: map[string]string{"host.json": hostJSONWith(`"anonymous"`)}, wantErr: []string{"refusing to start", "from host.json"}},
		// The app setting overrides host.json.
		{name: "azure, override function over function host.json", env: authtest.WithEnv(azure, envHostAuthLevel, "Function"), wantReads: 1,
			files: map[string]string{root + "/host.json": hostJSONWith(`"function"`)}, wantNotice: []string{"DefaultAuthorizationLevel function", "the app setting " + envHostAuthLevel}},
		{name: "azure, override admin over absent level", env: authtest.WithEnv(azure, envHostAuthLevel, "admin"), wantReads: 1,
			files: map[string]string{root + "/host.json": `{"version":"2.0"}`}, wantNotice: []string{"DefaultAuthorizationLevel admin", "the app setting " + envHostAuthLevel}},
		// Whether the host applies the override is not confirmed: an
		// anonymous host.json could leave /mcp open, so it is refused.
		{name: "azure, override function over anonymous host.json", env: authtest.WithEnv(azure, envHostAuthLevel, "Function"), wantReads: 1,
			files:   map[string]string{root + "/host.json": hostJSONWith(`"anonymous"`)},
			wantErr: []string{"refusing to start", "says function", root + "/host.json", "not confirmed", `"auth": "key"`, "go tool mage sync", "MCP_REQUIRE_HOST_KEYS=off"}},
		{name: "azure, override anonymous over function host.json", env: authtest.WithEnv(azure, envHostAuthLevel, "anonymous"),
			files:   map[string]string{root + "/host.json": hostJSONWith(`"function"`)},
			wantErr: []string{"refusing to start", "the app setting " + envHostAuthLevel, "MCP_REQUIRE_HOST_KEYS=off"}},
		{name: "azure, override in upper case", env: authtest.WithEnv(azure, strings.ToUpper(envHostAuthLevel), "ANONYMOUS"), wantErr: []string{"refusing to start"}},
		{name: "azure, bad override", env: authtest.WithEnv(azure, envHostAuthLevel, "keys"), wantErr: []string{envHostAuthLevel, `"keys"`, "use function"}},
		// The check turned off.
		{name: "azure, check off", env: authtest.WithEnv(azure, envRequireHostKeys, "OFF"), files: map[string]string{root + "/host.json": hostJSONWith(`"anonymous"`)},
			wantNotice: []string{"MCP_REQUIRE_HOST_KEYS=off skipped the check"}},
		{name: "azure, check on explicitly", env: authtest.WithEnv(azure, envRequireHostKeys, "on"), files: map[string]string{root + "/host.json": hostJSONWith(`"anonymous"`)}, wantReads: 1,
			wantErr: []string{"refusing to start"}},
		{name: "bad MCP_REQUIRE_HOST_KEYS", env: authtest.WithEnv(azure, envRequireHostKeys, "maybe"), wantErr: []string{envRequireHostKeys, `"maybe"`, "on (the default) or off"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var reads atomic.Int64
			readFile := func(path string) ([]byte, error) {
				reads.Add(1)
				if tt.readErr != nil {
					return nil, &fs.PathError{Op: "open", Path: path, Err: tt.readErr}
				}
				s, ok := tt.files[filepath.ToSlash(path)]
				if !ok {
					return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
				}
				return []byte(s), nil
			}
			c, err := configFromEnv(authtest.Getenv(tt.env), readFile)
			if n := reads.Load(); n != tt.wantReads {
				t.Errorf("host.json read %d times, want %d", n, tt.wantReads)
			}
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("got %+v, want an error", c)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Mode != ModeKey || c.Defaulted {
				t.Fatalf("config %+v", c)
			}
			for _, w := range tt.wantNotice {
				if !strings.Contains(c.keyNotice, w) {
					t.Errorf("notice %q does not mention %q", c.keyNotice, w)
				}
			}
		})
	}
}

// TestProtectFromEnvKey reads a real host.json from FUNCTIONS_APP_ROOT_PATH,
// passes requests through, and logs once, as information, what protects
// /mcp.
func TestProtectFromEnvKey(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "host.json"), []byte(`{"customHandler":{"http":{"DefaultAuthorizationLevel":"function"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{envMCPAuth: "key", azenv.WebsiteSiteName: "func-weather", envAppRoot: dir}
	ctx := context.Background()
	p, err := ProtectFromEnv(ctx, authtest.Getenv(env), nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Mode != ModeKey || p.PRMHandler != nil || p.PRMPattern != "" || p.verifier != nil {
		t.Fatalf("protection %+v", p)
	}
	var reached atomic.Int64
	rec := httptest.NewRecorder()
	p.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Add(1) })).ServeHTTP(rec, httptest.NewRequest("POST", "/mcp", nil))
	if rec.Code != 200 || reached.Load() != 1 {
		t.Fatalf("key mode: status %d, reached %d", rec.Code, reached.Load())
	}
	var logs strings.Builder
	p.LogNotice(ctx, slog.New(slog.NewTextHandler(&logs, nil)))
	if got := logs.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, "level=INFO") || !strings.Contains(got, "host checks function keys") || !strings.Contains(got, filepath.Join(dir, "host.json")) {
		t.Errorf("notice = %q", got)
	}

	if err := os.WriteFile(filepath.Join(dir, "host.json"), []byte(`{"customHandler":{"http":{"DefaultAuthorizationLevel":"anonymous"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ProtectFromEnv(ctx, authtest.Getenv(env), nil); err == nil || !strings.Contains(err.Error(), "refusing to start") {
		t.Fatalf("anonymous host.json: %v", err)
	}
	// Protect with a Config made by hand trusts it, like ModeNone.
	p, err = Protect(ctx, Config{Mode: ModeKey})
	if err != nil || p.notice() == "" {
		t.Fatalf("Protect(ModeKey) = %+v, %v", p, err)
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]string{"anonymous": "anonymous", "Function": "function", " ADMIN ": "admin", "": "", "system": "", "0": ""} {
		got, err := parseLevel(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("parseLevel(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
