//go:build mage

// Build, run and test every MCP server in this repository (servers/*).
package main

// Servers are the folders under servers/ (see internal/workspace); each has
// a host.json for Azure Functions and a local.settings.json whose
// Host.LocalHttpPort is its local port.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/magefile/mage/mg"

	"github.com/mcpfunc/mcpfunc/internal/funchost"
	"github.com/mcpfunc/mcpfunc/internal/scaffold"
	"github.com/mcpfunc/mcpfunc/internal/testreport"
	"github.com/mcpfunc/mcpfunc/internal/workspace"
)

// distDir holds the linux/amd64 deployables, one folder per server.
const distDir = "dist"

// devReadyTimeout bounds the start of every server under `mage dev`.
const devReadyTimeout = 60 * time.Second

// Dev builds every server and runs them all, each on its own port from
// local.settings.json (7071, 7072, …), until Ctrl-C. It uses `func start`
// when Azure Functions Core Tools 4.5+ is installed; else it plays the
// Functions host itself (internal/funchost): it serves each local port,
// starts the server's executable from host.json with
// FUNCTIONS_CUSTOMHANDLER_PORT set to host.json's customHandler.port,
// pings it and proxies to it with the host's headers. Each line a server
// writes is prefixed with its name: [weather] on stdout, [weather!] on
// stderr. A server that exits or does not answer in time is reported and
// stops the rest.
func Dev(ctx context.Context) error {
	servers, err := loadServers()
	if err != nil {
		return err
	}
	if err := checkDevPorts(servers); err != nil {
		return err
	}
	if err := buildNative(ctx, servers); err != nil {
		return err
	}
	useFunc, why := funcAvailable(ctx)
	var services []funchost.Service
	if useFunc {
		fmt.Println("==> running each server under the Functions host (func start)")
		services = funcServices(servers)
	} else {
		fmt.Printf("==> %s; running each server under mage's own emulation of the Functions host, on the same URLs\n", why)
		fmt.Println("    (install Azure Functions Core Tools 4.5+ to run them under the real host: https://learn.microsoft.com/azure/azure-functions/functions-run-local)")
		if services, err = hostedServices(servers); err != nil {
			return err
		}
	}
	sup := &funchost.Supervisor{Stdout: os.Stdout, Stderr: os.Stderr, ReadyTimeout: devReadyTimeout}
	return sup.Run(ctx, services)
}

// checkDevPorts fails, naming the server and the file that sets the port,
// when a server's local port or handler port is taken: the Functions host,
// func start's or mage's, could not bind it.
func checkDevPorts(servers []workspace.Server) error {
	var errs []error
	for _, s := range servers {
		if err := funchost.CheckPort(s.DevPort); err != nil {
			errs = append(errs, fmt.Errorf("%s: local port %d is in use (is `mage dev` or `func start` already running?): stop that, or change Host.LocalHttpPort in %s: %w",
				s.Name, s.DevPort, filepath.Join(s.Dir, "local.settings.json"), err))
		}
		if err := funchost.CheckPort(s.HandlerPort); err != nil {
			errs = append(errs, fmt.Errorf("%s: handler port %d is in use by another process (%s started by hand, or another program?), and %s claims it as customHandler.port: stop that process, or change the port there: %w",
				s.Name, s.HandlerPort, s.Name, filepath.Join(s.Dir, "host.json"), err))
		}
	}
	return errors.Join(errs...)
}

// hostedServices runs each server under funchost: mage listens on the
// server's local port and plays the Functions host.
func hostedServices(servers []workspace.Server) ([]funchost.Service, error) {
	var services []funchost.Service
	var listeners []net.Listener
	for _, s := range servers {
		svc, ln, err := hostedService(s)
		if err != nil {
			for _, ln := range listeners {
				ln.Close()
			}
			return nil, fmt.Errorf("%s: %w", s.Name, err)
		}
		services = append(services, svc)
		listeners = append(listeners, ln)
	}
	return services, nil
}

