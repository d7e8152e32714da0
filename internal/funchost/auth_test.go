package funchost

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestAuthLevelFromHostJSON(t *testing.T) {
	const exe = `"description":{"defaultExecutablePath":"app"}`
	tests := []struct {
		name     string
		json     string
		want     AuthLevel
		wantFrom string
		wantErr  string
	}{
		{"absent: the host's default", `{"customHandler":{` + exe + `}}`, Function, defaultLevelFrom, ""},
		{"http without a level", `{"customHandler":{` + exe + `,"http":{}}}`, Function, defaultLevelFrom, ""},
		{"null", `{"customHandler":{` + exe + `,"http":{"DefaultAuthorizationLevel":null}}}`, Function, defaultLevelFrom, ""},
		{"anonymous", `{"customHandler":{` + exe + `,"http":{"DefaultAuthorizationLevel":"anonymous"}}}`, Anonymous, hostJSONLevelFrom, ""},
		{"function", `{"customHandler":{` + exe + `,"http":{"DefaultAuthorizationLevel":"function"}}}`, Function, hostJSONLevelFrom, ""},
		{"admin", `{"customHandler":{` + exe + `,"http":{"DefaultAuthorizationLevel":"admin"}}}`, Admin, hostJSONLevelFrom, ""},
		{"value in any case", `{"customHandler":{` + exe + `,"http":{"DefaultAuthorizationLevel":"Anonymous"}}}`, Anonymous, hostJSONLevelFrom, ""},
		{"upper-case value", `{"customHandler":{` + exe + `,"http":{"DefaultAuthorizationLevel":"FUNCTION"}}}`, Function, hostJSONLevelFrom, ""},
		{"property names in any case", `{"CustomHandler":{` + exe + `,"HTTP":{"defaultAuthorizationLevel":"anonymous"}}}`, Anonymous, hostJSONLevelFrom, ""},
		{"unknown level", `{"customHandler":{` + exe + `,"http":{"DefaultAuthorizationLevel":"user"}}}`, 0, "", `authorization level "user" is not anonymous, function or admin`},
		{"empty level", `{"customHandler":{` + exe + `,"http":{"DefaultAuthorizationLevel":""}}}`, 0, "", `authorization level "" is not`},
		{"not a string", `{"customHandler":{` + exe + `,"http":{"DefaultAuthorizationLevel":2}}}`, 0, "", "is 2, not a string"},
		{"http not an object", `{"customHandler":{` + exe + `,"http":"function"}}`, 0, "", "parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, err := readHostJSON(t, t.TempDir(), tt.json)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ReadApp = %+v, %v; want an error containing %q", app, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, from, err := app.EffectiveAuthLevel([]string{})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || from != tt.wantFrom {
				t.Errorf("level %s from %q, want %s from %q", got, from, tt.want, tt.wantFrom)
			}
		})
	}
}

func TestEffectiveAuthLevel(t *testing.T) {
	hostJSON := App{AuthLevel: Anonymous, authLevelFrom: hostJSONLevelFrom}
	tests := []struct {
		name     string
		app      App
		env      []string
		want     AuthLevel
		wantFrom string
		wantErr  string
	}{
		{"no setting: host.json", hostJSON, []string{"OTHER=x"}, Anonymous, "host.json", ""},
		{"the setting wins over host.json", hostJSON, []string{AuthLevelSetting + "=function"}, Function, "the app setting " + AuthLevelSetting, ""},
		{"the setting wins over the default", App{AuthLevel: Function, authLevelFrom: defaultLevelFrom}, []string{AuthLevelSetting + "=Anonymous"}, Anonymous, "the app setting " + AuthLevelSetting, ""},
		{"admin", hostJSON, []string{AuthLevelSetting + "=ADMIN"}, Admin, "the app setting " + AuthLevelSetting, ""},
		{"name in any case", hostJSON, []string{"AZUREFUNCTIONSJOBHOST__CUSTOMHANDLER__HTTP__DEFAULTAUTHORIZATIONLEVEL=function"}, Function,
			"the app setting AZUREFUNCTIONSJOBHOST__CUSTOMHANDLER__HTTP__DEFAULTAUTHORIZATIONLEVEL", ""},
		{"colons", hostJSON, []string{"AzureFunctionsJobHost:customHandler:http:DefaultAuthorizationLevel=function"}, Function,
			"the app setting AzureFunctionsJobHost:customHandler:http:DefaultAuthorizationLevel", ""},
		{"the last one wins", hostJSON, []string{AuthLevelSetting + "=admin", AuthLevelSetting + "=function"}, Function, "the app setting " + AuthLevelSetting, ""},
		{"empty: not set", hostJSON, []string{AuthLevelSetting + "="}, Anonymous, "host.json", ""},
		{"another setting under http", hostJSON, []string{"AzureFunctionsJobHost__customHandler__http__Routes=function"}, Anonymous, "host.json", ""},
		{"a bad value", hostJSON, []string{AuthLevelSetting + "=keys"}, 0, "", "the app setting " + AuthLevelSetting + `: authorization level "keys" is not anonymous, function or admin`},
		{"an App built by hand", App{}, nil, Anonymous, "App.AuthLevel", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env == nil {
				t.Setenv(AuthLevelSetting, "") // os.Environ() is read
			}
			got, from, err := tt.app.EffectiveAuthLevel(tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("EffectiveAuthLevel = %s, %v; want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || from != tt.wantFrom {
				t.Errorf("level %s from %q, want %s from %q", got, from, tt.want, tt.wantFrom)
			}
		})
	}
}

