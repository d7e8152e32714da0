package scaffold

// The preflight of `mage deploy` and `mage up`: azd present, new enough for
// `language: go` Function apps, and logged in.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// MinAzdVersion is the first azd release that builds and deploys
// `language: go` services to Flex Consumption (Azure/azure-dev PR #8599).
const MinAzdVersion = "1.26.0"

// MinFuncVersion is the first Azure Functions Core Tools release that runs
// MCP custom handlers (the mcp-custom-handler profile): `mage doctor`
// reports it and `mage dev` uses the real host only from it on.
const MinFuncVersion = "4.5.0"

// AzdInstallURL is where to install or upgrade azd.
const AzdInstallURL = "https://aka.ms/azd-install"

// azdTimeout bounds each preflight call (the login check may refresh a
// token over the network).
const azdTimeout = 60 * time.Second

// Azd is an azd that passed the preflight.
type Azd struct {
	Path    string
	Version string
}

// AzdPreflight checks that azd is on PATH, that `azd version` reports
// MinAzdVersion or newer, and that `azd auth login --check-status` says
// the user is logged in. Its errors say what to install or run.
func AzdPreflight(ctx context.Context) (*Azd, error) {
	path, err := exec.LookPath("azd")
	if err != nil {
		return nil, fmt.Errorf("the Azure Developer CLI (azd) is not installed or not on PATH: install azd %s or newer from %s, run `azd auth login`, then run this again", MinAzdVersion, AzdInstallURL)
	}
	out, err := runTool(ctx, path, "version")
	if err != nil {
		return nil, fmt.Errorf("`azd version` failed: %w; reinstall azd %s or newer from %s", err, MinAzdVersion, AzdInstallURL)
	}
	// azd may print an upgrade notice naming the latest version too.
	vs := out
	if i := strings.Index(vs, "azd version"); i >= 0 {
		vs = vs[i:]
	}
	v, ok := ParseVersion(vs)
	if !ok {
		return nil, fmt.Errorf("cannot read a version from `azd version` output %q; install azd %s or newer from %s", strings.TrimSpace(out), MinAzdVersion, AzdInstallURL)
	}
	a := &Azd{Path: path, Version: v.String()}
	if min, _ := ParseVersion(MinAzdVersion); v.Less(min) {
		return a, fmt.Errorf("azd %s is too old: `language: go` Function apps need azd %s or newer; upgrade from %s (or use the `language: custom` fallback in the README)", v, MinAzdVersion, AzdInstallURL)
	}
	out, err = runTool(ctx, path, "auth", "login", "--check-status")
	if err != nil || strings.Contains(strings.ToLower(out), "not logged in") {
		detail := strings.TrimSpace(out)
		if err != nil && detail == "" {
			detail = err.Error()
		}
		return a, fmt.Errorf("azd is not logged in to Azure (%s): run `azd auth login` (add --tenant-id <tenant> for a specific tenant), then run this again", detail)
	}
	return a, nil
}

// runTool runs a tool with a timeout and returns its combined output.
func runTool(ctx context.Context, path string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, azdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		return b.String(), fmt.Errorf("no answer within %s: %w", azdTimeout, ctx.Err())
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && strings.TrimSpace(b.String()) != "" {
			return b.String(), fmt.Errorf("%w: %s", err, strings.TrimSpace(b.String()))
		}
		return b.String(), err
	}
	return b.String(), nil
}

// Version is a major.minor.patch version.
type Version [3]int

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2]) }

// Less reports whether v is older than w.
func (v Version) Less(w Version) bool {
	for i := range v {
		if v[i] != w[i] {
			return v[i] < w[i]
		}
	}
	return false
}

var versionRE = regexp.MustCompile(`(\d+)\.(\d+)(?:\.(\d+))?`)

// ParseVersion finds the first version in s ("azd version 1.26.0 (commit
// …)", "go version go1.26.8 linux/amd64", "v22.11.0"). A missing patch
// number reads as 0.
func ParseVersion(s string) (Version, bool) {
	m := versionRE.FindStringSubmatch(s)
	if m == nil {
		return Version{}, false
	}
	var v Version
	for i := range v {
		v[i], _ = strconv.Atoi(m[i+1])
	}
	return v, true
}
