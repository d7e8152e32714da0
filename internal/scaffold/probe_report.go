package scaffold

// What Adopt makes of a probe: refusals that say what to pass or change,
// warnings that say what to fix, and the port host.json gets.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mcpfunc/mcpfunc/internal/workspace"
)

// adoption carries Adopt's state through the probe.
type adoption struct {
	rel, abs             string
	out                  io.Writer
	servers              []workspace.Server
	opts                 Options
	handlerPort, devPort int

	result   *Probe
	warnings []string
}

func (a *adoption) info(format string, args ...any) {
	fmt.Fprintf(a.out, "    "+format+"\n", args...)
}

func (a *adoption) warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	a.warnings = append(a.warnings, msg)
	fmt.Fprintf(a.out, "    warning: %s\n", msg)
}

// probe runs the probe on bin (the server built for this machine) and
// either refuses the server, with what to do, or settles the handler port
// and reports what it found.
func (a *adoption) probe(ctx context.Context, bin, tmp string) error {
	offered, err := freeLoopbackPort()
	if err != nil {
		return fmt.Errorf("%w; nothing was changed", err)
	}
	args := withPort(a.opts.Args, offered)
	withArgs := "no arguments"
	if len(args) > 0 {
		withArgs = "arguments " + JoinArgs(args)
	}
	fmt.Fprintf(a.out, "==> probing %s: starting it as the Functions host does (FUNCTIONS_CUSTOMHANDLER_PORT=%d, %s, an empty app folder; at most %s to start)\n", a.rel, offered, withArgs, probeStartTimeout)
	p, err := probeBinary(ctx, bin, probeConfig{Args: args, Offered: offered, Expect: a.opts.HandlerPort})
	if err != nil {
		return fmt.Errorf("probe %s: %w; nothing was changed", a.rel, err)
	}
	a.result = p
	files, err := unshippedFiles(a.abs)
	if err != nil {
		return fmt.Errorf("list the files in %s: %w; nothing was changed", a.rel, err)
	}
	switch {
	case p.MCPPath != "":
	case p.Stdio || (p.Port == 0 && !p.Exited):
		return a.refuseStdio(ctx, bin, tmp, p)
	case p.Port == 0:
		return a.refuseExited(p, files)
	default:
		return a.refuseNoMCP(p)
	}

	// The port.
	listening := make([]string, len(p.Listening))
	for i, l := range p.Listening {
		listening[i] = l.String()
	}
	if p.Port == p.Offered {
		how := "FUNCTIONS_CUSTOMHANDLER_PORT"
		if strings.Contains(strings.Join(a.opts.Args, " "), PortPlaceholder) {
			how = "the port in its arguments"
		}
		a.info("port: it listens on %s (%s), as the host expects; host.json gets customHandler.port %d", how, strings.Join(listening, ", "), a.handlerPort)
	} else {
		if a.opts.HandlerPort != 0 && a.opts.HandlerPort != p.Port {
			return fmt.Errorf("%s listens on port %d, not on the -port=%d you gave (nor on FUNCTIONS_CUSTOMHANDLER_PORT=%d): run adopt without -port, and it writes %d into host.json; nothing was changed", a.rel, p.Port, a.opts.HandlerPort, p.Offered, p.Port)
		}
		if p.Port < 1024 {
			return fmt.Errorf("%s ignores FUNCTIONS_CUSTOMHANDLER_PORT (%d) and listens on port %d, below 1024: make it listen on FUNCTIONS_CUSTOMHANDLER_PORT, or pass its port flag with -args='-port %s'; nothing was changed", a.rel, p.Offered, p.Port, PortPlaceholder)
		}
		for _, s := range a.servers {
			if s.HandlerPort == p.Port || s.DevPort == p.Port {
				return fmt.Errorf("%s ignores FUNCTIONS_CUSTOMHANDLER_PORT (%d) and listens on the fixed port %d, which servers/%s already uses: two servers cannot share a port under `func start`. %s; nothing was changed", a.rel, p.Offered, p.Port, s.Name, a.portArgs(ctx, bin, tmp))
			}
		}
		a.handlerPort = p.Port
		a.info("port: it ignores FUNCTIONS_CUSTOMHANDLER_PORT and listens on the fixed port %d (%s); host.json gets customHandler.port %d, which the host honours and passes back as FUNCTIONS_CUSTOMHANDLER_PORT", p.Port, strings.Join(listening, ", "), p.Port)
		if listen := a.workingListenArgs(ctx, bin, tmp); len(listen) > 0 {
			a.info("or: with %s (its -h lists the flag, and adopt tried it) it listens on the port it is given; adopt with -args='%s' to have host.json pass a port adopt picks", JoinArgs(listen), JoinArgs(listen))
		}
	}
	if p.PortMethod == "" {
		a.info("note: on %s adopt cannot list a process's listening sockets (it reads /proc on Linux and asks lsof elsewhere), so it tried only FUNCTIONS_CUSTOMHANDLER_PORT and -port", runtime.GOOS)
	}
	if p.AllInterfaces() {
		a.warn("it binds all interfaces (%s): in Azure only the Functions host connects, over loopback, but on your machine anyone on your network can reach it while it runs; binding 127.0.0.1 is enough (e.g. http.ListenAndServe(\"127.0.0.1:\"+port, h))", listenOn(p))
	}

	// MCP.
	mode := "JSON answers"
	if p.EventStream {
		mode = "event-stream (SSE) answers; both pass through the host"
	}
	a.info("mcp: %s answers MCP over streamable HTTP (%s): server %q %s, protocol %s", p.MCPPath, mode, p.ServerName, p.ServerVersion, p.ProtocolVersion)
	switch {
	case p.ToolsErr != "":
		a.warn("tools/list failed: %s", p.ToolsErr)
	case len(p.Tools) == 0:
		a.info("tools: none listed")
	default:
		a.info("tools: %d (%s)", len(p.Tools), strings.Join(p.Tools, ", "))
	}
	if p.MCPPath != "/mcp" {
		a.warn("MCP answers on %s, not on /mcp: its URL in Azure is https://<app host>%s, and .vscode/mcp.json (which adopt points at /mcp) needs that path; or serve MCP at /mcp", p.MCPPath, p.MCPPath)
	}
	switch {
	case p.Stateful():
		a.warn("it is stateful: initialize was answered with an Mcp-Session-Id, and tools/list without that session was refused (%s). Azure runs several instances of a busy app and recycles idle ones, each with its own sessions, so a client's next request can reach an instance that does not know its session and fail until the client starts over. Make it stateless: %s. Adopted anyway: it works while one instance serves it", p.SessionRefusal, statelessFix(a.abs))
	case p.SessionID != "":
		a.info("sessions: initialize carried an Mcp-Session-Id, but tools/list without it was answered too, so any instance can answer any request")
	default:
		a.info("stateless: initialize carried no Mcp-Session-Id, so any instance can answer any request")
	}

	// Readiness, logs, files.
	if p.RootStatus != 0 {
		a.info("GET /: %d (the host's readiness ping needs any answer)", p.RootStatus)
	} else {
		a.warn("GET / got no answer (%s): the Functions host pings / until it gets any HTTP answer, and gives up after 30 s; answer GET / (even with 404)", p.RootErr)
	}
	if lines := p.StderrLines(); len(lines) > 0 {
		a.warn("it wrote %d line(s) to stderr while starting and answering (first: %q): the Functions host logs stderr as errors. Log information to stdout (log.SetOutput(os.Stdout); slog.New(slog.NewTextHandler(os.Stdout, nil))) and keep stderr for errors", len(lines), truncate(lines[0], 120))
	}
	if len(files) > 0 {
		a.warn("%s; if the server reads any of them at run time (it started in an empty folder, but a tool may open them later), embed them, e.g. `//go:embed %s` above `var files embed.FS`, and read them with files.ReadFile", unshippedNote(files), embedPattern(files))
	}
	a.info("probe took %s; the server was stopped and its temporary folder removed", p.Elapsed.Round(time.Millisecond))
	return nil
}

