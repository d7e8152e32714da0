// Package workspace lists the MCP servers of this repository, reads their
// Azure Functions files, and owns the registry files that name them:
// go.work, azure.yaml, infra/servers.json, .vscode/mcp.json and
// .vscode/launch.json. The list is derived from the tree: every folder
// servers/<name> holding a go.mod, a host.json and a local.settings.json is
// a server. Each registry file has its reader, its writer and its checks
// here; Sync writes all of them from the list (`mage sync`), and each
// server's host.json authorization level from its auth mode in
// infra/servers.json (entra, key or anonymous), and
// CheckRegistry fails while a sync would change anything. The magefile
// and the tests use it, so there is one list and nothing to keep in step by
// hand.
package workspace

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Server is one MCP server of the workspace.
type Server struct {
	// Name is the folder name under servers/, also the azd service name.
	Name string
	// Dir is the server's folder.
	Dir string
	// DevPort is the local port: Host.LocalHttpPort in local.settings.json,
	// the port `func start` and `mage dev` serve on.
	DevPort int
	// HandlerPort is customHandler.port in host.json, the port the Functions
	// host tells the Go process to listen on.
	HandlerPort int
	// Settings are the Values of local.settings.json: the environment
	// `func start` gives the server (a variable already set in the
	// environment wins).
	Settings map[string]string
	// GoVersion is the go line of its go.mod, e.g. "1.26.0".
	GoVersion string
	// UsesHosting reports whether its go.mod requires shared/hosting (a
	// server `mage new` wrote, or one moved onto it), whose -port flag
	// its debug configuration uses.
	UsesHosting bool
}

// HostingModule is the module path of shared/hosting.
const HostingModule = "github.com/mcpfunc/mcpfunc/shared/hosting"

// Names returns the servers' names, in order.
func Names(servers []Server) []string {
	names := make([]string, len(servers))
	for i, s := range servers {
		names[i] = s.Name
	}
	return names
}

// MCPURL is the server's local MCP endpoint.
func (s Server) MCPURL() string {
	return fmt.Sprintf("http://localhost:%d/mcp", s.DevPort)
}

// HostJSON is the part of host.json this repository relies on.
type HostJSON struct {
	Version              string `json:"version"`
	ConfigurationProfile string `json:"configurationProfile"`
	CustomHandler        struct {
		Description struct {
			DefaultExecutablePath string   `json:"defaultExecutablePath"`
			Arguments             []string `json:"arguments"`
		} `json:"description"`
		HTTP struct {
			DefaultAuthorizationLevel string `json:"DefaultAuthorizationLevel"`
		} `json:"http"`
		Port string `json:"port"`
	} `json:"customHandler"`
}

// LocalSettings is the part of local.settings.json this repository relies on.
type LocalSettings struct {
	IsEncrypted bool              `json:"IsEncrypted"`
	Values      map[string]string `json:"Values"`
	Host        struct {
		LocalHTTPPort int `json:"LocalHttpPort"`
	} `json:"Host"`
}

