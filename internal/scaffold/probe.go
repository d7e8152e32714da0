package scaffold

// The adopt probe: start a server binary the way the Functions host starts
// a custom handler (FUNCTIONS_CUSTOMHANDLER_PORT and the worker variables
// set, the app folder as working folder, the host.json arguments), find the
// port it really listens on, and talk MCP to it. Everything is bounded: the
// child is killed and its folder removed when the probe returns.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Probe timeouts. The whole probe of a healthy server takes well under a
// second; these bound the unhealthy ones.
const (
	// probeStartTimeout is how long the probe waits for the child to listen
	// on a port (or answer on stdin, or exit).
	probeStartTimeout = 5 * time.Second
	// probeRequestTimeout bounds each HTTP request the probe sends.
	probeRequestTimeout = 3 * time.Second
	// probeOutputLimit caps what is kept of the child's stdout and stderr.
	probeOutputLimit = 64 << 10
)

// probeProtocolVersion is the MCP protocol version the probe asks for; a
// server that does not speak it answers with its own.
const probeProtocolVersion = "2025-06-18"

// ListenAddr is a TCP address the probed process listens on.
type ListenAddr struct {
	IP   net.IP
	Port int
}

// AllInterfaces reports whether the address is 0.0.0.0 or [::].
func (a ListenAddr) AllInterfaces() bool { return a.IP.IsUnspecified() }

func (a ListenAddr) String() string { return net.JoinHostPort(a.IP.String(), strconv.Itoa(a.Port)) }

// Probe is what starting a server binary the way the Functions host does
// showed.
type Probe struct {
	// Offered is the port given in FUNCTIONS_CUSTOMHANDLER_PORT; Args the
	// command-line arguments the binary got.
	Offered int
	Args    []string
	// PortMethod says how the listening ports were found: "proc"
	// (/proc/<pid>/net/tcp{,6} matched against the process's socket
	// inodes, Linux), "lsof" (other Unix systems), or "" when only the
	// offered port (and Expect) could be tried.
	PortMethod string
	// Listening lists every TCP address the process listened on.
	Listening []ListenAddr
	// Port is the port MCP was found on, or the only port it listened on;
	// zero if none.
	Port int
	// Exited is set if the process ended during the probe; ExitStatus
	// says how.
	Exited     bool
	ExitStatus string
	// Stdio is set if the process answered an MCP initialize request sent
	// on its standard input.
	Stdio bool
	// MCPPath is the path where a POSTed initialize got an MCP answer
	// (streamable HTTP), "" if none did. SSEPath is a path serving the
	// old HTTP+SSE transport, found only when MCPPath is empty.
	MCPPath, SSEPath string
	// ServerName, ServerVersion and ProtocolVersion come from the
	// initialize result; EventStream is set if it came as
	// text/event-stream rather than application/json.
	ServerName, ServerVersion, ProtocolVersion string
	EventStream                                bool
	// SessionID is the Mcp-Session-Id the initialize answer carried;
	// SessionRequired is set if tools/list without it was refused (a
	// stateful server), SessionRefusal says how.
	SessionID       string
	SessionRequired bool
	SessionRefusal  string
	// Tools are the names tools/list returned; ToolsErr why it failed.
	Tools    []string
	ToolsErr string
	// RootStatus is the status GET / answered with, zero if it did not
	// answer (RootErr says why).
	RootStatus int
	RootErr    string
	// Stdout and Stderr are what the process wrote during the probe (at
	// most probeOutputLimit bytes each).
	Stdout, Stderr string
	// Elapsed is how long the probe took.
	Elapsed time.Duration
}

// Stateful reports whether the server answered initialize with a session
// and refused requests without it.
func (p *Probe) Stateful() bool { return p.SessionID != "" && p.SessionRequired }

// AllInterfaces reports whether the port MCP answers on is bound on all
// interfaces.
func (p *Probe) AllInterfaces() bool {
	for _, a := range p.Listening {
		if a.Port == p.Port && a.AllInterfaces() {
			return true
		}
	}
	return false
}

