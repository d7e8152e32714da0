package workspace

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// CheckRegistry verifies that the servers under root/servers and the files
// that register them agree:
//
//   - every server is a `use` of go.work, an azure.yaml service (project
//     ./servers/<name>, language go, host function), an entry of
//     infra/servers.json, and has <name>-local (its local port) and
//     <name>-remote entries and a <name>-host input in .vscode/mcp.json and
//     a Delve configuration in .vscode/launch.json; <name>-remote's url is
//     the ${input:<name>-host} prompt or, once the azd hook has run,
//     https://<host>/mcp;
//   - nothing is registered that does not exist;
//   - ports are unique and every host.json follows the contract (Check).
//
// Every problem is reported, each naming the file to fix.
func CheckRegistry(root string) error {
	servers, err := Servers(root)
	if err != nil {
		return err
	}
	var errs []error
	if err := Check(servers); err != nil {
		errs = append(errs, err)
	}
	names := map[string]Server{}
	for _, s := range servers {
		names[s.Name] = s
	}
	for _, check := range []func(string, []Server, map[string]Server) []error{
		checkGoWork, checkAzureYAML, checkServerList, checkMCPJSON, checkLaunchJSON,
	} {
		errs = append(errs, check(root, servers, names)...)
	}
	return errors.Join(errs...)
}

// serverOfPath returns the server a workspace-relative path such as
// "./servers/weather" or "servers/weather/" names, if it has that form.
func serverOfPath(p string) (string, bool) {
	p = path.Clean(filepath.ToSlash(p))
	dir, name := path.Split(p)
	if dir != "servers/" {
		return "", false
	}
	return name, true
}

func checkGoWork(root string, servers []Server, names map[string]Server) []error {
	b, err := os.ReadFile(filepath.Join(root, GoWorkFile))
	if err != nil {
		return []error{fmt.Errorf("read %s: %w", GoWorkFile, err)}
	}
	w, err := ParseGoWork(b)
	if err != nil {
		return []error{err}
	}
	var errs []error
	used := map[string]bool{}
	for _, u := range w.Use {
		if name, ok := serverOfPath(u); ok {
			used[name] = true
			if _, ok := names[name]; !ok {
				errs = append(errs, fmt.Errorf("%s: use %s, but there is no server servers/%s (with go.mod, host.json and local.settings.json): remove the line", GoWorkFile, u, name))
			}
			continue
		}
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(u), "go.mod")); err != nil {
			errs = append(errs, fmt.Errorf("%s: use %s, but %s has no go.mod: remove the line", GoWorkFile, u, u))
		}
	}
	for _, s := range servers {
		if !used[s.Name] {
			errs = append(errs, fmt.Errorf("%s: servers/%s is missing: run `go work use ./servers/%s`", GoWorkFile, s.Name, s.Name))
		}
	}
	return errs
}

func checkAzureYAML(root string, servers []Server, names map[string]Server) []error {
	b, err := os.ReadFile(filepath.Join(root, AzureYAMLFile))
	if err != nil {
		return []error{fmt.Errorf("read %s: %w", AzureYAMLFile, err)}
	}
	a, err := ParseAzureYAML(b)
	if err != nil {
		return []error{err}
	}
	var errs []error
	seen := map[string]bool{}
	for _, svc := range a.Services {
		where := fmt.Sprintf("%s:%d: service %s", AzureYAMLFile, svc.Line, svc.Name)
		if seen[svc.Name] {
			errs = append(errs, fmt.Errorf("%s appears twice", where))
		}
		seen[svc.Name] = true
		if _, ok := names[svc.Name]; !ok {
			errs = append(errs, fmt.Errorf("%s: there is no server servers/%s: remove the service", where, svc.Name))
			continue
		}
		if got, ok := serverOfPath(svc.Project); !ok || got != svc.Name {
			errs = append(errs, fmt.Errorf("%s: project must be %s, not %q", where, ProjectPath(svc.Name), svc.Project))
		}
		switch svc.Language {
		case "go", "golang":
		case "custom":
			// The documented fallback for azd < 1.26 (README): hooks build
			// into dist.
			if svc.Dist == "" {
				errs = append(errs, fmt.Errorf("%s: language custom needs dist: (see the README's fallback for azd older than 1.26)", where))
			}
		default:
			errs = append(errs, fmt.Errorf("%s: language must be go, not %q", where, svc.Language))
		}
		if svc.Host != "function" {
			errs = append(errs, fmt.Errorf("%s: host must be function, not %q", where, svc.Host))
		}
	}
	for _, s := range servers {
		if !seen[s.Name] {
			errs = append(errs, fmt.Errorf("%s: servers/%s has no service: add\n  %s:\n    project: %s\n    language: go\n    host: function", AzureYAMLFile, s.Name, s.Name, ProjectPath(s.Name)))
		}
	}
	return errs
}

func checkServerList(root string, servers []Server, names map[string]Server) []error {
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(ServerListFile)))
	if err != nil {
		return []error{fmt.Errorf("read %s: %w", ServerListFile, err)}
	}
	list, err := ParseServerList(b)
	if err != nil {
		return []error{err}
	}
	var errs []error
	seen := map[string]bool{}
	for i, e := range list {
		if seen[e.Name] {
			errs = append(errs, fmt.Errorf("%s: %q appears twice", ServerListFile, e.Name))
		}
		seen[e.Name] = true
		if _, ok := names[e.Name]; !ok {
			errs = append(errs, fmt.Errorf("%s: %q is not a server under servers/: remove the entry (Bicep would create a Function app nothing deploys to)", ServerListFile, e.Name))
		}
		if i > 0 && list[i-1].Name > e.Name {
			errs = append(errs, fmt.Errorf("%s: entries must be sorted by name (%q comes after %q)", ServerListFile, e.Name, list[i-1].Name))
		}
	}
	for _, s := range servers {
		if !seen[s.Name] {
			errs = append(errs, fmt.Errorf("%s: servers/%s is missing: add {\"name\": %q, \"graph\": false} (true if it calls Microsoft Graph)", ServerListFile, s.Name, s.Name))
		}
	}
	return errs
}

