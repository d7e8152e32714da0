//go:build mage

package main

import (
	"context"
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

	"github.com/mcpfunc/mcpfunc/internal/deploy"
	"github.com/mcpfunc/mcpfunc/internal/funchost"
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
	var services []funchost.Service
	if why := deploy.CheckFunc(ctx); why == nil {
		fmt.Println("==> running each server under the Functions host (func start)")
		services = funcServices(servers)
	} else {
		fmt.Printf("==> %v; running each server under mage's own emulation of the Functions host, on the same URLs\n", why)
		fmt.Printf("    (install Azure Functions Core Tools %s or newer to run them under the real host: %s)\n", deploy.MinFuncVersion, deploy.FuncInstallURL)
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
		if err := deploy.BuildDeployable(ctx, s.Dir, filepath.Join(out, "app"), false); err != nil {
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

func buildNative(ctx context.Context, servers []workspace.Server) error {
	for _, s := range servers {
		fmt.Printf("==> building %s -> %s\n", s.Name, filepath.Join(s.Dir, "app"))
		if err := run(ctx, s.Dir, []string{"CGO_ENABLED=0"}, "go", "build", "-trimpath", "-o", "app", "."); err != nil {
			return fmt.Errorf("build %s: %w", s.Name, err)
		}
	}
	return nil
}
