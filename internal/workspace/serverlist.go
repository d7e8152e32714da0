package workspace

// infra/servers.json, the list of Function apps Bicep deploys: its reader
// and its sync writer. Each entry's own text (the graph flag above all) is
// kept; entries are added, removed and kept sorted by name.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// ServerEntry is one entry of infra/servers.json, the list Bicep deploys.
type ServerEntry struct {
	Name  string `json:"name"`
	Graph bool   `json:"graph"`
}

// ParseServerList reads infra/servers.json.
func ParseServerList(b []byte) ([]ServerEntry, error) {
	var list []ServerEntry
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("parse %s: %w (want [{\"name\": …, \"graph\": true|false}, …])", ServerListFile, err)
	}
	return list, nil
}

// serverListEntry is the entry sync writes for a new server.
func serverListEntry(name string) string {
	return fmt.Sprintf("{\n  \"name\": %s,\n  \"graph\": false\n}", jsonQuote(name))
}

// syncServerList makes infra/servers.json list exactly the servers, sorted
// by name. Entries stay as written; a new one has "graph": false.
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
		edits = append(edits, Edit{Problem: fmt.Sprintf("servers/%s is missing", s.Name), Fix: fmt.Sprintf("add {\"name\": %q, \"graph\": false} (true if it calls Microsoft Graph on the user's behalf)", s.Name)})
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