func checkMCPJSON(root string, servers []Server, names map[string]Server) []error {
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(MCPJSONFile)))
	if err != nil {
		return []error{fmt.Errorf("read %s: %w", MCPJSONFile, err)}
	}
	m, err := ParseMCPJSON(b)
	if err != nil {
		return []error{err}
	}
	var errs []error
	inputs := map[string]bool{}
	for _, in := range m.Inputs {
		inputs[in.ID] = true
		if name, ok := strings.CutSuffix(in.ID, "-host"); ok && ValidName(name) {
			if _, ok := names[name]; !ok {
				errs = append(errs, fmt.Errorf("%s: input %q is for a server that does not exist: remove it", MCPJSONFile, in.ID))
			}
		}
	}
	for key, e := range m.Servers {
		// Entries this repository writes: <name>-local on a localhost port
		// and <name>-remote on ${input:<name>-host}. Others are left alone,
		// and so are remote entries the azd hook pointed at a host: the
		// <name>-host input, which the hook keeps, is reported instead.
		if name, ok := strings.CutSuffix(key, "-local"); ok && strings.HasPrefix(e.URL, "http://localhost:") {
			if _, ok := names[name]; !ok {
				errs = append(errs, fmt.Errorf("%s: %q is for a server that does not exist: remove it", MCPJSONFile, key))
			}
		}
		if name, ok := strings.CutSuffix(key, "-remote"); ok && strings.Contains(e.URL, "${input:") {
			if _, ok := names[name]; !ok {
				errs = append(errs, fmt.Errorf("%s: %q is for a server that does not exist: remove it", MCPJSONFile, key))
			}
		}
	}
	for _, s := range servers {
		local, ok := m.Servers[MCPLocalName(s.Name)]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%s: servers.%s is missing: add {\"type\": \"http\", \"url\": %q}", MCPJSONFile, MCPLocalName(s.Name), s.MCPURL()))
		case local.URL != s.MCPURL() || local.Type != "http":
			errs = append(errs, fmt.Errorf("%s: servers.%s must be {\"type\": \"http\", \"url\": %q} (Host.LocalHttpPort of servers/%s/local.settings.json), not {%q, %q}", MCPJSONFile, MCPLocalName(s.Name), s.MCPURL(), s.Name, local.Type, local.URL))
		}
		remote, ok := m.Servers[MCPRemoteName(s.Name)]
		_, hostURL := MCPRemoteHost(remote.URL)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%s: servers.%s is missing: add {\"type\": \"http\", \"url\": %q}", MCPJSONFile, MCPRemoteName(s.Name), MCPRemoteURL(s.Name)))
		case remote.URL != MCPRemoteURL(s.Name) && !hostURL || remote.Type != "http":
			errs = append(errs, fmt.Errorf("%s: servers.%s must be {\"type\": \"http\", \"url\": %q} (or %q, as the azd hook writes it), not {%q, %q}", MCPJSONFile, MCPRemoteName(s.Name), MCPRemoteURL(s.Name), MCPRemoteHostURL("<host>"), remote.Type, remote.URL))
		}
		if !inputs[MCPHostInput(s.Name)] {
			errs = append(errs, fmt.Errorf("%s: inputs lacks %q (a promptString for the Function app host name that %s uses)", MCPJSONFile, MCPHostInput(s.Name), MCPRemoteName(s.Name)))
		}
	}
	return errs
}

func checkLaunchJSON(root string, servers []Server, names map[string]Server) []error {
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(LaunchJSONFile)))
	if err != nil {
		return []error{fmt.Errorf("read %s: %w", LaunchJSONFile, err)}
	}
	l, err := ParseLaunchJSON(b)
	if err != nil {
		return []error{err}
	}
	var errs []error
	debugged := map[string]bool{}
	for _, c := range l.Configurations {
		name, ok := strings.CutPrefix(c.Program, "${workspaceFolder}/servers/")
		if !ok {
			continue
		}
		name = strings.TrimSuffix(name, "/")
		debugged[name] = true
		if _, ok := names[name]; !ok {
			errs = append(errs, fmt.Errorf("%s: configuration %q debugs servers/%s, which does not exist: remove it", LaunchJSONFile, c.Name, name))
		}
	}
	for _, s := range servers {
		if !debugged[s.Name] {
			errs = append(errs, fmt.Errorf("%s: no configuration debugs servers/%s: add one with \"program\": \"${workspaceFolder}/servers/%s\"", LaunchJSONFile, s.Name, s.Name))
		}
	}
	return errs
}

// NextFreePorts returns the lowest local port from 7071 and the lowest
// handler port from 8081 that no server in servers uses, as a local or a
// handler port: the ports `mage new` and `mage adopt` give a new server.
func NextFreePorts(servers []Server) (devPort, handlerPort int) {
	used := map[int]bool{}
	for _, s := range servers {
		used[s.DevPort] = true
		used[s.HandlerPort] = true
	}
	next := func(from int) int {
		for p := from; ; p++ {
			if !used[p] {
				return p
			}
		}
	}
	return next(7071), next(8081)
}
