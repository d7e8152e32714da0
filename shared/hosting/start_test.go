package hosting

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStartWithProgramFlags builds a program that defines a flag of its own
// (-verbose) and calls Start, runs it with that flag and -port, and checks
// that it starts, answers GET /, and exits 0 on SIGTERM: Start must not
// own the command line.
func TestStartWithProgramFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	here, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sum, err := os.ReadFile(filepath.Join(here, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"go.mod": "module example.com/verbose\n\ngo 1.26.0\n\nrequire github.com/mcpfunc/mcpfunc/shared/hosting v0.0.0\n\nreplace github.com/mcpfunc/mcpfunc/shared/hosting => " + here + "\n",
		"go.sum": string(sum),
		"main.go": `package main

import (
	"flag"
	"log/slog"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfunc/mcpfunc/shared/hosting"
)

func main() {
	verbose := flag.Bool("verbose", false, "log more")
	hosting.DefineFlags(flag.CommandLine)
	flag.Parse()
	impl := &mcp.Implementation{Name: "verbose", Version: "v1"}
	slog.Info("flags", "verbose", *verbose)
	hosting.Start(mcp.NewServer(impl, nil), hosting.WithInfo(impl))
}
`,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "verbose")
	build := exec.Command("go", "build", "-mod=mod", "-o", bin, ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envPort+"=") {
			env = append(env, kv)
		}
	}
	out := &syncBuffer{}
	cmd := exec.Command(bin, "-verbose", "-port", fmt.Sprint(port))
	cmd.Env = env
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET / = %d, want 200", resp.StatusCode)
			}
			break
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("the server exited before answering: %v\n%s", err, out.String())
		case <-ctx.Done():
			t.Fatalf("no answer on %s: %v\n%s", url, err, out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	if !strings.Contains(out.String(), "verbose=true") {
		t.Errorf("the program's own flag was not parsed:\n%s", out.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		done <- err
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v, want status 0\n%s", err, out.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no exit 20s after SIGTERM\n%s", out.String())
	}
}
