package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// readyLimit bounds the wait for a server's first answer.
const readyLimit = 10 * time.Second

// initializeBody is the request cold start waits on.
var initializeBody = []byte(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}`)

// proc is a server process started by the bench, listening on a loopback
// port. Its stdout (the request log) goes to /dev/null; the tail of its
// stderr is kept for error messages. It is killed if ctx ends, and by the
// kernel if the bench dies (see killWithParent).
type proc struct {
	name    string
	url     string      // the MCP endpoint
	ready   http.Header // headers initialize needs to succeed
	cmd     *exec.Cmd
	stderr  tailWriter
	started time.Time
	exited  chan struct{}
	waitErr error
	stopped bool
}

func startProc(ctx context.Context, name, bin string, env []string, ready http.Header) (*proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p := &proc{name: name, url: fmt.Sprintf("http://127.0.0.1:%d/mcp", port), ready: ready, exited: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, bin)
	p.cmd.Env = append(env, "FUNCTIONS_CUSTOMHANDLER_PORT="+strconv.Itoa(port))
	p.cmd.Stderr = &p.stderr
	p.cmd.WaitDelay = time.Second
	killWithParent(p.cmd)
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// baseURL is the server's root, without /mcp.
func (p *proc) baseURL() string { return p.url[:len(p.url)-len("/mcp")] }

// waitReady polls initialize every millisecond until the server answers
// 200, and returns the time since exec.
func (p *proc) waitReady(ctx context.Context, limit time.Duration) (time.Duration, error) {
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}
	defer hc.CloseIdleConnections()
	var last string
	for {
		status, _, err := post(ctx, hc, p.url, initializeBody, p.ready)
		if err == nil && status == http.StatusOK {
			return time.Since(p.started), nil
		}
		if err != nil {
			last = err.Error()
		} else {
			last = "HTTP " + strconv.Itoa(status)
		}
		if time.Since(p.started) > limit {
			return 0, fmt.Errorf("%s did not answer initialize with 200 within %s (last: %s)\n%s", p.name, limit, last, p.stderrTail())
		}
		select {
		case <-p.exited:
			return 0, fmt.Errorf("%s exited before answering (%v)\n%s", p.name, p.waitErr, p.stderrTail())
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

// exitedEarly reports whether the process ended before stop.
func (p *proc) exitedEarly() bool {
	select {
	case <-p.exited:
		return !p.stopped
	default:
		return false
	}
}

// stop asks the server to shut down, and kills it after 5 s.
func (p *proc) stop() {
	if p.exitedEarly() {
		return
	}
	p.stopped = true
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

func (p *proc) stderrTail() string { return p.stderr.String() }

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// tailWriter keeps the last 4 KiB written to it.
type tailWriter struct {
	mu  sync.Mutex
	buf []byte
}

const tailMax = 4 << 10

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailMax {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-tailMax:]...)
	}
	return len(p), nil
}

func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
