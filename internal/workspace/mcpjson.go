package workspace

// .vscode/mcp.json: its reader and the sync writer of each server's
// <name>-local and <name>-remote entries and <name>-host input, and for a
// server deployed with "auth": "key" the x-functions-key header of both
// entries with their <name>-function-key and <name>-remote-function-key
// inputs. Entries, headers and inputs the
// repository does not write are left alone, and so is a remote entry's
// https://<host>/mcp URL, which the azd hook writes (internal/cmd/azdhook).

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// MCPJSON is the part of .vscode/mcp.json this repository writes.
type MCPJSON struct {
	Inputs []struct {
		ID          string `json:"id"`
		Type        string `json:"type"`
		Description string `json:"description"`
		Password    bool   `json:"password"`
	} `json:"inputs"`
	Servers map[string]struct {
		Type    string            `json:"type"`
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers"`
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

// FunctionKeyHeader is the header a caller sends a function key in.
const FunctionKeyHeader = "x-functions-key"

// MCPKeyEntry is an mcp.json entry of a key-mode server that sends a
// function key, and the input that asks for it.
type MCPKeyEntry struct {
	// Entry is the servers entry: <name>-local or <name>-remote.
	Entry string
	// Input is the id of its password input: <name>-function-key (the
	// key of the local Functions host, `mage dev`) or
	// <name>-remote-function-key (the deployed app's).
	Input string
	// Description is the input's prompt.
	Description string
}

// HeaderValue is the x-functions-key value sync writes: VS Code asks for
// the key.
func (k MCPKeyEntry) HeaderValue() string { return "${input:" + k.Input + "}" }

// MCPKeyEntries are the entries of a key-mode server that send its
// function key: locally the key `go tool mage dev` checks (the Functions
// host checks function keys; `func start` does not unless run with
// --enableAuth, so any value passes there), remotely the deployed app's.
func MCPKeyEntries(server string) []MCPKeyEntry {
	return []MCPKeyEntry{
		{MCPLocalName(server), server + "-function-key",
			fmt.Sprintf("Function key of the local %s server (go tool mage dev keeps its local keys in .mcpfunc/dev-keys.json)", server)},
		{MCPRemoteName(server), server + "-remote-function-key",
			fmt.Sprintf("Function key of the %s Function app: %s (azd env get-values: AZURE_RESOURCE_GROUP, SERVERS[].appName)", server, FunctionKeyCommand("RESOURCE_GROUP", "APP_NAME"))},
	}
}

// FunctionKeyCommand is the Azure CLI command that prints a Function
// app's default function key.
func FunctionKeyCommand(resourceGroup, app string) string {
	return fmt.Sprintf("az functionapp keys list -g %s -n %s --query functionKeys.default -o tsv", resourceGroup, app)
}

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

// mcpKeyInputJSON is the password input sync writes for k.
func mcpKeyInputJSON(k MCPKeyEntry) string {
	return fmt.Sprintf("{\n  \"type\": \"promptString\",\n  \"id\": %s,\n  \"description\": %s,\n  \"password\": true\n}",
		jsonQuote(k.Input), jsonQuote(k.Description))
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
// those of servers that do not exist. A server whose auth mode in modes is
// key also gets the function key header and input (syncKeyHeaders).
func syncMCPJSON(src []byte, servers []Server, modes map[string]string) ([]byte, []Edit, error) {
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
		if names := inputServers(in.ID); len(names) > 0 && !slices.ContainsFunc(names, func(n string) bool { return isServer[n] }) {
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
	for _, s := range servers {
		var kedits []Edit
		if out, kedits, err = syncKeyHeaders(out, s.Name, modeOf(modes, s.Name)); err != nil {
			return fail(err)
		}
		edits = append(edits, kedits...)
	}
	if len(edits) == 0 {
		return src, nil, nil
	}
	return out, edits, nil
}

// inputServers returns the servers an input id sync writes can belong
// to: <name>-host, <name>-function-key or <name>-remote-function-key (two
// names for x-remote-function-key: x's remote key or server x-remote's
// local key).
func inputServers(id string) []string {
	var names []string
	for _, suffix := range []string{"-host", "-function-key", "-remote-function-key"} {
		if name, ok := strings.CutSuffix(id, suffix); ok && ValidName(name) {
			names = append(names, name)
		}
	}
	return names
}

// syncKeyHeaders makes a key-mode server's MCPKeyEntries send
// x-functions-key: ${input:<their input>} (a value of the user's own
// stays) and gives each its password input. For a server in another mode
// it removes that header where it has exactly that value (an emptied
// headers object too) and the input, unless something still uses it.
func syncKeyHeaders(src []byte, server, mode string) ([]byte, []Edit, error) {
	var edits []Edit
	out := src
	key := mode == AuthKey
	for _, k := range MCPKeyEntries(server) {
		m, err := ParseMCPJSON(out)
		if err != nil {
			return nil, nil, err
		}
		if e, ok := m.Servers[k.Entry]; ok {
			v, has := e.Headers[FunctionKeyHeader]
			switch {
			case key && !has:
				edits = append(edits, Edit{
					Problem: fmt.Sprintf("servers.%s sends no %s header, but %s deploys %s with \"auth\": %q", k.Entry, FunctionKeyHeader, ServerListFile, server, mode),
					Fix:     fmt.Sprintf("add the header %s: %q to servers.%s", FunctionKeyHeader, k.HeaderValue(), k.Entry),
				})
				if e.Headers == nil {
					out, err = jsonSet(out, []string{"servers", k.Entry}, "headers", fmt.Sprintf("{\n  %s: %s\n}", jsonQuote(FunctionKeyHeader), jsonQuote(k.HeaderValue())))
				} else {
					out, err = jsonAppend(out, []string{"servers", k.Entry, "headers"}, FunctionKeyHeader, jsonQuote(k.HeaderValue()))
				}
			case !key && has && v == k.HeaderValue():
				edits = append(edits, Edit{
					Problem: fmt.Sprintf("servers.%s sends the %s header, but %s deploys %s with \"auth\": %q, which takes no function key", k.Entry, FunctionKeyHeader, ServerListFile, server, mode),
					Fix:     fmt.Sprintf("remove the header %s from servers.%s", FunctionKeyHeader, k.Entry),
				})
				if len(e.Headers) == 1 {
					out, err = jsonRemoveKey(out, []string{"servers", k.Entry}, "headers")
				} else {
					out, err = jsonRemoveKey(out, []string{"servers", k.Entry, "headers"}, FunctionKeyHeader)
				}
			}
			if err != nil {
				return nil, nil, err
			}
		}
		ms, err := jsonMembersOf(out, []string{"inputs"})
		if err != nil {
			return nil, nil, err
		}
		at := -1
		for i, mem := range ms {
			var in struct {
				ID string `json:"id"`
			}
			json.Unmarshal(out[mem.val:mem.end], &in)
			if in.ID == k.Input {
				at = i
			}
		}
		switch {
		case key && at < 0:
			edits = append(edits, Edit{
				Problem: fmt.Sprintf("inputs lacks %q (a password promptString for the function key %s sends)", k.Input, k.Entry),
				Fix:     "add the input " + k.Input,
			})
			out, err = jsonAppendTo(out, nil, "inputs", "[]", "", mcpKeyInputJSON(k))
		case !key && at >= 0 && !strings.Contains(string(out), k.HeaderValue()):
			edits = append(edits, Edit{
				Problem: fmt.Sprintf("input %q is for a function key, but %s deploys %s with \"auth\": %q", k.Input, ServerListFile, server, mode),
				Fix:     "remove the input " + k.Input,
			})
			out, err = jsonRemove(out, []string{"inputs"}, at)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return out, edits, nil
}
