// Package deployment reads what `azd provision` deployed: the SERVERS
// output of infra/main.bicep (one entry per Function app) and the azd
// environment's name and resource group, from a hook's environment
// variables or from `azd env get-values`.
package deployment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"strings"

	"github.com/mcpfunc/mcpfunc/internal/workspace"
)

// ServersOutput is the name of infra/main.bicep's output that lists the
// deployed servers.
const ServersOutput = "SERVERS"

// How azd hands SERVERS over (azure-dev, cli/azd, at azure-dev-cli_1.26.0
// and main alike):
//
//   - pkg/infra/provisioning/manager.go UpdateEnvironment stores an array
//     or object output as its json.Marshal text (keys sorted, no spaces)
//     with env.DotenvSet; the output keeps its Bicep name's case
//     (pkg/infra/provisioning/deployment.go OutputParametersFromArmOutputs).
//   - pkg/ext/hooks_runner.go execHook passes env.Dotenv() to the hook as
//     environment variables (hookEnv.Environ(), KEY=value with the raw
//     value) on top of azd's own environment (pkg/exec/command_runner.go
//     appendEnv), reloading the .env first, so SERVERS is the JSON text
//     itself. Project hooks run in the project folder (cmd/middleware/
//     hooks.go passes projectConfig.Path as the runner's cwd).
//   - `azd env get-values` (cmd/env.go) prints env.Dotenv() with
//     godotenv.Marshal by default (pkg/output/env-vars.go), i.e.
//     SERVERS="[{\"appName\":…}]" with \ " ! $ ` backslash-escaped;
//     `--output json` prints the same map with json.MarshalIndent
//     (pkg/output/json.go), which needs no dotenv unescaping: that is what
//     Read asks for.

// Server is one entry of SERVERS. Fields infra/main.bicep may add later
// are ignored; missing optional ones are empty.
type Server struct {
	Name          string `json:"name"`
	AppName       string `json:"appName"`
	Hostname      string `json:"hostname"`
	MCPURL        string `json:"mcpUrl"`
	ApplicationID string `json:"applicationId"`
	IdentifierURI string `json:"identifierUri"`
	// Auth and Scope are optional: without them, an app with an
	// application id has Easy Auth and its scope is
	// <identifierUri>/user_impersonation.
	Auth  string `json:"auth"`
	Scope string `json:"scope"`

	// host is the host name the entry resolves to (parseServers).
	host string
	// resourceGroup is the azd environment's AZURE_RESOURCE_GROUP, for the
	// function key command (Read sets it).
	resourceGroup string
}

// Host is the Function app's host name: Hostname, or else the host of
// MCPURL. Read checks that it is one.
func (s Server) Host() string { return s.host }

// URL is the server's MCP endpoint, https://<host>/mcp, as
// .vscode/mcp.json gets it.
func (s Server) URL() string { return workspace.MCPRemoteHostURL(s.host) }

// Mode is how the server authenticates its callers: workspace.AuthKey
// when Auth says key (the Functions host requires a function key);
// workspace.AuthAnonymous when Auth says anonymous (or none, off, false),
// or when the entry has no ApplicationID; else workspace.AuthEntra (Easy
// Auth signs callers in with Entra ID).
func (s Server) Mode() string {
	switch strings.ToLower(s.Auth) {
	case workspace.AuthKey:
		return workspace.AuthKey
	case workspace.AuthAnonymous, "none", "off", "false":
		return workspace.AuthAnonymous
	}
	if s.ApplicationID == "" {
		return workspace.AuthAnonymous
	}
	return workspace.AuthEntra
}

// DelegatedScope is the delegated scope a client asks for: Scope, or else
// <IdentifierURI>/user_impersonation, or "" if neither is known.
func (s Server) DelegatedScope() string {
	switch {
	case s.Scope != "":
		return s.Scope
	case s.IdentifierURI != "":
		return strings.TrimSuffix(s.IdentifierURI, "/") + "/user_impersonation"
	}
	return ""
}

// KeyCommand is the Azure CLI command that prints the app's default
// function key, with placeholders for a resource group or app name that
// is not known.
func (s Server) KeyCommand() string {
	rg, app := s.resourceGroup, s.AppName
	if rg == "" {
		rg = "<resource group>"
	}
	if app == "" {
		app = "<function app>"
	}
	return workspace.FunctionKeyCommand(rg, app)
}

// Outputs is what Read found.
type Outputs struct {
	Servers       []Server // SERVERS, in its order
	ResourceGroup string   // AZURE_RESOURCE_GROUP, if known
	Env           string   // the azd environment's name, if known
	From          string   // where the values came from, for a report
}

// Describe names the environment for a report: azd environment "<name>",
// or "the azd environment" when its name is not known.
func (o Outputs) Describe() string {
	if o.Env == "" {
		return "the azd environment"
	}
	return fmt.Sprintf("azd environment %q", o.Env)
}

