package funchost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func freePort(t *testing.T) int {
	t.Helper()
	p, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// holdPort listens on a free port until the test ends, and returns it.
func holdPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

func TestReadApp(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		want    App
		wantErr string
	}{
		{"string port", `{"customHandler":{"description":{"defaultExecutablePath":"app"},"port":"8081"}}`,
			App{Executable: "app", Port: 8081, AuthLevel: Function, authLevelFrom: defaultLevelFrom}, ""},
		{"number port", `{"customHandler":{"description":{"defaultExecutablePath":"app"},"port":8000}}`,
			App{Executable: "app", Port: 8000, AuthLevel: Function, authLevelFrom: defaultLevelFrom}, ""},
		{"no port", `{"customHandler":{"description":{"defaultExecutablePath":"app"}}}`,
			App{Executable: "app", AuthLevel: Function, authLevelFrom: defaultLevelFrom}, ""},
		{"arguments and working directory", `{"customHandler":{"description":{"defaultExecutablePath":"app","arguments":["-port","8000"],"workingDirectory":"sub"},"port":"8000"}}`,
			App{Executable: "app", Arguments: []string{"-port", "8000"}, WorkingDirectory: "sub", Port: 8000, AuthLevel: Function, authLevelFrom: defaultLevelFrom}, ""},
		{"anonymous", `{"customHandler":{"description":{"defaultExecutablePath":"app"},"http":{"DefaultAuthorizationLevel":"anonymous"},"port":"8081"}}`,
			App{Executable: "app", Port: 8081, AuthLevel: Anonymous, authLevelFrom: hostJSONLevelFrom}, ""},
		{"no executable", `{"customHandler":{"port":"8081"}}`, App{}, "defaultExecutablePath is empty"},
		{"bad port", `{"customHandler":{"description":{"defaultExecutablePath":"app"},"port":"http"}}`, App{}, "is not a port number"},
		{"port out of range", `{"customHandler":{"description":{"defaultExecutablePath":"app"},"port":"70000"}}`, App{}, "is not a port number"},
		{"not JSON", `{`, App{}, "parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			got, err := readHostJSON(t, dir, tt.json)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ReadApp = %+v, %v; want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Root = dir
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ReadApp = %+v, want %+v", got, tt.want)
			}
		})
	}
	if _, err := ReadApp(t.TempDir()); err == nil {
		t.Error("ReadApp of a folder without host.json succeeded")
	}
}

// readHostJSON writes host.json into dir and reads it with ReadApp.
func readHostJSON(t *testing.T, dir, hostJSON string) (App, error) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "host.json"), []byte(hostJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	return ReadApp(dir)
}

func TestCommand(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "app"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=/usr/bin", "FUNCTIONS_CUSTOMHANDLER_PORT=1", "PORT_SETTING=9000"}
	tests := []struct {
		name     string
		app      App
		wantPath string
		wantArgs []string
		wantDir  string
	}{
		{"file in the app folder", App{Executable: "app"}, filepath.Join(root, "app"), nil, root},
		{"command on PATH", App{Executable: "sh", Arguments: []string{"server.sh"}}, "/usr/bin/sh", []string{"server.sh"}, root},
		{"absolute path", App{Executable: "/bin/true"}, "/bin/true", nil, root},
		{"app setting in arguments", App{Executable: "app", Arguments: []string{"-port", "%PORT_SETTING%", "%UNSET%"}}, filepath.Join(root, "app"), []string{"-port", "9000", "%UNSET%"}, root},
		{"relative working directory", App{Executable: "app", WorkingDirectory: "sub"}, filepath.Join(root, "app"), nil, filepath.Join(root, "sub")},
		{"absolute working directory", App{Executable: "app", WorkingDirectory: "/tmp"}, filepath.Join(root, "app"), nil, "/tmp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.app.Root = root
			cmd := tt.app.Command(8123, env)
			if tt.name != "command on PATH" && cmd.Path != tt.wantPath {
				t.Errorf("Path = %q, want %q", cmd.Path, tt.wantPath)
			}
			if tt.name == "command on PATH" && filepath.Base(cmd.Path) != "sh" {
				t.Errorf("Path = %q, want sh from PATH", cmd.Path)
			}
			if got := cmd.Args[1:]; !slices.Equal(got, tt.wantArgs) {
				t.Errorf("Args = %q, want %q", got, tt.wantArgs)
			}
			if cmd.Dir != tt.wantDir {
				t.Errorf("Dir = %q, want %q", cmd.Dir, tt.wantDir)
			}
			last := map[string]string{}
			for _, kv := range cmd.Env {
				k, v, _ := strings.Cut(kv, "=")
				last[k] = v
			}
			for k, want := range map[string]string{
				"FUNCTIONS_CUSTOMHANDLER_PORT": "8123", // the host's value wins
				"FUNCTIONS_HTTPWORKER_PORT":    "8123",
				"FUNCTIONS_APP_ROOT_PATH":      root,
				"PORT_SETTING":                 "9000",
			} {
				if last[k] != want {
					t.Errorf("%s = %q, want %q", k, last[k], want)
				}
			}
			if id := last["FUNCTIONS_CUSTOMHANDLER_WORKER_ID"]; len(id) != 36 {
				t.Errorf("worker id %q is not a GUID", id)
			}
		})
	}
	if len(env) != 3 {
		t.Errorf("Command changed the caller's env slice: %q", env)
	}
}

