package workspace

// Each server's host.json: the sync writer of
// customHandler.http.DefaultAuthorizationLevel, which follows the server's
// auth mode in infra/servers.json ("function" for key, "anonymous"
// otherwise). The rest of host.json is the server's own and stays byte for
// byte.

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
)

// HostJSONFile is the slash path of a server's host.json, relative to the
// repository root.
func HostJSONFile(server string) string { return path.Join("servers", server, "host.json") }

// syncHostJSON sets customHandler.http.DefaultAuthorizationLevel of a
// server's host.json to the level its auth mode needs.
func syncHostJSON(src []byte, server, mode string) ([]byte, []Edit, error) {
	var hj HostJSON
	if err := json.Unmarshal(src, &hj); err != nil {
		return nil, nil, fmt.Errorf("parse %s: %w", HostJSONFile(server), err)
	}
	want := AuthorizationLevel(mode)
	got := hj.CustomHandler.HTTP.DefaultAuthorizationLevel
	if got == want {
		return src, nil, nil
	}
	var (
		out []byte
		err error
	)
	if at, ferr := jsonFind(src, []string{"customHandler", "http"}); ferr == nil && at >= 0 {
		out, err = jsonSet(src, []string{"customHandler", "http"}, "DefaultAuthorizationLevel", jsonQuote(want))
	} else {
		out, err = jsonAppendTo(src, []string{"customHandler"}, "http", "{}", "DefaultAuthorizationLevel", jsonQuote(want))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", HostJSONFile(server), err)
	}
	return out, []Edit{{
		Problem: fmt.Sprintf("customHandler.http.DefaultAuthorizationLevel is %q, but %s deploys %s with \"auth\": %q, which needs %q", got, ServerListFile, server, mode, want),
		Fix:     fmt.Sprintf("set customHandler.http.DefaultAuthorizationLevel to %q", want),
	}}, nil
}

// planHostJSON plans the host.json change of each server, skipping a
// server whose folder has no host.json yet (one `mage new` is about to
// write).
func planHostJSON(root string, servers []Server, modes map[string]string) ([]Change, error) {
	var changes []Change
	for _, s := range servers {
		rel := HostJSONFile(s.Name)
		p := filepath.Join(root, filepath.FromSlash(rel))
		src, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", rel, err)
		}
		out, edits, err := syncHostJSON(src, s.Name, modeOf(modes, s.Name))
		if err != nil {
			return nil, err
		}
		if len(edits) == 0 {
			continue
		}
		mode := os.FileMode(0o644)
		if fi, err := os.Stat(p); err == nil {
			mode = fi.Mode().Perm()
		}
		changes = append(changes, Change{File: rel, Old: src, New: out, Existed: true, Mode: mode, Edits: edits})
	}
	return changes, nil
}

// modeOf is a server's auth mode in modes, AuthEntra if it has none (a
// server sync is adding to infra/servers.json).
func modeOf(modes map[string]string, server string) string {
	if m, ok := modes[server]; ok {
		return m
	}
	return AuthEntra
}

// serverAuthModes reads the auth mode of each server infra/servers.json
// lists. A missing file lists none; a file that does not parse is reported
// by the servers.json part of the plan, so it lists none here either.
func serverAuthModes(root string) map[string]string {
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(ServerListFile)))
	if err != nil {
		return nil
	}
	list, err := ParseServerList(b)
	if err != nil {
		return nil
	}
	return AuthModesOf(list)
}
