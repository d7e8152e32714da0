package workspace

// .vscode/launch.json: its reader and the sync writer of each server's
// Delve configuration (the one whose program is the server's folder).
// Configurations for other programs are left alone, and so is a server's
// own configuration once it exists.

import (
	"encoding/json"
	"fmt"
	"strings"
)

// LaunchJSON is the part of .vscode/launch.json this repository writes.
type LaunchJSON struct {
	Configurations []struct {
		Name    string `json:"name"`
		Type    string `json:"type"`
		Program string `json:"program"`
	} `json:"configurations"`
}

// ParseLaunchJSON reads .vscode/launch.json (plain JSON: comments are not
// supported).
func ParseLaunchJSON(b []byte) (*LaunchJSON, error) {
	var l LaunchJSON
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("parse %s (plain JSON: remove comments and trailing commas): %w", LaunchJSONFile, err)
	}
	return &l, nil
}

// programServer returns the server a configuration's program debugs, if
// it is ${workspaceFolder}/servers/<name>.
func programServer(program string) (string, bool) {
	name, ok := strings.CutPrefix(program, "${workspaceFolder}/servers/")
	if !ok {
		return "", false
	}
	name = strings.TrimSuffix(name, "/")
	return name, name != "" && !strings.Contains(name, "/")
}

// LaunchConfig is a server's Delve configuration as sync writes it. A
// server on shared/hosting takes -port and, like `mage dev`, runs with
// MCP_AUTH=none; any other is given FUNCTIONS_CUSTOMHANDLER_PORT, as the
// Functions host gives it.
func LaunchConfig(s Server) string {
	lines := []string{
		"{",
		`  "name": ` + jsonQuote(fmt.Sprintf("Debug %s (port %d)", s.Name, s.DevPort)) + ",",
		`  "type": "go",`,
		`  "request": "launch",`,
		`  "mode": "debug",`,
		`  "program": ` + jsonQuote("${workspaceFolder}/servers/"+s.Name) + ",",
		`  "cwd": ` + jsonQuote("${workspaceFolder}/servers/"+s.Name) + ",",
	}
	if s.UsesHosting {
		lines = append(lines,
			fmt.Sprintf(`  "args": ["-port", "%d"],`, s.DevPort),
			`  "env": { "LOG_LEVEL": "debug", "MCP_AUTH": "none" }`)
	} else {
		lines = append(lines, fmt.Sprintf(`  "env": { "FUNCTIONS_CUSTOMHANDLER_PORT": "%d" }`, s.DevPort))
	}
	return strings.Join(append(lines, "}"), "\n")
}

// syncLaunchJSON adds a configuration for every server that has none and
// removes the configurations of servers that do not exist.
func syncLaunchJSON(src []byte, servers []Server) ([]byte, []Edit, error) {
	l, err := ParseLaunchJSON(src)
	if err != nil {
		return nil, nil, err
	}
	isServer := serverSet(servers)
	fail := func(err error) ([]byte, []Edit, error) {
		return nil, nil, fmt.Errorf("%s: %w", LaunchJSONFile, err)
	}
	var edits []Edit
	out := src
	debugged := map[string]bool{}
	for i := len(l.Configurations) - 1; i >= 0; i-- {
		c := l.Configurations[i]
		name, ok := programServer(c.Program)
		if !ok {
			continue
		}
		if isServer[name] {
			debugged[name] = true
			continue
		}
		if out, err = jsonRemove(out, []string{"configurations"}, i); err != nil {
			return fail(err)
		}
		edits = append([]Edit{{Problem: fmt.Sprintf("configuration %q debugs servers/%s, which does not exist", c.Name, name), Fix: fmt.Sprintf("remove the configuration %q", c.Name)}}, edits...)
	}
	for _, s := range servers {
		if debugged[s.Name] {
			continue
		}
		edits = append(edits, Edit{Problem: fmt.Sprintf("no configuration debugs servers/%s", s.Name), Fix: fmt.Sprintf("add the configuration %q", fmt.Sprintf("Debug %s (port %d)", s.Name, s.DevPort))})
		if out, err = jsonAppendTo(out, nil, "configurations", "[]", "", LaunchConfig(s)); err != nil {
			return fail(err)
		}
	}
	if len(edits) == 0 {
		return src, nil, nil
	}
	return out, edits, nil
}