func TestProxy(t *testing.T) {
	tests := []struct {
		name     string
		mode     ProxyMode
		wantHost func(backend, front string) string
	}{
		{"yarp drops the client's Host", YARP, func(backend, _ string) string { return backend }},
		{"legacy forwarding keeps it", LegacyForwarding, func(_, front string) string { return front }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan *http.Request, 1)
			backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got <- r
				w.WriteHeader(http.StatusTeapot)
			}))
			defer backend.Close()
			bu, _ := url.Parse(backend.URL)
			port, _ := strconv.Atoi(bu.Port())
			var seen []string
			front := httptest.NewServer(NewProxy(port, tt.mode, func(id, path string) { seen = append(seen, id, path) }))
			defer front.Close()
			fu, _ := url.Parse(front.URL)

			req, _ := http.NewRequest(http.MethodPost, front.URL+"/mcp?x=1", strings.NewReader("{}"))
			req.Header.Set("X-Azure-Functions-InvocationId", "forged")
			req.Header.Set("Authorization", "Bearer t")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusTeapot {
				t.Errorf("status %d, want the handler's 418", resp.StatusCode)
			}
			r := <-got
			if want := tt.wantHost(bu.Host, fu.Host); r.Host != want {
				t.Errorf("handler saw Host %q, want %q", r.Host, want)
			}
			id := r.Header.Get("X-Azure-Functions-InvocationId")
			for h, want := range map[string]string{
				"X-Azure-Functions-HostVersion": HostVersion,
				"x-ms-invocation-id":            id,
				"X-Forwarded-Host":              fu.Host,
				"X-Forwarded-Proto":             "http",
				"X-Forwarded-For":               "127.0.0.1",
				"Authorization":                 "Bearer t",
			} {
				if got := r.Header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			if id == "forged" || len(id) != 36 {
				t.Errorf("invocation id %q: want a fresh GUID", id)
			}
			if r.URL.RequestURI() != "/mcp?x=1" {
				t.Errorf("handler saw %s", r.URL.RequestURI())
			}
			if !slices.Equal(seen, []string{id, "/mcp"}) {
				t.Errorf("onInvocation saw %q, want [%s /mcp]", seen, id)
			}
		})
	}
}

