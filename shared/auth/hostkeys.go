package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/mcpfunc/mcpfunc/shared/auth/internal/azenv"
)

// Settings of ModeKey.
const (
	// envRequireHostKeys turns the host authorization level check of
	// ModeKey off ("off") on Azure.
	envRequireHostKeys = "MCP_REQUIRE_HOST_KEYS"
	// envHostAuthLevel is the app setting that overrides
	// customHandler.http.DefaultAuthorizationLevel of host.json (app
	// settings named AzureFunctionsJobHost__<path>__<to>__<setting>
	// override host.json values).
	envHostAuthLevel = "AzureFunctionsJobHost__customHandler__http__DefaultAuthorizationLevel"
	// envAppRoot is the script root, where host.json is; the Functions
	// host sets it for the custom handler process.
	envAppRoot = "FUNCTIONS_APP_ROOT_PATH"
	// hostJSON is the host configuration file in the app root.
	hostJSON = "host.json"
)

// Authorization levels of the Functions host for HTTP requests
// (AuthorizationLevel), as host.json names them.
const (
	levelAnonymous = "anonymous"
	levelFunction  = "function"
	levelAdmin     = "admin"
)

// hostLevel is the Functions host's effective authorization level for the
// custom handler's HTTP route, and where it comes from.
type hostLevel struct {
	level  string // anonymous, function or admin, lower case
	source string // the app setting, the host.json path, or the default
}

// keyFromEnv builds the ModeKey configuration: the process does not
// authenticate callers, it trusts the Functions host's key check. On Azure
// it refuses to start when that check lets anonymous requests through,
// unless MCP_REQUIRE_HOST_KEYS=off.
func keyFromEnv(get func(string) string, readFile func(string) ([]byte, error)) (Config, error) {
	onAzure := get(azenv.WebsiteSiteName) != ""
	switch req := strings.ToLower(get(envRequireHostKeys)); req {
	case "", "on", "true", "1":
	case "off", "false", "0":
		c := Config{Mode: ModeKey}
		if onAzure {
			c.keyNotice = fmt.Sprintf("%s=key: /mcp is protected only by the Functions host's key check (clients send x-functions-key); "+
				"the server does not authenticate callers, and %s=off skipped the check that the host requires keys", envMCPAuth, envRequireHostKeys)
		} else {
			c.keyNotice = localKeyNotice
		}
		return c, nil
	default:
		return Config{}, fmt.Errorf("auth: %s=%q: use on (the default) or off", envRequireHostKeys, get(envRequireHostKeys))
	}
	if !onAzure {
		// mage dev's host emulation requires its local key; a request
		// sent to the handler's own port is not checked, as under the
		// Functions host.
		return Config{Mode: ModeKey, keyNotice: localKeyNotice}, nil
	}
	hl, err := keyModeLevel(get, readFile)
	if err != nil {
		return Config{}, err
	}
	return Config{Mode: ModeKey, keyNotice: fmt.Sprintf("%s=key: the Functions host checks function keys on /mcp (DefaultAuthorizationLevel %s, from %s; clients send x-functions-key); "+
		"the server does not authenticate callers itself", envMCPAuth, hl.level, hl.source)}, nil
}

// keyModeLevel returns the authorization level key mode relies on: the app
// setting's when set, else host.json's (or the host's default). It refuses
// either one saying anonymous, and host.json saying anonymous under an app
// setting that does not: the host may honour the app setting (then keys
// are required) or not (then /mcp is open), and which is not confirmed.
func keyModeLevel(get func(string) string, readFile func(string) ([]byte, error)) (hostLevel, error) {
	unreadable := func(err error) error {
		return fmt.Errorf("auth: %s=key: %w; fix it, or set %s=entra (or easyauth) to verify callers' tokens in the process. "+
			"If the host does require keys, %s=off skips this check", envMCPAuth, err, envMCPAuth, envRequireHostKeys)
	}
	anonymous := func(hl hostLevel) error {
		return fmt.Errorf("auth: refusing to start: %s=key trusts the Functions host to check function keys, but the host lets anonymous requests through "+
			"(DefaultAuthorizationLevel is %q, from %s), so anyone could call /mcp. "+
			"Set \"DefaultAuthorizationLevel\": \"function\" under customHandler.http in host.json, and the app setting %s=function if it is set; "+
			"or set %s=entra to verify callers' Entra tokens in the process, or %s=none to serve anonymously on purpose. "+
			"If the host does require keys and this check is wrong, set %s=off",
			envMCPAuth, hl.level, hl.source, envHostAuthLevel, envMCPAuth, envMCPAuth, envRequireHostKeys)
	}
	override, err := overrideLevel(get)
	if err != nil {
		return hostLevel{}, unreadable(err)
	}
	if override != nil && override.level == levelAnonymous {
		return hostLevel{}, anonymous(*override)
	}
	file, err := fileLevel(get, readFile)
	switch {
	case err != nil:
		return hostLevel{}, unreadable(err)
	case file.level == levelAnonymous && override != nil:
		return hostLevel{}, fmt.Errorf("auth: refusing to start: %s=key trusts the Functions host to check function keys; the app setting %s says %s, but %s says %q, "+
			"and whether the host applies that app setting to customHandler is not confirmed, so anyone might be able to call /mcp. "+
			"Make host.json say \"DefaultAuthorizationLevel\": \"function\" under customHandler.http (in this repository: \"auth\": \"key\" in infra/servers.json, then go tool mage sync). "+
			"If you have checked that a request without a key gets 401 from this app, set %s=off",
			envMCPAuth, envHostAuthLevel, override.level, file.source, file.level, envRequireHostKeys)
	case file.level == levelAnonymous:
		return hostLevel{}, anonymous(file)
	case override != nil:
		return *override, nil
	}
	return file, nil
}

