package main

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

// serversOutput is the name of infra/main.bicep's output that lists the
// deployed servers.
const serversOutput = "SERVERS"

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
//     readOutputs asks for.

// server is one entry of SERVERS. Fields infra/main.bicep may add later
// are ignored; missing optional ones are empty.
type server struct {
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
	// function key command (run sets it).
	resourceGroup string
}

// url is the server's MCP endpoint, as .vscode/mcp.json gets it.
func (s server) url() string { return workspace.MCPRemoteHostURL(s.host) }

// easyAuth reports whether the app signs callers in with Entra ID.
func (s server) easyAuth() bool {
	switch strings.ToLower(s.Auth) {
	case "anonymous", "none", "off", "false", workspace.AuthKey:
		return false
	}
	return s.ApplicationID != ""
}

// functionKey reports whether the Functions host requires a function key
// (auth mode key).
func (s server) functionKey() bool { return strings.ToLower(s.Auth) == workspace.AuthKey }

// keyCommand is the command that prints the app's default function key.
func (s server) keyCommand() string {
	rg, app := s.resourceGroup, s.AppName
	if rg == "" {
		rg = "<resource group>"
	}
	if app == "" {
		app = "<function app>"
	}
	return workspace.FunctionKeyCommand(rg, app)
}

// scope is the delegated scope a client asks for, or "" if unknown.
func (s server) scope() string {
	switch {
	case s.Scope != "":
		return s.Scope
	case s.IdentifierURI != "":
		return strings.TrimSuffix(s.IdentifierURI, "/") + "/user_impersonation"
	}
	return ""
}

// outputs is what readOutputs found.
type outputs struct {
	servers       string // SERVERS, JSON text
	resourceGroup string // AZURE_RESOURCE_GROUP, if known
	env           string // azd environment name, if known
	from          string // where it came from, for the report
}

// describe names the environment for the report.
func (o outputs) describe() string {
	if o.env == "" {
		return "the azd environment"
	}
	return fmt.Sprintf("azd environment %q", o.env)
}

// readOutputs returns the SERVERS output: from the hook's environment
// variables when azd runs this as a hook (and no environment is named),
// else from `azd env get-values --output json` run in root.
func readOutputs(ctx context.Context, root, envName string, lookupEnv func(string) (string, bool)) (outputs, error) {
	if envName == "" {
		if v, ok := lookupEnv(serversOutput); ok {
			name, _ := lookupEnv("AZURE_ENV_NAME")
			rg, _ := lookupEnv("AZURE_RESOURCE_GROUP")
			return outputs{servers: v, resourceGroup: rg, env: name, from: "the hook's environment"}, nil
		}
	}
	values, err := azdEnvValues(ctx, root, envName)
	if err != nil {
		return outputs{}, err
	}
	o := outputs{env: values["AZURE_ENV_NAME"], resourceGroup: values["AZURE_RESOURCE_GROUP"], from: "azd env get-values"}
	if o.env == "" {
		o.env = envName
	}
	v, ok := values[serversOutput]
	if !ok {
		return outputs{}, fmt.Errorf("%s has no %s output: run `azd provision` (or `azd up`) first, with this repository's infra/main.bicep", o.describe(), serversOutput)
	}
	o.servers = v
	return o, nil
}

// azdEnvValues runs `azd env get-values --output json` in root and returns
// the environment's values. Only their names appear in errors.
func azdEnvValues(ctx context.Context, root, envName string) (map[string]string, error) {
	azd, err := exec.LookPath("azd")
	if err != nil {
		why := serversOutput + " is not set (azd sets it when this runs as azure.yaml's postprovision hook) and azd"
		if envName != "" {
			why = "-e needs azd, which"
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
func parseServers(text string) ([]server, error) {
	if strings.TrimSpace(text) == "" {
		return nil, fmt.Errorf("%s is empty: run `azd provision` (or `azd up`) first", serversOutput)
	}
	var servers []server
	if err := json.Unmarshal([]byte(text), &servers); err != nil {
		return nil, fmt.Errorf("%s is not a JSON array of {name, hostname, …} objects: %w%s", serversOutput, err, near(text, err))
	}
	var errs []error
	for i := range servers {
		s := &servers[i]
		where := fmt.Sprintf("%s[%d]", serversOutput, i)
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

// near quotes the text around a JSON error's offset, if it has one.
func near(text string, err error) string {
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