// hostedService listens on s's local port and returns the service that
// starts s there under funchost; its Start owns the listener.
func hostedService(s workspace.Server) (funchost.Service, net.Listener, error) {
	root, err := filepath.Abs(s.Dir)
	if err != nil {
		return funchost.Service{}, nil, err
	}
	app, err := funchost.ReadApp(root)
	if err != nil {
		return funchost.Service{}, nil, err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.DevPort)))
	if err != nil {
		return funchost.Service{}, nil, err
	}
	env := devEnv(s)
	// The SDK's DNS-rebinding guard cannot see a browser's Host behind the
	// host's proxy, so the local port guards instead, unless the server's
	// own setting turns the guard off.
	v, _ := funchost.Getenv(env, "MCP_LOCALHOST_PROTECTION")
	off := slices.Contains([]string{"off", "false", "0"}, strings.ToLower(strings.TrimSpace(v)))
	cfg := funchost.Config{App: app, Env: env, Listener: ln, StartTimeout: devReadyTimeout, LocalhostProtection: !off}
	return funchost.Service{
		Name: s.Name,
		URL:  s.MCPURL(),
		Start: func(ctx context.Context, stdout, stderr io.Writer) (funchost.Running, error) {
			cfg.Stdout, cfg.Stderr = stdout, stderr
			return funchost.Start(ctx, cfg)
		},
	}, ln, nil
}