func TestWaitReady(t *testing.T) {
	answering := func(t *testing.T, status int) int {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }))
		t.Cleanup(s.Close)
		u, _ := url.Parse(s.URL)
		p, _ := strconv.Atoi(u.Port())
		return p
	}
	later := func(t *testing.T, delay time.Duration) int {
		port := freePort(t)
		srv := &http.Server{Handler: http.NotFoundHandler()}
		timer := time.AfterFunc(delay, func() {
			if ln, err := listenLoopback(port); err == nil {
				srv.Serve(ln)
			}
		})
		t.Cleanup(func() { timer.Stop(); srv.Close() })
		return port
	}
	tests := []struct {
		name      string
		port      func(t *testing.T) int
		timeout   time.Duration
		minPings  int
		maxPings  int
		wantError error
	}{
		{"a 200 answers at once", func(t *testing.T) int { return answering(t, 200) }, time.Second, 1, 1, nil},
		{"a 404 is an answer too", func(t *testing.T) int { return answering(t, 404) }, time.Second, 1, 1, nil},
		{"a 500 is an answer too", func(t *testing.T) int { return answering(t, 500) }, time.Second, 1, 1, nil},
		{"pings until the port opens", func(t *testing.T) int { return later(t, 200*time.Millisecond) }, 10 * time.Second, 3, 400, nil},
		{"nothing listening", freePort, 300 * time.Millisecond, 2, 100, &NotReadyError{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			pings, err := WaitReady(ctx, tt.port(t), 0, nil)
			if tt.wantError == nil && err != nil {
				t.Fatalf("WaitReady: %v", err)
			}
			var nr *NotReadyError
			if tt.wantError != nil && !errors.As(err, &nr) {
				t.Fatalf("WaitReady = %v, want a *NotReadyError", err)
			}
			if pings < tt.minPings || pings > tt.maxPings {
				t.Errorf("%d pings, want %d to %d", pings, tt.minPings, tt.maxPings)
			}
		})
	}

	t.Run("the handler exits", func(t *testing.T) {
		app, env := helperApp(t, "crash")
		p, err := StartProcess(app.Command(freePort(t), env))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = WaitReady(context.Background(), freePort(t), 0, p)
		if !errors.Is(err, ErrExited) || !strings.Contains(err.Error(), "exit code 3") {
			t.Errorf("WaitReady = %v, want ErrExited with exit code 3", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %s to notice the exit", d)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := WaitReady(ctx, freePort(t), 0, nil); !errors.Is(err, context.Canceled) {
			t.Errorf("WaitReady = %v, want context.Canceled", err)
		}
	})
}

func TestStart(t *testing.T) {
	app, env := helperApp(t, "serve", "-flag", "%TEST_SETTING%")
	app.WorkingDirectory = "work"
	if err := os.Mkdir(filepath.Join(app.Root, "work"), 0o755); err != nil {
		t.Fatal(err)
	}
	app.Port = freePort(t) // host.json's customHandler.port
	var out, errw Buffer
	h, err := Start(context.Background(), Config{
		App:    app,
		Env:    append(env, "TEST_SETTING=on", "HELPER_DELAY=100ms"),
		Stdout: &out, Stderr: &errw,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Stop(5 * time.Second)
	if h.WorkerPort != app.Port {
		t.Errorf("worker port %d, want host.json's %d", h.WorkerPort, app.Port)
	}
	if h.StartupPings < 2 {
		t.Errorf("%d startup pings for a handler that starts after 100 ms", h.StartupPings)
	}

	resp, err := http.Get(h.URL + "/echo")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e echo
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	if want := "127.0.0.1:" + strconv.Itoa(app.Port); e.Host != want {
		t.Errorf("handler saw Host %q, want %q", e.Host, want)
	}
	if e.Headers.Get("X-Azure-Functions-InvocationId") == "" || e.Headers.Get("X-Forwarded-Host") == "" {
		t.Errorf("host headers missing: %v", e.Headers)
	}
	if !slices.Equal(e.Args, []string{"-flag", "on"}) {
		t.Errorf("args %q, want [-flag on]", e.Args)
	}
	if e.Dir != filepath.Join(app.Root, "work") {
		t.Errorf("working directory %q", e.Dir)
	}
	if e.Env["FUNCTIONS_CUSTOMHANDLER_PORT"] != strconv.Itoa(app.Port) || e.Env["FUNCTIONS_APP_ROOT_PATH"] != app.Root {
		t.Errorf("env %v", e.Env)
	}
	if err := h.Stop(5 * time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v, want 0", err)
	}
	if !strings.Contains(out.String(), "listening on") || !strings.Contains(errw.String(), "a warning") {
		t.Errorf("stdout %q, stderr %q", out.String(), errw.String())
	}
}

func TestStartFailures(t *testing.T) {
	busyPort := holdPort(t)

	tests := []struct {
		name    string
		mode    string
		port    int
		timeout time.Duration
		check   func(error) bool
		within  time.Duration
	}{
		{"handler port busy", "serve", busyPort, time.Second, func(err error) bool { return errors.Is(err, ErrPortBusy) }, time.Second},
		{"exits at once", "crash", 0, time.Minute, func(err error) bool {
			return errors.Is(err, ErrExited) && strings.Contains(err.Error(), "exit code 3")
		}, 10 * time.Second},
		{"never answers", "never", 0, 300 * time.Millisecond, func(err error) bool {
			var nr *NotReadyError
			return errors.As(err, &nr)
		}, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, env := helperApp(t, tt.mode)
			app.Port = tt.port
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			h, err := Start(context.Background(), Config{App: app, Env: env, Listener: ln, StartTimeout: tt.timeout})
			if err == nil {
				h.Stop(time.Second)
				t.Fatal("Start succeeded")
			}
			if !tt.check(err) {
				t.Errorf("Start: %v", err)
			}
			if d := time.Since(start); d > tt.within {
				t.Errorf("Start failed after %s, want within %s", d, tt.within)
			}
			if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
				c.Close()
				t.Error("a failed Start left the host's listener open")
			}
		})
	}
}