var validName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}[a-z0-9]$`)

// ValidName reports whether name can name a server: lower-case letters,
// digits and inner hyphens (never two in a row), 2 to 32 characters,
// starting with a letter (it becomes a folder, a Go module path element,
// an azd service name and part of Azure resource names, such as blob
// container names, that forbid "--").
func ValidName(name string) bool {
	return validName.MatchString(name) && !strings.Contains(name, "--")
}

// Servers lists the servers under root/servers, sorted by name. Folders
// whose name starts with "." or "_" are skipped, as the go command does,
// and so are folders without a go.mod, and Go modules with neither a
// host.json nor a local.settings.json (not hosted: a module copied there
// to be adopted, or one `mage remove` left without -delete). A folder
// with only one of the two is an error.
func Servers(root string) ([]Server, error) {
	dir := filepath.Join(root, "servers")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list servers: %w", err)
	}
	var out []Server
	for _, e := range entries {
		// Like the go command, skip folders starting with "." or "_"
		// (`mage new` builds a server in servers/.new-<name>-* first).
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") || strings.HasPrefix(e.Name(), "_") {
			continue
		}
		sdir := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(sdir, "go.mod")); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if !Hosted(sdir) {
			continue
		}
		s, err := ReadServer(sdir)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Server) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out, nil
}

// Hosted reports whether the folder has a host.json or a
// local.settings.json: the files that make a Go module a server here.
func Hosted(dir string) bool {
	for _, f := range []string{"host.json", "local.settings.json"} {
		if _, err := os.Lstat(filepath.Join(dir, f)); !errors.Is(err, fs.ErrNotExist) {
			return true
		}
	}
	return false
}

// hostingRequireRE finds a requirement of shared/hosting in a go.mod.
var hostingRequireRE = regexp.MustCompile(`(?m)^\s*(?:require\s+)?` + regexp.QuoteMeta(HostingModule) + `\s+v`)

// ReadServer reads the server in dir and checks its Functions files.
func ReadServer(dir string) (Server, error) {
	s := Server{Name: filepath.Base(dir), Dir: dir}
	if !ValidName(s.Name) {
		return s, fmt.Errorf("%s: %q is not a valid server name (lower-case letters, digits and hyphens, starting with a letter)", dir, s.Name)
	}
	var hj HostJSON
	if err := readJSON(filepath.Join(dir, "host.json"), &hj); err != nil {
		return s, err
	}
	p, err := strconv.Atoi(hj.CustomHandler.Port)
	if err != nil || p < 1 || p > 65535 {
		return s, fmt.Errorf("%s: customHandler.port %q is not a port number", filepath.Join(dir, "host.json"), hj.CustomHandler.Port)
	}
	s.HandlerPort = p
	var ls LocalSettings
	if err := readJSON(filepath.Join(dir, "local.settings.json"), &ls); err != nil {
		return s, err
	}
	if ls.Host.LocalHTTPPort < 1 || ls.Host.LocalHTTPPort > 65535 {
		return s, fmt.Errorf("%s: Host.LocalHttpPort must be set to the server's local port (7071, 7072, …)", filepath.Join(dir, "local.settings.json"))
	}
	s.DevPort = ls.Host.LocalHTTPPort
	s.Settings = ls.Values
	if s.GoVersion, s.UsesHosting, err = ModuleInfo(dir); err != nil {
		return s, err
	}
	return s, nil
}

// ModuleInfo reads the go.mod in dir: its go line, and whether it
// requires shared/hosting.
func ModuleInfo(dir string) (goVersion string, usesHosting bool, err error) {
	gm, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return "", false, fmt.Errorf("read %s: %w", filepath.Join(dir, "go.mod"), err)
	}
	return goModGo(gm), hostingRequireRE.Match(gm), nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}

// Check verifies what every server must satisfy together: unique ports and
// host.json files that follow the custom-handler contract. Each problem
// names the file to fix.
func Check(servers []Server) error {
	var errs []error
	dev := map[int]string{}
	handler := map[int]string{}
	for _, s := range servers {
		if other, ok := dev[s.DevPort]; ok {
			errs = append(errs, fmt.Errorf("%s: Host.LocalHttpPort %d is also used by %s", filepath.Join(s.Dir, "local.settings.json"), s.DevPort, other))
		}
		dev[s.DevPort] = s.Name
		if other, ok := handler[s.HandlerPort]; ok {
			errs = append(errs, fmt.Errorf("%s: customHandler.port %d is also used by %s", filepath.Join(s.Dir, "host.json"), s.HandlerPort, other))
		}
		handler[s.HandlerPort] = s.Name
		if other, ok := dev[s.HandlerPort]; ok {
			errs = append(errs, fmt.Errorf("%s: customHandler.port %d collides with the local port of %s", filepath.Join(s.Dir, "host.json"), s.HandlerPort, other))
		}
		if err := CheckHostJSON(s.Dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// CheckHostJSON verifies a server's host.json against the custom-handler
// contract: version 2.0, the mcp-custom-handler profile, executable "app"
// (arguments allowed: the host resolves a relative executable against the
// app folder whenever that file exists, HttpWorkerDescription.cs in
// Azure/azure-functions-host), and customHandler.http
// DefaultAuthorizationLevel "anonymous" (Easy Auth or nothing guards the
// app) or "function" (the host requires a function key: "auth": "key" in
// infra/servers.json, which CheckRegistry compares it with). Without it
// the host defaults to "function".
func CheckHostJSON(dir string) error {
	path := filepath.Join(dir, "host.json")
	var hj HostJSON
	if err := readJSON(path, &hj); err != nil {
		return err
	}
	var errs []error
	if hj.Version != "2.0" {
		errs = append(errs, fmt.Errorf("%s: version must be \"2.0\", not %q", path, hj.Version))
	}
	if hj.ConfigurationProfile != "mcp-custom-handler" {
		errs = append(errs, fmt.Errorf("%s: configurationProfile must be \"mcp-custom-handler\", not %q", path, hj.ConfigurationProfile))
	}
	if hj.CustomHandler.Description.DefaultExecutablePath != "app" {
		errs = append(errs, fmt.Errorf("%s: customHandler.description.defaultExecutablePath must be \"app\" (the binary azd builds), not %q", path, hj.CustomHandler.Description.DefaultExecutablePath))
	}
	if l := hj.CustomHandler.HTTP.DefaultAuthorizationLevel; l != AuthorizationLevel(AuthEntra) && l != AuthorizationLevel(AuthKey) {
		errs = append(errs, fmt.Errorf("%s: customHandler.http.DefaultAuthorizationLevel must be %q (\"auth\" entra or anonymous in %s) or %q (\"auth\": \"key\"), not %q", path, AuthorizationLevel(AuthEntra), ServerListFile, AuthorizationLevel(AuthKey), l))
	}
	return errors.Join(errs...)
}
