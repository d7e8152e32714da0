package scaffold

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mcpfunc/mcpfunc/internal/workspace"
)

// probeServer is a dependency-free MCP server whose -mode flag picks the
// behaviour the probe must recognise: env (stateless JSON on
// FUNCTIONS_CUSTOMHANDLER_PORT), fixed (on -fixed, all interfaces),
// stdio (answers on stdin unless -http is given), stateful (sessions),
// nomcp (404 everywhere), exit (fails at start), stderr (logs to stderr),
// root (MCP at / only).
const probeServer = `package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
)

type request struct {
	ID     any    ` + "`json:\"id\"`" + `
	Method string ` + "`json:\"method\"`" + `
}

func answer(req request) (any, bool) {
	switch req.Method {
	case "initialize":
		return map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{}, "serverInfo": map[string]any{"name": "probe", "version": "1.2.3"}}, true
	case "tools/list":
		return map[string]any{"tools": []any{map[string]any{"name": "echo"}, map[string]any{"name": "add"}}}, true
	}
	return nil, false
}

// Set by an init function in another file, for adopt tests.
var defaultMode, defaultFixed = "env", "0"

func main() {
	mode := flag.String("mode", defaultMode, "behaviour")
	fixed := flag.String("fixed", defaultFixed, "port for -mode fixed")
	httpAddr := flag.String("http", "", "if set, use streamable HTTP at this address, instead of stdin/stdout")
	flag.Parse()
	if *mode == "exit" {
		fmt.Fprintln(os.Stderr, "open ui/index.html: no such file or directory")
		os.Exit(1)
	}
	if *mode == "stdio" && *httpAddr == "" {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			var req request
			if json.Unmarshal(sc.Bytes(), &req) != nil {
				continue
			}
			if res, ok := answer(req); ok {
				json.NewEncoder(os.Stdout).Encode(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": res})
			}
		}
		return
	}
	if *mode == "stderr" {
		log.Print("starting")
	}
	mcp := func(w http.ResponseWriter, r *http.Request) {
		var req request
		if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&req) != nil {
			http.NotFound(w, r)
			return
		}
		if *mode == "stateful" {
			if req.Method == "initialize" {
				w.Header().Set("Mcp-Session-Id", "s1")
			} else if r.Header.Get("Mcp-Session-Id") != "s1" {
				http.Error(w, "Invalid session ID", http.StatusBadRequest)
				return
			}
		}
		res, ok := answer(req)
		if !ok {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": res})
	}
	mux := http.NewServeMux()
	switch *mode {
	case "nomcp":
	case "root":
		mux.HandleFunc("/{$}", mcp)
	default:
		mux.HandleFunc("/mcp", mcp)
	}
	addr := "127.0.0.1:" + os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT")
	switch {
	case *httpAddr != "":
		addr = *httpAddr
	case *mode == "fixed":
		addr = ":" + *fixed
	}
	log.Fatal(http.ListenAndServe(addr, mux))
}
`

// buildProbeServer builds probeServer for this machine once per test.
func buildProbeServer(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/probe\n\ngo 1.26.0\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte(probeServer), 0o644)
	bin := filepath.Join(dir, "probe")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the probe server: %v\n%s", err, out)
	}
	return bin
}

