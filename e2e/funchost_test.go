//go:build e2e

package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mcpfunc/mcpfunc/internal/funchost"
)

// The tests start servers the way the Azure Functions host does, through
// internal/funchost (the same emulation `mage dev` uses without Core
// Tools): the executable with FUNCTIONS_CUSTOMHANDLER_PORT, the worker id
// and the app root set, GET / every 25 ms until any answer, then a proxy
// that behaves like the host's YARP proxy. These wrappers tie it to a test.

// proxyMode selects how the host forwards requests.
type proxyMode = funchost.ProxyMode

const (
	// yarpProxy is the mcp-custom-handler profile's behaviour.
	yarpProxy = funchost.YARP
	// legacyForwarding keeps the client's Host header.
	legacyForwarding = funchost.LegacyForwarding
)

// syncBuffer collects a process's output safely.
type syncBuffer = funchost.Buffer

// fakeHost is a custom handler process started and fronted like the
// Functions host does it, for one test.
type fakeHost struct {
	*funchost.Host
	Stdout *syncBuffer
	Stderr *syncBuffer
	// exited receives the worker's exit error once it has exited.
	exited chan error

	mu          sync.Mutex
	invocations map[string]string // invocation id -> path
}

// Invocations returns the invocation ids the host sent for requests to path.
func (h *fakeHost) Invocations(path string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ids []string
	for id, p := range h.invocations {
		if p == path {
			ids = append(ids, id)
		}
	}
	return ids
}

func freePort(t *testing.T) int {
	t.Helper()
	p, err := funchost.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startUnderHost runs the app in appDir (holding host.json and the
// executable it names) as the Functions host would, on a free handler port,
// with extra environment variables, and returns once the startup ping
// succeeded.
func startUnderHost(t *testing.T, appDir, executable string, env map[string]string, mode proxyMode) *fakeHost {
	t.Helper()
	return startUnderHostKeys(t, appDir, executable, env, mode, funchost.Keys{})
}

// startUnderHostKeys is startUnderHost for an app whose host requires
// keys (host.json's DefaultAuthorizationLevel function or admin): the host
// accepts keys.
func startUnderHostKeys(t *testing.T, appDir, executable string, env map[string]string, mode proxyMode, keys funchost.Keys) *fakeHost {
	t.Helper()
	h := &fakeHost{Stdout: &syncBuffer{}, Stderr: &syncBuffer{}, invocations: map[string]string{}}
	// The race runtime otherwise waits 1 s at exit.
	vars := append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	for k, v := range env {
		vars = append(vars, k+"="+v)
	}
	app := funchost.App{Root: appDir, Executable: executable}
	if keys != (funchost.Keys{}) {
		// The authorization level host.json sets (its port is not used:
		// tests run side by side).
		hj, err := funchost.ReadApp(appDir)
		if err != nil {
			t.Fatal(err)
		}
		app.AuthLevel = hj.AuthLevel
	}
	host, err := funchost.Start(context.Background(), funchost.Config{
		App:    app,
		Env:    vars,
		Stdout: h.Stdout,
		Stderr: h.Stderr,
		Mode:   mode,
		Keys:   keys,
		OnInvocation: func(id, path string) {
			h.mu.Lock()
			h.invocations[id] = path
			h.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatalf("start %s under the host: %v\nstderr:\n%s", executable, err, h.Stderr)
	}
	h.Host = host
	h.exited = make(chan error, 1)
	go func() {
		<-host.Done()
		h.exited <- host.Err()
	}()
	t.Cleanup(func() {
		host.Close()
		select {
		case <-host.Done():
		default:
			host.Cmd.Process.Kill()
			<-host.Done()
		}
		if t.Failed() {
			t.Logf("worker stdout:\n%s\nworker stderr:\n%s", h.Stdout, h.Stderr)
		}
	})
	return h
}

// Stop sends SIGTERM, as the host does when it recycles a worker, and
// returns the exit error and how long the process took to exit.
func (h *fakeHost) Stop(t *testing.T, limit time.Duration) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	if runtime.GOOS == "windows" {
		h.Cmd.Process.Kill()
	} else {
		h.Cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-h.Done():
		return time.Since(start), h.Err()
	case <-time.After(limit):
		t.Fatalf("worker still running %s after SIGTERM", limit)
		return 0, nil
	}
}

// goBuild builds the main package in dir (a workspace module folder) into
// out, with the race detector so the end-to-end run checks the server too.
func goBuild(t *testing.T, dir, out string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-race", "-o", out, ".")
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build in %s: %v\n%s", dir, err, b)
	}
}

// appDir builds the server in servers/<name> into a fresh folder laid out
// like a deployed Function app: the executable "app" next to host.json.
func appDir(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("..", "servers", name)
	goBuild(t, src, filepath.Join(dir, "app"))
	hj, err := os.ReadFile(filepath.Join(src, "host.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "host.json"), hj, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}
