//go:build mage

// Build, run and test every MCP server in this repository (servers/*).
package main

// One file per topic: dev.go (dev, build), test.go (test, lint, tidy,
// fuzz), scaffold.go (new, adopt, sync, remove), deploy.go (package,
// deploy, up, doctor), clients.go, bench.go; this one holds what they
// share.
//
// Servers are the folders under servers/ (see internal/workspace); each has
// a host.json for Azure Functions and a local.settings.json whose
// Host.LocalHttpPort is its local port.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/magefile/mage/mg"
	"github.com/mcpfunc/mcpfunc/internal/deploy"
	"github.com/mcpfunc/mcpfunc/internal/workspace"
)

func loadServers() ([]workspace.Server, error) {
	servers, err := workspace.Servers(".")
	if err != nil {
		return nil, err
	}
	if len(servers) == 0 {
		return nil, errors.New("no servers found under servers/ (each needs go.mod, host.json and local.settings.json)")
	}
	return servers, workspace.Check(servers)
}

// pickServers returns the servers of all that list (a -server flag: names,
// comma-separated) names, in its order; name gives a server's name.
func pickServers[S any](all []S, name func(S) string, list string) ([]S, error) {
	var names []string
	for _, s := range all {
		names = append(names, name(s))
	}
	var out []S
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		i := slices.Index(names, n)
		if i < 0 {
			return nil, fmt.Errorf("no server %q under servers/ (there are: %s)", n, strings.Join(names, ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
}

// moduleDirs lists the workspace modules' folders, relative to the root.
func moduleDirs(ctx context.Context) ([]string, error) {
	out, err := output(ctx, ".", nil, "go", "list", "-m", "-f", "{{.Dir}}")
	if err != nil {
		return nil, err
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, d := range strings.Fields(out) {
		rel, err := filepath.Rel(wd, d)
		if err != nil {
			return nil, err
		}
		dirs = append(dirs, rel)
	}
	return dirs, nil
}

// run runs a command quietly: its output is shown only when it fails or
// mage runs with -v.
func run(ctx context.Context, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var buf bytes.Buffer
	if mg.Verbose() {
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	} else {
		cmd.Stdout, cmd.Stderr = &buf, &buf
	}
	if err := cmd.Run(); err != nil {
		os.Stderr.Write(buf.Bytes())
		return fmt.Errorf("%s %s (in %s): %w", name, strings.Join(args, " "), dir, err)
	}
	return nil
}

// output runs a command and returns its standard output; a failure's
// error holds its standard error (deploy.Output).
func output(ctx context.Context, dir string, env []string, name string, args ...string) (string, error) {
	return deploy.Output(ctx, dir, env, name, args...)
}