func freePortT(t *testing.T) int {
	t.Helper()
	p, err := freeLoopbackPort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProbeBinary(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the probe lists listening sockets from /proc on Linux; elsewhere it only tries the offered port")
	}
	bin := buildProbeServer(t)
	fixed := freePortT(t)
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, p *Probe)
	}{
		{"env", nil, func(t *testing.T, p *Probe) {
			if p.Port != p.Offered || p.MCPPath != "/mcp" || p.Stateful() || p.AllInterfaces() || p.PortMethod != "proc" {
				t.Errorf("probe = %+v", p)
			}
			if p.ServerName != "probe" || p.ServerVersion != "1.2.3" || p.ProtocolVersion != "2025-06-18" || !slices.Equal(p.Tools, []string{"echo", "add"}) {
				t.Errorf("server info = %q %q %q %v", p.ServerName, p.ServerVersion, p.ProtocolVersion, p.Tools)
			}
			if p.RootStatus != 404 || p.Stderr != "" || p.Exited {
				t.Errorf("root %d, stderr %q, exited %v", p.RootStatus, p.Stderr, p.Exited)
			}
		}},
		{"fixed", []string{"-mode=fixed", "-fixed=" + strconv.Itoa(fixed)}, func(t *testing.T, p *Probe) {
			if p.Port != fixed || p.MCPPath != "/mcp" || !p.AllInterfaces() {
				t.Errorf("probe = %+v", p)
			}
		}},
		{"stdio", []string{"-mode=stdio"}, func(t *testing.T, p *Probe) {
			if !p.Stdio || p.Port != 0 || len(p.Listening) != 0 {
				t.Errorf("probe = %+v", p)
			}
		}},
		{"stdio with -http", []string{"-mode=stdio", "-http", "127.0.0.1:" + PortPlaceholder}, func(t *testing.T, p *Probe) {
			if p.Stdio || p.Port != p.Offered || p.MCPPath != "/mcp" {
				t.Errorf("probe = %+v", p)
			}
		}},
		{"stateful", []string{"-mode=stateful"}, func(t *testing.T, p *Probe) {
			if !p.Stateful() || p.SessionID != "s1" || !strings.Contains(p.SessionRefusal, "HTTP 400 Invalid session ID") || len(p.Tools) != 2 {
				t.Errorf("probe = %+v", p)
			}
		}},
		{"nomcp", []string{"-mode=nomcp"}, func(t *testing.T, p *Probe) {
			if p.MCPPath != "" || p.Port != p.Offered || p.RootStatus != 404 {
				t.Errorf("probe = %+v", p)
			}
		}},
		{"root", []string{"-mode=root"}, func(t *testing.T, p *Probe) {
			if p.MCPPath != "/" {
				t.Errorf("probe = %+v", p)
			}
		}},
		{"exit", []string{"-mode=exit"}, func(t *testing.T, p *Probe) {
			if !p.Exited || p.ExitStatus != "exit status 1" || !strings.Contains(p.Stderr, "ui/index.html") {
				t.Errorf("probe = %+v", p)
			}
		}},
		{"stderr", []string{"-mode=stderr"}, func(t *testing.T, p *Probe) {
			if lines := p.StderrLines(); len(lines) != 1 || !strings.HasSuffix(lines[0], "starting") {
				t.Errorf("stderr = %q", p.Stderr)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offered := freePortT(t)
			p, err := probeBinary(context.Background(), bin, probeConfig{Args: withPort(tt.args, offered), Offered: offered, StartTimeout: 3e9})
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, p)
			// The child is gone and its port free again.
			if p.Port != 0 {
				if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p.Port)); err != nil {
					t.Errorf("port %d still taken after the probe: %v", p.Port, err)
				} else {
					l.Close()
				}
			}
		})
	}
}

func TestProcListening(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	addrs, err := procListening("/proc/self")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(addrs, func(a ListenAddr) bool { return a.Port == port && a.IP.Equal(net.IPv4(127, 0, 0, 1)) }) {
		t.Errorf("procListening = %v, want 127.0.0.1:%d", addrs, port)
	}
}