// devEnv is the environment func start gives a server: mage's own, then
// the Values of local.settings.json that it does not set, and text logs
// for a terminal unless LOG_FORMAT says otherwise.
func devEnv(s workspace.Server) []string {
	env := os.Environ()
	if _, ok := os.LookupEnv("LOG_FORMAT"); !ok {
		env = append(env, "LOG_FORMAT=text")
	}
	for k, v := range s.Settings {
		if _, ok := os.LookupEnv(k); !ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// funcServices runs each server with `func start` in its folder.
func funcServices(servers []workspace.Server) []funchost.Service {
	var services []funchost.Service
	for _, s := range servers {
		services = append(services, funchost.Service{
			Name: s.Name,
			URL:  s.MCPURL(),
			Start: func(ctx context.Context, stdout, stderr io.Writer) (funchost.Running, error) {
				cmd := exec.Command("func", "start", "--port", strconv.Itoa(s.DevPort))
				cmd.Dir = s.Dir
				cmd.Stdout, cmd.Stderr = stdout, stderr
				p, err := funchost.StartProcess(cmd)
				if err != nil {
					return nil, err
				}
				if _, err := funchost.WaitReady(ctx, s.DevPort, 0, p); err != nil {
					if !errors.Is(err, funchost.ErrExited) {
						p.Stop(4 * time.Second)
					}
					return nil, err
				}
				return p, nil
			},
		})
	}
	return services
}

// Build builds every server twice: a native binary servers/<name>/app for
// `mage dev` and `func start`, and the deployable dist/<name>/app (static
// linux/amd64, built exactly as azd builds it) next to a copy of its host.json.
func Build(ctx context.Context) error {
	servers, err := loadServers()
	if err != nil {
		return err
	}
	if err := buildNative(ctx, servers); err != nil {
		return err
	}
	return buildDist(ctx, servers)
}

// buildDist builds each server's deployable dist/<name>/app (static
// linux/amd64, as azd builds it) and copies its host.json beside it.
func buildDist(ctx context.Context, servers []workspace.Server) error {
	for _, s := range servers {
		out := filepath.Join(distDir, s.Name)
		if err := os.MkdirAll(out, 0o755); err != nil {
			return err
		}
		fmt.Printf("==> building %s for linux/amd64 -> %s\n", s.Name, filepath.Join(out, "app"))
		if err := scaffold.BuildDeployable(ctx, s.Dir, filepath.Join(out, "app"), false); err != nil {
			return fmt.Errorf("build %s: %w", s.Name, err)
		}
		hj, err := os.ReadFile(filepath.Join(s.Dir, "host.json"))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, "host.json"), hj, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Test runs the whole suite: lint, a standalone build and tidy check of
// every module, every module's tests with -race, then the end-to-end tests.
func Test(ctx context.Context) error {
	before, gitErr := trackedChanges(ctx)
	if err := test(ctx); err != nil {
		return err
	}
	// The workspace's own commands must leave the tree as they found it
	// (a go.work.sum or go.sum they complete means the committed one is not).
	if gitErr != nil {
		fmt.Println("==> clean tree check skipped:", gitErr)
		return nil
	}
	fmt.Println("==> clean tree check (tracked files)")
	after, err := trackedChanges(ctx)
	if err != nil {
		return err
	}
	var changed []string
	for f, h := range after {
		if before[f] != h {
			changed = append(changed, f)
		}
	}
	for f := range before {
		if _, ok := after[f]; !ok {
			changed = append(changed, f)
		}
	}
	if len(changed) > 0 {
		slices.Sort(changed)
		return fmt.Errorf("the run changed tracked files (commit them if right, e.g. a completed go.work.sum):\n  %s", strings.Join(changed, "\n  "))
	}
	return nil
}

// trackedChanges maps each tracked file that differs from HEAD to a hash
// of its content ("" once deleted), so a run's own changes show apart from
// those already there. It fails when this is not a git checkout.
func trackedChanges(ctx context.Context) (map[string]string, error) {
	if _, err := exec.LookPath("git"); err != nil {
		return nil, errors.New("git is not installed")
	}
	if _, err := output(ctx, ".", nil, "git", "rev-parse", "--verify", "HEAD"); err != nil {
		return nil, errors.New("not a git checkout with a commit")
	}
	out, err := output(ctx, ".", nil, "git", "diff", "HEAD", "--name-only", "-z")
	if err != nil {
		return nil, fmt.Errorf("listing changed files: %w", err)
	}
	m := map[string]string{}
	for _, f := range strings.Split(out, "\x00") {
		if f == "" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			m[f] = ""
			continue
		}
		m[f] = fmt.Sprintf("%x", sha256.Sum256(b))
	}
	return m, nil
}

func test(ctx context.Context) error {
	mg.CtxDeps(ctx, Lint)
	if err := checkModules(ctx); err != nil {
		return err
	}
	var total testreport.Summary
	steps := []struct {
		title string
		args  []string
	}{
		{"unit tests (every workspace module, -race)", []string{"test", "-race", "-count=1", "-json", "work"}},
		{"end-to-end tests (-race)", []string{"test", "-race", "-count=1", "-json", "-tags", "e2e", "-timeout", "15m", "./e2e/..."}},
	}
	for i, st := range steps {
		if i == 1 {
			// The end-to-end tests include the MCP clients in clients/
			// (e2e/clients_test.go): install them first, so a missing
			// Node fails early and clearly.
			mg.CtxDeps(ctx, ClientsSetup)
		}
		fmt.Printf("==> %s\n", st.title)
		s, err := goTestJSON(ctx, st.args...)
		total.Add(s)
		if err != nil && s.OK() {
			return err
		}
	}
	for _, sk := range total.Skips {
		fmt.Println("skipped:", sk)
	}
	fmt.Println(total.String())
	if !total.OK() {
		return fmt.Errorf("tests failed in: %s", strings.Join(total.FailedPackages, ", "))
	}
	return nil
}

// Lint checks formatting (gofmt) and runs go vet on every module, including
// the end-to-end tests.
func Lint(ctx context.Context) error {
	dirs, err := moduleDirs(ctx)
	if err != nil {
		return err
	}
	fmt.Println("==> gofmt")
	out, err := output(ctx, ".", nil, "gofmt", append([]string{"-l"}, dirs...)...)
	if err != nil {
		return err
	}
	// The root module's folder holds the others, so gofmt walks their
	// files twice: list each file once.
	var files []string
	for _, f := range strings.Fields(out) {
		if f = filepath.Clean(f); !slices.Contains(files, f) {
			files = append(files, f)
		}
	}
	if len(files) > 0 {
		slices.Sort(files)
		return fmt.Errorf("these files need gofmt -w:\n%s", strings.Join(files, "\n"))
	}
	fmt.Println("==> go vet")
	if err := run(ctx, ".", nil, "go", "vet", "work"); err != nil {
		return err
	}
	if err := run(ctx, ".", nil, "go", "vet", "-tags", "e2e,mage", "./e2e/...", "."); err != nil {
		return err
	}
	// staticcheck is a tool of the root module (go.mod), like mage; in
	// workspace mode go tool finds it from every module's folder. It checks
	// one module per run, with the build tags the code uses.
	for _, d := range dirs {
		fmt.Println("==> staticcheck in", d)
		if err := run(ctx, d, nil, "go", "tool", "staticcheck", "-tags", "e2e,mage", "./..."); err != nil {
			return fmt.Errorf("staticcheck in %s: %w", d, err)
		}
	}
	return nil
}

// Tidy runs go mod tidy in every module.
func Tidy(ctx context.Context) error {
	dirs, err := moduleDirs(ctx)
	if err != nil {
		return err
	}
	for _, d := range dirs {
		fmt.Println("==> go mod tidy in", d)
		if err := run(ctx, d, []string{"GOWORK=off"}, "go", "mod", "tidy"); err != nil {
			return err
		}
	}
	return nil
}

// checkModules proves that each module builds and is tidy on its own, as
// azd builds a server from its own folder.
func checkModules(ctx context.Context) error {
	dirs, err := moduleDirs(ctx)
	if err != nil {
		return err
	}
	for _, d := range dirs {
		fmt.Printf("==> standalone build and tidy check: %s\n", d)
		env := []string{"GOWORK=off"}
		if err := run(ctx, d, env, "go", "build", "./..."); err != nil {
			return fmt.Errorf("%s does not build on its own (GOWORK=off): %w", d, err)
		}
		if err := run(ctx, d, env, "go", "mod", "tidy", "-diff"); err != nil {
			return fmt.Errorf("%s/go.mod is not tidy: run `go tool mage tidy`: %w", d, err)
		}
	}
	return nil
}

func loadServers() ([]workspace.Server, error) {
	servers, err := workspace.Servers(".")
	if err != nil {
		return nil, err
	}
	if len(servers) == 0 {
		return nil, errors.New("no servers found under servers/ (each needs go.mod, host.json and local.settings.json)")
	}
	return servers, workspace.Check(servers)
}

func buildNative(ctx context.Context, servers []workspace.Server) error {
	for _, s := range servers {
		fmt.Printf("==> building %s -> %s\n", s.Name, filepath.Join(s.Dir, "app"))
		if err := run(ctx, s.Dir, []string{"CGO_ENABLED=0"}, "go", "build", "-trimpath", "-o", "app", "."); err != nil {
			return fmt.Errorf("build %s: %w", s.Name, err)
		}
	}
	return nil
}

// moduleDirs lists the workspace modules' folders, relative to the root.
func moduleDirs(ctx context.Context) ([]string, error) {
	out, err := output(ctx, ".", nil, "go", "list", "-m", "-f", "{{.Dir}}")
	if err != nil {
		return nil, err
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, d := range strings.Fields(out) {
		rel, err := filepath.Rel(wd, d)
		if err != nil {
			return nil, err
		}
		dirs = append(dirs, rel)
	}
	return dirs, nil
}

// goTestJSON runs go test with -json and prints a condensed report.
func goTestJSON(ctx context.Context, args ...string) (testreport.Summary, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Stderr = os.Stderr
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	if err := cmd.Start(); err != nil {
		return testreport.Summary{}, err
	}
	done := make(chan struct{})
	var sum testreport.Summary
	var readErr error
	go func() {
		defer close(done)
		sum, readErr = testreport.Read(pr, os.Stdout)
		io.Copy(io.Discard, pr)
	}()
	err := cmd.Wait()
	pw.Close()
	<-done
	if readErr != nil {
		return sum, readErr
	}
	if err != nil && sum.OK() {
		// go test failed without a failing test: report it as a package failure.
		sum.FailedPackages = append(sum.FailedPackages, "go "+strings.Join(args, " "))
	}
	return sum, err
}

// run runs a command quietly: its output is shown only when it fails or
// mage runs with -v.
func run(ctx context.Context, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var buf bytes.Buffer
	if mg.Verbose() {
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	} else {
		cmd.Stdout, cmd.Stderr = &buf, &buf
	}
	if err := cmd.Run(); err != nil {
		os.Stderr.Write(buf.Bytes())
		return fmt.Errorf("%s %s (in %s): %w", name, strings.Join(args, " "), dir, err)
	}
	return nil
}

func output(ctx context.Context, dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

// funcAvailable reports whether Azure Functions Core Tools 4.5+ is
// installed, and if not, why not.
func funcAvailable(ctx context.Context) (bool, string) {
	if _, err := exec.LookPath("func"); err != nil {
		return false, "Azure Functions Core Tools (func) is not installed"
	}
	out, err := output(ctx, ".", nil, "func", "--version")
	if err != nil {
		return false, fmt.Sprintf("`func --version` failed (%v)", err)
	}
	v, ok := scaffold.ParseVersion(out)
	if !ok {
		return false, fmt.Sprintf("cannot read the func version from %q", strings.TrimSpace(out))
	}
	if least, _ := scaffold.ParseVersion(scaffold.MinFuncVersion); v.Less(least) {
		return false, fmt.Sprintf("func %s is older than %s, the first to run MCP custom handlers", v, least)
	}
	return true, ""
}
