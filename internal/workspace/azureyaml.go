package workspace

// azure.yaml: its reader, the sync writer of the services that deploy
// servers/*, and the checks sync cannot fix. Only the services block is
// touched; hooks, comments and the rest of the file stay as they are.

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// AzureService is one entry under services: in azure.yaml.
type AzureService struct {
	Name     string
	Project  string
	Language string
	Host     string
	Dist     string
	// Line is the 1-based line of the service's name, EndLine that of its
	// last line (comments and blank lines after it excluded).
	Line, EndLine int
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
			a.Services = append(a.Services, AzureService{Name: key, Line: i + 1, EndLine: i + 1})
			cur = &a.Services[len(a.Services)-1]
			fieldInd = -1
		case indent < serviceInd:
			return nil, fmt.Errorf("%s:%d: inconsistent indentation in services", AzureYAMLFile, i+1)
		default:
			cur.EndLine = i + 1
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

// ServiceBlock is the azure.yaml service of a server, as sync writes it.
func ServiceBlock(indent, server string) string {
	field := indent + indent
	return fmt.Sprintf("%s%s:\n%sproject: %s\n%slanguage: go\n%shost: function\n", indent, server, field, ProjectPath(server), field, field)
}

// syncAzureYAML removes the services that deploy a folder under servers/
// that is not a server, and appends a service for each server without one
// to the services block (adding the block if there is none). Every other
// line stays as it is.
func syncAzureYAML(src []byte, servers []Server) ([]byte, []Edit, error) {
	a, err := ParseAzureYAML(src)
	if err != nil {
		return nil, nil, err
	}
	isServer := serverSet(servers)
	var edits []Edit
	lines := strings.SplitAfter(string(src), "\n")
	for i := len(a.Services) - 1; i >= 0; i-- {
		svc := a.Services[i]
		name, ok := serverOfPath(svc.Project)
		if !ok || isServer[name] {
			continue
		}
		edits = append([]Edit{{Line: svc.Line, Problem: fmt.Sprintf("service %s: there is no server servers/%s", svc.Name, name), Fix: "remove service " + svc.Name}}, edits...)
		lines = append(lines[:svc.Line-1], lines[svc.EndLine:]...)
	}
	out := []byte(strings.Join(lines, ""))
	for _, s := range servers {
		if _, ok := a.Service(s.Name); ok {
			continue
		}
		edits = append(edits, Edit{Problem: fmt.Sprintf("servers/%s has no service", s.Name), Fix: "add service " + s.Name})
		if out, err = appendService(out, s.Name); err != nil {
			return nil, nil, err
		}
	}
	if len(edits) == 0 {
		return src, nil, nil
	}
	return out, edits, nil
}

// appendService appends the server's service to the services block of
// azure.yaml (adding the block if there is none), keeping every other line.
func appendService(src []byte, name string) ([]byte, error) {
	a, err := ParseAzureYAML(src)
	if err != nil {
		return nil, err
	}
	if s, ok := a.Service(name); ok {
		return nil, fmt.Errorf("%s:%d already has a service %s", AzureYAMLFile, s.Line, name)
	}
	svcIndent := "  "
	if len(a.Services) > 0 {
		line := strings.Split(string(src), "\n")[a.Services[0].Line-1]
		svcIndent = line[:len(line)-len(strings.TrimLeft(line, " "))]
	}
	block := ServiceBlock(svcIndent, name)
	at := a.ServicesEnd
	head := string(src[:at])
	if len(a.Services) == 0 && !servicesKeyRE.Match(src) {
		if head != "" && !strings.HasSuffix(head, "\n") {
			head += "\n"
		}
		head += "services:\n"
	} else if head != "" && !strings.HasSuffix(head, "\n") {
		head += "\n"
	}
	return []byte(head + block + string(src[at:])), nil
}

var servicesKeyRE = regexp.MustCompile(`(?m)^services:`)

// checkAzureYAML reports what sync leaves alone in azure.yaml: services
// that appear twice, services of a server with the wrong project, language
// or host, and services that deploy something other than a server.
func checkAzureYAML(src []byte, servers []Server) []error {
	a, err := ParseAzureYAML(src)
	if err != nil {
		return []error{err}
	}
	names := serverSet(servers)
	var errs []error
	seen := map[string]bool{}
	for _, svc := range a.Services {
		where := fmt.Sprintf("%s:%d: service %s", AzureYAMLFile, svc.Line, svc.Name)
		if seen[svc.Name] {
			errs = append(errs, fmt.Errorf("%s appears twice: remove one", where))
		}
		seen[svc.Name] = true
		if !names[svc.Name] {
			if p, ok := serverOfPath(svc.Project); !ok || names[p] {
				errs = append(errs, fmt.Errorf("%s: there is no server servers/%s: remove the service (each service deploys the server under servers/ of its name)", where, svc.Name))
			}
			continue // otherwise sync removes it
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
	return errs
}
