package workspace

// .vscode/mcp.json: its reader and the sync writer of each server's
// <name>-local and <name>-remote entries and <name>-host input. Entries and
// inputs the repository does not write are left alone, and so is a remote
// entry's https://<host>/mcp URL, which the azd hook writes
// (internal/cmd/azdhook).

import (
	"encoding/json"
	"fmt"
	"strings"
)

// MCPJSON is the part of .vscode/mcp.json this repository writes.
type MCPJSON struct {
	Inputs []struct {
		ID          string `json:"id"`
		Type        string `json:"type"`
		Description string `json:"description"`
	} `json:"inputs"`
	Servers map[string]struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	} `json:"servers"`
}

// ParseMCPJSON reads .vscode/mcp.json (plain JSON: comments are not
// supported).
func ParseMCPJSON(b []byte) (*MCPJSON, error) {
	var m MCPJSON
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse %s (plain JSON: remove comments and trailing commas): %w", MCPJSONFile, err)
	}
	return &m, nil
}

// MCPLocalName is the name of a server's local entry in mcp.json.
func MCPLocalName(server string) string { return server + "-local" }

// MCPRemoteName is the name of a server's remote entry in mcp.json.
func MCPRemoteName(server string) string { return server + "-remote" }

// MCPHostInput is the id of the mcp.json input that asks for a server's
// Function app host name.
func MCPHostInput(server string) string { return server + "-host" }

// MCPRemoteURL is the URL of a server's remote mcp.json entry as `mage
// new` and `mage adopt` write it: VS Code asks for the host name.
func MCPRemoteURL(server string) string {
	return "https://${input:" + MCPHostInput(server) + "}/mcp"
}

// MCPRemoteHostURL is the URL of a server's remote mcp.json entry once its
// Function app's host name is known: what the azd hook
// (internal/cmd/azdhook) writes in place of MCPRemoteURL.
func MCPRemoteHostURL(host string) string { return "https://" + host + "/mcp" }

// MCPRemoteHost returns the host name of url if url is
// MCPRemoteHostURL(host) for a DNS host name.
func MCPRemoteHost(url string) (string, bool) {
	host, ok := strings.CutPrefix(url, "https://")
	if !ok {
		return "", false
	}
	host, ok = strings.CutSuffix(host, "/mcp")
	if !ok || host == "" || len(host) > 253 {
		return "", false
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", false
		}
		for _, r := range label {
			if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '-' {
				return "", false
			}
		}
	}
	return host, true
}

// mcpInputJSON is the <name>-host input sync writes.
func mcpInputJSON(server string) string {
	return fmt.Sprintf("{\n  \"id\": %s,\n  \"type\": \"promptString\",\n  \"description\": %s\n}",
		jsonQuote(MCPHostInput(server)),
		jsonQuote(fmt.Sprintf("Host name of the %s Function app (azd env get-values: SERVERS[].hostname), e.g. func-%s-abc123.azurewebsites.net", server, server)))
}

// mcpEntryJSON is a servers entry sync writes.
func mcpEntryJSON(url string) string {
	return fmt.Sprintf("{\n  \"type\": \"http\",\n  \"url\": %s\n}", jsonQuote(url))
}

// mcpEntryServer returns the server a servers entry of mcp.json belongs
// to, if it is one the repository writes: <name>-local on a localhost URL,
// <name>-remote on an ${input:…} prompt or on the https://<host>/mcp the
// azd hook writes.
func mcpEntryServer(key, url string) (string, bool) {
	if name, ok := strings.CutSuffix(key, "-local"); ok && ValidName(name) && strings.HasPrefix(url, "http://localhost:") {
		return name, true
	}
	if name, ok := strings.CutSuffix(key, "-remote"); ok && ValidName(name) {
		if _, host := MCPRemoteHost(url); host || strings.Contains(url, "${input:") {
			return name, true
		}
	}
	return "", false
}

// jsonMembersOf returns the members of the container at path, or none if
// path is missing.
func jsonMembersOf(src []byte, path []string) ([]jsonMember, error) {
	at, err := jsonFind(src, path)
	if err != nil || at < 0 {
		return nil, err
	}
	if src[at] != '{' && src[at] != '[' {
		return nil, fmt.Errorf("%s is not an object or array", jsonWhere(path))
	}
	_, ms, err := jsonScanner{src}.members(at)
	return ms, err
}