// verify probes the workspace build with host.json's port and arguments.
func (a *adoption) verify(ctx context.Context, bin, hostJSONPath string) error {
	var hj workspace.HostJSON
	b, err := os.ReadFile(hostJSONPath)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &hj); err != nil {
		return fmt.Errorf("read %s: %w", hostJSONPath, err)
	}
	args := hj.CustomHandler.Description.Arguments
	hostPort, _ := strconv.Atoi(string(hj.CustomHandler.Port))
	p, err := probeBinary(ctx, bin, probeConfig{Args: args, Offered: 0, Expect: hostPort})
	if err != nil {
		return err
	}
	ok := p.MCPPath != "" && (p.Port == p.Offered || p.Port == hostPort)
	if !ok {
		return fmt.Errorf("%s, built as azd builds it and started with host.json's arguments %q, did not answer MCP on port %d (listening: %s; exited: %v %s; stderr: %s)",
			a.rel, JoinArgs(args), hostPort, listenOn(p), p.Exited, p.ExitStatus, truncate(strings.Join(p.StderrLines(), " | "), 300))
	}
	a.info("ok: it answers MCP on %s at port %d%s (%s)", p.MCPPath, p.Port, argsNote(args, 0), p.Elapsed.Round(time.Millisecond))
	return nil
}