// StderrLines returns the non-empty lines the process wrote to stderr.
func (p *Probe) StderrLines() []string { return nonEmptyLines(p.Stderr) }

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// probeConfig says how to start the binary.
type probeConfig struct {
	// Args are the command-line arguments, with {port} already replaced.
	Args []string
	// Offered is the FUNCTIONS_CUSTOMHANDLER_PORT value; zero picks a
	// free loopback port.
	Offered int
	// Expect is a port to try as well on systems where the listening
	// ports cannot be listed (the -port the user gave).
	Expect int
	// StartTimeout overrides probeStartTimeout.
	StartTimeout time.Duration
}

// probeBinary copies bin into an empty temporary app folder (so the
// process finds no files but its own, as in the deployed package), starts
// it as the Functions host starts a custom handler, and probes it. The
// error is for a probe that could not run at all; whatever the server
// does wrong is in the Probe.
func probeBinary(ctx context.Context, bin string, cfg probeConfig) (*Probe, error) {
	start := time.Now()
	appDir, err := os.MkdirTemp("", "mcpfunc-probe-")
	if err != nil {
		return nil, fmt.Errorf("create the probe's app folder: %w", err)
	}
	defer os.RemoveAll(appDir)
	app := filepath.Join(appDir, "app")
	if runtime.GOOS == "windows" {
		app += ".exe"
	}
	if err := copyFile(bin, app, 0o755); err != nil {
		return nil, fmt.Errorf("copy the binary into the probe's app folder: %w", err)
	}
	offered := cfg.Offered
	if offered == 0 {
		if offered, err = freeLoopbackPort(); err != nil {
			return nil, err
		}
	}
	wait := cfg.StartTimeout
	if wait == 0 {
		wait = probeStartTimeout
	}

	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(pctx, app, cfg.Args...)
	cmd.Dir = appDir
	cmd.Env = append(os.Environ(),
		"FUNCTIONS_CUSTOMHANDLER_PORT="+strconv.Itoa(offered),
		"FUNCTIONS_HTTPWORKER_PORT="+strconv.Itoa(offered),
		"FUNCTIONS_CUSTOMHANDLER_WORKER_ID=mcpfunc-adopt-probe",
		"FUNCTIONS_HTTPWORKER_ID=mcpfunc-adopt-probe",
		"FUNCTIONS_APP_ROOT_PATH="+appDir,
	)
	setProcessGroup(cmd)
	cmd.Cancel = func() error { return killProcessGroup(cmd) }
	cmd.WaitDelay = 2 * time.Second
	stdout, stderr := &limitedBuffer{limit: probeOutputLimit}, &limitedBuffer{limit: probeOutputLimit}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the server binary: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	p := &Probe{Offered: offered, Args: cfg.Args}
	defer func() {
		stdin.Close()
		cancel()
		<-exited
		p.Stdout, p.Stderr = stdout.String(), stderr.String()
		p.Elapsed = time.Since(start)
	}()

	// A stdio server answers this on stdout; an HTTP server never reads it.
	fmt.Fprintf(stdin, `{"jsonrpc":"2.0","id":"mcpfunc-adopt-probe","method":"initialize","params":{"protocolVersion":%q,"capabilities":{},"clientInfo":{"name":"mcpfunc-adopt-probe","version":"1.0.0"}}}`+"\n", probeProtocolVersion)

	pid := cmd.Process.Pid
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var candidates []int
wait:
	for {
		select {
		case err := <-exited:
			p.Exited, p.ExitStatus = true, exitStatus(err)
			exited <- err // for the deferred wait
			return p, nil
		case <-ctx.Done():
			return p, ctx.Err()
		case <-deadline.C:
			break wait
		case <-tick.C:
		}
		if stdioAnswered(stdout.String()) {
			p.Stdio = true
			return p, nil
		}
		addrs, method, err := listeningAddrs(pid)
		if err == nil {
			p.PortMethod = method
			if len(addrs) > 0 {
				p.Listening = addrs
				break
			}
			continue
		}
		// No way to list sockets here: try the ports we know of.
		for _, port := range []int{offered, cfg.Expect} {
			if port != 0 && dialable(port) {
				candidates = append(candidates, port)
			}
		}
		if len(candidates) > 0 {
			break
		}
	}
	if len(p.Listening) == 0 && len(candidates) == 0 {
		if stdioAnswered(stdout.String()) {
			p.Stdio = true
		}
		return p, nil
	}
	// Give a server that opens several listeners a moment to open them all.
	if p.PortMethod != "" {
		time.Sleep(50 * time.Millisecond)
		if addrs, _, err := listeningAddrs(pid); err == nil && len(addrs) > 0 {
			p.Listening = addrs
		}
	}
	for _, a := range p.Listening {
		if !slices.Contains(candidates, a.Port) {
			candidates = append(candidates, a.Port)
		}
	}
	// The offered port first: that is where the host will send requests.
	slices.SortStableFunc(candidates, func(a, b int) int {
		switch {
		case a == offered && b != offered:
			return -1
		case b == offered && a != offered:
			return 1
		}
		return 0
	})
	client := probeClient()
	defer client.CloseIdleConnections()
	for _, port := range candidates {
		if probeMCP(ctx, client, port, p) {
			p.Port = port
			break
		}
	}
	if p.Port == 0 && len(candidates) > 0 {
		p.Port = candidates[0]
		p.SSEPath = probeSSE(ctx, client, p.Port)
	}
	if p.Port != 0 {
		p.RootStatus, p.RootErr = probeRoot(ctx, client, p.Port)
	}
	select {
	case err := <-exited:
		p.Exited, p.ExitStatus = true, exitStatus(err)
		exited <- err
	default:
	}
	return p, nil
}

