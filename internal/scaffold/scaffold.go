// Package scaffold adds servers to the repository and takes them out:
// `mage new` (a new server on shared/hosting), `mage adopt` (an existing Go
// MCP server, unchanged, after a probe of how it serves) and `mage remove`.
// Building, packaging and deploying are package deploy's. The magefile only
// calls it, so all of it is tested here.
//
// New and Adopt end by registering the server everywhere it must be known
// with workspace.Sync, the writer `mage sync` runs: go.work, azure.yaml,
// infra/servers.json, .vscode/mcp.json and .vscode/launch.json, each edited
// in place so the rest of the file stays as it was. Remove unregisters a
// server the same way. Nothing is left half-written: the registration is
// planned before the first write (a registry file sync cannot read stops
// them with nothing changed), files are replaced atomically, and a failure
// restores every file and removes the server folder it created.
package scaffold

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/build"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"

	"github.com/mcpfunc/mcpfunc/internal/deploy"
	"github.com/mcpfunc/mcpfunc/internal/workspace"
)

// Options configures New and Adopt.
type Options struct {
	// Out receives progress lines; nil discards them.
	Out io.Writer
	// HandlerPort, for Adopt, is the customHandler.port to write to
	// host.json, for a server that listens on a fixed port. Zero picks the
	// next free port from 8081. The probe finds the port a server
	// listens on by itself; this is for a server it cannot run here.
	HandlerPort int
	// Args, for Adopt, are the command-line arguments the Functions host
	// passes (host.json customHandler.description.arguments), e.g. the
	// flags that make a stdio server serve HTTP. PortPlaceholder ("{port}")
	// in them is replaced by the handler port.
	Args []string
}

func (o Options) out() io.Writer {
	if o.Out == nil {
		return io.Discard
	}
	return o.Out
}

// Result describes the server New or Adopt added.
type Result struct {
	Name string
	// Dir is the server's folder, relative to the repository root
	// (servers/<name>).
	Dir string
	// DevPort is the local port (Host.LocalHttpPort), HandlerPort the
	// customHandler.port of host.json.
	DevPort, HandlerPort int
	// Created lists the files written in Dir; Registered the registry files
	// changed. Both are slash paths relative to the repository root.
	Created, Registered []string
	// Sync is what registering the server changed in the registry files.
	Sync *workspace.Plan
	// Warning, if not empty, holds what workspace.CheckRegistry found wrong
	// after the server was added: problems the repository already had.
	Warning string

	// For Adopt only:
	// Args are the arguments written to host.json.
	Args []string
	// Probe is what starting the server showed.
	Probe *Probe
	// Warnings are what the probe and the checks found that the server's
	// owner should know or fix (also printed as "warning:" lines).
	Warnings []string
	// GoModChanged lists, as "path old -> new", the module versions Adopt
	// wrote into the server's go.mod to match the workspace build.
	GoModChanged []string
	// GoWorkGo holds go.work's go line before and after, if adopting
	// changed it.
	GoWorkGo [2]string
}

// nameRule explains valid server names.
const nameRule = "use 2 to 32 lower-case letters, digits and single inner hyphens, starting with a letter, e.g. \"my-tools\" (the name becomes the folder servers/<name>, the Go module path and the azd service name)"