// Read returns the deployed servers: from the hook's environment
// variables (read with lookupEnv) when azd runs the caller as a hook and
// envName is "", else from `azd env get-values --output json` run in root
// (with -e envName if given). It checks each entry's name and host name;
// an error names every entry that fails. Errors show no environment value
// but SERVERS.
func Read(ctx context.Context, root, envName string, lookupEnv func(string) (string, bool)) (Outputs, error) {
	o, text, err := readOutputs(ctx, root, envName, lookupEnv)
	if err != nil {
		return Outputs{}, err
	}
	if o.Servers, err = parseServers(text); err != nil {
		return Outputs{}, err
	}
	for i := range o.Servers {
		o.Servers[i].resourceGroup = o.ResourceGroup
	}
	return o, nil
}

// readOutputs returns the environment's values and the SERVERS JSON text.
func readOutputs(ctx context.Context, root, envName string, lookupEnv func(string) (string, bool)) (Outputs, string, error) {
	if envName == "" {
		if v, ok := lookupEnv(ServersOutput); ok {
			name, _ := lookupEnv("AZURE_ENV_NAME")
			rg, _ := lookupEnv("AZURE_RESOURCE_GROUP")
			return Outputs{ResourceGroup: rg, Env: name, From: "the hook's environment"}, v, nil
		}
	}
	values, err := azdEnvValues(ctx, root, envName)
	if err != nil {
		return Outputs{}, "", err
	}
	o := Outputs{Env: values["AZURE_ENV_NAME"], ResourceGroup: values["AZURE_RESOURCE_GROUP"], From: "azd env get-values"}
	if o.Env == "" {
		o.Env = envName
	}
	v, ok := values[ServersOutput]
	if !ok {
		return Outputs{}, "", fmt.Errorf("%s has no %s output: run `azd provision` (or `azd up`) first, with this repository's infra/main.bicep", o.Describe(), ServersOutput)
	}
	return o, v, nil
}

// azdEnvValues runs `azd env get-values --output json` in root and returns
// the environment's values. Only their names appear in errors.
func azdEnvValues(ctx context.Context, root, envName string) (map[string]string, error) {
	azd, err := exec.LookPath("azd")
	if err != nil {
		why := ServersOutput + " is not set (azd sets it when this runs as azure.yaml's postprovision hook) and azd"
		if envName != "" {
			why = fmt.Sprintf("reading azd environment %q needs azd, which", envName)
		}
		return nil, fmt.Errorf("%s is not on PATH to ask for it: install the Azure Developer CLI (https://aka.ms/install-azd) and run `azd provision`: %w", why, err)
	}
	args := []string{"env", "get-values", "--output", "json", "--no-prompt"}
	if envName != "" {
		args = append(args, "-e", envName)
	}
	cmd := exec.CommandContext(ctx, azd, args...)
	cmd.Dir = root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = "no message"
		}
		return nil, fmt.Errorf("azd %s: %w (%s); run it in the repository folder after `azd provision`, or pass -e <environment>", strings.Join(args, " "), err, msg)
	}
	var values map[string]string
	if err := json.Unmarshal(stdout.Bytes(), &values); err != nil {
		return nil, fmt.Errorf("azd %s did not print a JSON object of strings (azd older than 1.26?): %w", strings.Join(args, " "), err)
	}
	return values, nil
}

// parseServers reads the SERVERS JSON text and checks each entry's name
// and host name.
func parseServers(text string) ([]Server, error) {
	if strings.TrimSpace(text) == "" {
		return nil, fmt.Errorf("%s is empty: run `azd provision` (or `azd up`) first", ServersOutput)
	}
	var servers []Server
	if err := json.Unmarshal([]byte(text), &servers); err != nil {
		return nil, fmt.Errorf("%s is not a JSON array of {name, hostname, …} objects: %w%s", ServersOutput, err, Near(text, err))
	}
	var errs []error
	for i := range servers {
		s := &servers[i]
		where := fmt.Sprintf("%s[%d]", ServersOutput, i)
		if !workspace.ValidName(s.Name) {
			errs = append(errs, fmt.Errorf("%s: name %q is not a server name", where, s.Name))
			continue
		}
		host := s.Hostname
		if host == "" && s.MCPURL != "" {
			if u, err := url.Parse(s.MCPURL); err == nil {
				host = u.Host
			}
		}
		if _, ok := workspace.MCPRemoteHost(workspace.MCPRemoteHostURL(host)); !ok {
			errs = append(errs, fmt.Errorf("%s (%s): hostname %q is not a host name: run `azd provision` again", where, s.Name, host))
			continue
		}
		s.host = host
	}
	return servers, errors.Join(errs...)
}

// Near quotes the text around the offset of a JSON decoding error of
// text, as ` (near "…")` to append to the error's message, or returns ""
// if err has no offset in text.
func Near(text string, err error) string {
	var off int64 = -1
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		off = syntax.Offset
	case errors.As(err, &typ):
		off = typ.Offset
	}
	if off < 0 || off > int64(len(text)) {
		return ""
	}
	start, end := max(0, int(off)-24), min(len(text), int(off)+16)
	return fmt.Sprintf(" (near %q)", text[start:end])
}