func TestParseProcNetTCP(t *testing.T) {
	// Little-endian words, as amd64 and arm64 print them.
	table := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0000000000000000 100 0 0 10 0
   1: 00000000:4E21 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 222 1 0000000000000000 100 0 0 10 0
   2: 0100007F:1F91 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 111 1 0000000000000000 100 0 0 10 0
   3: 0100007F:1F92 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 333 1 0000000000000000 100 0 0 10 0
`
	got := parseProcNetTCP([]byte(table), map[string]bool{"111": true, "222": true})
	if len(got) != 2 || got[0].String() != "127.0.0.1:8080" || got[1].String() != "0.0.0.0:20001" || !got[1].AllInterfaces() || got[0].AllInterfaces() {
		t.Errorf("parseProcNetTCP = %v", got)
	}
	v6 := `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 444 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 555 1 0000000000000000 100 0 0 10 0
`
	got = parseProcNetTCP([]byte(v6), map[string]bool{"444": true, "555": true})
	if len(got) != 2 || got[0].String() != "[::]:8080" || !got[0].AllInterfaces() || got[1].String() != "[::1]:8081" {
		t.Errorf("parseProcNetTCP(tcp6) = %v", got)
	}
	if got := parseLsof([]byte("p123\nf5\nn*:8080\nf6\nn127.0.0.1:9090\nn[::1]:7070\n")); len(got) != 3 || got[0].String() != "[::1]:7070" || got[1].String() != "0.0.0.0:8080" || got[2].String() != "127.0.0.1:9090" {
		t.Errorf("parseLsof = %v", got)
	}
}

func TestSplitArgs(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"-http 127.0.0.1:{port}", []string{"-http", "127.0.0.1:{port}"}},
		{"  -transport   http -port {port} ", []string{"-transport", "http", "-port", "{port}"}},
		{`-name "two words" -x 'a b'`, []string{"-name", "two words", "-x", "a b"}},
		{`-empty ""`, []string{"-empty", ""}},
		{"", nil},
	} {
		got, err := SplitArgs(tt.in)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("SplitArgs(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := SplitArgs(`-x "open`); err == nil {
		t.Error("an unclosed quote was accepted")
	}
	if got := JoinArgs([]string{"-name", "two words"}); got != `-name "two words"` {
		t.Errorf("JoinArgs = %s", got)
	}
}

func TestArgCandidates(t *testing.T) {
	tests := []struct {
		name, usage string
		want        [][]string
	}{
		{"go flag, -http address", "Usage of app:\n  -http string\n    \tif set, use streamable HTTP at this address, instead of stdin/stdout\n",
			[][]string{{"-http", "127.0.0.1:{port}"}}},
		{"go flag, -transport and -port", "Usage of app:\n  -port string\n    \tPort for SSE/HTTP servers (default \"8080\")\n  -transport string\n    \tTransport type: stdio, sse, or http (default \"stdio\")\n",
			[][]string{{"-transport", "http", "-port", "{port}"}}},
		{"go flag, bool -http and -addr", "Usage:\n  -addr string\n    \taddress (default \":8080\")\n  -http\n    \tserve HTTP\n",
			[][]string{{"-http", "-addr", "127.0.0.1:{port}"}}},
		{"pflag, --transport streamable-http", "Flags:\n  -h, --help               help\n  -t, --transport string   stdio or streamable-http (default \"stdio\")\n      --port int           port (default 8080)\n",
			[][]string{{"--transport", "streamable-http", "--port", "{port}"}}},
		{"nothing", "usage: app [file]\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := argCandidates(parseUsage(tt.usage))
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("argCandidates = %q, want %q (flags %+v)", got, tt.want, parseUsage(tt.usage))
			}
		})
	}
}

func TestUnshippedFiles(t *testing.T) {
	dir := t.TempDir()
	for f, c := range map[string]string{
		"main.go":              "package main\n\nimport \"embed\"\n\n//go:embed static\nvar static embed.FS\n\nfunc main() { _ = static }\n",
		"main_test.go":         "package main\n",
		"go.mod":               "module example.com/x\n",
		"go.sum":               "",
		"README.md":            "",
		"LICENSE":              "",
		"Dockerfile":           "",
		"run.sh":               "",
		".gitignore":           "",
		"static/app.css":       "",
		"ui/index.html":        "",
		"config.json":          "{}",
		"testdata/fixture.txt": "",
		".github/workflows/x":  "",
		"tools/tools.go":       "package tools\n",
		"server-binary":        "\x7fELF....",
	} {
		p := filepath.Join(dir, filepath.FromSlash(f))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(c), 0o644)
	}
	got, err := unshippedFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"config.json", "ui/index.html"}; !slices.Equal(got, want) {
		t.Errorf("unshippedFiles = %q, want %q", got, want)
	}
	if got := embedPattern([]string{"config.json", "ui/index.html"}); got != "ui" {
		t.Errorf("embedPattern = %q", got)
	}
}

