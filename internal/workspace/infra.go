package workspace

// Static checks of infra/ (the Bicep compiler is not available to the
// tests): module references, parameters, the server list, and the app
// settings the servers read.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Files of infra/ the checks read, relative to the repository root.
const (
	MainBicepFile      = "infra/main.bicep"
	MainParametersFile = "infra/main.parameters.json"
	ServerBicepFile    = "infra/app/server.bicep"
	BicepConfigFile    = "infra/bicepconfig.json"
)

// codeSettings returns the app settings the servers' code reads and the
// Bicep must therefore set on every Function app (some only with Easy Auth).
func codeSettings() []string {
	return []string{
		"MCP_AUTH",
		"MCP_AUTH_ROLES",
		"MCP_LOCALHOST_PROTECTION",
		"MCP_RESPONSE_MODE",
		"OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID",
		"WEBSITE_AUTH_AAD_ALLOWED_TENANTS",
		"TokenExchangeAudience",
	}
}

// platformSetting reports whether the Functions platform or Easy Auth reads
// an app setting, rather than our code.
func platformSetting(name string) bool {
	// AzureFunctionsJobHost__<path>: a host.json value the host takes from
	// an app setting (shared/auth reads the authorization level one too).
	for _, p := range []string{"AzureWebJobs", "AzureFunctionsJobHost__", "APPLICATIONINSIGHTS_", "WEBSITE_AUTH_PRM_", "FUNCTIONS_"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

var (
	bicepModuleRE    = regexp.MustCompile(`^\s*module\s+\w+\s+'([^']+)'`)
	bicepExtensionRE = regexp.MustCompile(`^\s*extension\s+(\S+)`)
	bicepParamRE     = regexp.MustCompile(`^param\s+(\w+)\s+([^=]+?)\s*(=.*)?$`)
	registryRefRE    = regexp.MustCompile(`^(br|ts)[:/].+:(\d+\.\d+\.\d+)$`)
	envRefRE         = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(=[^}]*)?\}`)
	objectKeyRE      = regexp.MustCompile(`(?:^|[{,])\s*'?([A-Za-z_][A-Za-z0-9_]*)'?\s*:\s`)
)

// CheckInfra runs the static checks of infra/:
//
//   - every local `module '…'` path in infra/**/*.bicep exists, and every
//     registry reference (br/public:avm/…, br:…) and bicepconfig.json
//     extension is pinned to an exact version;
//   - every `extension` a Bicep file uses is declared in bicepconfig.json;
//   - every parameter of main.parameters.json is a param of main.bicep, and
//     every param of main.bicep without a default is in main.parameters.json;
//   - every azure.yaml service has an entry in infra/servers.json and the
//     reverse, main.bicep deploys that list through app/server.bicep, and
//     server.bicep tags each app with 'azd-service-name': serverName;
//   - the app settings server.bicep sets match what the code reads: every
//     setting in codeSettings() is set, every non-platform setting is read
//     somewhere in shared/ or servers/, and the MCP_AUTH values are ones
//     the code accepts;
//   - the Function app name app/server.bicep derives from each server name
//     is a valid Azure name.
//
// Every problem names the file to fix.
func CheckInfra(root string) error {
	var errs []error
	errs = append(errs, checkBicepReferences(root)...)
	errs = append(errs, checkParameters(root)...)
	errs = append(errs, checkServiceTags(root)...)
	errs = append(errs, checkAppSettings(root)...)
	errs = append(errs, checkResourceNames(root)...)
	return errors.Join(errs...)
}

func readRel(root, rel string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", rel, err)
	}
	return string(b), nil
}

// stripBicepComment drops a // comment that is not inside a string.
func stripBicepComment(line string) string {
	inStr := false
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\'':
			inStr = !inStr
		case !inStr && line[i] == '/' && i+1 < len(line) && line[i+1] == '/':
			return line[:i]
		}
	}
	return line
}

func checkBicepReferences(root string) []error {
	var errs []error
	extensions := map[string]bool{}
	if cfg, err := readRel(root, BicepConfigFile); err == nil {
		var c struct {
			Extensions map[string]string `json:"extensions"`
		}
		if err := json.Unmarshal([]byte(cfg), &c); err != nil {
			errs = append(errs, fmt.Errorf("parse %s: %w", BicepConfigFile, err))
		}
		for alias, ref := range c.Extensions {
			extensions[alias] = true
			if !registryRefRE.MatchString(ref) {
				errs = append(errs, fmt.Errorf("%s: extension %s = %q is not pinned to an exact version (…:1.2.3)", BicepConfigFile, alias, ref))
			}
		}
	}
	infra := filepath.Join(root, "infra")
	err := filepath.WalkDir(infra, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".bicep" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		for i, line := range strings.Split(string(b), "\n") {
			line = stripBicepComment(line)
			if m := bicepModuleRE.FindStringSubmatch(line); m != nil {
				ref := m[1]
				switch {
				case strings.HasPrefix(ref, "br/") || strings.HasPrefix(ref, "br:") || strings.HasPrefix(ref, "ts/") || strings.HasPrefix(ref, "ts:"):
					if !registryRefRE.MatchString(ref) {
						errs = append(errs, fmt.Errorf("%s:%d: module %q is not pinned to an exact version (…:1.2.3)", rel, i+1, ref))
					}
				default:
					target := filepath.Join(filepath.Dir(p), filepath.FromSlash(ref))
					if _, err := os.Stat(target); err != nil {
						errs = append(errs, fmt.Errorf("%s:%d: module path %q does not exist", rel, i+1, ref))
					}
				}
			}
			if m := bicepExtensionRE.FindStringSubmatch(line); m != nil {
				ext := m[1]
				if strings.HasPrefix(ext, "'") {
					ref := strings.Trim(ext, "'")
					if !registryRefRE.MatchString(ref) {
						errs = append(errs, fmt.Errorf("%s:%d: extension %q is not pinned to an exact version", rel, i+1, ref))
					}
				} else if !extensions[ext] && ext != "az" {
					errs = append(errs, fmt.Errorf("%s:%d: extension %s is not declared in %s", rel, i+1, ext, BicepConfigFile))
				}
			}
		}
		return nil
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("read infra/: %w", err))
	}
	return errs
}

// bicepParams returns main.bicep's params and whether each has a default.
func bicepParams(src string) map[string]bool {
	params := map[string]bool{}
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(stripBicepComment(line))
		if m := bicepParamRE.FindStringSubmatch(line); m != nil {
			params[m[1]] = m[3] != ""
		}
	}
	return params
}

func checkParameters(root string) []error {
	mainSrc, err := readRel(root, MainBicepFile)
	if err != nil {
		return []error{err}
	}
	paramsSrc, err := readRel(root, MainParametersFile)
	if err != nil {
		return []error{err}
	}
	var pf struct {
		Parameters map[string]struct {
			Value any `json:"value"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal([]byte(paramsSrc), &pf); err != nil {
		return []error{fmt.Errorf("parse %s: %w", MainParametersFile, err)}
	}
	params := bicepParams(mainSrc)
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(pf.Parameters)) {
		if _, ok := params[name]; !ok {
			errs = append(errs, fmt.Errorf("%s: parameter %q is not a param of %s (azd would fail the deployment): remove it or add the param", MainParametersFile, name, MainBicepFile))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(params)) {
		if _, ok := pf.Parameters[name]; !ok && !params[name] {
			errs = append(errs, fmt.Errorf("%s: param %s has no default and no value in %s", MainBicepFile, name, MainParametersFile))
		}
	}
	return errs
}

// ParameterEnvVars returns the environment variables main.parameters.json
// reads (${NAME} or ${NAME=default}), sorted.
func ParameterEnvVars(root string) ([]string, error) {
	src, err := readRel(root, MainParametersFile)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, m := range envRefRE.FindAllStringSubmatch(src, -1) {
		seen[m[1]] = true
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

func checkServiceTags(root string) []error {
	var errs []error
	yb, err := os.ReadFile(filepath.Join(root, AzureYAMLFile))
	if err != nil {
		return []error{fmt.Errorf("read %s: %w", AzureYAMLFile, err)}
	}
	a, err := ParseAzureYAML(yb)
	if err != nil {
		return []error{err}
	}
	lb, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(ServerListFile)))
	if err != nil {
		return []error{fmt.Errorf("read %s: %w", ServerListFile, err)}
	}
	list, err := ParseServerList(lb)
	if err != nil {
		return []error{err}
	}
	listed := map[string]bool{}
	for _, e := range list {
		listed[e.Name] = true
	}
	services := map[string]bool{}
	for _, s := range a.Services {
		services[s.Name] = true
		if !listed[s.Name] {
			errs = append(errs, fmt.Errorf("%s: azure.yaml service %q has no entry, so no Function app is tagged azd-service-name: %s and `azd deploy` fails: add {\"name\": %q, \"graph\": false, \"auth\": \"entra\"}", ServerListFile, s.Name, s.Name, s.Name))
		}
	}
	for _, e := range list {
		if !services[e.Name] {
			errs = append(errs, fmt.Errorf("%s: %q has no service in %s, so azd provisions its Function app but never deploys to it", ServerListFile, e.Name, AzureYAMLFile))
		}
	}

	mainSrc, err := readRel(root, MainBicepFile)
	if err != nil {
		return append(errs, err)
	}
	for _, want := range []string{"loadJsonContent('servers.json')", "module serverApps 'app/server.bicep'", "serverName: s.name"} {
		if !strings.Contains(mainSrc, want) {
			errs = append(errs, fmt.Errorf("%s: expected %q: every entry of %s must be deployed by app/server.bicep with its name as serverName", MainBicepFile, want, ServerListFile))
		}
	}
	serverSrc, err := readRel(root, ServerBicepFile)
	if err != nil {
		return append(errs, err)
	}
	if !regexp.MustCompile(`'azd-service-name'\s*:\s*serverName\b`).MatchString(serverSrc) {
		errs = append(errs, fmt.Errorf("%s: the Function app must be tagged 'azd-service-name': serverName, or azd cannot find it", ServerBicepFile))
	}
	// The AVM site module's default siteConfig sets alwaysOn: true, which
	// Flex Consumption lists as not valid.
	if !regexp.MustCompile(`siteConfig:\s*\{\s*alwaysOn:\s*false\s*\}`).MatchString(serverSrc) {
		errs = append(errs, fmt.Errorf("%s: pass siteConfig: { alwaysOn: false } to the site module: its default turns alwaysOn on, which Flex Consumption does not accept", ServerBicepFile))
	}
	return errs
}

// bicepVarBlock returns the text of `var name = …` up to the next
// top-level declaration.
func bicepVarBlock(src, name string) (string, bool) {
	lines := strings.Split(src, "\n")
	for i, line := range lines {
		if !strings.HasPrefix(line, "var "+name+" ") && !strings.HasPrefix(line, "var "+name+"=") {
			continue
		}
		var b strings.Builder
		b.WriteString(stripBicepComment(line) + "\n")
		for _, l := range lines[i+1:] {
			if l != "" && (unicode.IsLetter(rune(l[0])) || l[0] == '@') {
				break // the next top-level declaration
			}
			b.WriteString(stripBicepComment(l) + "\n")
		}
		return b.String(), true
	}
	return "", false
}

// appSettings returns the app settings server.bicep sets, each with the
// Bicep text of its value: the keys of the variables passed to
// appSettingsKeyValuePairs.
func appSettings(src string) (map[string]string, error) {
	m := regexp.MustCompile(`appSettingsKeyValuePairs:\s*(?:union\(([^)]*)\)|(\w+))`).FindStringSubmatch(src)
	if m == nil {
		return nil, errors.New("no appSettingsKeyValuePairs: union(…) found")
	}
	args := m[1]
	if args == "" {
		args = m[2]
	}
	settings := map[string]string{}
	for _, v := range strings.Split(args, ",") {
		v = strings.TrimSpace(v)
		block, ok := bicepVarBlock(src, v)
		if !ok {
			return nil, fmt.Errorf("appSettingsKeyValuePairs uses %s, which is not a var", v)
		}
		_, body, _ := strings.Cut(block, "=")
		for _, line := range strings.Split(body, "\n") {
			for _, km := range objectKeyRE.FindAllStringSubmatchIndex(line, -1) {
				key := line[km[2]:km[3]]
				settings[key] = strings.TrimSpace(line[km[1]:])
			}
		}
	}
	return settings, nil
}

// goSources returns the text of the non-test Go files under root/shared and
// root/servers, per file.
func goSources(root string) (map[string]string, error) {
	out := map[string]string{}
	for _, dir := range []string{"shared", "servers"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "testdata" || d.Name() == "vendor" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			out[filepath.ToSlash(rel)] = string(b)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read Go sources: %w", err)
		}
	}
	return out, nil
}