func TestParseAuthLevel(t *testing.T) {
	for _, l := range []AuthLevel{Anonymous, Function, Admin} {
		if got, err := ParseAuthLevel(" " + strings.ToUpper(l.String())); err != nil || got != l {
			t.Errorf("ParseAuthLevel(%q) = %s, %v", l.String(), got, err)
		}
	}
	for _, s := range []string{"", "user", "system", "2", "functions"} {
		if _, err := ParseAuthLevel(s); err == nil {
			t.Errorf("ParseAuthLevel(%q) succeeded", s)
		}
	}
}

func TestRequireKey(t *testing.T) {
	const fn, master = "function-key", "master-key"
	keys := Keys{Function: fn, Master: master}
	tests := []struct {
		name   string
		level  AuthLevel
		keys   Keys
		header []string // x-functions-key values, nil for none
		query  string
		want   int
	}{
		{"anonymous: no key", Anonymous, keys, nil, "", http.StatusOK},
		{"anonymous: a wrong key", Anonymous, keys, []string{"wrong"}, "", http.StatusOK},
		{"anonymous without keys", Anonymous, Keys{}, nil, "", http.StatusOK},
		{"function: no key", Function, keys, nil, "", http.StatusUnauthorized},
		{"function: header", Function, keys, []string{fn}, "", http.StatusOK},
		{"function: query", Function, keys, nil, "code=" + fn, http.StatusOK},
		{"function: master key in the header", Function, keys, []string{master}, "", http.StatusOK},
		{"function: master key in the query", Function, keys, nil, "code=" + master, http.StatusOK},
		{"function: wrong header", Function, keys, []string{"wrong"}, "", http.StatusUnauthorized},
		{"function: wrong query", Function, keys, nil, "code=wrong", http.StatusUnauthorized},
		{"function: a prefix of the key", Function, keys, []string{fn[:5]}, "", http.StatusUnauthorized},
		{"function: the key and more", Function, keys, []string{fn + "x"}, "", http.StatusUnauthorized},
		{"function: empty header", Function, keys, []string{""}, "", http.StatusUnauthorized},
		{"function: empty query", Function, keys, nil, "code=", http.StatusUnauthorized},
		{"function: the header wins over the query", Function, keys, []string{"wrong"}, "code=" + fn, http.StatusUnauthorized},
		{"function: the first header counts", Function, keys, []string{fn, "wrong"}, "", http.StatusOK},
		{"function: the first code counts", Function, keys, nil, "code=wrong&code=" + fn, http.StatusUnauthorized},
		{"function: another parameter", Function, keys, nil, "key=" + fn, http.StatusUnauthorized},
		{"function: only a master key set", Function, Keys{Master: master}, []string{master}, "", http.StatusOK},
		{"function: no function key set, empty header", Function, Keys{Master: master}, []string{""}, "", http.StatusUnauthorized},
		{"admin: master key", Admin, keys, []string{master}, "", http.StatusOK},
		{"admin: master key in the query", Admin, keys, nil, "code=" + master, http.StatusOK},
		{"admin: a function key", Admin, keys, []string{fn}, "", http.StatusUnauthorized},
		{"admin: no key", Admin, keys, nil, "", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reached := false
			h := requireKey(tt.level, tt.keys, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reached = true
				if r.Header.Get(FunctionsKeyHeader) != strings.Join(tt.header[:min(len(tt.header), 1)], "") || r.URL.RawQuery != tt.query {
					t.Errorf("the handler saw x-functions-key %q and query %q: the key must reach it as it came", r.Header.Get(FunctionsKeyHeader), r.URL.RawQuery)
				}
				io.WriteString(w, "from the handler")
			}))
			req := httptest.NewRequest(http.MethodPost, "/mcp?"+tt.query, strings.NewReader("{}"))
			for _, v := range tt.header {
				req.Header.Add(FunctionsKeyHeader, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d", rec.Code, tt.want)
			}
			if reached != (tt.want == http.StatusOK) {
				t.Errorf("handler reached: %v", reached)
			}
			if tt.want == http.StatusUnauthorized && (rec.Body.Len() != 0 || rec.Header().Get("Content-Length") != "0") {
				t.Errorf("401 with body %q and Content-Length %q, want an empty body", rec.Body, rec.Header().Get("Content-Length"))
			}
		})
	}
}