// stdioAnswered reports whether stdout holds the answer to the probe's
// initialize request.
func stdioAnswered(stdout string) bool {
	for _, line := range strings.Split(stdout, "\n") {
		var msg struct {
			ID     any             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  json.RawMessage `json:"error"`
		}
		if json.Unmarshal([]byte(strings.TrimSpace(line)), &msg) == nil && msg.ID == "mcpfunc-adopt-probe" && (msg.Result != nil || msg.Error != nil) {
			return true
		}
	}
	return false
}

func exitStatus(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

func probeClient() *http.Client {
	return &http.Client{
		Timeout:   probeRequestTimeout,
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true, ResponseHeaderTimeout: probeRequestTimeout},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// mcpPaths are the paths the probe POSTs initialize to, in order: /mcp is
// what .vscode/mcp.json and the registry use.
func mcpPaths() []string { return []string{"/mcp", "/", "/mcp/", "/api/mcp"} }

// probeMCP looks for streamable HTTP MCP on port and, if it finds it,
// fills in p: server info, session, tools.
func probeMCP(ctx context.Context, client *http.Client, port int, p *Probe) bool {
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	for _, path := range mcpPaths() {
		init := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":%q,"capabilities":{},"clientInfo":{"name":"mcpfunc-adopt-probe","version":"1.0.0"}}}`, probeProtocolVersion)
		res, err := mcpPost(ctx, client, base+path, init, nil)
		if err != nil || res.status != http.StatusOK || res.msg == nil {
			continue
		}
		var ir struct {
			ProtocolVersion string `json:"protocolVersion"`
			ServerInfo      struct {
				Name    string `json:"name"`
				Version string `json:"version"`
			} `json:"serverInfo"`
		}
		if res.msg.Result == nil || json.Unmarshal(res.msg.Result, &ir) != nil || ir.ProtocolVersion == "" {
			continue
		}
		p.MCPPath, p.ProtocolVersion, p.ServerName, p.ServerVersion = path, ir.ProtocolVersion, ir.ServerInfo.Name, ir.ServerInfo.Version
		p.EventStream = res.eventStream
		p.SessionID = res.header.Get("Mcp-Session-Id")
		hdr := http.Header{"Mcp-Protocol-Version": {ir.ProtocolVersion}}
		if p.SessionID != "" {
			hdr.Set("Mcp-Session-Id", p.SessionID)
			mcpPost(ctx, client, base+path, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, hdr)
		}
		list := `{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}`
		switch res, err := mcpPost(ctx, client, base+path, list, hdr); {
		case err != nil:
			p.ToolsErr = err.Error()
		case res.msg == nil:
			p.ToolsErr = fmt.Sprintf("HTTP %d with no JSON-RPC answer", res.status)
		case res.msg.Error != nil:
			p.ToolsErr = string(res.msg.Error)
		default:
			var tl struct {
				Tools []struct {
					Name string `json:"name"`
				} `json:"tools"`
			}
			if err := json.Unmarshal(res.msg.Result, &tl); err != nil {
				p.ToolsErr = err.Error()
			}
			for _, t := range tl.Tools {
				p.Tools = append(p.Tools, t.Name)
			}
		}
		if p.SessionID != "" {
			// What another instance, which never saw the session, answers.
			switch res, err := mcpPost(ctx, client, base+path, list, http.Header{"Mcp-Protocol-Version": {ir.ProtocolVersion}}); {
			case err != nil:
				p.SessionRequired, p.SessionRefusal = true, err.Error()
			case res.msg != nil && res.msg.Error != nil:
				var e struct {
					Message string `json:"message"`
				}
				json.Unmarshal(res.msg.Error, &e)
				p.SessionRequired, p.SessionRefusal = true, fmt.Sprintf("HTTP %d, error %q", res.status, e.Message)
			case res.status >= 400 || res.msg == nil:
				p.SessionRequired, p.SessionRefusal = true, fmt.Sprintf("HTTP %d %s", res.status, strings.TrimSpace(res.text))
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodDelete, base+path, nil)
			if err == nil {
				req.Header.Set("Mcp-Session-Id", p.SessionID)
				if resp, err := client.Do(req); err == nil {
					resp.Body.Close()
				}
			}
		}
		return true
	}
	return false
}

type rpcMessage struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

type mcpResult struct {
	text        string // the start of a body that held no JSON-RPC answer
	status      int
	header      http.Header
	eventStream bool
	msg         *rpcMessage // the JSON-RPC response, nil if none
}

// mcpPost POSTs one JSON-RPC message as a streamable HTTP client does and
// reads the answer, JSON or the first response in an event stream.
func mcpPost(ctx context.Context, client *http.Client, url, body string, hdr http.Header) (*mcpResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	res := &mcpResult{status: resp.StatusCode, header: resp.Header}
	body1 := io.LimitReader(resp.Body, 1<<20)
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		res.eventStream = true
		sc := bufio.NewScanner(body1)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var data strings.Builder
		for sc.Scan() {
			line := sc.Text()
			if d, ok := strings.CutPrefix(line, "data:"); ok {
				data.WriteString(strings.TrimPrefix(d, " "))
				continue
			}
			if line == "" && data.Len() > 0 {
				var m rpcMessage
				if json.Unmarshal([]byte(data.String()), &m) == nil && len(m.ID) > 0 && (m.Result != nil || m.Error != nil) {
					res.msg = &m
					return res, nil
				}
				data.Reset()
			}
		}
		if data.Len() > 0 {
			var m rpcMessage
			if json.Unmarshal([]byte(data.String()), &m) == nil && (m.Result != nil || m.Error != nil) {
				res.msg = &m
			}
		}
		return res, nil
	}
	b, err := io.ReadAll(body1)
	if err != nil {
		return res, err
	}
	var m rpcMessage
	if json.Unmarshal(b, &m) == nil && (m.Result != nil || m.Error != nil) {
		res.msg = &m
	} else {
		res.text = truncate(string(b), 100)
	}
	return res, nil
}

// probeSSE reports the path of an old HTTP+SSE transport endpoint, if the
// server has one at /sse.
func probeSSE(ctx context.Context, client *http.Client, port int) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(port)+"/sse", nil)
	if err != nil {
		return ""
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := client.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return "/sse"
	}
	return ""
}

// probeRoot sends the host's readiness ping, GET /, and returns the status.
func probeRoot(ctx context.Context, client *http.Client, port int) (int, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(port)+"/", nil)
	if err != nil {
		return 0, err.Error()
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	resp.Body.Close()
	return resp.StatusCode, ""
}

func dialable(port int) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func freeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port for the probe: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, mode)
}

// limitedBuffer keeps the first limit bytes written to it; it is safe for
// concurrent use (exec copies into it while the probe reads it).
type limitedBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	limit int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.limit - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// errNoSocketList says this system offers no way to list a process's
// listening sockets.
var errNoSocketList = errors.New("cannot list a process's listening sockets on " + runtime.GOOS)