// New scaffolds servers/<name> under root in the shape of every server
// here: go.mod (shared/hosting and shared/auth through replace directives,
// the Go MCP SDK), main.go calling server.Main, a server package whose New
// builds the server from the environment (MCP_AUTH, the tools) and whose
// Main serves it with hosting.Start, with a test of New, a tools package
// with an example tool `hello` and its table-driven test, host.json on the
// next free handler port, local.settings.json on the next free local port,
// and .funcignore. It runs `go mod tidy` and `go vet` in
// the new module on its own (GOWORK=off) before the folder appears, then
// registers the server (workspace.Sync) and builds it in the workspace, as
// azd builds it.
func New(ctx context.Context, root, name string, opts Options) (*Result, error) {
	out := opts.out()
	if !workspace.ValidName(name) {
		return nil, fmt.Errorf("%q is not a valid server name: %s; nothing was changed", name, nameRule)
	}
	rel := "servers/" + name
	dir := filepath.Join(root, "servers", name)
	if _, err := os.Lstat(dir); err == nil {
		return nil, fmt.Errorf("%s already exists: choose another name, or host the server in it with `go tool mage adopt %s`; nothing was changed", rel, rel)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("check %s: %w", rel, err)
	}
	servers, err := otherServers(root, name)
	if err != nil {
		return nil, fmt.Errorf("read the existing servers (fix this first; nothing was changed): %w", err)
	}
	devPort, handlerPort := workspace.NextFreePorts(servers)
	goVersion, sdkVersion := versions(root)
	if err := checkSync(root, workspace.Server{Name: name, Dir: dir, DevPort: devPort, HandlerPort: handlerPort, GoVersion: goVersion, UsesHosting: true}); err != nil {
		return nil, err
	}
	data := serverData{Name: name, Module: modulePrefix + name, GoVersion: goVersion, SDKVersion: sdkVersion, DevPort: devPort, HandlerPort: handlerPort}

	// Build the folder next to its final place (so ../../shared/hosting
	// resolves), under a name the go command and workspace.Servers skip.
	tmp, err := os.MkdirTemp(filepath.Join(root, "servers"), ".new-"+name+"-")
	if err != nil {
		return nil, fmt.Errorf("create a temporary folder in servers/: %w", err)
	}
	renamed := false
	defer func() {
		if !renamed {
			os.RemoveAll(tmp)
		}
	}()
	fmt.Fprintf(out, "==> writing %s (local port %d, handler port %d)\n", rel, devPort, handlerPort)
	files := map[string][]byte{
		"host.json":           hostJSON(handlerPort),
		"local.settings.json": localSettingsJSON(devPort),
	}
	for fname, tpl := range serverTemplates() {
		var b bytes.Buffer
		if err := tpl.Execute(&b, data); err != nil {
			return nil, fmt.Errorf("render %s: %w", fname, err)
		}
		files[fname] = b.Bytes()
	}
	var created []string
	for _, fname := range slices.Sorted(maps.Keys(files)) {
		p := filepath.Join(tmp, filepath.FromSlash(fname))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, files[fname], 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", fname, err)
		}
		created = append(created, rel+"/"+fname)
	}
	fmt.Fprintf(out, "==> go mod tidy in %s (GOWORK=off)\n", rel)
	if _, err := deploy.Output(ctx, tmp, []string{"GOWORK=off"}, "go", "mod", "tidy"); err != nil {
		return nil, fmt.Errorf("go mod tidy in the new server failed (it needs the Go module proxy, or the modules in the module cache; check GOPROXY and your network), nothing was changed: %w", err)
	}
	created = append(created, rel+"/go.sum")
	slices.Sort(created)
	fmt.Fprintf(out, "==> go vet ./... in %s (GOWORK=off)\n", rel)
	if _, err := deploy.Output(ctx, tmp, []string{"GOWORK=off"}, "go", "vet", "./..."); err != nil {
		return nil, fmt.Errorf("the new server does not pass go vet (if shared/hosting was changed, check that it builds); nothing was changed: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("move the new server into %s: %w; nothing was changed", rel, err)
	}
	renamed = true
	removeDir := func(err error) error {
		if rerr := os.RemoveAll(dir); rerr != nil {
			err = errors.Join(err, fmt.Errorf("remove %s: %w", rel, rerr))
		}
		return err
	}

	plan, err := syncRegistry(root, rel, out)
	if err != nil {
		return nil, removeDir(fmt.Errorf("registering %s failed, so %s was removed and the registry files left as they were: %w", rel, rel, err))
	}
	fmt.Fprintf(out, "==> building %s as azd does (go build . in its folder, workspace mode)\n", rel)
	bin, err := os.MkdirTemp("", "mcpfunc-new-")
	if err != nil {
		return nil, removeDir(errors.Join(err, plan.Restore()))
	}
	defer os.RemoveAll(bin)
	if err := deploy.BuildDeployable(ctx, dir, filepath.Join(bin, "app"), false); err != nil {
		err = fmt.Errorf("%s does not build in the workspace, as azd builds it, so every change was undone (check go.work: `go work sync` reports its problems): %w", rel, err)
		return nil, removeDir(errors.Join(err, plan.Restore()))
	}
	res := &Result{Name: name, Dir: rel, DevPort: devPort, HandlerPort: handlerPort, Created: created, Registered: registeredFiles(plan), Sync: plan}
	if err := workspace.CheckRegistry(root); err != nil {
		res.Warning = err.Error()
	}
	return res, nil
}