// portArgs says how to make a fixed-port server listen where the host
// says: the port or address flag its -h lists, if one works.
func (a *adoption) portArgs(ctx context.Context, bin, tmp string) string {
	if listen := a.workingListenArgs(ctx, bin, tmp); len(listen) > 0 {
		return fmt.Sprintf("adopt tried its flags: with %s it listens on the port the host gives. Adopt it with those arguments:\n  go tool mage adopt %s -args='%s'\n(or make it listen on FUNCTIONS_CUSTOMHANDLER_PORT)", JoinArgs(listen), a.rel, JoinArgs(listen))
	}
	return fmt.Sprintf("Make it listen on FUNCTIONS_CUSTOMHANDLER_PORT, or pass its port flag, %s standing for the port adopt picks: go tool mage adopt %s -args='-port %s'", PortPlaceholder, a.rel, PortPlaceholder)
}

// workingListenArgs returns the port or address flag from the server's -h
// that makes it listen on the port it is given (PortPlaceholder), if
// trying it works.
func (a *adoption) workingListenArgs(ctx context.Context, bin, tmp string) []string {
	dir, err := os.MkdirTemp(tmp, "usage-")
	if err != nil {
		dir = tmp
	}
	listen := listenArgs(parseUsage(usageOf(ctx, bin, dir)))
	if len(listen) == 0 {
		return nil
	}
	offered, err := freeLoopbackPort()
	if err != nil {
		return nil
	}
	q, err := probeBinary(ctx, bin, probeConfig{Args: withPort(listen, offered), Offered: offered, StartTimeout: 3 * time.Second})
	if err != nil || q.MCPPath == "" || q.Port != offered {
		return nil
	}
	return listen
}

