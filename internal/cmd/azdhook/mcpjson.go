package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mcpfunc/mcpfunc/internal/deployment"
	"github.com/mcpfunc/mcpfunc/internal/workspace"
)

const mcpJSONFile = workspace.MCPJSONFile

// state is what became of a server's remote entry in .vscode/mcp.json.
type state int

const (
	pointed state = iota // its url now is the server's https://<host>/mcp
	already              // its url already was
	missing              // there is no <name>-remote entry
	custom               // its url is neither the prompt nor https://<host>/mcp: left alone
)

// result is what became of one server's remote entry.
type result struct {
	state state
	url   string // the entry's url before
}

// updateMCPJSONFile points the remote entries of src, the mcp.json at
// path, at the servers' hosts and writes the file (unless dryRun) if that
// changed it. It returns a result per server name.
func updateMCPJSONFile(path string, src []byte, servers []deployment.Server, dryRun bool) (map[string]result, error) {
	out, results, err := rewriteMCPJSON(src, servers)
	if err != nil {
		return nil, err
	}
	if dryRun || bytes.Equal(out, src) {
		return results, nil
	}
	if err := writeFileAtomic(path, out); err != nil {
		return nil, fmt.Errorf("write %s: %w", mcpJSONFile, err)
	}
	return results, nil
}

// rewriteMCPJSON sets the url of each server's <name>-remote entry to
// https://<host>/mcp if it is the ${input:<name>-host} prompt `mage new`
// writes or another https://<host>/mcp (an earlier deployment). The
// <name>-host input stays: VS Code asks only for inputs a url uses, and
// putting the prompt back in the url brings it back. Every other byte of
// src is kept, so running this twice changes nothing the second time.
func rewriteMCPJSON(src []byte, servers []deployment.Server) ([]byte, map[string]result, error) {
	m, err := workspace.ParseMCPJSON(src)
	if err != nil {
		return nil, nil, fmt.Errorf("%w%s", err, deployment.Near(string(src), err))
	}
	results := make(map[string]result, len(servers))
	for _, s := range servers {
		key := workspace.MCPRemoteName(s.Name)
		e, ok := m.Servers[key]
		_, hostURL := workspace.MCPRemoteHost(e.URL)
		r := result{url: e.URL}
		switch {
		case !ok:
			r.state = missing
		case e.URL == s.URL():
			r.state = already
		case e.URL != workspace.MCPRemoteURL(s.Name) && !hostURL:
			r.state = custom
		default:
			if src, err = setString(src, s.URL(), "servers", key, "url"); err != nil {
				return nil, nil, fmt.Errorf("%s: servers.%s.url: %w", mcpJSONFile, key, err)
			}
			r.state = pointed
		}
		results[s.Name] = r
	}
	// The edit must read back as intended (a duplicate key would not).
	m, err = workspace.ParseMCPJSON(src)
	if err != nil {
		return nil, nil, fmt.Errorf("edited %s does not parse (a bug; the file was not written): %w", mcpJSONFile, err)
	}
	for _, s := range servers {
		if key := workspace.MCPRemoteName(s.Name); results[s.Name].state == pointed && m.Servers[key].URL != s.URL() {
			return nil, nil, fmt.Errorf("%s: servers.%s.url reads back as %q, not %q (a duplicate key?): the file was not written", mcpJSONFile, key, m.Servers[key].URL, s.URL())
		}
	}
	return src, results, nil
}

// setString replaces the value at path (object keys from the top level)
// of the JSON document src, which must be a string, with value, keeping
// every other byte. encoding/json's decoder finds the value's offsets.
func setString(src []byte, value string, path ...string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(src))
	for depth, key := range path {
		if tok, err := dec.Token(); err != nil {
			return nil, err
		} else if tok != json.Delim('{') {
			return nil, fmt.Errorf("%s is not an object", strings.Join(append([]string{"(top level)"}, path[:depth]...), "."))
		}
		for {
			if !dec.More() {
				return nil, fmt.Errorf("%s is missing", strings.Join(path[:depth+1], "."))
			}
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			if tok == key {
				break
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, err
			}
		}
	}
	var old json.RawMessage
	if err := dec.Decode(&old); err != nil {
		return nil, err
	}
	end := int(dec.InputOffset())
	start := end - len(old)
	if start < 0 || !bytes.Equal(src[start:end], old) {
		return nil, errors.New("cannot locate the value in the file")
	}
	if len(old) == 0 || old[0] != '"' {
		return nil, fmt.Errorf("is %s, not a string", old)
	}
	var enc bytes.Buffer
	e := json.NewEncoder(&enc)
	e.SetEscapeHTML(false)
	if err := e.Encode(value); err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(src)+enc.Len())
	out = append(append(append(out, src[:start]...), bytes.TrimSuffix(enc.Bytes(), []byte("\n"))...), src[end:]...)
	return out, nil
}

// writeFileAtomic replaces path with data, keeping its mode: readers see
// the old file or the new one, never a part.
func writeFileAtomic(path string, data []byte) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	if err := errors.Join(werr, f.Close(), os.Chmod(f.Name(), info.Mode().Perm())); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}