func TestAdoptHostJSONArguments(t *testing.T) {
	var hj workspace.HostJSON
	if err := json.Unmarshal(adoptHostJSON(8090, []string{"-http", "127.0.0.1:8090"}), &hj); err != nil {
		t.Fatal(err)
	}
	d := hj.CustomHandler.Description
	if d.DefaultExecutablePath != "app" || !slices.Equal(d.Arguments, []string{"-http", "127.0.0.1:8090"}) || string(hj.CustomHandler.Port) != "8090" || hj.ConfigurationProfile != "mcp-custom-handler" {
		t.Errorf("host.json = %+v", hj)
	}
	if !bytes.Equal(adoptHostJSON(8090, nil), hostJSON(8090)) {
		t.Error("without arguments host.json differs from New's")
	}
}

// probeLegacy writes probeServer as servers/<name>, a module of its own.
func probeLegacy(t *testing.T, root, name string) {
	t.Helper()
	writeLegacy(t, root, name, map[string]string{"go.mod": "module example.com/" + name + "\n\ngo 1.26.0\n", "main.go": probeServer})
}

// TestAdoptProbe adopts servers whose probe must refuse them (nothing
// changes), or accept them with warnings.
func TestAdoptProbe(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the probe finds fixed ports from /proc on Linux")
	}
	root := fixture(t)
	probeLegacy(t, root, "stdio")
	writeLegacy(t, root, "stdio", map[string]string{"flags.go": "package main\n\nfunc init() { defaultMode = \"stdio\" }\n"})
	probeLegacy(t, root, "nomcp")
	writeLegacy(t, root, "nomcp", map[string]string{"flags.go": "package main\n\nfunc init() { defaultMode = \"nomcp\" }\n"})
	probeLegacy(t, root, "crash")
	writeLegacy(t, root, "crash", map[string]string{"flags.go": "package main\n\nfunc init() { defaultMode = \"exit\" }\n", "ui/index.html": "<p>hi</p>\n"})
	probeLegacy(t, root, "dup")
	writeLegacy(t, root, "dup", map[string]string{"go.mod": "module github.com/mcpfunc/mcpfunc/servers/weather\n\ngo 1.26.0\n"})
	for _, tt := range []struct {
		dir  string
		opts Options
		want []string
	}{
		{"servers/stdio", Options{}, []string{
			"servers/stdio looks like a stdio MCP server: it answered an MCP initialize request on its standard input and listened on no TCP port",
			"with -http 127.0.0.1:{port} it serves MCP over streamable HTTP on /mcp",
			"go tool mage adopt servers/stdio -args='-http 127.0.0.1:{port}'"}},
		{"servers/stdio", Options{Args: []string{"-verbose"}}, []string{"servers/stdio exited during the probe (exit status 2)", "flag provided but not defined: -verbose", "It got the arguments -verbose: check them against its -h"}},
		{"servers/nomcp", Options{}, []string{"servers/nomcp listens on 127.0.0.1:", "but answers no MCP over streamable HTTP: an initialize request POSTed to /mcp, /, /mcp/, /api/mcp got no MCP answer"}},
		{"servers/crash", Options{}, []string{"servers/crash exited during the probe (exit status 1)", "open ui/index.html: no such file or directory", "files next to the binary that the package will not carry (azd deploys only app and host.json): ui/index.html", "`//go:embed ui`"}},
		{"servers/dup", Options{}, []string{"servers/dup/go.mod names module github.com/mcpfunc/mcpfunc/servers/weather, which servers/weather (in go.work) already is"}},
	} {
		t.Run(tt.dir+" "+strings.Join(tt.opts.Args, " "), func(t *testing.T) {
			before := snapshot(t, root)
			_, err := Adopt(context.Background(), root, tt.dir, tt.opts)
			if err == nil {
				t.Fatal("adopted")
			}
			for _, w := range append(tt.want, "nothing was changed") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if after := snapshot(t, root); !maps.Equal(before, after) {
				t.Errorf("files changed")
			}
		})
	}

	// With the arguments it was told to pass, the stdio server is adopted,
	// and host.json carries them with the handler port.
	var out bytes.Buffer
	res, err := Adopt(context.Background(), root, "servers/stdio", Options{Out: &out, Args: []string{"-http", "127.0.0.1:" + PortPlaceholder}})
	if err != nil {
		t.Fatalf("Adopt with -args: %v\n%s", err, out.String())
	}
	want := []string{"-http", "127.0.0.1:" + strconv.Itoa(res.HandlerPort)}
	if !slices.Equal(res.Args, want) {
		t.Errorf("Args = %q, want %q", res.Args, want)
	}
	var hj workspace.HostJSON
	json.Unmarshal([]byte(readFile(t, root, "servers/stdio/host.json")), &hj)
	if !slices.Equal(hj.CustomHandler.Description.Arguments, want) || hj.CustomHandler.Description.DefaultExecutablePath != "app" {
		t.Errorf("host.json = %+v", hj.CustomHandler.Description)
	}
	for _, w := range []string{"it listens on the port in its arguments", "==> probing servers/stdio again, with the arguments now in host.json", "ok: it answers MCP on /mcp at port " + strconv.Itoa(res.HandlerPort)} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, out.String())
		}
	}
}

