package workspace

// Readers for the files that register a server besides its own folder:
// go.work, azure.yaml, infra/servers.json and .vscode/*.json. They parse
// only what this repository writes and checks; each error names the file.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Paths of the registry files, relative to the repository root.
const (
	GoWorkFile     = "go.work"
	AzureYAMLFile  = "azure.yaml"
	ServerListFile = "infra/servers.json"
	MCPJSONFile    = ".vscode/mcp.json"
	LaunchJSONFile = ".vscode/launch.json"
)

// GoWork is what this repository reads from go.work.
type GoWork struct {
	// Go is the go directive's version, e.g. "1.26.0".
	Go string
	// Use lists the use directives' paths as written, e.g. "./servers/weather".
	Use []string
}

// ParseGoWork reads the go and use directives of a go.work file. It
// understands the syntax `go work` writes: one directive per line or a
// parenthesised block, // comments, and quoted or bare paths.
func ParseGoWork(b []byte) (GoWork, error) {
	var w GoWork
	inUse := false
	inOther := false
	for i, line := range strings.Split(string(b), "\n") {
		if c := strings.Index(line, "//"); c >= 0 {
			line = line[:c]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if inUse || inOther {
			if line == ")" {
				inUse, inOther = false, false
				continue
			}
			if inUse {
				p, err := unquoteGoWorkPath(line)
				if err != nil {
					return w, fmt.Errorf("%s:%d: %w", GoWorkFile, i+1, err)
				}
				w.Use = append(w.Use, p)
			}
			continue
		}
		verb, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch {
		case verb == "go":
			w.Go = rest
		case verb == "use" && rest == "(":
			inUse = true
		case verb == "use":
			p, err := unquoteGoWorkPath(rest)
			if err != nil {
				return w, fmt.Errorf("%s:%d: %w", GoWorkFile, i+1, err)
			}
			w.Use = append(w.Use, p)
		case rest == "(":
			inOther = true // replace ( … ), godebug ( … ): not needed here
		}
	}
	if inUse || inOther {
		return w, fmt.Errorf("%s: unterminated ( block", GoWorkFile)
	}
	return w, nil
}

func unquoteGoWorkPath(s string) (string, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, `"`) || strings.HasPrefix(s, "`") {
		u, err := strconv.Unquote(s)
		if err != nil {
			return "", fmt.Errorf("bad path %s: %w", s, err)
		}
		return u, nil
	}
	if s == "" || strings.ContainsAny(s, " \t") {
		return "", fmt.Errorf("bad use path %q", s)
	}
	return s, nil
}

// AzureService is one entry under services: in azure.yaml.
type AzureService struct {
	Name     string
	Project  string
	Language string
	Host     string
	Dist     string
	// Line is the 1-based line of the service's name.
	Line int
}

// AzureYAML is what this repository reads from azure.yaml.
type AzureYAML struct {
	Name     string
	Services []AzureService
	// ServicesEnd is the byte offset just after the last line of the
	// services block: where a new service is appended.
	ServicesEnd int
}

// Service returns the service called name.
func (a *AzureYAML) Service(name string) (AzureService, bool) {
	for _, s := range a.Services {
		if s.Name == name {
			return s, true
		}
	}
	return AzureService{}, false
}

// ParseAzureYAML reads azure.yaml without a YAML library: it understands
// the block style azd writes (top-level keys at column 0, services indented
// under services:, one `key: scalar` per line, comments). Fields nested
// deeper than a service's own keys (hooks, for example) are skipped. Flow
// style ({…}) for services and tabs are refused with an error.
func ParseAzureYAML(b []byte) (*AzureYAML, error) {
	a := &AzureYAML{ServicesEnd: -1}
	var (
		inServices   bool
		serviceInd   = -1
		fieldInd     = -1
		cur          *AzureService
		seenServices bool
	)
	offset := 0
	lines := bytes.SplitAfter(b, []byte("\n"))
	for i, raw := range lines {
		offset += len(raw)
		line := strings.TrimRight(string(raw), "\r\n")
		trimmed := strings.TrimLeft(line, " ")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if strings.HasPrefix(trimmed, "\t") || strings.HasPrefix(line, "\t") {
			return nil, fmt.Errorf("%s:%d: tab indentation is not valid YAML", AzureYAMLFile, i+1)
		}
		indent := len(line) - len(trimmed)
		key, value, isKey := yamlKeyValue(trimmed)
		if indent == 0 {
			inServices = false
			if !isKey {
				return nil, fmt.Errorf("%s:%d: expected `key: value` at the top level", AzureYAMLFile, i+1)
			}
			switch key {
			case "name":
				a.Name = value
			case "services":
				if seenServices {
					return nil, fmt.Errorf("%s:%d: services: appears twice", AzureYAMLFile, i+1)
				}
				seenServices = true
				if value != "" {
					return nil, fmt.Errorf("%s:%d: write services as an indented block, one service per key (flow style %q is not supported)", AzureYAMLFile, i+1, value)
				}
				inServices = true
				a.ServicesEnd = offset
			}
			continue
		}
		if !inServices {
			continue
		}
		a.ServicesEnd = offset
		switch {
		case serviceInd < 0 || indent == serviceInd:
			serviceInd = indent
			if !isKey || value != "" {
				return nil, fmt.Errorf("%s:%d: expected a service name followed by its fields on the next lines", AzureYAMLFile, i+1)
			}
			a.Services = append(a.Services, AzureService{Name: key, Line: i + 1})
			cur = &a.Services[len(a.Services)-1]
			fieldInd = -1
		case indent < serviceInd:
			return nil, fmt.Errorf("%s:%d: inconsistent indentation in services", AzureYAMLFile, i+1)
		default:
			if fieldInd < 0 {
				fieldInd = indent
			}
			if indent < fieldInd {
				return nil, fmt.Errorf("%s:%d: inconsistent indentation in service %s", AzureYAMLFile, i+1, cur.Name)
			}
			if indent > fieldInd || !isKey {
				continue // nested (hooks, …) or a list item: not read here
			}
			switch key {
			case "project":
				cur.Project = value
			case "language":
				cur.Language = value
			case "host":
				cur.Host = value
			case "dist":
				cur.Dist = value
			}
		}
	}
	if !seenServices {
		a.ServicesEnd = len(b)
	}
	return a, nil
}

// yamlKeyValue splits `key: value # comment` into key and unquoted value.
// ok is false for list items and lines that are not `key:` pairs.
func yamlKeyValue(s string) (key, value string, ok bool) {
	if s == "-" || strings.HasPrefix(s, "- ") {
		return "", "", false
	}
	k, v, found := strings.Cut(s, ":")
	if !found || (v != "" && v[0] != ' ') {
		return "", "", false // "a:b" is a scalar, not a key
	}
	v = strings.TrimSpace(v)
	switch {
	case strings.HasPrefix(v, `"`):
		if end := strings.Index(v[1:], `"`); end >= 0 {
			v = v[1 : end+1]
		}
	case strings.HasPrefix(v, "'"):
		if end := strings.Index(v[1:], "'"); end >= 0 {
			v = v[1 : end+1]
		}
	default:
		if strings.HasPrefix(v, "#") {
			v = ""
		} else if c := strings.Index(v, " #"); c >= 0 {
			v = strings.TrimSpace(v[:c])
		}
	}
	return strings.TrimSpace(k), v, true
}

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

// ProjectPath is the azure.yaml project path of a server.
func ProjectPath(server string) string { return "./servers/" + server }