func TestKeysCheck(t *testing.T) {
	tests := []struct {
		level AuthLevel
		keys  Keys
		ok    bool
	}{
		{Anonymous, Keys{}, true},
		{Function, Keys{}, false},
		{Function, Keys{Function: "f"}, true},
		{Function, Keys{Master: "m"}, true},
		{Admin, Keys{Function: "f"}, false},
		{Admin, Keys{Master: "m"}, true},
	}
	for _, tt := range tests {
		if err := tt.keys.check(tt.level); (err == nil) != tt.ok {
			t.Errorf("Keys%+v.check(%s) = %v, want ok %v", tt.keys, tt.level, err, tt.ok)
		}
	}
}

// TestStartKeyMode starts a handler whose host.json requires function
// keys: the host answers 401 without the key and proxies with it, and the
// startup ping, which goes to the handler directly, needs none.
func TestStartKeyMode(t *testing.T) {
	app, env := helperApp(t, "serve")
	exe, _ := json.Marshal(app.Executable)
	app, err := readHostJSON(t, app.Root, `{"customHandler":{"description":{"defaultExecutablePath":`+string(exe)+`},"http":{"DefaultAuthorizationLevel":"function"}}}`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Start(context.Background(), Config{App: app, Env: env}); err == nil || !strings.Contains(err.Error(), "needs a function key") {
		t.Fatalf("Start without keys = %v, want an error about the missing key", err)
	}
	h, err := Start(context.Background(), Config{App: app, Env: env, Keys: Keys{Function: "k1", Master: "m1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Stop(5 * time.Second)
	if h.AuthLevel != Function {
		t.Errorf("level %s, want function", h.AuthLevel)
	}
	checkKeyMode(t, h.URL, "k1")
}

// checkKeyMode checks that the host at url refuses requests without key
// with an empty 401 and passes them to the handler with it.
func checkKeyMode(t *testing.T, url, key string) {
	t.Helper()
	do := func(path string, header string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url+path, nil)
		if header != "" {
			req.Header.Set(FunctionsKeyHeader, header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := do("/echo", ""); code != http.StatusUnauthorized || body != "" {
		t.Errorf("without a key: %d %q, want 401 and an empty body", code, body)
	}
	if code, body := do("/echo", "wrong"); code != http.StatusUnauthorized || body != "" {
		t.Errorf("with a wrong key: %d %q, want 401 and an empty body", code, body)
	}
	if code, body := do("/echo", key); code != http.StatusOK || !strings.Contains(body, `"Host"`) {
		t.Errorf("with the key in x-functions-key: %d %q, want the handler's answer", code, body)
	}
	if code, body := do("/echo?code="+key, ""); code != http.StatusOK || !strings.Contains(body, `"Host"`) {
		t.Errorf("with the key in ?code=: %d %q, want the handler's answer", code, body)
	}
}

// TestSupervisorKeyMode runs two servers as `mage dev` does, one whose
// app setting requires function keys and one anonymous: the first answers
// 401 without its key and proxies with it, the other needs none, and the
// key appears in no output.
func TestSupervisorKeyMode(t *testing.T) {
	app, env := helperApp(t, "serve")
	key := NewKey()
	hosts := make(chan *Host, 2)
	service := func(name string, env []string, keys Keys) Service {
		return Service{Name: name, URL: "http://localhost/" + name, Start: func(ctx context.Context, stdout, stderr io.Writer) (Running, error) {
			h, err := Start(ctx, Config{App: app, Env: env, Keys: keys, Stdout: stdout, Stderr: stderr, StartTimeout: time.Minute})
			if err == nil {
				hosts <- h
			}
			return h, err
		}}
	}
	svcs := []Service{
		service("keyed", append(env, AuthLevelSetting+"=function"), Keys{Function: key, Master: NewKey()}),
		service("open", env, Keys{}),
	}
	var out, errw Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res := runSupervisor(ctx, &Supervisor{Stdout: &out, Stderr: &errw}, svcs)
	byLevel := map[AuthLevel]*Host{}
	for range svcs {
		select {
		case h := <-hosts:
			byLevel[h.AuthLevel] = h
		case r := <-res:
			t.Fatalf("Run ended before the servers were ready: %v", r.err)
		case <-time.After(20 * time.Second):
			t.Fatal("servers not ready in 20 s")
		}
	}
	keyed, open := byLevel[Function], byLevel[Anonymous]
	if keyed == nil || open == nil {
		t.Fatalf("levels of the hosts: %v, want one function and one anonymous", byLevel)
	}
	checkKeyMode(t, keyed.URL, key)
	resp, err := http.Get(open.URL + "/echo")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("anonymous server without a key: %d, want 200", resp.StatusCode)
	}
	cancel()
	if r := <-res; r.err != nil {
		t.Fatalf("Run after Ctrl-C = %v", r.err)
	}
	if strings.Contains(out.String()+errw.String(), key) {
		t.Errorf("the key appears in the output:\n%s\n%s", &out, &errw)
	}
}
