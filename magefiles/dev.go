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
//
// A server whose host requires function keys (key mode:
// customHandler.http.DefaultAuthorizationLevel function or admin in
// host.json, function when it sets none, or the app setting
// AzureFunctionsJobHost__customHandler__http__DefaultAuthorizationLevel in
// local.settings.json or the environment) gets a local key, printed with
// its URL: mage's host answers 401 to a request without it, as Azure does.
// The keys are made on first use and kept in .mcpfunc/dev-keys.json
// (gitignored); MCP_DEV_FUNCTION_KEY and MCP_DEV_MASTER_KEY replace them.
// func start does not check keys locally, which dev says.
func Dev(ctx context.Context) error {
	servers, err := loadServers()
	if err != nil {
		return err
	}
	if err := checkDevPorts(servers); err != nil {
		return err
	}
	levels, err := devAuthLevels(servers)
	if err != nil {
		return err
	}
	if err := buildNative(ctx, servers); err != nil {
		return err
	}
	var services []funchost.Service
	if why := deploy.CheckFunc(ctx); why == nil {
		fmt.Println("==> running each server under the Functions host (func start)")
		if note := funcKeyNote(servers, levels); note != "" {
			fmt.Println(note)
		}
		services = funcServices(servers)
	} else {
		fmt.Printf("==> %v; running each server under mage's own emulation of the Functions host, on the same URLs\n", why)
		fmt.Printf("    (install Azure Functions Core Tools %s or newer to run them under the real host: %s)\n", deploy.MinFuncVersion, deploy.FuncInstallURL)
		keys, err := devKeys(servers, levels)
		if err != nil {
			return err
		}
		if services, err = hostedServices(servers, keys); err != nil {
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

// devAuthLevels returns the authorization level each server's host applies
// under `mage dev`: host.json's, unless the server's environment (mage's,
// then local.settings.json's Values) overrides it.
func devAuthLevels(servers []workspace.Server) (map[string]funchost.AuthLevel, error) {
	levels := map[string]funchost.AuthLevel{}
	for _, s := range servers {
		app, err := funchost.ReadApp(s.Dir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Name, err)
		}
		level, _, err := app.EffectiveAuthLevel(devEnv(s))
		if err != nil {
			return nil, fmt.Errorf("%s: %w (local.settings.json's Values and the environment set it)", s.Name, err)
		}
		levels[s.Name] = level
	}
	return levels, nil
}

// localAuthDocs is where Learn says that the Functions host run by Core
// Tools does not check keys: "When running functions locally,
// authorization is disabled regardless of the specified authorization
// level setting. After publishing to Azure, the authLevel setting in your
// trigger is enforced." (Azure Functions HTTP trigger, API key
// authorization; MicrosoftDocs/azure-docs
// articles/azure-functions/functions-bindings-http-webhook-trigger.md).
const localAuthDocs = "https://learn.microsoft.com/azure/azure-functions/functions-bindings-http-webhook-trigger#api-key-authorization"

// funcKeyNote is the line that tells that func start lets requests to
// key-mode servers through without a key, or "" when no server is in key
// mode.
func funcKeyNote(servers []workspace.Server, levels map[string]funchost.AuthLevel) string {
	var keyed []string
	for _, s := range servers {
		if l := levels[s.Name]; l != funchost.Anonymous {
			keyed = append(keyed, fmt.Sprintf("%s (%s level)", s.Name, l))
		}
	}
	if len(keyed) == 0 {
		return ""
	}
	verb := "answers"
	if len(keyed) > 1 {
		verb = "answer"
	}
	return fmt.Sprintf("==> note: func start does not check function keys locally (%s): %s %s without a key here; on Azure the host requires x-functions-key",
		localAuthDocs, strings.Join(keyed, ", "), verb)
}

// localKeys returns the local keys of the servers whose host requires
// keys (levels), from funchost.DevKeysFile (made there on first use); nil
// when none does.
func localKeys(servers []workspace.Server, levels map[string]funchost.AuthLevel) (map[string]funchost.Keys, error) {
	var keyed []string
	for _, s := range servers {
		if levels[s.Name] != funchost.Anonymous {
			keyed = append(keyed, s.Name)
		}
	}
	if len(keyed) == 0 {
		return nil, nil
	}
	return funchost.DevKeys(funchost.DevKeysFile, keyed, os.Getenv)
}

// devKeys returns the local keys of the key-mode servers and prints each
// one's URL with the key to send; the other servers need none.
func devKeys(servers []workspace.Server, levels map[string]funchost.AuthLevel) (map[string]funchost.Keys, error) {
	keys, err := localKeys(servers, levels)
	if err != nil || len(keys) == 0 {
		return nil, err
	}
	width := 0
	for name := range keys {
		width = max(width, len(name))
	}
	fmt.Printf("==> key mode: mage's host answers 401 to a request without the server's key, as Azure does (local keys in %s; %s and %s replace them)\n",
		funchost.DevKeysFile, funchost.DevFunctionKeyEnv, funchost.DevMasterKeyEnv)
	for _, s := range servers {
		k, ok := keys[s.Name]
		if !ok {
			continue
		}
		send := "key mode: send " + funchost.FunctionsKeyHeader + ": " + k.Function
		if levels[s.Name] == funchost.Admin {
			send = "admin level: send the master key, " + funchost.FunctionsKeyHeader + ": " + k.Master
		}
		fmt.Printf("    %-*s  %s  (%s)\n", width, s.Name, s.MCPURL(), send)
	}
	return keys, nil
}

// hostedServices runs each server under funchost: mage listens on the
// server's local port and plays the Functions host, which accepts the
// server's keys when it is in key mode.
func hostedServices(servers []workspace.Server, keys map[string]funchost.Keys) ([]funchost.Service, error) {
	var services []funchost.Service
	var listeners []net.Listener
	for _, s := range servers {
		svc, ln, err := hostedService(s, keys[s.Name])
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
// starts s there under funchost, accepting keys; its Start owns the
// listener.
func hostedService(s workspace.Server, keys funchost.Keys) (funchost.Service, net.Listener, error) {
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
	cfg := funchost.Config{App: app, Env: env, Listener: ln, StartTimeout: devReadyTimeout, LocalhostProtection: !off, Keys: keys}
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
