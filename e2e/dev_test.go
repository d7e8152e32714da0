//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mcpfunc/mcpfunc/internal/workspace"
)

// The `mage dev` tests run it as a user would in a terminal, in a copy of
// the repository with a test server or two from testdata/dev added under
// servers/, without Core Tools on PATH: dev then plays the Functions host.

// devRun is a running `go tool mage dev`.
type devRun struct {
	cmd    *exec.Cmd
	out    *syncBuffer // both streams, line by line
	stdout *syncBuffer
	stderr *syncBuffer
	exited chan error
	ready  chan struct{} // closed once every server announced it is ready
	// hosting is closed when dev says it runs the servers itself, after
	// the build.
	hosting chan struct{}

	mu   sync.Mutex
	urls map[string]string // server -> announced URL
}

var devReadyLine = regexp.MustCompile(`^\[(\S+)\]\s+ready: (http://localhost:\d+/mcp)$`)

// startDev runs `go tool mage dev` in root, in its own process group, with
// env added and func left off PATH.
func startDev(t *testing.T, root string, servers int, env ...string) *devRun {
	t.Helper()
	d := &devRun{out: &syncBuffer{}, stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan error, 1),
		ready: make(chan struct{}), hosting: make(chan struct{}), urls: map[string]string{}}
	d.cmd = exec.Command("go", "tool", "mage", "dev")
	d.cmd.Dir = root
	d.cmd.Env = append(append(os.Environ(), "PATH="+pathWithoutFunc(t)), env...)
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	d.cmd.Stdout, d.cmd.Stderr = outW, errW
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	outW.Close()
	errW.Close()
	var readers sync.WaitGroup
	var once sync.Once
	read := func(r io.Reader, stream *syncBuffer) {
		defer readers.Done()
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			line := sc.Text()
			d.out.Write([]byte(line + "\n"))
			stream.Write([]byte(line + "\n"))
			if strings.Contains(line, "emulation of the Functions host") {
				once.Do(func() { close(d.hosting) })
			}
			if m := devReadyLine.FindStringSubmatch(line); m != nil {
				d.mu.Lock()
				d.urls[m[1]] = m[2]
				if len(d.urls) == servers {
					close(d.ready)
				}
				d.mu.Unlock()
			}
		}
	}
	readers.Add(2)
	go read(outR, d.stdout)
	go read(errR, d.stderr)
	go func() {
		readers.Wait()
		d.exited <- d.cmd.Wait()
	}()
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
			<-d.exited
		}
		if t.Failed() {
			t.Logf("mage dev output:\n%s", d.out)
		}
	})
	return d
}

