package deploy

// The tool versions the repository depends on, each stated here once, and
// the one way their version commands are read (by `mage doctor`, the azd
// preflight and `mage dev`'s choice of Functions host).

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// minGoVersion is the oldest Go release that builds the repository.
const minGoVersion = "1.26.0"

// minAzdVersion is the first azd release that builds and deploys
// `language: go` services to Flex Consumption (Azure/azure-dev PR #8599).
const minAzdVersion = "1.26.0"

// MinFuncVersion is the first Azure Functions Core Tools release that runs
// MCP custom handlers (the mcp-custom-handler profile): `mage doctor`
// reports it and `mage dev` uses the real host only from it on.
const MinFuncVersion = "4.5.0"

// FuncInstallURL is where to install Azure Functions Core Tools.
const FuncInstallURL = "https://learn.microsoft.com/azure/azure-functions/functions-run-local"

// CheckFunc checks that Azure Functions Core Tools (func) is on PATH and
// is MinFuncVersion or newer. Its error says why func cannot run MCP
// custom handlers.
func CheckFunc(ctx context.Context) error {
	path, err := exec.LookPath("func")
	if err != nil {
		//lint:ignore ST1005 the message starts with the product's name; mage dev prints it as a sentence of its own.
		return errors.New("Azure Functions Core Tools (func) is not installed")
	}
	out, err := runTool(ctx, path, "--version")
	if err != nil {
		return fmt.Errorf("`func --version` failed (%w)", err)
	}
	v, ok := readVersion("func", out)
	if !ok {
		return fmt.Errorf("cannot read the func version from %q", strings.TrimSpace(out))
	}
	if v.less(MinFuncVersion) {
		return fmt.Errorf("func %s is older than %s, the first to run MCP custom handlers", v, MinFuncVersion)
	}
	return nil
}

// version is a major.minor.patch version.
type version [3]int

func (v version) String() string { return fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2]) }

// less reports whether v is older than min, a version such as
// minAzdVersion.
func (v version) less(min string) bool {
	w, _ := parseVersion(min)
	for i := range v {
		if v[i] != w[i] {
			return v[i] < w[i]
		}
	}
	return false
}

var versionRE = regexp.MustCompile(`(\d+)\.(\d+)(?:\.(\d+))?`)

// parseVersion finds the first version in s ("azd version 1.26.0 (commit
// …)", "go version go1.26.8 linux/amd64", "v22.11.0"). A missing patch
// number reads as 0.
func parseVersion(s string) (version, bool) {
	m := versionRE.FindStringSubmatch(s)
	if m == nil {
		return version{}, false
	}
	var v version
	for i := range v {
		v[i], _ = strconv.Atoi(m[i+1])
	}
	return v, true
}

// versionMarkers precede the version in the output of tools that may name
// other versions first (an upgrade notice naming the latest release).
var versionMarkers = map[string]string{"az": "azure-cli", "azd": "azd version"}

// readVersion reads the version of the tool called name from out, what
// its version command printed.
func readVersion(name, out string) (version, bool) {
	if m, ok := versionMarkers[name]; ok {
		if i := strings.Index(out, m); i >= 0 {
			out = out[i:]
		}
	}
	return parseVersion(out)
}
