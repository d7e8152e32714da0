package deploy

// The preflight of `mage deploy` and `mage up`: azd present, new enough for
// `language: go` Function apps, and logged in.

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// azdInstallURL is where to install or upgrade azd.
const azdInstallURL = "https://aka.ms/azd-install"

// toolTimeout bounds each call of a tool: a version command, or the azd
// login check (which may refresh a token over the network).
const toolTimeout = 60 * time.Second

// Azd is an azd that passed the preflight.
type Azd struct {
	Path    string
	Version string
}

// AzdPreflight checks that azd is on PATH, that `azd version` reports
// minAzdVersion or newer, and that `azd auth login --check-status` says
// the user is logged in. Its errors say what to install or run.
func AzdPreflight(ctx context.Context) (*Azd, error) {
	path, err := exec.LookPath("azd")
	if err != nil {
		return nil, fmt.Errorf("the Azure Developer CLI (azd) is not installed or not on PATH: install azd %s or newer from %s, run `azd auth login`, then run this again", minAzdVersion, azdInstallURL)
	}
	out, err := runTool(ctx, path, "version")
	if err != nil {
		return nil, fmt.Errorf("`azd version` failed: %w; reinstall azd %s or newer from %s", err, minAzdVersion, azdInstallURL)
	}
	v, ok := readVersion("azd", out)
	if !ok {
		return nil, fmt.Errorf("cannot read a version from `azd version` output %q; install azd %s or newer from %s", strings.TrimSpace(out), minAzdVersion, azdInstallURL)
	}
	a := &Azd{Path: path, Version: v.String()}
	if v.less(minAzdVersion) {
		return a, fmt.Errorf("azd %s is too old: `language: go` Function apps need azd %s or newer; upgrade from %s (or use the `language: custom` fallback in the README)", v, minAzdVersion, azdInstallURL)
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

// runTool runs a tool with a timeout and returns its output: what it
// wrote to standard output, then to standard error.
func runTool(ctx context.Context, path string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, toolTimeout)
	defer cancel()
	stdout, stderr, err := capture(ctx, "", nil, path, args...)
	out := stdout + stderr
	if ctx.Err() != nil {
		return out, fmt.Errorf("no answer within %s: %w", toolTimeout, ctx.Err())
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && strings.TrimSpace(out) != "" {
			return out, fmt.Errorf("%w: %s", err, strings.TrimSpace(out))
		}
		return out, err
	}
	return out, nil
}
