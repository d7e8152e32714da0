//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mcpfunc/mcpfunc/internal/workspace"
)

// TestMageDev runs the README's first command, `go tool mage dev`, as a
// user would in a terminal: every server comes up on its local URL, answers
// MCP, and Ctrl-C (SIGINT to the process group) stops them all cleanly.
func TestMageDev(t *testing.T) {
	servers, err := workspace.Servers("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range servers {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", s.DevPort))
		if err != nil {
			t.Skipf("port %d (%s) is in use, probably by a running `mage dev`: %v", s.DevPort, s.Name, err)
		}
		l.Close()
	}
	nws := newFakeNWS(t)

	cmd := exec.Command("go", "tool", "mage", "dev")
	cmd.Dir = ".."
	// Without func on PATH, dev runs the binaries directly; this test checks
	// that path, the one CI and most newcomers take.
	cmd.Env = append(os.Environ(), "NWS_API_BASE_URL="+nws.URL, "PATH="+pathWithoutFunc(t))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &syncBuffer{}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			t.Logf("mage dev output:\n%s", out)
		}
	})

	ready := regexp.MustCompile(`^\[(\S+)\s*\] ready: (http://localhost:\d+/mcp)$`)
	urls := map[string]string{}
	var mu sync.Mutex
	allReady := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		signalled := false
		for sc.Scan() {
			out.Write([]byte(sc.Text() + "\n"))
			if m := ready.FindStringSubmatch(sc.Text()); m != nil {
				mu.Lock()
				urls[m[1]] = m[2]
				n := len(urls)
				mu.Unlock()
				if n == len(servers) && !signalled {
					signalled = true
					close(allReady)
				}
			}
		}
	}()
	select {
	case <-allReady:
	case err := <-exited:
		t.Fatalf("mage dev exited early: %v", err)
	case <-time.After(8 * time.Minute):
		t.Fatal("servers not ready within 8 minutes")
	}

	mu.Lock()
	for _, s := range servers {
		if urls[s.Name] != s.MCPURL() {
			t.Errorf("%s announced %q, want %s", s.Name, urls[s.Name], s.MCPURL())
		}
	}
	weatherURL := urls["weather"]
	mu.Unlock()
	if !strings.Contains(out.String(), "running the server binaries directly") {
		t.Errorf("mage dev did not say it runs the binaries directly without func")
	}

	cs := connectMCP(t, weatherURL, "2025-11-25")
	res, text := call(t, cs, "get_forecast", map[string]any{"latitude": 39.7456, "longitude": -97.0892})
	if res.IsError || !strings.Contains(text, "Temperature: ") {
		t.Fatalf("get_forecast via mage dev = %q", text)
	}
	cs.Close()

	// Ctrl-C in a terminal signals the whole foreground process group.
	start := time.Now()
	syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("mage dev exit after Ctrl-C: %v, want 0", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("mage dev still running 20s after Ctrl-C")
	}
	t.Logf("mage dev stopped %s after Ctrl-C", time.Since(start).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, s := range servers {
		if c, err := (&net.Dialer{}).DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", s.DevPort)); err == nil {
			c.Close()
			t.Errorf("%s still listening on %d after Ctrl-C", s.Name, s.DevPort)
		}
	}
}

// pathWithoutFunc returns PATH without folders that hold a func executable.
func pathWithoutFunc(t *testing.T) string {
	var keep []string
	for _, dir := range strings.Split(os.Getenv("PATH"), string(os.PathListSeparator)) {
		if _, err := os.Stat(dir + "/func"); err == nil {
			t.Logf("leaving %s off PATH: it holds func", dir)
			continue
		}
		keep = append(keep, dir)
	}
	return strings.Join(keep, string(os.PathListSeparator))
}
