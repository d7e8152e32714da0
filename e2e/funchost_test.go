//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// This file fakes what the Azure Functions host does with a custom handler,
// as ../shared/docs/azure-functions-contract.md describes it (sources:
// azure-functions-host HttpWorkerProcess, DefaultHttpWorkerService,
// DefaultHttpProxyService and YARP's HttpTransformer.Default):
//
//   - it starts the executable from host.json in the app folder with
//     FUNCTIONS_CUSTOMHANDLER_PORT (and the worker id and app root) set;
//   - it sends GET http://127.0.0.1:<port>/ every 25 ms until any HTTP
//     response arrives (socket errors mean "not ready"), for up to 30 s;
//   - with the mcp-custom-handler profile it proxies every request with YARP,
//     which drops the original Host (the handler sees 127.0.0.1:<port>), adds
//     X-Forwarded-*, and sets X-Azure-Functions-HostVersion,
//     X-Azure-Functions-InvocationId and x-ms-invocation-id;
//   - the legacy forwarding mode instead copies every header, Host included.

// proxyMode selects how the fake host forwards requests.
type proxyMode int

const (
	// yarpProxy is the mcp-custom-handler profile's behaviour.
	yarpProxy proxyMode = iota
	// legacyForwarding keeps the client's Host header.
	legacyForwarding
)

const hostVersion = "4.1040.100.0"

// syncBuffer collects a process's output safely.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fakeHost is a custom handler process started and fronted like the
// Functions host does it.
type fakeHost struct {
	URL          string // the host's public address, like https://<app>.azurewebsites.net
	WorkerPort   int
	Cmd          *exec.Cmd
	Stdout       *syncBuffer
	Stderr       *syncBuffer
	StartupPings int
	exited       chan error

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
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// startUnderHost runs the app in appDir (holding host.json and the
// executable it names) as the Functions host would, with extra environment
// variables, and returns once the startup ping succeeded.
func startUnderHost(t *testing.T, appDir, executable string, env map[string]string, mode proxyMode) *fakeHost {
	t.Helper()
	port := freePort(t)
	h := &fakeHost{WorkerPort: port, Stdout: &syncBuffer{}, Stderr: &syncBuffer{}, exited: make(chan error, 1), invocations: map[string]string{}}
	cmd := exec.Command(filepath.Join(appDir, executable))
	cmd.Dir = appDir
	cmd.Env = append(os.Environ(),
		fmt.Sprintf("FUNCTIONS_CUSTOMHANDLER_PORT=%d", port),
		fmt.Sprintf("FUNCTIONS_HTTPWORKER_PORT=%d", port),
		"FUNCTIONS_CUSTOMHANDLER_WORKER_ID="+newID(),
		"FUNCTIONS_HTTPWORKER_ID="+newID(),
		"FUNCTIONS_APP_ROOT_PATH="+appDir,
		"GORACE=atexit_sleep_ms=0", // the race runtime otherwise waits 1 s at exit
	)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = h.Stdout, h.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", executable, err)
	}
	h.Cmd = cmd
	go func() { h.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-h.exited
		}
		if t.Failed() {
			t.Logf("worker stdout:\n%s\nworker stderr:\n%s", h.Stdout, h.Stderr)
		}
	})

	// The readiness ping: any HTTP response means ready.
	ping := fmt.Sprintf("http://127.0.0.1:%d/", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		h.StartupPings++
		resp, err := http.Get(ping)
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case err := <-h.exited:
			t.Fatalf("worker exited during startup: %v\nstderr:\n%s", err, h.Stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker did not answer %s within 30s", ping)
		}
		time.Sleep(25 * time.Millisecond)
	}

	target, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", port))
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.SetXForwarded()
			if mode == yarpProxy {
				r.Out.Host = "" // the request's URL host: 127.0.0.1:<port>
			} else {
				r.Out.Host = r.In.Host
			}
			id := newID()
			h.mu.Lock()
			h.invocations[id] = r.In.URL.Path
			h.mu.Unlock()
			r.Out.Header.Set("X-Azure-Functions-HostVersion", hostVersion)
			r.Out.Header.Set("X-Azure-Functions-InvocationId", id)
			r.Out.Header.Set("x-ms-invocation-id", id)
		},
	}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	h.URL = front.URL
	return h
}

// Stop sends SIGTERM, as the host does when it recycles a worker, and
// returns the exit error and how long the process took to exit.
func (h *fakeHost) Stop(t *testing.T, limit time.Duration) (error, time.Duration) {
	t.Helper()
	start := time.Now()
	if runtime.GOOS == "windows" {
		h.Cmd.Process.Kill()
	} else {
		h.Cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case err := <-h.exited:
		return err, time.Since(start)
	case <-time.After(limit):
		t.Fatalf("worker still running %s after SIGTERM", limit)
		return nil, 0
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
