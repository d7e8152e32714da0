package workspace

// infra/servers.json, the list of Function apps Bicep deploys: its reader
// and its sync writer. Each entry's own text (the graph flag and the auth
// mode above all) is kept; entries are added, removed and kept sorted by
// name.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ServerEntry is one entry of infra/servers.json, the list Bicep deploys.
type ServerEntry struct {
	Name  string `json:"name"`
	Graph bool   `json:"graph"`
	// Auth is how the deployed server authenticates its callers: one of
	// AuthModes, AuthEntra when empty (see Mode). The azd environment
	// variable MCP_SERVER_AUTH can override it per deployment.
	Auth string `json:"auth,omitempty"`
}

// The authentication modes a server can be deployed with (the "auth" of
// its infra/servers.json entry, or MCP_SERVER_AUTH at deploy time).
const (
	// AuthEntra: an Entra app registration and Easy Auth in front
	// (MCP_AUTH=easyauth); the default.
	AuthEntra = "entra"
	// AuthKey: no Entra; the Functions host requires a function key
	// (customHandler.http.DefaultAuthorizationLevel "function",
	// MCP_AUTH=key).
	AuthKey = "key"
	// AuthAnonymous: anyone with the URL can call the server
	// (MCP_AUTH=none).
	AuthAnonymous = "anonymous"
)

// AuthModes are the values "auth" can take, the default first.
func AuthModes() []string { return []string{AuthEntra, AuthKey, AuthAnonymous} }

// Mode returns the entry's auth mode: Auth, or AuthEntra when it is empty.
func (e ServerEntry) Mode() string {
	if e.Auth == "" {
		return AuthEntra
	}
	return e.Auth
}

// AuthorizationLevel is the customHandler.http.DefaultAuthorizationLevel
// a server's host.json carries for an auth mode: "function" (a function
// key required) for AuthKey, "anonymous" for the others (Easy Auth or
// nothing guards the app).
func AuthorizationLevel(mode string) string {
	if mode == AuthKey {
		return "function"
	}
	return "anonymous"
}

// ParseServerList reads infra/servers.json and checks each entry's auth
// mode.
func ParseServerList(b []byte) ([]ServerEntry, error) {
	var list []ServerEntry
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("parse %s: %w (want [{\"name\": …, \"graph\": true|false, \"auth\": \"entra\"|\"key\"|\"anonymous\"}, …])", ServerListFile, err)
	}
	var errs []error
	for _, e := range list {
		if e.Auth != "" && !slices.Contains(AuthModes(), e.Auth) {
			errs = append(errs, fmt.Errorf("%s: server %q has \"auth\": %q; allowed values are %s (none means %q)", ServerListFile, e.Name, e.Auth, quoteList(AuthModes()), AuthEntra))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return list, nil
}

// AuthModesOf returns each listed server's auth mode (ServerEntry.Mode).
func AuthModesOf(list []ServerEntry) map[string]string {
	modes := make(map[string]string, len(list))
	for _, e := range list {
		modes[e.Name] = e.Mode()
	}
	return modes
}

// quoteList quotes each of s and joins them with commas.
func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}

// serverListEntry is the entry sync writes for a new server.
func serverListEntry(name string) string {
	return fmt.Sprintf("{\n  \"name\": %s,\n  \"graph\": false,\n  \"auth\": %s\n}", jsonQuote(name), jsonQuote(AuthEntra))
}

// syncServerList makes infra/servers.json list exactly the servers, sorted
// by name. Entries stay as written; a new one has "graph": false and
// "auth": "entra".
func syncServerList(src []byte, servers []Server) ([]byte, []Edit, error) {
	list, err := ParseServerList(src)
	if err != nil {
		return nil, nil, err
	}
	isServer := serverSet(servers)
	var edits []Edit
	out := src
	names := make([]string, len(list))
	for i, e := range list {
		names[i] = e.Name
	}
	seen := map[string]bool{}
	var drop []int
	for i, e := range list {
		switch {
		case !isServer[e.Name]:
			drop = append(drop, i)
			edits = append(edits, Edit{Problem: fmt.Sprintf("%q is not a server under servers/ (Bicep would create a Function app nothing deploys to)", e.Name), Fix: fmt.Sprintf("remove the entry %q", e.Name)})
		case seen[e.Name]:
			drop = append(drop, i)
			edits = append(edits, Edit{Problem: fmt.Sprintf("%q appears twice", e.Name), Fix: fmt.Sprintf("remove the second entry %q", e.Name)})
		}
		seen[e.Name] = true
	}
	for _, i := range slices.Backward(drop) {
		if out, err = jsonRemove(out, nil, i); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", ServerListFile, err)
		}
		names = slices.Delete(names, i, i+1)
	}
	if !slices.IsSorted(names) {
		for i := 1; i < len(names); i++ {
			if names[i-1] > names[i] {
				edits = append(edits, Edit{Problem: fmt.Sprintf("entries must be sorted by name (%q comes after %q)", names[i], names[i-1]), Fix: "sort the entries by name"})
				break
			}
		}
		if out, err = sortServerList(out); err != nil {
			return nil, nil, err
		}
		slices.Sort(names)
	}
	for _, s := range servers {
		if slices.Contains(names, s.Name) {
			continue
		}
		at, _ := slices.BinarySearch(names, s.Name)
		if out, err = jsonInsert(out, nil, at, serverListEntry(s.Name)); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", ServerListFile, err)
		}
		names = slices.Insert(names, at, s.Name)
		edits = append(edits, Edit{Problem: fmt.Sprintf("servers/%s is missing", s.Name), Fix: fmt.Sprintf("add {\"name\": %q, \"graph\": false, \"auth\": %q} (graph true if it calls Microsoft Graph on the user's behalf; auth %s)", s.Name, AuthEntra, strings.Join(AuthModes(), ", "))})
	}
	if len(edits) == 0 {
		return src, nil, nil
	}
	return out, edits, nil
}

// sortServerList rewrites the list sorted by name, two-space indented,
// each entry's fields as they were.
func sortServerList(src []byte) ([]byte, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(src, &raw); err != nil {
		return nil, fmt.Errorf("parse %s: %w", ServerListFile, err)
	}
	name := func(r json.RawMessage) string {
		var e ServerEntry
		json.Unmarshal(r, &e)
		return e.Name
	}
	slices.SortStableFunc(raw, func(a, b json.RawMessage) int { return strings.Compare(name(a), name(b)) })
	b, err := json.MarshalIndent(raw, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