// A port Start picked can be taken by another program before the handler
// binds it; Start then tries another one, a bounded number of times.
func TestStartPortTaken(t *testing.T) {
	tests := []struct {
		name    string
		taken   int // how many picks return a port another program holds
		wantErr bool
	}{
		{"first pick taken", 1, false},
		{"two picks taken", freePortAttempts - 1, false},
		{"every pick taken", freePortAttempts, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var held []int
			for range tt.taken {
				held = append(held, holdAcceptAndClose(t))
			}
			picks := 0
			pick := func() (int, error) {
				picks++
				if picks <= len(held) {
					return held[picks-1], nil
				}
				return FreePort()
			}
			app, env := helperApp(t, "serve")
			var errw Buffer
			h, err := Start(context.Background(), Config{App: app, Env: env, Stderr: &errw, freePort: pick})
			if tt.wantErr {
				if err == nil {
					h.Stop(5 * time.Second)
					t.Fatal("Start succeeded on a port another program holds")
				}
				if !errors.Is(err, ErrExited) {
					t.Errorf("Start: %v, want ErrExited", err)
				}
				if picks != freePortAttempts {
					t.Errorf("%d picks, want %d", picks, freePortAttempts)
				}
				return
			}
			if err != nil {
				t.Fatalf("Start: %v\nstderr:\n%s", err, &errw)
			}
			defer h.Stop(5 * time.Second)
			if slices.Contains(held, h.WorkerPort) {
				t.Errorf("worker port %d is one another program holds", h.WorkerPort)
			}
			if got := strings.Count(errw.String(), "trying another port"); got != tt.taken {
				t.Errorf("%d retries reported, want %d:\n%s", got, tt.taken, &errw)
			}
		})
	}
}

// holdAcceptAndClose holds a free port until the test ends, closing every
// connection at once, as a program that is not an HTTP server does.
func holdAcceptAndClose(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

func TestLoopbackHostOnly(t *testing.T) {
	front := httptest.NewServer(loopbackHostOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})))
	defer front.Close()
	port := strings.TrimPrefix(front.URL, "http://127.0.0.1:")
	tests := []struct {
		host string
		want int
	}{
		{"localhost:" + port, http.StatusNoContent},
		{"127.0.0.1:" + port, http.StatusNoContent},
		{"127.0.0.2", http.StatusNoContent},
		{"[::1]:" + port, http.StatusNoContent},
		{"localhost", http.StatusNoContent},
		{"evil.example.com:" + port, http.StatusForbidden},
		{"evil.example.com", http.StatusForbidden},
		{"192.168.1.10:" + port, http.StatusForbidden},
		{"localhost.evil.example.com", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, front.URL+"/mcp", strings.NewReader("{}"))
			req.Host = tt.host
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("Host %q: status %d, want %d", tt.host, resp.StatusCode, tt.want)
			}
		})
	}
}

func TestExitStatus(t *testing.T) {
	tests := []struct {
		script string
		want   string
	}{
		{"exit 0", "exit code 0"},
		{"exit 3", "exit code 3"},
		{"kill -INT $$", "killed by signal: interrupt"},
		{"kill -TERM $$", "killed by signal: terminated"},
	}
	for _, tt := range tests {
		t.Run(tt.script, func(t *testing.T) {
			p, err := StartProcess(exec.Command("sh", "-c", tt.script))
			if err != nil {
				t.Fatal(err)
			}
			st := ExitStatus{p.Err()}
			if st.Error() != tt.want {
				t.Errorf("ExitStatus = %q, want %q", st.Error(), tt.want)
			}
			var ee *exec.ExitError
			if (p.Err() != nil) != errors.As(fmt.Errorf("wrapped: %w", st), &ee) {
				t.Errorf("the exit error does not unwrap from %v", st)
			}
		})
	}
}
