//go:build e2e

package e2e

import (
	"encoding/json"
	"go/version"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpfunc/mcpfunc/internal/treehash"
	"github.com/mcpfunc/mcpfunc/internal/workspace"
)

// copyAdoptServer copies e2e/testdata/adopt/<pattern> to servers/<pattern>
// of the repository copy root, as a user copies a module in.
func copyAdoptServer(t *testing.T, root, pattern string) string {
	t.Helper()
	src := filepath.Join("testdata", "adopt", pattern)
	dst := filepath.Join(root, "servers", pattern)
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestAdoptPatterns adopts, with `go tool mage adopt` in a copy of the
// repository, one small server of each kind public Go MCP servers come in
// (e2e/testdata/adopt), and checks what adopt reports: the port it found,
// stdio refused with the arguments to pass (and the tree untouched), then
// accepted with them, sessions, stderr logging, files the package will
// not carry, versions raised in the module's go.mod and go.work's go line.
// The mcp-go and the stateful servers are then packaged and run as the
// Functions host runs them, and their tool is called.
func TestAdoptPatterns(t *testing.T) {
	root := copyRepo(t)
	gw0, err := os.ReadFile(filepath.Join(root, workspace.GoWorkFile))
	if err != nil {
		t.Fatal(err)
	}
	w0, _ := workspace.ParseGoWork(gw0)
	goBefore, goAfter := w0.Go, w0.Go
	if version.Compare("go1.26.8", "go"+w0.Go) > 0 {
		goAfter = "1.26.8" // servers/mcpgo's go line
	}
	type step struct {
		args   []string
		fail   bool
		want   []string
		reject []string
	}
	patterns := []struct {
		name  string
		steps []step
		run   bool // package it and run it as the host does
	}{
		{"fixedall", []step{{want: []string{
			"port: it ignores FUNCTIONS_CUSTOMHANDLER_PORT and listens on the fixed port 18401",
			"host.json gets customHandler.port 18401",
			"warning: it binds all interfaces",
			"changed servers/fixedall/go.mod and go.sum",
			"github.com/modelcontextprotocol/go-sdk v1.1.0 -> v1.8.0",
			"==> probing servers/fixedall again, with the versions now in its go.mod",
			"ok: it answers MCP on /mcp at port 18401",
		}}}, false},
		{"portflag", []step{{want: []string{
			"listens on the fixed port 18402 (127.0.0.1:18402)",
			"customHandler.port 18402",
			"or: with -port {port} (its -h lists the flag, and adopt tried it) it listens on the port it is given",
		}, reject: []string{"binds all interfaces"}}}, false},
		{"stateful", []step{{want: []string{
			"warning: it is stateful: initialize was answered with an Mcp-Session-Id, and tools/list without that session was refused",
			"Make it stateless: go-sdk: mcp.NewStreamableHTTPHandler(getServer, &mcp.StreamableHTTPOptions{Stateless: true})",
		}}}, true},
		{"mcpgo", []step{{want: []string{
			`mcp: /mcp answers MCP over streamable HTTP (JSON answers): server "mcpgo" 1.0.0`,
			"stateless: initialize carried no Mcp-Session-Id",
		}}}, true},
		{"stderrlog", []step{{want: []string{
			"warning: it wrote",
			"line(s) to stderr while starting and answering",
			"stderrlog starting on 127.0.0.1:",
			"log.SetOutput(os.Stdout)",
		}}}, false},
		{"files", []step{{want: []string{
			"warning: files next to the binary that the package will not carry (azd deploys only app and host.json): ui/index.html",
			"`//go:embed ui`",
		}}}, false},
		// Last: host.json arguments fail the repository's own host.json
		// check (workspace.CheckHostJSON), which mage package runs over
		// every server; adopt warns about it.
		{"stdioflag", []step{
			{fail: true, want: []string{
				"servers/stdioflag looks like a stdio MCP server: it answered an MCP initialize request on its standard input",
				"with -http 127.0.0.1:{port} it serves MCP over streamable HTTP on /mcp",
				"go tool mage adopt servers/stdioflag -args='-http 127.0.0.1:{port}'",
				"nothing was changed",
			}},
			{args: []string{"-args=-http 127.0.0.1:{port}"}, want: []string{
				"it listens on the port in its arguments",
				"==> probing servers/stdioflag again, with the arguments now in host.json",
				"ok: it answers MCP on /mcp at port",
				"host.json arguments: -http 127.0.0.1:",
			}},
		}, false},
	}
	if goAfter != goBefore {
		patterns[3].steps[0].want = append(patterns[3].steps[0].want, "warning: go.work's go line changed from "+goBefore+" to 1.26.8: servers/mcpgo/go.mod says go 1.26.8")
	} else {
		patterns[3].steps[0].reject = append(patterns[3].steps[0].reject, "go.work's go line changed")
	}
	for _, p := range patterns {
		dir := copyAdoptServer(t, root, p.name)
		for i, s := range p.steps {
			before := hashTree(t, root)
			start := time.Now()
			out, err := runMage(t, root, append([]string{"adopt", "servers/" + p.name}, s.args...)...)
			t.Logf("mage adopt servers/%s %s: %s", p.name, strings.Join(s.args, " "), time.Since(start).Round(time.Millisecond))
			if s.fail != (err != nil) {
				t.Fatalf("%s step %d: mage adopt err = %v, want failure %v:\n%s", p.name, i, err, s.fail, out)
			}
			for _, w := range s.want {
				if !strings.Contains(out, w) {
					t.Errorf("%s step %d: output lacks %q:\n%s", p.name, i, w, out)
				}
			}
			for _, r := range s.reject {
				if strings.Contains(out, r) {
					t.Errorf("%s step %d: output has %q:\n%s", p.name, i, r, out)
				}
			}
			if s.fail {
				if d := treehash.Diff(before, hashTree(t, root)); len(d) > 0 {
					t.Errorf("%s: a refused adopt changed the repository:\n%s", p.name, strings.Join(d, "\n"))
				}
			}
		}
		// The module's own go.mod now selects what azd deploys.
		runGo(t, dir, []string{"GOWORK=off"}, "build", "-o", os.DevNull, ".")
		if p.run {
			runAdopted(t, root, p.name)
		}
	}

	gw, err := os.ReadFile(filepath.Join(root, workspace.GoWorkFile))
	if err != nil {
		t.Fatal(err)
	}
	w, _ := workspace.ParseGoWork(gw)
	if patterns[3].name != "mcpgo" {
		t.Fatal("patterns[3] must be mcpgo")
	}
	for _, p := range patterns {
		if !slices.Contains(w.Use, "./servers/"+p.name) {
			t.Errorf("go.work does not use ./servers/%s: %v", p.name, w.Use)
		}
	}
	if w.Go != goAfter {
		t.Errorf("go.work's go line is %s, want %s", w.Go, goAfter)
	}
	var hj workspace.HostJSON
	b, _ := os.ReadFile(filepath.Join(root, "servers", "stdioflag", "host.json"))
	if err := json.Unmarshal(b, &hj); err != nil {
		t.Fatal(err)
	}
	if d := hj.CustomHandler.Description; d.DefaultExecutablePath != "app" || len(d.Arguments) != 2 || d.Arguments[0] != "-http" || d.Arguments[1] != "127.0.0.1:"+string(hj.CustomHandler.Port) {
		t.Errorf("stdioflag host.json = %s", b)
	}
	if gomod, _ := os.ReadFile(filepath.Join(root, "servers", "fixedall", "go.mod")); !strings.Contains(string(gomod), "github.com/modelcontextprotocol/go-sdk v1.8.0") {
		t.Errorf("fixedall go.mod after adopt:\n%s", gomod)
	}

}

// runAdopted packages an adopted server with `go tool mage package`, runs
// the package as the Functions host runs it, and calls its echo tool
// through the host's proxy with the Go SDK's client (which keeps a
// stateful server's session).
func runAdopted(t *testing.T, root, name string) {
	t.Helper()
	out, err := runMage(t, root, "package", "-server="+name)
	if err != nil {
		t.Fatalf("mage package -server=%s: %v\n%s", name, err, out)
	}
	app := checkPackage(t, filepath.Join(root, "dist", name+".zip"))
	if !canRunLinuxAMD64() {
		t.Logf("the package is linux/amd64; cannot run %s here", name)
		return
	}
	host := startUnderHost(t, app, "app", nil, yarpProxy)
	cs := connectMCP(t, host.URL+"/mcp", "2025-06-18")
	res, text := call(t, cs, "echo", map[string]any{"text": "adopted " + name})
	if res.IsError || text != "adopted "+name {
		t.Errorf("%s echo = %v %q", name, res.IsError, text)
	}
	cs.Close()
	host.Stop(t, 10*time.Second)
}

// TestAdoptProbeCleansUp checks that a refused adopt leaves no process
// behind: the probe kills the server it started.
func TestAdoptProbeCleansUp(t *testing.T) {
	if _, err := exec.LookPath("pgrep"); err != nil {
		t.Skip("needs pgrep")
	}
	root := copyRepo(t)
	copyAdoptServer(t, root, "stdioflag")
	if out, err := runMage(t, root, "adopt", "servers/stdioflag"); err == nil {
		t.Fatalf("stdioflag adopted without arguments:\n%s", out)
	}
	time.Sleep(200 * time.Millisecond)
	if out, err := exec.Command("pgrep", "-f", "mcpfunc-probe-").Output(); err == nil && strings.TrimSpace(string(out)) != "" {
		t.Errorf("probe processes left running: %s", out)
	}
}
