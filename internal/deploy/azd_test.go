package deploy

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeTools puts shell scripts named after tools in a fresh folder and
// makes it the only folder on PATH. Each script body is sh code; "$1" and
// "$@" are the tool's arguments.
func fakeTools(t *testing.T, scripts map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir)
	return dir
}

// fakeAzd is an azd that prints version and answers the login check with
// status (an exit code) and message.
func fakeAzd(version, loginOutput string, loginStatus int) string {
	return `echo "$@" >> "${0%/*}/calls"
case "$1" in
version) ` + version + ` ;;
auth) echo "` + loginOutput + `"; exit ` + string(rune('0'+loginStatus)) + ` ;;
*) echo "unexpected: $@" >&2; exit 9 ;;
esac`
}

func TestAzdPreflight(t *testing.T) {
	tests := []struct {
		name        string
		azd         string // script; empty: no azd on PATH
		wantVersion string
		wantErr     []string
		wantCalls   string
	}{
		{
			name:    "not installed",
			wantErr: []string{"the Azure Developer CLI (azd) is not installed or not on PATH: install azd 1.26.0 or newer from https://aka.ms/azd-install", "azd auth login"},
		},
		{
			name:        "new enough and logged in",
			azd:         fakeAzd(`echo "azd version 1.26.0 (commit 0123456789abcdef)"`, "Logged in to Azure as user@example.com", 0),
			wantVersion: "1.26.0",
			wantCalls:   "version\nauth login --check-status\n",
		},
		{
			name:        "newer, with an upgrade notice first",
			azd:         fakeAzd(`echo "WARNING: your version of azd is out of date, the latest version is 1.30.2"; echo "azd version 1.27.1 (commit abc)"`, "Logged in to Azure as user@example.com", 0),
			wantVersion: "1.27.1",
		},
		{
			name:        "too old",
			azd:         fakeAzd(`echo "azd version 1.25.9 (commit abc)"`, "Logged in", 0),
			wantVersion: "1.25.9",
			wantErr:     []string{"azd 1.25.9 is too old: `language: go` Function apps need azd 1.26.0 or newer; upgrade from https://aka.ms/azd-install", "language: custom"},
			wantCalls:   "version\n",
		},
		{
			name:    "version unreadable",
			azd:     fakeAzd(`echo "azd dev build"`, "", 0),
			wantErr: []string{"cannot read a version from `azd version` output \"azd dev build\"", "https://aka.ms/azd-install"},
		},
		{
			name:    "version command fails",
			azd:     fakeAzd(`echo "boom" >&2; exit 3`, "", 0),
			wantErr: []string{"`azd version` failed: exit status 3: boom", "reinstall azd 1.26.0 or newer"},
		},
		{
			name:        "not logged in (exit status)",
			azd:         fakeAzd(`echo "azd version 1.26.0"`, "ERROR: not logged in, run azd auth login to login", 1),
			wantVersion: "1.26.0",
			wantErr:     []string{"azd is not logged in to Azure", "run `azd auth login`", "--tenant-id"},
		},
		{
			name:        "not logged in (message only)",
			azd:         fakeAzd(`echo "azd version 1.26.0"`, "Not logged in, run azd auth login to login.", 0),
			wantVersion: "1.26.0",
			wantErr:     []string{"azd is not logged in to Azure (Not logged in, run azd auth login to login.)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scripts := map[string]string{}
			if tt.azd != "" {
				scripts["azd"] = tt.azd
			}
			dir := fakeTools(t, scripts)
			azd, err := AzdPreflight(context.Background())
			if len(tt.wantErr) == 0 && err != nil {
				t.Fatalf("AzdPreflight: %v", err)
			}
			for _, want := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("AzdPreflight = %v, want an error containing %q", err, want)
				}
			}
			if tt.wantVersion != "" && (azd == nil || azd.Version != tt.wantVersion || azd.Path != filepath.Join(dir, "azd")) {
				t.Errorf("azd = %+v, want version %s at %s", azd, tt.wantVersion, filepath.Join(dir, "azd"))
			}
			if tt.wantCalls != "" {
				calls, _ := os.ReadFile(filepath.Join(dir, "calls"))
				if string(calls) != tt.wantCalls {
					t.Errorf("azd was called with\n%s\nwant\n%s", calls, tt.wantCalls)
				}
			}
		})
	}
}

func TestDoctor(t *testing.T) {
	fakeTools(t, map[string]string{
		"go":   `echo "go version go1.26.8 linux/amd64"`,
		"func": `echo "4.4.1"`,
		"azd":  `echo "azd version 1.26.1 (commit abc)"`,
		"az":   `echo "az broke" >&2; exit 1`,
		"node": `echo "v22.11.0"`,
		// npm is not installed
	})
	statuses := Diagnose(context.Background(), Tools())
	got := map[string]ToolStatus{}
	for _, s := range statuses {
		got[s.Name] = s
	}
	for name, want := range map[string]struct{ version, problem string }{
		"go":    {"1.26.8", ""},
		"func":  {"4.4.1", "older than 4.5.0"},
		"azd":   {"1.26.1", ""},
		"az":    {"", "`az version --output json` failed: exit status 1: az broke"},
		"node":  {"22.11.0", ""},
		"npm":   {"", "not found"},
		"bicep": {"", "not found"},
	} {
		if s := got[name]; s.Version != want.version || s.Problem != want.problem {
			t.Errorf("%s: version %q problem %q; want %q %q", name, s.Version, s.Problem, want.version, want.problem)
		}
	}
	var out bytes.Buffer
	if err := WriteDoctor(&out, statuses); err != nil {
		t.Errorf("WriteDoctor = %v, want nil: only optional tools have problems", err)
	}
	for _, want := range []string{
		"TOOL   VERSION  STATUS", "go     1.26.8   ok", "npm    -        not found", "bicep  -        not found",
		"- bicep: not on PATH; install it from https://learn.microsoft.com/azure/azure-resource-manager/bicep/install",
		"- func 4.4.1 is older than 4.5.0; upgrade from https://learn.microsoft.com/azure/azure-functions/functions-run-local",
		"- npm: not on PATH; install it from https://nodejs.org/",
		"- az (", "az broke; reinstall it from https://learn.microsoft.com/cli/azure/install-azure-cli",
		"`mage dev` runs each server under the real Functions host",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestDoctorWithoutGo(t *testing.T) {
	for name, script := range map[string]string{
		"missing": "",
		"broken":  `echo "go: cannot find GOROOT directory" >&2; exit 2`,
	} {
		t.Run(name, func(t *testing.T) {
			scripts := map[string]string{}
			if script != "" {
				scripts["go"] = script
			}
			fakeTools(t, scripts)
			var out bytes.Buffer
			err := WriteDoctor(&out, Diagnose(context.Background(), Tools()))
			if err == nil || !strings.Contains(err.Error(), "go is not usable") || !strings.Contains(err.Error(), "https://go.dev/dl/") {
				t.Fatalf("WriteDoctor = %v, want go is not usable\n%s", err, out.String())
			}
		})
	}
	// An old go is reported but not fatal: the go line in go.mod makes the
	// go command fetch the toolchain it needs.
	fakeTools(t, map[string]string{"go": `echo "go version go1.24.1 linux/amd64"`})
	var out bytes.Buffer
	if err := WriteDoctor(&out, Diagnose(context.Background(), Tools())); err != nil {
		t.Errorf("old go: %v", err)
	}
	if !strings.Contains(out.String(), "- go 1.24.1 is older than 1.26.0") {
		t.Errorf("old go not reported:\n%s", out.String())
	}
}
