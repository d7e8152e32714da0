package workspace

// Sync: the registry files are written from servers/*. Each file's reader,
// writer and the checks sync cannot fix live in one file of this package
// (gowork.go, azureyaml.go, serverlist.go, mcpjson.go, launchjson.go);
// this file plans the changes of all five and applies them together.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// serverSet returns the names of servers.
func serverSet(servers []Server) map[string]bool {
	set := map[string]bool{}
	for _, s := range servers {
		set[s.Name] = true
	}
	return set
}

// Paths of the registry files, relative to the repository root.
const (
	GoWorkFile     = "go.work"
	AzureYAMLFile  = "azure.yaml"
	ServerListFile = "infra/servers.json"
	MCPJSONFile    = ".vscode/mcp.json"
	LaunchJSONFile = ".vscode/launch.json"
)

// RegistryFiles are the files that register the servers, in the order
// sync writes them.
func RegistryFiles() []string {
	return []string{GoWorkFile, AzureYAMLFile, ServerListFile, MCPJSONFile, LaunchJSONFile}
}

// ProjectPath is the azure.yaml project path of a server.
func ProjectPath(server string) string { return "./servers/" + server }

// Edit is one thing sync changes in a file, and why.
type Edit struct {
	// Line is the 1-based line concerned, when the file is line-based
	// and the thing exists (0 otherwise).
	Line int
	// Problem says what is wrong, e.g. "servers/demo has no service".
	Problem string
	// Fix says what sync does about it, e.g. "add service demo".
	Fix string
}

// Change is what sync does to one registry file.
type Change struct {
	// File is the file's slash path relative to the root.
	File string
	// Old is the file's content, nil when it did not exist; New what sync
	// writes.
	Old, New []byte
	Existed  bool
	Mode     fs.FileMode
	Edits    []Edit
}

// Plan is what a sync would change.
type Plan struct {
	Root string
	// Servers are the servers the plan registers.
	Servers []Server
	// Changes lists the files that change, in RegistryFiles order, then
	// the servers' host.json files.
	Changes []Change
}

// Files returns the files the plan changes, in RegistryFiles order.
func (p *Plan) Files() []string {
	var out []string
	for _, c := range p.Changes {
		out = append(out, c.File)
	}
	return out
}

// Lines describes the plan, one "file: fix" line per edit.
func (p *Plan) Lines() []string {
	var out []string
	for _, c := range p.Changes {
		for _, e := range c.Edits {
			out = append(out, c.File+": "+e.Fix)
		}
	}
	return out
}

// Explained describes the plan with the reason of each edit, one
// "file: fix (problem)" line per edit.
func (p *Plan) Explained() []string {
	var out []string
	for _, c := range p.Changes {
		for _, e := range c.Edits {
			out = append(out, fmt.Sprintf("%s: %s (%s)", c.File, e.Fix, e.Problem))
		}
	}
	return out
}

// SyncOptions adjusts a sync.
type SyncOptions struct {
	// LowerGo lets the go line of go.work go down to the highest go line
	// of the modules it uses (`mage remove` sets it when the removed
	// server had raised it). Otherwise sync only raises it, as `go work
	// use` does.
	LowerGo bool
}

// skeleton is what sync starts from when a JSON registry file is missing;
// go.work and azure.yaml must exist ("").
func skeleton(rel string) string {
	switch rel {
	case ServerListFile:
		return "[]\n"
	case MCPJSONFile:
		return "{\n  \"inputs\": [],\n  \"servers\": {}\n}\n"
	case LaunchJSONFile:
		return "{\n  \"version\": \"0.2.0\",\n  \"configurations\": []\n}\n"
	}
	return ""
}

// PlanSync computes, without writing anything, what the registry files
// must become to register exactly servers (normally Servers(root)):
//
//   - go.work uses ./servers/<name> for each server and no other folder of
//     servers/, and its go line is at least every used module's (as `go
//     work use` makes it);
//   - azure.yaml has a service per server (project ./servers/<name>,
//     language go, host function) and none for a folder of servers/ that
//     is not a server;
//   - infra/servers.json lists each server once, sorted by name (a new
//     entry has "graph": false; an existing entry is kept as written);
//   - .vscode/mcp.json has <name>-local on the server's local port,
//     <name>-remote on the ${input:<name>-host} prompt or on the
//     https://<host>/mcp the azd hook wrote, and the <name>-host input,
//     and none of them for a server that does not exist;
//   - .vscode/launch.json has a configuration debugging each server;
//   - each server's host.json has the customHandler.http
//     DefaultAuthorizationLevel its auth mode in infra/servers.json needs
//     ("function" for key, "anonymous" otherwise), and for a key-mode
//     server its .vscode/mcp.json local and remote entries send a function
//     key, each asked for by a password input.
//
// Everything else in the files is kept byte for byte: other entries,
// comments (azure.yaml, go.work), formatting. Missing JSON files are
// created; a missing go.work or azure.yaml is an error. Every file that
// cannot be read or parsed is reported; the plan holds the others.
func PlanSync(root string, servers []Server, opts SyncOptions) (*Plan, error) {
	p := &Plan{Root: root, Servers: servers}
	var errs []error
	modes := serverAuthModes(root)
	for _, f := range RegistryFiles() {
		c, err := planFile(root, f, servers, modes, opts)
		switch {
		case err != nil:
			errs = append(errs, err)
		case c != nil:
			p.Changes = append(p.Changes, *c)
		}
	}
	hosts, err := planHostJSON(root, servers, modes)
	if err != nil {
		errs = append(errs, err)
	}
	p.Changes = append(p.Changes, hosts...)
	return p, errors.Join(errs...)
}