// TestAdoptWarnings adopts servers the probe accepts with warnings: a
// stateful one, one on a fixed port on all interfaces, one logging to
// stderr with a file next to it.
func TestAdoptWarnings(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the probe finds fixed ports from /proc on Linux")
	}
	root := fixture(t)
	fixed := freePortT(t)
	for name, mode := range map[string]string{"stateful": `defaultMode = "stateful"`, "fixed": fmt.Sprintf(`defaultMode, defaultFixed = "fixed", "%d"`, fixed), "noisy": `defaultMode = "stderr"`} {
		probeLegacy(t, root, name)
		writeLegacy(t, root, name, map[string]string{"flags.go": "package main\n\nfunc init() { " + mode + " }\n"})
	}
	writeLegacy(t, root, "noisy", map[string]string{"templates/page.tmpl": "{{.}}\n"})
	for _, tt := range []struct {
		name string
		want []string
		port int
	}{
		{"stateful", []string{"warning: it is stateful: initialize was answered with an Mcp-Session-Id, and tools/list without that session was refused (HTTP 400 Invalid session ID)", "Stateless: true"}, 0},
		{"fixed", []string{fmt.Sprintf("it ignores FUNCTIONS_CUSTOMHANDLER_PORT and listens on the fixed port %d", fixed), fmt.Sprintf("warning: it binds all interfaces ([::]:%d)", fixed)}, fixed},
		{"noisy", []string{"warning: it wrote 1 line(s) to stderr", "warning: files next to the binary that the package will not carry (azd deploys only app and host.json): templates/page.tmpl", "`//go:embed templates`"}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			res, err := Adopt(context.Background(), root, "servers/"+tt.name, Options{Out: &out})
			if err != nil {
				t.Fatalf("Adopt: %v\n%s", err, out.String())
			}
			for _, w := range append(tt.want, "mcp: /mcp answers MCP over streamable HTTP (JSON answers): server \"probe\" 1.2.3", "tools: 2 (echo, add)") {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if len(res.Warnings) == 0 || res.Probe == nil {
				t.Errorf("result = %+v", res)
			}
			if tt.port != 0 && res.HandlerPort != tt.port {
				t.Errorf("handler port %d, want %d", res.HandlerPort, tt.port)
			}
		})
	}
}