// checkSync plans the registration of planned next to the servers there
// are, writing nothing, so that a registry file sync cannot read or parse
// stops New or Adopt before they change anything.
func checkSync(root string, planned workspace.Server) error {
	servers, err := workspace.Servers(root)
	if err != nil {
		return fmt.Errorf("read the existing servers (fix this first; nothing was changed): %w", err)
	}
	if _, err := workspace.PlanSync(root, append(servers, planned), workspace.SyncOptions{}); err != nil {
		return fmt.Errorf("%w; fix it, then run this again (nothing was changed)", err)
	}
	return nil
}

// syncRegistry registers the servers under root with workspace.Sync (what
// `mage sync` does) and prints what it changed.
func syncRegistry(root, rel string, out io.Writer) (*workspace.Plan, error) {
	fmt.Fprintf(out, "==> registering %s (%s)\n", rel, workspace.SyncCommand)
	plan, err := workspace.Sync(root, workspace.SyncOptions{})
	if err != nil {
		return nil, err
	}
	for _, l := range plan.Lines() {
		fmt.Fprintf(out, "    %s\n", l)
	}
	return plan, nil
}

// registeredFiles lists the files a sync changed, sorted.
func registeredFiles(p *workspace.Plan) []string {
	files := p.Files()
	slices.Sort(files)
	return files
}