func planFile(root, rel string, servers []Server, modes map[string]string, opts SyncOptions) (*Change, error) {
	path := filepath.Join(root, filepath.FromSlash(rel))
	c := &Change{File: rel, Mode: 0o644}
	src, err := os.ReadFile(path)
	switch {
	case err == nil:
		c.Old, c.Existed = src, true
		if fi, err := os.Stat(path); err == nil {
			c.Mode = fi.Mode().Perm()
		}
	case errors.Is(err, fs.ErrNotExist) && skeleton(rel) != "":
		if len(servers) == 0 {
			return nil, nil
		}
		src = []byte(skeleton(rel))
		c.Edits = append(c.Edits, Edit{Problem: "the file is missing", Fix: "create " + rel})
	case rel == GoWorkFile || rel == AzureYAMLFile:
		return nil, fmt.Errorf("read %s (run this in the repository's root folder): %w", rel, err)
	default:
		return nil, fmt.Errorf("read %s: %w", rel, err)
	}
	var (
		out   []byte
		edits []Edit
	)
	switch rel {
	case GoWorkFile:
		out, edits, err = syncGoWork(root, src, servers, opts)
	case AzureYAMLFile:
		out, edits, err = syncAzureYAML(src, servers)
	case ServerListFile:
		out, edits, err = syncServerList(src, servers)
	case MCPJSONFile:
		out, edits, err = syncMCPJSON(src, servers, modes)
	case LaunchJSONFile:
		out, edits, err = syncLaunchJSON(src, servers)
	}
	if err != nil {
		return nil, err
	}
	c.New = out
	c.Edits = append(c.Edits, edits...)
	if c.Existed && string(c.New) == string(c.Old) {
		return nil, nil
	}
	return c, nil
}

// Apply writes the plan's files, each atomically. If a write fails, the
// files already written are restored and the error says so.
func (p *Plan) Apply() error {
	for i, c := range p.Changes {
		path := filepath.Join(p.Root, filepath.FromSlash(c.File))
		err := os.MkdirAll(filepath.Dir(path), 0o755)
		if err == nil {
			err = WriteFileAtomic(path, c.New, c.Mode)
		}
		if err != nil {
			err = fmt.Errorf("write %s: %w", c.File, err)
			done := &Plan{Root: p.Root, Changes: p.Changes[:i]}
			if rerr := done.Restore(); rerr != nil {
				return errors.Join(err, rerr)
			}
			return fmt.Errorf("%w; the registry files were left as they were", err)
		}
	}
	return nil
}

// Restore puts back what Apply changed: each file's old content, and
// removes the files it created.
func (p *Plan) Restore() error {
	var errs []error
	for _, c := range p.Changes {
		path := filepath.Join(p.Root, filepath.FromSlash(c.File))
		var err error
		if c.Existed {
			err = WriteFileAtomic(path, c.Old, c.Mode)
		} else if err = os.Remove(path); errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("restore %s: %w", c.File, err))
		}
	}
	return errors.Join(errs...)
}

// Sync registers exactly the servers under root/servers in the registry
// files (see PlanSync) and returns what it changed. It writes nothing if
// any file cannot be read or parsed.
func Sync(root string, opts SyncOptions) (*Plan, error) {
	servers, err := Servers(root)
	if err != nil {
		return nil, fmt.Errorf("%w; nothing was changed", err)
	}
	p, err := PlanSync(root, servers, opts)
	if err != nil {
		return nil, fmt.Errorf("%w; nothing was changed", err)
	}
	if err := p.Apply(); err != nil {
		return nil, err
	}
	return p, nil
}

// WriteFileAtomic replaces path with data: readers see the old or the new
// file, never a part.
func WriteFileAtomic(path string, data []byte, perm fs.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp, perm)); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