// refuseStdio explains that the server speaks stdio, and finds the
// arguments that make it serve HTTP by trying the flags its -h lists.
func (a *adoption) refuseStdio(ctx context.Context, bin, tmp string, p *Probe) error {
	what := "it listened on no TCP port within " + probeStartTimeout.String() + " and did not answer on its standard input either (it may wait for something else: a database, a config file, a flag)"
	if p.Stdio {
		what = "it answered an MCP initialize request on its standard input and listened on no TCP port"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s looks like a stdio MCP server: %s. The Functions host talks to a custom handler over HTTP only, on the port in FUNCTIONS_CUSTOMHANDLER_PORT.", a.rel, what)
	if len(a.opts.Args) > 0 {
		fmt.Fprintf(&b, " With the arguments %s it still does not serve HTTP: check them against its -h.", JoinArgs(a.opts.Args))
	}
	dir, err := os.MkdirTemp(tmp, "usage-")
	if err != nil {
		dir = tmp
	}
	flags := parseUsage(usageOf(ctx, bin, dir))
	var tried []string
	for _, cand := range argCandidates(flags) {
		offered, err := freeLoopbackPort()
		if err != nil {
			break
		}
		q, err := probeBinary(ctx, bin, probeConfig{Args: withPort(cand, offered), Offered: offered, StartTimeout: 3 * time.Second})
		if err == nil && q.MCPPath != "" {
			fmt.Fprintf(&b, "\nadopt tried the flags its -h lists: with %s it serves MCP over streamable HTTP on %s. Adopt it with those arguments (adopt writes them into host.json's customHandler.description.arguments, %s becoming customHandler.port, and probes again):\n  go tool mage adopt %s -args='%s'",
				JoinArgs(cand), q.MCPPath, PortPlaceholder, a.rel, JoinArgs(cand))
			if q.Stateful() {
				fmt.Fprintf(&b, "\n(it is stateful in that mode: adopt will warn about it)")
			}
			return fmt.Errorf("%s\nnothing was changed", b.String())
		}
		tried = append(tried, JoinArgs(cand))
	}
	if len(tried) > 0 {
		fmt.Fprintf(&b, "\nadopt tried %s, and none made it serve MCP over streamable HTTP.", strings.Join(quoteAll(tried), ", "))
	}
	fmt.Fprintf(&b, "\nPass the arguments that make it serve streamable HTTP on a port; %s stands for the port the host uses:\n  go tool mage adopt %s -args='-http 127.0.0.1:%s'   (for example)", PortPlaceholder, a.rel, PortPlaceholder)
	if len(flags) > 0 {
		var names []string
		for _, f := range flags {
			names = append(names, f.Dash+f.Name)
		}
		fmt.Fprintf(&b, "\nits flags: %s", strings.Join(names, " "))
	} else {
		b.WriteString("\n(it printed no flags for -h or --help; if it has no way to serve HTTP, it needs code changes: go-sdk mcp.NewStreamableHTTPHandler, mcp-go server.NewStreamableHTTPServer)")
	}
	return fmt.Errorf("%s\nnothing was changed", b.String())
}

// refuseExited explains a server that ended during the probe.
func (a *adoption) refuseExited(p *Probe, files []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s exited during the probe (%s) before it served anything.", a.rel, p.ExitStatus)
	if lines := p.StderrLines(); len(lines) > 0 {
		fmt.Fprintf(&b, " Its stderr:\n  %s", strings.Join(headTail(lines, 2, 4), "\n  "))
	} else if lines := nonEmptyLines(p.Stdout); len(lines) > 0 {
		fmt.Fprintf(&b, " Its stdout:\n  %s", strings.Join(headTail(lines, 2, 4), "\n  "))
	}
	if len(a.opts.Args) > 0 {
		fmt.Fprintf(&b, "\nIt got the arguments %s: check them against its -h.", JoinArgs(a.opts.Args))
	}
	fmt.Fprintf(&b, "\nThe probe ran it as the Functions host runs the package: FUNCTIONS_CUSTOMHANDLER_PORT set, in a folder holding only the binary.")
	if len(files) > 0 {
		fmt.Fprintf(&b, " %s; if it needs them, embed them (`//go:embed %s`).", unshippedNote(files), embedPattern(files))
	}
	b.WriteString(" It must also start without files or settings only your machine has (read settings from environment variables: Function app settings become environment variables).\nnothing was changed")
	return fmt.Errorf("%s", b.String())
}

// refuseNoMCP explains a server that listens but answers no streamable
// HTTP MCP.
func (a *adoption) refuseNoMCP(p *Probe) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s listens on %s but answers no MCP over streamable HTTP: an initialize request POSTed to %s got no MCP answer.", a.rel, listenOn(p), strings.Join(mcpPaths(), ", "))
	if p.SSEPath != "" {
		fmt.Fprintf(&b, " It serves the old HTTP+SSE transport at %s; the Functions host's MCP support needs streamable HTTP (go-sdk: mcp.NewStreamableHTTPHandler; mcp-go: server.NewStreamableHTTPServer), and if it has a flag for that transport, pass it with -args.", p.SSEPath)
	} else {
		b.WriteString(" Serve streamable HTTP at /mcp (go-sdk: mcp.NewStreamableHTTPHandler; mcp-go: server.NewStreamableHTTPServer).")
	}
	b.WriteString("\nnothing was changed")
	return fmt.Errorf("%s", b.String())
}