// syncMCPJSON gives every server its <name>-local entry (on its local
// port), <name>-remote entry (on the ${input:<name>-host} prompt, or the
// https://<host>/mcp the azd hook wrote) and <name>-host input, and removes
// those of servers that do not exist.
func syncMCPJSON(src []byte, servers []Server) ([]byte, []Edit, error) {
	if _, err := ParseMCPJSON(src); err != nil {
		return nil, nil, err
	}
	isServer := serverSet(servers)
	var edits []Edit
	out := src
	fail := func(err error) ([]byte, []Edit, error) {
		return nil, nil, fmt.Errorf("%s: %w", MCPJSONFile, err)
	}

	ms, err := jsonMembersOf(out, []string{"servers"})
	if err != nil {
		return fail(err)
	}
	for i := len(ms) - 1; i >= 0; i-- {
		var e struct {
			URL string `json:"url"`
		}
		json.Unmarshal(out[ms[i].val:ms[i].end], &e)
		if name, ok := mcpEntryServer(ms[i].key, e.URL); ok && !isServer[name] {
			if out, err = jsonRemove(out, []string{"servers"}, i); err != nil {
				return fail(err)
			}
			edits = append([]Edit{{Problem: fmt.Sprintf("%q is for a server that does not exist", ms[i].key), Fix: "remove servers." + ms[i].key}}, edits...)
		}
	}
	ms, err = jsonMembersOf(out, []string{"inputs"})
	if err != nil {
		return fail(err)
	}
	for i := len(ms) - 1; i >= 0; i-- {
		var in struct {
			ID string `json:"id"`
		}
		json.Unmarshal(out[ms[i].val:ms[i].end], &in)
		if name, ok := strings.CutSuffix(in.ID, "-host"); ok && ValidName(name) && !isServer[name] {
			if out, err = jsonRemove(out, []string{"inputs"}, i); err != nil {
				return fail(err)
			}
			edits = append([]Edit{{Problem: fmt.Sprintf("input %q is for a server that does not exist", in.ID), Fix: "remove the input " + in.ID}}, edits...)
		}
	}

	for _, s := range servers {
		m, err := ParseMCPJSON(out)
		if err != nil {
			return fail(err)
		}
		hasInput := false
		for _, in := range m.Inputs {
			hasInput = hasInput || in.ID == MCPHostInput(s.Name)
		}
		if !hasInput {
			edits = append(edits, Edit{Problem: fmt.Sprintf("inputs lacks %q (a promptString for the Function app host name that %s uses)", MCPHostInput(s.Name), MCPRemoteName(s.Name)), Fix: "add the input " + MCPHostInput(s.Name)})
			if out, err = jsonAppendTo(out, nil, "inputs", "[]", "", mcpInputJSON(s.Name)); err != nil {
				return fail(err)
			}
		}
		for _, entry := range []struct {
			key, want string
			ok        func(url string) bool
			why       string
		}{
			{MCPLocalName(s.Name), s.MCPURL(), func(url string) bool { return url == s.MCPURL() },
				fmt.Sprintf("(Host.LocalHttpPort of servers/%s/local.settings.json)", s.Name)},
			{MCPRemoteName(s.Name), MCPRemoteURL(s.Name), func(url string) bool {
				_, host := MCPRemoteHost(url)
				return host || url == MCPRemoteURL(s.Name)
			}, fmt.Sprintf("(or %q, as the azd hook writes it)", MCPRemoteHostURL("<host>"))},
		} {
			e, ok := m.Servers[entry.key]
			if !ok {
				edits = append(edits, Edit{Problem: fmt.Sprintf("servers.%s is missing", entry.key), Fix: fmt.Sprintf("add servers.%s {\"type\": \"http\", \"url\": %q}", entry.key, entry.want)})
				if out, err = jsonAppendTo(out, nil, "servers", "{}", entry.key, mcpEntryJSON(entry.want)); err != nil {
					return fail(err)
				}
				continue
			}
			if e.Type == "http" && entry.ok(e.URL) {
				continue
			}
			fix := fmt.Sprintf(`set servers.%s's type to "http"`, entry.key)
			if !entry.ok(e.URL) {
				fix = fmt.Sprintf("set servers.%s's url to %q", entry.key, entry.want)
				if e.Type != "http" {
					fix = fmt.Sprintf("set servers.%s's type to \"http\" and its url to %q", entry.key, entry.want)
				}
			}
			edits = append(edits, Edit{
				Problem: fmt.Sprintf("servers.%s must be {\"type\": \"http\", \"url\": %q} %s, not {%q, %q}", entry.key, entry.want, entry.why, e.Type, e.URL),
				Fix:     fix,
			})
			if e.Type != "http" {
				if out, err = jsonSet(out, []string{"servers", entry.key}, "type", `"http"`); err != nil {
					return fail(err)
				}
			}
			if !entry.ok(e.URL) {
				if out, err = jsonSet(out, []string{"servers", entry.key}, "url", jsonQuote(entry.want)); err != nil {
					return fail(err)
				}
			}
		}
	}
	if len(edits) == 0 {
		return src, nil, nil
	}
	return out, edits, nil
}