// Adopt registers an existing Go MCP server module in dir (relative to
// root or absolute) without changing its code. dir must be servers/<name>
// with a valid name (copy or move the module there first: Adopt moves
// and links nothing), hold a go.mod and a main package in its root
// folder, build the way azd builds it (GOWORK=off CGO_ENABLED=0 GOOS=linux
// GOARCH=amd64 go build .), and not have a host.json or
// local.settings.json yet.
//
// Before it writes anything, Adopt probes the built binary: it starts it
// as the Functions host does and finds the port it listens on, the path
// that answers MCP over streamable HTTP, whether it is stateful, what it
// writes to stderr, whether GET / answers, and which files in the folder
// the package will not carry (see Probe). A server that cannot work as
// adopted (it speaks stdio, exits, or answers no streamable HTTP MCP) is
// refused with what to pass or change; nothing is written then.
//
// Adopt then writes host.json (executable "app", the port the server
// listens on, opts.Args as arguments) and local.settings.json, registers
// the server like New does, and makes the module's versions explicit:
// modules the workspace (the build azd deploys) raises above the
// module's own go.mod are written into its go.mod (`go mod edit`, then
// GOWORK=off go mod tidy). It builds the server as azd does, in workspace
// mode, and probes that build again when arguments or versions changed.
// Any failure after the first write restores every file.
func Adopt(ctx context.Context, root, dir string, opts Options) (*Result, error) {
	out := opts.out()
	rel, err := adoptPath(root, dir)
	if err != nil {
		return nil, err
	}
	name := strings.TrimPrefix(rel, "servers/")
	abs := filepath.Join(root, filepath.FromSlash(rel))
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a folder: adopt takes the folder of an existing Go module with a main package (copy it to %s first); nothing was changed", rel, rel)
	}
	if err := checkNotHosted(root, rel, abs); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(abs, "go.mod")); err != nil {
		return nil, fmt.Errorf("%s has no go.mod: adopt takes a Go module whose root folder is the server's main package (run `go mod init` there first); nothing was changed", rel)
	}
	// Look at the files azd compiles: linux/amd64 without cgo.
	bctx := build.Default
	bctx.GOOS, bctx.GOARCH, bctx.CgoEnabled = "linux", "amd64", false
	pkg, err := bctx.ImportDir(abs, 0)
	var noGo *build.NoGoError
	switch {
	case err != nil && !errors.As(err, &noGo):
		return nil, fmt.Errorf("the Go files in %s's root folder do not load (%w): azd builds `go build .` there, so fix or remove the file named above first; nothing was changed", rel, err)
	case err != nil:
		return nil, fmt.Errorf("%s has no Go package to build for linux/amd64 without cgo in its root folder (%w): azd runs `CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build .` there, so the server's main package must be in %s; nothing was changed", rel, err, rel)
	case pkg.Name != "main":
		return nil, fmt.Errorf("%s holds package %s, not package main: azd builds `go build .` in the server's folder, so its root must be the main package; nothing was changed", rel, pkg.Name)
	}
	servers, err := otherServers(root, name)
	if err != nil {
		return nil, fmt.Errorf("read the existing servers (fix this first; nothing was changed): %w", err)
	}
	devPort, handlerPort := workspace.NextFreePorts(servers)
	if opts.HandlerPort != 0 {
		if err := checkHandlerPort(opts.HandlerPort, servers, "handler port"); err != nil {
			return nil, err
		}
		handlerPort = opts.HandlerPort
	}
	for _, a := range opts.Args {
		if strings.TrimSpace(a) == "" {
			return nil, fmt.Errorf("-args has an empty argument (%q): give the arguments separated by spaces, e.g. -args='-http 127.0.0.1:%s'; nothing was changed", JoinArgs(opts.Args), PortPlaceholder)
		}
	}
	modGo, usesHosting, err := workspace.ModuleInfo(abs)
	if err != nil {
		return nil, fmt.Errorf("%w; nothing was changed", err)
	}
	if err := checkSync(root, workspace.Server{Name: name, Dir: abs, DevPort: devPort, HandlerPort: handlerPort, GoVersion: modGo, UsesHosting: usesHosting}); err != nil {
		return nil, err
	}

	goLine, err := checkModule(ctx, root, rel, abs)
	if err != nil {
		return nil, fmt.Errorf("%w; nothing was changed", err)
	}

	fmt.Fprintf(out, "==> checking that %s builds the way azd builds it (GOWORK=off CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build .)\n", rel)
	bin, err := os.MkdirTemp("", "mcpfunc-adopt-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(bin)
	if err := deploy.BuildDeployable(ctx, abs, filepath.Join(bin, "app"), true); err != nil {
		return nil, fmt.Errorf("%s does not build on its own for linux/amd64 without cgo, as azd builds it; fix the build first (adopt changes no code; nothing was changed): %w", rel, err)
	}
	probeBin, err := nativeBinary(ctx, abs, filepath.Join(bin, "app"), filepath.Join(bin, "app-native"), true)
	if err != nil {
		return nil, fmt.Errorf("build %s for this machine, to probe it: %w; nothing was changed", rel, err)
	}

	a := &adoption{rel: rel, abs: abs, out: out, servers: servers, opts: opts, handlerPort: handlerPort, devPort: devPort}
	if err := a.probe(ctx, probeBin, bin); err != nil {
		return nil, err
	}
	handlerPort, devPort = a.handlerPort, a.devPort
	if devPort == handlerPort {
		devPort, _ = workspace.NextFreePorts(append(slices.Clone(servers), workspace.Server{DevPort: devPort, HandlerPort: handlerPort}))
	}

	// From here on every change is undone on failure.
	gwPath := filepath.Join(root, workspace.GoWorkFile)
	modFiles := map[string][]byte{}
	for _, f := range []string{"go.mod", "go.sum"} {
		if b, err := os.ReadFile(filepath.Join(abs, f)); err == nil {
			modFiles[f] = b
		}
	}
	fmt.Fprintf(out, "==> writing %s/host.json (handler port %d%s) and %s/local.settings.json (local port %d)\n", rel, handlerPort, argsNote(opts.Args, handlerPort), rel, devPort)
	written := []string{}
	var plan *workspace.Plan
	undo := func(cause error) error {
		errs := []error{cause}
		for _, f := range written {
			if err := os.Remove(filepath.Join(root, filepath.FromSlash(f))); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
		if plan != nil {
			if err := plan.Restore(); err != nil {
				errs = append(errs, err)
			}
		}
		for f, b := range modFiles {
			if err := workspace.WriteFileAtomic(filepath.Join(abs, f), b, 0o644); err != nil {
				errs = append(errs, fmt.Errorf("restore %s/%s: %w", rel, f, err))
			}
		}
		if _, had := modFiles["go.sum"]; !had {
			os.Remove(filepath.Join(abs, "go.sum"))
		}
		return fmt.Errorf("adopting %s failed, so every change was undone: %w", rel, errors.Join(errs...))
	}
	hostArgs := withPort(opts.Args, handlerPort)
	for _, f := range []struct {
		name string
		data []byte
	}{{"host.json", adoptHostJSON(handlerPort, hostArgs)}, {"local.settings.json", localSettingsJSON(devPort)}} {
		if err := workspace.WriteFileAtomic(filepath.Join(abs, f.name), f.data, 0o644); err != nil {
			return nil, undo(fmt.Errorf("write %s/%s: %w", rel, f.name, err))
		}
		written = append(written, rel+"/"+f.name)
	}
	slices.Sort(written)
	if plan, err = syncRegistry(root, rel, out); err != nil {
		return nil, undo(fmt.Errorf("registering %s: %w", rel, err))
	}
	res := &Result{Name: name, Dir: rel, DevPort: devPort, HandlerPort: handlerPort, Created: written, Registered: registeredFiles(plan), Sync: plan,
		Args: hostArgs, Probe: a.result, Warnings: a.warnings}
	if gw, err := os.ReadFile(gwPath); err == nil {
		if w, err := workspace.ParseGoWork(gw); err == nil && w.Go != goLine.work {
			res.GoWorkGo = [2]string{goLine.work, w.Go}
			msg := fmt.Sprintf("go.work's go line changed from %s to %s: %s/go.mod says go %s, and a workspace's go line is at least each of its modules' (sync raises it as `go work use` does), so every module here now needs Go %s or newer. To keep go %s: `go tool mage remove %s` (which puts go.work's go line back), lower the go line in %s/go.mod, and adopt it again", goLine.work, w.Go, rel, goLine.module, w.Go, goLine.work, name, rel)
			fmt.Fprintf(out, "    warning: %s\n", msg)
			res.Warnings = append(res.Warnings, msg)
		}
	}

	fmt.Fprintf(out, "==> comparing the module versions azd deploys (workspace build) with %s/go.mod (GOWORK=off)\n", rel)
	raised, err := makeVersionsExplicit(ctx, abs)
	if err != nil {
		return nil, undo(err)
	}
	if len(raised) > 0 {
		res.GoModChanged = raised
		fmt.Fprintf(out, "    changed %s/go.mod and go.sum: the workspace builds this server with newer versions than its go.mod names, so they are now written there (go mod edit, then GOWORK=off go mod tidy), and the binary you test with GOWORK=off is the one azd deploys:\n", rel)
		for _, r := range raised {
			fmt.Fprintf(out, "      %s\n", r)
		}
	} else {
		fmt.Fprintf(out, "    the same versions: what you build with GOWORK=off is what azd deploys\n")
	}
	fmt.Fprintf(out, "==> building %s as azd does (go build . in its folder, workspace mode)\n", rel)
	wsBin := filepath.Join(bin, "app-workspace")
	if err := deploy.BuildDeployable(ctx, abs, wsBin, false); err != nil {
		return nil, undo(fmt.Errorf("%s does not build in the workspace, as azd builds it: %w", rel, err))
	}
	if len(hostArgs) > 0 || len(raised) > 0 {
		why := "with the arguments now in host.json"
		if len(hostArgs) == 0 {
			why = "with the versions now in its go.mod"
		}
		nb, err := nativeBinary(ctx, abs, wsBin, filepath.Join(bin, "app-workspace-native"), false)
		if err != nil {
			return nil, undo(err)
		}
		fmt.Fprintf(out, "==> probing %s again, %s, as azd builds it\n", rel, why)
		if err := a.verify(ctx, nb, filepath.Join(abs, "host.json")); err != nil {
			return nil, undo(err)
		}
	}
	if err := workspace.CheckRegistry(root); err != nil {
		res.Warning = err.Error()
	}
	return res, nil
}

// checkHandlerPort checks a handler port given by the user or found by
// the probe against the range and the other servers.
func checkHandlerPort(port int, servers []workspace.Server, what string) error {
	if port < 1024 || port > 65535 {
		return fmt.Errorf("%s %d: use a port from 1024 to 65535; nothing was changed", what, port)
	}
	for _, s := range servers {
		if s.HandlerPort == port || s.DevPort == port {
			return fmt.Errorf("%s %d is already used by servers/%s: every server needs its own; nothing was changed", what, port, s.Name)
		}
	}
	return nil
}

// checkNotHosted refuses a folder that already has host.json or
// local.settings.json: an already hosted server gets told so, a module
// that brought its own files gets told to move them aside.
func checkNotHosted(root, rel, abs string) error {
	var have []string
	for _, f := range []string{"host.json", "local.settings.json"} {
		if _, err := os.Stat(filepath.Join(abs, f)); err == nil {
			have = append(have, f)
		}
	}
	if len(have) == 0 {
		return nil
	}
	name := strings.TrimPrefix(rel, "servers/")
	var where []string
	if b, err := os.ReadFile(filepath.Join(root, workspace.GoWorkFile)); err == nil {
		if w, err := workspace.ParseGoWork(b); err == nil {
			for _, u := range w.Use {
				if filepath.ToSlash(filepath.Clean(u)) == rel {
					where = append(where, workspace.GoWorkFile)
				}
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(root, workspace.AzureYAMLFile)); err == nil {
		if a, err := workspace.ParseAzureYAML(b); err == nil {
			if _, ok := a.Service(name); ok {
				where = append(where, workspace.AzureYAMLFile)
			}
		}
	}
	if len(where) > 0 {
		return fmt.Errorf("%s is already hosted here: it has %s and is registered in %s, so there is nothing to adopt. Run it with `go tool mage dev`, package it with `go tool mage package -server=%s`, deploy it with `azd deploy %s`; nothing was changed",
			rel, strings.Join(have, " and "), strings.Join(where, " and "), name, name)
	}
	return fmt.Errorf("%s/%s already exists: adopt writes it and will not overwrite yours; move it aside (e.g. `mv %s/%s %s/%s.orig`) and adopt again, then carry over what you need; nothing was changed",
		rel, have[0], rel, have[0], rel, have[0])
}

// nativeBinary returns a binary of the server that runs on this machine:
// deployed itself on linux/amd64, else a build for this machine.
func nativeBinary(ctx context.Context, dir, deployed, out string, standalone bool) (string, error) {
	if runtime.GOOS == "linux" && runtime.GOARCH == "amd64" {
		return deployed, nil
	}
	env := []string{"CGO_ENABLED=0"}
	if standalone {
		env = append(env, "GOWORK=off")
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return "", err
	}
	if _, err := deploy.Output(ctx, dir, env, "go", "build", "-o", abs, "."); err != nil {
		return "", err
	}
	return abs, nil
}

// goLines are the go lines of go.work and of the module being adopted.
type goLines struct{ work, module string }

// checkModule reads the go lines the registration compares, and refuses
// a module whose path another module of the workspace already has.
func checkModule(ctx context.Context, root, rel, abs string) (goLines, error) {
	var gl goLines
	b, err := os.ReadFile(filepath.Join(root, workspace.GoWorkFile))
	if err != nil {
		return gl, fmt.Errorf("read %s: %w", workspace.GoWorkFile, err)
	}
	w, err := workspace.ParseGoWork(b)
	if err != nil {
		return gl, err
	}
	gl.work = w.Go
	o, err := deploy.Output(ctx, abs, []string{"GOWORK=off"}, "go", "mod", "edit", "-json")
	if err != nil {
		return gl, fmt.Errorf("read %s/go.mod: %w", rel, err)
	}
	var m struct {
		Module struct{ Path string }
		Go     string
	}
	if err := json.Unmarshal([]byte(o), &m); err != nil {
		return gl, fmt.Errorf("read %s/go.mod: %w", rel, err)
	}
	gl.module = m.Go
	for _, u := range w.Use {
		gm, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(u), "go.mod"))
		if err != nil {
			continue
		}
		if mm := moduleLineRE.FindSubmatch(gm); mm != nil && string(mm[1]) == m.Module.Path {
			return gl, fmt.Errorf("%s/go.mod names module %s, which %s (in go.work) already is: the modules of one workspace need different paths; change the module line in %s/go.mod (e.g. to example.com/%s)", rel, m.Module.Path, strings.TrimPrefix(filepath.ToSlash(filepath.Clean(u)), "./"), rel, strings.TrimPrefix(rel, "servers/"))
		}
	}
	return gl, nil
}

var moduleLineRE = regexp.MustCompile(`(?m)^\s*module\s+"?([^"\s]+)"?`)

// makeVersionsExplicit writes into the module's go.mod every module
// version the workspace build selects above the module's own (GOWORK=off)
// selection, then tidies it on its own. It returns "path old -> new" per
// raised module.
func makeVersionsExplicit(ctx context.Context, dir string) ([]string, error) {
	ws, err := deploy.SelectedModules(ctx, dir, false)
	if err != nil {
		return nil, err
	}
	own, err := deploy.SelectedModules(ctx, dir, true)
	if err != nil {
		return nil, err
	}
	var raised, edits []string
	for _, p := range slices.Sorted(maps.Keys(ws)) {
		v := ws[p]
		ov, ok := own[p]
		if ok && ov == v {
			continue
		}
		if !ok {
			ov = "(not required)"
		}
		raised = append(raised, fmt.Sprintf("%s %s -> %s", p, ov, v))
		edits = append(edits, "-require="+p+"@"+v)
	}
	if len(edits) == 0 {
		return nil, nil
	}
	if _, err := deploy.Output(ctx, dir, []string{"GOWORK=off"}, "go", append([]string{"mod", "edit"}, edits...)...); err != nil {
		return nil, err
	}
	if _, err := deploy.Output(ctx, dir, []string{"GOWORK=off"}, "go", "mod", "tidy"); err != nil {
		return nil, fmt.Errorf("go mod tidy after raising the versions to the workspace's (it needs the Go module proxy or the module cache): %w", err)
	}
	if err := deploy.CheckVersionsExplicit(ctx, dir); err != nil {
		return nil, err
	}
	return raised, nil
}

// adoptPath checks that dir is servers/<name> under root and returns it as
// a slash path relative to root.
func adoptPath(root, dir string) (string, error) {
	if dir == "" {
		return "", errors.New("adopt needs the server's folder, e.g. `go tool mage adopt servers/my-server`; nothing was changed")
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	absDir := dir
	if !filepath.IsAbs(dir) {
		absDir = filepath.Join(absRoot, dir)
	}
	rel, err := filepath.Rel(absRoot, filepath.Clean(absDir))
	if err != nil {
		return "", err
	}
	rel = filepath.ToSlash(rel)
	parent, name, _ := strings.Cut(rel, "/")
	if parent != "servers" || name == "" || strings.Contains(name, "/") {
		return "", fmt.Errorf("%s is not a folder directly under servers/: adopt registers servers/<name> only (one folder, azd service and Function app per server) and moves or links nothing itself; copy or move your module to servers/<name> first, e.g. `cp -r %s servers/my-server`, then run `go tool mage adopt servers/my-server`; nothing was changed", dir, dir)
	}
	if !workspace.ValidName(name) {
		return "", fmt.Errorf("%q is not a valid server name: %s; rename the folder; nothing was changed", name, nameRule)
	}
	return rel, nil
}

// otherServers lists the servers under root/servers except skip, for
// picking free ports. Unlike workspace.Servers it skips folders that are
// not set up as servers yet (no host.json), such as a module copied there
// to be adopted.
func otherServers(root, skip string) ([]workspace.Server, error) {
	entries, err := os.ReadDir(filepath.Join(root, "servers"))
	if err != nil {
		return nil, fmt.Errorf("list servers: %w", err)
	}
	var out []workspace.Server
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() || n == skip || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") {
			continue
		}
		d := filepath.Join(root, "servers", n)
		if _, err := os.Stat(filepath.Join(d, "host.json")); err != nil {
			continue
		}
		s, err := workspace.ReadServer(d)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// quote returns s as a JSON string.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

var requireRE = regexp.MustCompile(`(?m)^\s*(?:require\s+)?` + regexp.QuoteMeta(sdkModule) + `\s+(v\S+)`)

// versions returns the go version of go.work and the Go MCP SDK version
// shared/hosting requires, so a new server starts in step with them.
func versions(root string) (goVersion, sdkVersion string) {
	goVersion, sdkVersion = defaultGoVersion, defaultSDKVersion
	if b, err := os.ReadFile(filepath.Join(root, workspace.GoWorkFile)); err == nil {
		if w, err := workspace.ParseGoWork(b); err == nil && w.Go != "" {
			goVersion = w.Go
		}
	}
	if b, err := os.ReadFile(filepath.Join(root, "shared", "hosting", "go.mod")); err == nil {
		if m := requireRE.FindSubmatch(b); m != nil {
			sdkVersion = string(m[1])
		}
	}
	return goVersion, sdkVersion
}