// waitReady waits until every server announced its URL, and returns them.
func (d *devRun) waitReady(t *testing.T) map[string]string {
	t.Helper()
	select {
	case <-d.ready:
	case err := <-d.exited:
		t.Fatalf("mage dev exited early: %v", err)
	case <-time.After(8 * time.Minute):
		t.Fatal("servers not ready within 8 minutes")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	urls := map[string]string{}
	for k, v := range d.urls {
		urls[k] = v
	}
	return urls
}

// interrupt presses Ctrl-C (SIGINT to the whole foreground process group,
// as a terminal does) and returns mage's exit error.
func (d *devRun) interrupt(t *testing.T) error {
	t.Helper()
	start := time.Now()
	syscall.Kill(-d.cmd.Process.Pid, syscall.SIGINT)
	select {
	case err := <-d.exited:
		t.Logf("mage dev stopped %s after Ctrl-C: %v", time.Since(start).Round(time.Millisecond), err)
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("mage dev still running 20s after Ctrl-C")
		return nil
	}
}

// devRepo copies the repository and adds the test servers named (each a
// folder under testdata/dev) under servers/, each with host.json and
// local.settings.json on free ports, registered in the copy's go.work.
func devRepo(t *testing.T, names ...string) string {
	t.Helper()
	root := copyRepo(t)
	for _, name := range names {
		dir := filepath.Join(root, "servers", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"go.mod", "main.go"} {
			b, err := os.ReadFile(filepath.Join("testdata", "dev", name, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		hostJSON := fmt.Sprintf(`{
  "version": "2.0",
  "configurationProfile": "mcp-custom-handler",
  "customHandler": {
    "description": {"defaultExecutablePath": "app"},
    "http": {"DefaultAuthorizationLevel": "anonymous"},
    "port": "%d"
  }
}
`, freePort(t))
		settings := fmt.Sprintf(`{
  "IsEncrypted": false,
  "Values": {"FUNCTIONS_WORKER_RUNTIME": "custom", "AzureWebJobsFeatureFlags": "EnableMcpCustomHandlerPreview"},
  "Host": {"LocalHttpPort": %d}
}
`, freePort(t))
		if err := os.WriteFile(filepath.Join(dir, "host.json"), []byte(hostJSON), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "local.settings.json"), []byte(settings), 0o644); err != nil {
			t.Fatal(err)
		}
		runGo(t, root, nil, "work", "use", "./servers/"+name)
	}
	return root
}

// devServers lists the servers of root, skipping the test when a local
// port is taken, probably by a running `mage dev`.
func devServers(t *testing.T, root string) []workspace.Server {
	t.Helper()
	servers, err := workspace.Servers(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range servers {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", s.DevPort))
		if err != nil {
			t.Skipf("port %d (%s) is in use, probably by a running `mage dev`: %v", s.DevPort, s.Name, err)
		}
		l.Close()
	}
	return servers
}

// checkPortsClosed fails for every server port still open.
func checkPortsClosed(t *testing.T, servers []workspace.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, s := range servers {
		for _, port := range []int{s.DevPort, s.HandlerPort} {
			if c, err := (&net.Dialer{}).DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
				c.Close()
				t.Errorf("%s: port %d still open after mage dev ended", s.Name, port)
			}
		}
	}
}

// TestMageDev runs the README's first command, `go tool mage dev`: every
// server comes up on its local URL and answers (weather over MCP; the
// fixed-port test server, which ignores FUNCTIONS_CUSTOMHANDLER_PORT and
// listens on host.json's port on all interfaces, through its local port
// with the host's headers, and not under a rebound host name); stderr lines are marked; and Ctrl-C stops them
// all with exit status 0, although the fixed-port server dies of SIGINT
// (the race that used to fail about 40% of stops), several times over.
func TestMageDev(t *testing.T) {
	root := devRepo(t, "fixedport")
	servers := devServers(t, root)
	nws := newFakeNWS(t)
	env := "NWS_API_BASE_URL=" + nws.URL

	d := startDev(t, root, len(servers), env)
	urls := d.waitReady(t)
	for _, s := range servers {
		if urls[s.Name] != s.MCPURL() {
			t.Errorf("%s announced %q, want %s", s.Name, urls[s.Name], s.MCPURL())
		}
	}
	if !strings.Contains(d.out.String(), "running each server under mage's own emulation of the Functions host") {
		t.Errorf("mage dev did not say it plays the Functions host without func")
	}

	cs := connectMCP(t, urls["weather"], "2025-11-25")
	res, text := call(t, cs, "get_forecast", map[string]any{"latitude": 39.7456, "longitude": -97.0892})
	if res.IsError || !strings.Contains(text, "Temperature: ") {
		t.Fatalf("get_forecast via mage dev = %q", text)
	}
	cs.Close()

	for _, s := range servers {
		if s.Name == "fixedport" {
			checkFixedPort(t, s)
		}
	}

	// stdout and stderr lines keep their stream and are marked apart.
	checkLine(t, "stdout", d.stdout.String(), `^\[fixedport\] +fixedport: listening on :\d+$`)
	checkLine(t, "stderr", d.stderr.String(), `^\[fixedport!\] +fixedport: a line on stderr$`)
	if m := regexp.MustCompile(`(?m)^\[\S+!\].*$`).FindString(d.stdout.String()); m != "" {
		t.Errorf("a line marked as stderr went to stdout: %q", m)
	}

	results := map[string]int{}
	record := func(err error) {
		results[fmt.Sprint(err)]++
		if err != nil {
			t.Errorf("mage dev exit after Ctrl-C: %v, want 0", err)
		}
		checkPortsClosed(t, servers)
	}
	record(d.interrupt(t))

	// More Ctrl-Cs: each round rebuilds (from the cache) and restarts
	// every server, a few seconds each. MAGE_DEV_CTRLC_ROUNDS sets how many
	// in all (5 by default).
	rounds := 5
	if n, err := strconv.Atoi(os.Getenv("MAGE_DEV_CTRLC_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	for i := 1; i < rounds && !t.Failed(); i++ {
		d := startDev(t, root, len(servers), env)
		d.waitReady(t)
		record(d.interrupt(t))
	}
	t.Logf("Ctrl-C exit results over %d rounds: %v", rounds, results)
}

// checkFixedPort calls the fixed-port server through its local port, as a
// client does, and checks what the server saw: the host's headers and the
// Host the host's YARP proxy sends.
func checkFixedPort(t *testing.T, s workspace.Server) {
	t.Helper()
	local := fmt.Sprintf("localhost:%d", s.DevPort)
	resp, err := http.Get("http://" + local + "/headers")
	if err != nil {
		t.Fatalf("fixedport through its local port: %v", err)
	}
	defer resp.Body.Close()
	var got struct {
		Host    string      `json:"host"`
		Path    string      `json:"path"`
		Headers http.Header `json:"headers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatalf("fixedport answer: %v", err)
	}
	if want := fmt.Sprintf("127.0.0.1:%d", s.HandlerPort); got.Host != want {
		t.Errorf("fixedport saw Host %q, want %q (host.json's port)", got.Host, want)
	}
	if got.Path != "/headers" {
		t.Errorf("fixedport saw path %q", got.Path)
	}
	id := got.Headers.Get("X-Azure-Functions-InvocationId")
	if len(id) != 36 || got.Headers.Get("x-ms-invocation-id") != id {
		t.Errorf("invocation ids %q and %q", id, got.Headers.Get("x-ms-invocation-id"))
	}
	for h, want := range map[string]string{"X-Forwarded-Host": local, "X-Forwarded-Proto": "http"} {
		if v := got.Headers.Get(h); v != want {
			t.Errorf("%s = %q, want %q", h, v, want)
		}
	}
	if got.Headers.Get("X-Azure-Functions-HostVersion") == "" {
		t.Error("no X-Azure-Functions-HostVersion")
	}

	// DNS rebinding: the proxy hides the browser's Host from the server,
	// so dev's local port refuses a non-loopback name itself.
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/mcp", s.DevPort), strings.NewReader("{}"))
	req.Host = fmt.Sprintf("rebound.example.com:%d", s.DevPort)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "invalid Host header") {
		t.Errorf("a request for rebound.example.com through the local port: %d %s, want 403 invalid Host header", resp.StatusCode, body)
	}
}

// TestMageDevEarlyExit: a server that exits at once is reported at once,
// with its exit code and last lines, and dev stops the others and exits
// non-zero in seconds, not after the 60 s readiness wait.
func TestMageDevEarlyExit(t *testing.T) {
	root := devRepo(t, "crashy")
	servers := devServers(t, root)
	d := startDev(t, root, len(servers), "NWS_API_BASE_URL=http://127.0.0.1:1")
	var started time.Time
	select {
	case <-d.hosting:
		started = time.Now() // the build is over
	case err := <-d.exited:
		t.Fatalf("mage dev exited before it started the servers: %v", err)
	case <-time.After(8 * time.Minute):
		t.Fatal("mage dev did not start the servers within 8 minutes")
	}
	var err error
	select {
	case err = <-d.exited:
	case <-time.After(time.Minute):
		t.Fatal("mage dev still running a minute after starting a server that exits at once")
	}
	took := time.Since(started)
	t.Logf("mage dev exited %s after starting the servers: %v", took.Round(time.Millisecond), err)
	if err == nil {
		t.Error("mage dev exited 0, want a failure")
	}
	if took > 20*time.Second {
		t.Errorf("mage dev took %s to give up, want seconds", took)
	}
	var crashy workspace.Server
	for _, s := range servers {
		if s.Name == "crashy" {
			crashy = s
		}
	}
	// The report, then the same lines quoted in mage's error.
	stderr := d.stderr.String()
	checkLine(t, "stderr", stderr, `^\[crashy!\] +exited before it answered on http://127\.0\.0\.1:`+strconv.Itoa(crashy.HandlerPort)+`/: exit code 3$`)
	checkLine(t, "stderr", stderr, `crashy exited before it answered on http://127\.0\.0\.1:`+strconv.Itoa(crashy.HandlerPort)+`/: exit code 3; its last lines:$`)
	checkLine(t, "stderr", stderr, `^    \[crashy\] +crashy: starting$`)
	checkLine(t, "stderr", stderr, `^    \[crashy!\] +crashy: CRASHY_TOKEN is not set$`)
	checkLine(t, "stdout", d.stdout.String(), `^\[crashy\] +crashy: starting$`)
	checkPortsClosed(t, servers)
}

// TestMageDevHandlerPortBusy: when another process holds a server's
// handler port, dev says which server's host.json claims it, before it
// builds anything.
func TestMageDevHandlerPortBusy(t *testing.T) {
	root := devRepo(t, "fixedport")
	for _, s := range devServers(t, root) {
		if s.Name != "fixedport" {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", s.HandlerPort))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		out, err := runMage(t, root, "dev")
		if err == nil {
			t.Fatalf("mage dev succeeded with fixedport's handler port taken:\n%s", out)
		}
		want := fmt.Sprintf("fixedport: handler port %d is in use by another process (fixedport started by hand, or another program?), and %s claims it as customHandler.port",
			s.HandlerPort, filepath.Join("servers", "fixedport", "host.json"))
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
		if strings.Contains(out, "==> building") {
			t.Errorf("dev built the servers before it checked the ports:\n%s", out)
		}
	}
}

// checkLine fails unless a line of out (named stream) matches pattern.
func checkLine(t *testing.T, stream, out, pattern string) {
	t.Helper()
	if !regexp.MustCompile("(?m)" + pattern).MatchString(out) {
		t.Errorf("no line of %s matches %s", stream, pattern)
	}
}

// pathWithoutFunc returns PATH without folders that hold a func executable.
func pathWithoutFunc(t *testing.T) string {
	var keep []string
	for _, dir := range strings.Split(os.Getenv("PATH"), string(os.PathListSeparator)) {
		if _, err := os.Stat(dir + "/func"); err == nil {
			t.Logf("leaving %s off PATH: it holds func", dir)
			continue
		}
		keep = append(keep, dir)
	}
	return strings.Join(keep, string(os.PathListSeparator))
}

// TestMageDevKeyMode: a server whose host.json requires function keys gets
// a local key, printed with its URL and kept in .mcpfunc/dev-keys.json
// (mode 0600); mage's host answers it 401 with an empty body without the
// key, as Azure does, and proxies with it in x-functions-key or ?code=;
// the key is printed once, and appears in no other line of dev's output.
// The app setting in local.settings.json overrides host.json: weather,
// set to admin there, takes its master key only. userinfo, anonymous,
// needs none.
func TestMageDevKeyMode(t *testing.T) {
	root := devRepo(t, "fixedport")
	hostJSON := filepath.Join(root, "servers", "fixedport", "host.json")
	b, err := os.ReadFile(hostJSON)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hostJSON, []byte(strings.Replace(string(b), `"anonymous"`, `"function"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	settingsFile := filepath.Join(root, "servers", "weather", "local.settings.json")
	var settings map[string]any
	if b, err := os.ReadFile(settingsFile); err != nil || json.Unmarshal(b, &settings) != nil {
		t.Fatalf("read %s: %v", settingsFile, err)
	}
	settings["Values"].(map[string]any)["AzureFunctionsJobHost__customHandler__http__DefaultAuthorizationLevel"] = "Admin"
	if b, err := json.Marshal(settings); err != nil || os.WriteFile(settingsFile, b, 0o644) != nil {
		t.Fatalf("write %s: %v", settingsFile, err)
	}
	servers := devServers(t, root)
	nws := newFakeNWS(t)
	d := startDev(t, root, len(servers), "NWS_API_BASE_URL="+nws.URL)
	urls := d.waitReady(t)

	m := regexp.MustCompile(`(?m)^    fixedport\s+(http://localhost:\d+/mcp)  \(key mode: send x-functions-key: (\S+)\)$`).FindStringSubmatch(d.stdout.String())
	if m == nil {
		t.Fatalf("mage dev did not print fixedport's URL with its key")
	}
	if m[1] != urls["fixedport"] {
		t.Errorf("key line names %s, fixedport is ready on %s", m[1], urls["fixedport"])
	}
	key := m[2]
	if n := strings.Count(d.out.String(), key); n != 1 {
		t.Errorf("the key appears %d times in dev's output, want once", n)
	}
	if regexp.MustCompile(`(?m)^    userinfo\s`).MatchString(d.stdout.String()) {
		t.Errorf("userinfo, an anonymous server, is listed with a key:\n%s", d.stdout)
	}
	wm := regexp.MustCompile(`(?m)^    weather\s+http://localhost:\d+/mcp  \(admin level: send the master key, x-functions-key: (\S+)\)$`).FindStringSubmatch(d.stdout.String())
	if wm == nil {
		t.Fatalf("mage dev did not print weather's URL with its master key")
	}
	master := wm[1]

	keysFile := filepath.Join(root, ".mcpfunc", "dev-keys.json")
	fi, err := os.Stat(keysFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", keysFile, fi.Mode().Perm())
	}
	var stored struct {
		Servers map[string]struct{ Function, Master string }
	}
	if b, err := os.ReadFile(keysFile); err != nil || json.Unmarshal(b, &stored) != nil {
		t.Fatalf("read %s: %v", keysFile, err)
	}
	if stored.Servers["fixedport"].Function != key {
		t.Errorf("the printed key is not fixedport's stored function key")
	}
	if stored.Servers["weather"].Master != master {
		t.Errorf("the printed master key is not weather's stored one")
	}
	if _, ok := stored.Servers["userinfo"]; ok {
		t.Errorf("userinfo, an anonymous server, got a key")
	}

	base := strings.TrimSuffix(urls["fixedport"], "/mcp")
	get := func(url, key string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if key != "" {
			req.Header.Set("x-functions-key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get(base+"/headers", ""); code != http.StatusUnauthorized || body != "" {
		t.Errorf("fixedport without a key: %d %q, want 401 and an empty body", code, body)
	}
	if code, body := get(base+"/headers", key+"x"); code != http.StatusUnauthorized || body != "" {
		t.Errorf("fixedport with a wrong key: %d %q, want 401 and an empty body", code, body)
	}
	if code, body := get(base+"/headers", key); code != http.StatusOK || !strings.Contains(body, `"/headers"`) {
		t.Errorf("fixedport with x-functions-key: %d %q, want its answer", code, body)
	}
	if code, body := get(base+"/headers?code="+key, ""); code != http.StatusOK || !strings.Contains(body, `"/headers"`) {
		t.Errorf("fixedport with ?code=: %d %q, want its answer", code, body)
	}
	for _, k := range []string{"", stored.Servers["weather"].Function} {
		if code, body := get(urls["weather"], k); code != http.StatusUnauthorized || body != "" {
			t.Errorf("weather (admin level) with key %q: %d %q, want 401 and an empty body", k, code, body)
		}
	}
	if code, _ := get(urls["weather"], master); code == http.StatusUnauthorized {
		t.Errorf("weather (admin level) answered 401 to its master key")
	}
	if code, _ := get(urls["userinfo"], ""); code == http.StatusUnauthorized {
		t.Errorf("userinfo, an anonymous server, answered 401 without a key")
	}
	if err := d.interrupt(t); err != nil {
		t.Errorf("mage dev exit after Ctrl-C: %v, want 0", err)
	}
}