// readers returns the files whose source holds the Go string literal s.
func readers(sources map[string]string, s string) []string {
	var files []string
	for f, src := range sources {
		if strings.Contains(src, `"`+s+`"`) {
			files = append(files, f)
		}
	}
	slices.Sort(files)
	return files
}

func checkAppSettings(root string) []error {
	src, err := readRel(root, ServerBicepFile)
	if err != nil {
		return []error{err}
	}
	settings, err := appSettings(src)
	if err != nil {
		return []error{fmt.Errorf("%s: %w", ServerBicepFile, err)}
	}
	sources, err := goSources(root)
	if err != nil {
		return []error{err}
	}
	var errs []error
	for _, name := range codeSettings() {
		if _, ok := settings[name]; !ok {
			errs = append(errs, fmt.Errorf("%s: app setting %s is not set, but %v read it", ServerBicepFile, name, readers(sources, name)))
		}
		if len(readers(sources, name)) == 0 {
			errs = append(errs, fmt.Errorf("%s: no code in shared/ or servers/ reads %s any more: update the list in internal/workspace/infra.go and the Bicep", ServerBicepFile, name))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(settings)) {
		if platformSetting(name) {
			continue
		}
		if len(readers(sources, name)) == 0 {
			errs = append(errs, fmt.Errorf("%s: app setting %s is read by no code in shared/ or servers/ (a typo?)", ServerBicepFile, name))
		}
	}
	if v := settings["AzureWebJobsFeatureFlags"]; !strings.Contains(v, "EnableMcpCustomHandlerPreview") {
		errs = append(errs, fmt.Errorf("%s: AzureWebJobsFeatureFlags must be 'EnableMcpCustomHandlerPreview' (the contract's feature flag), not %s", ServerBicepFile, v))
	}
	// Values the Bicep gives MCP_AUTH must be modes the code accepts. A
	// value that looks its mode up in a var (mcpAuthModes[authMode]) has
	// that var's values.
	if v, ok := settings["MCP_AUTH"]; ok {
		if m := regexp.MustCompile(`^(\w+)\[\w+\]$`).FindStringSubmatch(v); m != nil {
			if block, ok := bicepVarBlock(src, m[1]); ok {
				_, v, _ = strings.Cut(block, "=")
			}
		}
		// Look in the packages (folders) of the files that read MCP_AUTH.
		pkgs := map[string]bool{}
		for _, f := range readers(sources, "MCP_AUTH") {
			pkgs[path.Dir(f)] = true
		}
		for _, q := range regexp.MustCompile(`'([^']*)'`).FindAllStringSubmatch(v, -1) {
			found := false
			for f, src := range sources {
				found = found || (pkgs[path.Dir(f)] && strings.Contains(src, `"`+q[1]+`"`))
			}
			if !found {
				errs = append(errs, fmt.Errorf("%s: MCP_AUTH value '%s' is not a mode the code in %v accepts", ServerBicepFile, q[1], slices.Sorted(maps.Keys(pkgs))))
			}
		}
	}
	return errs
}

// The naming expression of app/server.bicep that ResourceNames mirrors.
// (The deployment container is always 'app-package' and the storage
// account 'st' plus 13 characters of uniqueString: valid for any server.)
const bicepAppName = "var appName = 'func-${serverName}-${resourceToken}'"

// ResourceNames mirrors how app/server.bicep names a server's Function
// app, with a fixed stand-in for the 13-character resourceToken.
func ResourceNames(server string) (app string) {
	const token = "abcdefghij012"
	return "func-" + server + "-" + token
}

var appNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,58}[a-z0-9]$`)

// CheckResourceName checks the Function app name app/server.bicep derives
// from a server name: 2 to 60 lower-case letters, digits and hyphens.
func CheckResourceName(server string) error {
	if app := ResourceNames(server); !appNameRE.MatchString(app) {
		return fmt.Errorf("function app name %q is not valid (2 to 60 lower-case letters, digits and hyphens)", app)
	}
	return nil
}

func checkResourceNames(root string) []error {
	src, err := readRel(root, ServerBicepFile)
	if err != nil {
		return []error{err}
	}
	var errs []error
	if !strings.Contains(src, bicepAppName) {
		errs = append(errs, fmt.Errorf("%s: expected %q: if the naming changed, update ResourceNames in internal/workspace/infra.go to match so the names stay checked", ServerBicepFile, bicepAppName))
	}
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(ServerListFile)))
	if err != nil {
		return append(errs, fmt.Errorf("read %s: %w", ServerListFile, err))
	}
	list, err := ParseServerList(b)
	if err != nil {
		return append(errs, err)
	}
	for _, e := range list {
		if err := CheckResourceName(e.Name); err != nil {
			errs = append(errs, fmt.Errorf("%s: server %q: %w", ServerListFile, e.Name, err))
		}
	}
	return errs
}