// localKeyNotice is the ModeKey notice outside Azure.
const localKeyNotice = "MCP_AUTH=key: the server does not authenticate callers itself; /mcp is protected only by the key check of the host in front of it " +
	"(mage dev's host emulation requires its local key in x-functions-key), and requests sent straight to the server's port are not checked"

// The authorization level the Functions host applies to the custom
// handler's HTTP route is the app setting override when set (overrideLevel),
// else customHandler.http.DefaultAuthorizationLevel of
// $FUNCTIONS_APP_ROOT_PATH/host.json (host.json in the working directory
// when FUNCTIONS_APP_ROOT_PATH is unset), else the host's default,
// function (CustomHandlerHttpOptions) (fileLevel). Keys are matched
// case-insensitively as the host's configuration does; values are
// anonymous, function or admin, in any case. Because the override is not
// confirmed (below), key mode requires host.json not to say anonymous even
// when the override says function.
//
// [UNCERTAIN] That the app setting
// AzureFunctionsJobHost__customHandler__http__DefaultAuthorizationLevel
// overrides host.json for the custom handler section on Flex Consumption.
// Learn ("host.json reference for Azure Functions 2.x and later", Override
// host.json values) documents the mechanism for host.json in general, and
// the host binds CustomHandlerHttpOptions from the AzureFunctionsJobHost
// configuration section; nothing found tests it for customHandler on Flex.
// To check on Azure: on an app whose host.json says "function", set the
// app setting to anonymous and call https://<app>/mcp without a key; a 401
// from the host means the override is ignored (then this check follows the
// wrong value, and MCP_REQUIRE_HOST_KEYS=off turns it off), an MCP answer
// means it is honoured. The same test with host.json "anonymous" and the
// setting "function" must answer 401.
//
// Only the exact name above and its upper-case form are read: getenv
// cannot find other spellings, which the host would also honour.
func overrideLevel(get func(string) string) (*hostLevel, error) {
	for _, name := range []string{envHostAuthLevel, strings.ToUpper(envHostAuthLevel)} {
		if v := get(name); v != "" {
			l, err := parseLevel(v)
			if err != nil {
				return nil, fmt.Errorf("the app setting %s: %w", name, err)
			}
			return &hostLevel{level: l, source: "the app setting " + name}, nil
		}
	}
	return nil, nil
}

// fileLevel is the level host.json sets, or the host's default.
func fileLevel(get func(string) string, readFile func(string) ([]byte, error)) (hostLevel, error) {
	path := hostJSON
	if root := get(envAppRoot); root != "" {
		path = filepath.Join(root, hostJSON)
	}
	b, err := readFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return hostLevel{level: levelFunction, source: "the host's default (no " + path + ")"}, nil
	case err != nil:
		return hostLevel{}, fmt.Errorf("reading %s to learn the host's authorization level: %w", path, err)
	}
	v, found, err := hostJSONLevel(b)
	if err != nil {
		return hostLevel{}, fmt.Errorf("%s: %w", path, err)
	}
	if !found {
		return hostLevel{level: levelFunction, source: "the host's default (" + path + " does not set customHandler.http.DefaultAuthorizationLevel)"}, nil
	}
	l, err := parseLevel(v)
	if err != nil {
		return hostLevel{}, fmt.Errorf("%s: customHandler.http.DefaultAuthorizationLevel: %w", path, err)
	}
	return hostLevel{level: l, source: path}, nil
}

// parseLevel accepts anonymous, function and admin, in any case.
func parseLevel(v string) (string, error) {
	switch l := strings.ToLower(strings.TrimSpace(v)); l {
	case levelAnonymous, levelFunction, levelAdmin:
		return l, nil
	default:
		return "", fmt.Errorf("authorization level %q is not anonymous, function or admin; use function", v)
	}
}

// hostJSONLevel returns customHandler.http.DefaultAuthorizationLevel of a
// host.json document, matching keys case-insensitively. found is false
// when the path is absent; a value that is not a string, a path through
// something that is not an object, or keys that differ only in case are
// errors (the host would not read the level this function assumes).
func hostJSONLevel(doc []byte) (value string, found bool, err error) {
	var node json.RawMessage = doc
	path := []string{"customHandler", "http", "DefaultAuthorizationLevel"}
	for i, key := range path {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(node, &obj); err != nil || obj == nil {
			if i == 0 {
				return "", false, errors.New("not a JSON object (comments and trailing commas are not read here); fix the file, or set the level with the app setting " + envHostAuthLevel)
			}
			return "", false, fmt.Errorf("%s is not a JSON object", strings.Join(path[:i], "."))
		}
		var match []string
		for k := range obj {
			if strings.EqualFold(k, key) {
				match = append(match, k)
			}
		}
		switch len(match) {
		case 0:
			return "", false, nil
		case 1:
			node = obj[match[0]]
		default:
			return "", false, fmt.Errorf("%s is set more than once (keys differing only in case)", strings.Join(path[:i+1], "."))
		}
	}
	var s string
	if err := json.Unmarshal(node, &s); err != nil {
		return "", false, fmt.Errorf("customHandler.http.DefaultAuthorizationLevel is %s, not a string such as \"function\"", strings.TrimSpace(string(node)))
	}
	return s, true, nil
}