// statelessFix says how to make the server stateless, for the SDK its
// go.mod requires.
func statelessFix(dir string) string {
	goSDK := "go-sdk: mcp.NewStreamableHTTPHandler(getServer, &mcp.StreamableHTTPOptions{Stateless: true})"
	mcpGo := "mcp-go: server.NewStreamableHTTPServer(s, server.WithStateLess(true))"
	b, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
	switch m := string(b); {
	case strings.Contains(m, "github.com/mark3labs/mcp-go") && !strings.Contains(m, "github.com/modelcontextprotocol/go-sdk"):
		return mcpGo
	case strings.Contains(m, "github.com/modelcontextprotocol/go-sdk") && !strings.Contains(m, "github.com/mark3labs/mcp-go"):
		return goSDK
	}
	return goSDK + "; " + mcpGo
}

func listenOn(p *Probe) string {
	if len(p.Listening) == 0 {
		if p.Port != 0 {
			return "127.0.0.1:" + strconv.Itoa(p.Port)
		}
		return "nothing"
	}
	s := make([]string, len(p.Listening))
	for i, l := range p.Listening {
		s[i] = l.String()
	}
	return strings.Join(s, ", ")
}

// unshippedNote names the files the package will not carry.
func unshippedNote(files []string) string {
	shown := files
	more := ""
	if len(shown) > 8 {
		shown, more = shown[:8], fmt.Sprintf(" and %d more", len(files)-8)
	}
	return fmt.Sprintf("files next to the binary that the package will not carry (azd deploys only app and host.json): %s%s", strings.Join(shown, ", "), more)
}

// embedPattern suggests a go:embed pattern for files: the first folder
// holding some of them (ui, static, templates: what servers read), else
// up to three of the files.
func embedPattern(files []string) string {
	for _, f := range files {
		if top, _, ok := strings.Cut(f, "/"); ok {
			return top
		}
	}
	return strings.Join(files[:min(len(files), 3)], " ")
}

// argsNote describes host.json arguments for a progress line.
func argsNote(args []string, port int) string {
	if len(args) == 0 {
		return ""
	}
	if port != 0 {
		args = withPort(args, port)
	}
	return ", arguments " + JoinArgs(args)
}

// adoptHostJSON is hostJSON with customHandler.description.arguments.
// defaultExecutablePath stays "app": since Azure/azure-functions-host
// PR #6306 (2020), HttpWorkerDescription resolves a relative executable
// against the app folder whenever that file exists, with or without
// arguments.
func adoptHostJSON(port int, args []string) []byte {
	if len(args) == 0 {
		return hostJSON(port)
	}
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = quote(a)
	}
	return []byte(fmt.Sprintf(`{
  "version": "2.0",
  "configurationProfile": "mcp-custom-handler",
  "customHandler": {
    "description": {
      "defaultExecutablePath": "app",
      "arguments": [%s]
    },
    "http": {
      "DefaultAuthorizationLevel": "anonymous"
    },
    "port": "%d"
  }
}
`, strings.Join(q, ", "), port))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// headTail keeps the first head and last tail lines of s: the cause of a
// failure is usually the first line (a flag error, a panic) or the last
// (log.Fatal).
func headTail(s []string, head, tail int) []string {
	if len(s) <= head+tail+1 {
		return s
	}
	out := append(slices.Clone(s[:head]), fmt.Sprintf("… (%d more lines)", len(s)-head-tail))
	return append(out, s[len(s)-tail:]...)
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = "`" + v + "`"
	}
	return out
}
