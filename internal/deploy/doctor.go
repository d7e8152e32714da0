package deploy

// `mage doctor`: which tools are installed, their versions, and what each
// is needed for.

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"text/tabwriter"
)

// Tool is a program the repository can use.
type Tool struct {
	Name string
	// Args print the tool's version.
	Args []string
	// Min is the oldest version that works, if any.
	Min string
	// Need says what the tool is for.
	Need string
	// Install is where to get it.
	Install string
	// Required tools make Doctor fail when they are unusable.
	Required bool
}

// Tools lists the tools `mage doctor` reports.
func Tools() []Tool {
	return []Tool{
		{Name: "go", Args: []string{"version"}, Min: minGoVersion, Required: true, Install: "https://go.dev/dl/",
			Need: "required: builds, tests and runs everything (mage comes through `go tool`)"},
		{Name: "func", Args: []string{"--version"}, Min: MinFuncVersion, Install: FuncInstallURL,
			Need: "optional: `mage dev` runs each server under the real Functions host (without it, mage plays the host itself)"},
		{Name: "azd", Args: []string{"version"}, Min: minAzdVersion, Install: azdInstallURL,
			Need: "to deploy: `azd up`, `mage up`, `mage deploy`"},
		{Name: "bicep", Args: []string{"--version"}, Install: BicepInstallURL,
			Need: "optional: `mage up` and `mage deploy` compile infra/ with it first and stop on errors (azd uses its own copy; `az bicep` also works)"},
		{Name: "az", Args: []string{"version", "--output", "json"}, Install: "https://learn.microsoft.com/cli/azure/install-azure-cli",
			Need: "optional: list Flex Consumption runtimes and regions, register the Microsoft.App provider, `az bicep build`"},
		{Name: "node", Args: []string{"--version"}, Install: "https://nodejs.org/",
			Need: "for `mage test`: the pinned MCP clients (conformance suite, TypeScript SDK, Inspector) and the Bicep parser the infra checks use"},
		{Name: "npm", Args: []string{"--version"}, Install: "https://nodejs.org/",
			Need: "for `mage test`: installs the pinned clients in clients/"},
	}
}

// ToolStatus is what Diagnose found out about a tool.
type ToolStatus struct {
	Tool
	Path    string
	Version string // empty if unknown
	// Problem is empty when the tool is usable: "not found", "too old", or
	// why its version command failed.
	Problem string
}

// OK reports whether the tool is present, answers, and is new enough.
func (s ToolStatus) OK() bool { return s.Problem == "" }

// Diagnose looks up each tool on PATH and asks its version, all at once
// (az takes seconds to answer).
func Diagnose(ctx context.Context, tools []Tool) []ToolStatus {
	out := make([]ToolStatus, len(tools))
	var wg sync.WaitGroup
	for i, t := range tools {
		wg.Go(func() { out[i] = diagnose(ctx, t) })
	}
	wg.Wait()
	return out
}

func diagnose(ctx context.Context, t Tool) ToolStatus {
	s := ToolStatus{Tool: t}
	path, err := exec.LookPath(t.Name)
	if err != nil {
		s.Problem = "not found"
		return s
	}
	s.Path = path
	out, err := runTool(ctx, path, t.Args...)
	if err != nil {
		s.Problem = fmt.Sprintf("`%s %s` failed: %v", t.Name, strings.Join(t.Args, " "), firstLine(err.Error()))
		return s
	}
	v, ok := readVersion(t.Name, out)
	if !ok {
		s.Problem = fmt.Sprintf("cannot read its version from %q", firstLine(out))
		return s
	}
	s.Version = v.String()
	if t.Min != "" && v.less(t.Min) {
		s.Problem = "older than " + t.Min
	}
	return s
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// WriteDoctor prints the tool table and, for each problem, what to do.
// It returns an error only if a required tool is missing or unusable; an
// old go is reported but not fatal (go.mod's go line makes the go command
// fetch the right toolchain).
func WriteDoctor(w io.Writer, statuses []ToolStatus) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TOOL\tVERSION\tSTATUS\tNEEDED FOR")
	for _, s := range statuses {
		version := s.Version
		if version == "" {
			version = "-"
		}
		status := "ok"
		if !s.OK() {
			status = s.Problem
			if len(status) > 40 {
				status = "error (see below)"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Name, version, status, s.Need)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var fatal error
	for _, s := range statuses {
		if s.OK() {
			continue
		}
		switch {
		case s.Problem == "not found":
			fmt.Fprintf(w, "- %s: not on PATH; install it from %s\n", s.Name, s.Install)
		case strings.HasPrefix(s.Problem, "older than"):
			fmt.Fprintf(w, "- %s %s is %s; upgrade from %s\n", s.Name, s.Version, s.Problem, s.Install)
		default:
			fmt.Fprintf(w, "- %s (%s): %s; reinstall it from %s\n", s.Name, s.Path, s.Problem, s.Install)
		}
		if s.Required && (s.Problem == "not found" || s.Version == "") {
			fatal = fmt.Errorf("%s is not usable (%s): install it from %s", s.Name, s.Problem, s.Install)
		}
	}
	return fatal
}
