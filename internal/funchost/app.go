// Package funchost runs a custom handler the way the Azure Functions host
// does, for `mage dev` (when Core Tools is not installed) and the
// end-to-end tests. It follows the contract in
// shared/docs/azure-functions-contract.md §1 (sources: azure-functions-host
// HttpWorkerDescription, HttpWorkerProcess, DefaultHttpWorkerService,
// DefaultHttpProxyService and YARP's HttpTransformer.Default):
//
//   - the executable named by host.json (customHandler.description) is
//     started in the app folder, with its arguments and working directory,
//     and with FUNCTIONS_CUSTOMHANDLER_PORT (customHandler.port), the worker
//     id and the app root in its environment (App, Command);
//   - GET http://127.0.0.1:<port>/ is sent every 25 ms until any HTTP
//     response arrives; socket errors mean "not ready" (WaitReady);
//   - with the mcp-custom-handler profile every request is proxied the way
//     YARP does it: the original Host is dropped (the handler sees
//     127.0.0.1:<port>), X-Forwarded-* are added, and
//     X-Azure-Functions-HostVersion, X-Azure-Functions-InvocationId and
//     x-ms-invocation-id are set (NewProxy); the legacy forwarding mode
//     keeps the client's Host instead;
//   - when customHandler.http.DefaultAuthorizationLevel (function when
//     host.json sets none) is function or admin, a request without a key
//     that passes (x-functions-key, or ?code=) gets 401 and an empty body
//     before it reaches the handler (Config.Keys; see auth.go).
//
// Start combines these into a running Host; Supervisor runs several
// services side by side and reports on them as `mage dev` does.
package funchost

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// App is a Function app folder as the host reads it from host.json.
type App struct {
	// Root is the app folder holding host.json: the host's script root,
	// given to the handler as FUNCTIONS_APP_ROOT_PATH.
	Root string
	// Executable is customHandler.description.defaultExecutablePath. A
	// relative path names a file in Root when one exists there, else a
	// command on PATH, as the host resolves it.
	Executable string
	// Arguments are customHandler.description.arguments. %NAME% in them (and
	// in Executable) is replaced by the variable NAME of the handler's
	// environment, as the host expands app settings.
	Arguments []string
	// WorkingDirectory is customHandler.description.workingDirectory: empty
	// means Root, and a relative path is resolved against Root.
	WorkingDirectory string
	// Port is customHandler.port, or 0 when host.json sets none.
	Port int
	// AuthLevel is customHandler.http.DefaultAuthorizationLevel: the keys
	// the host requires of a request (see EffectiveAuthLevel for the app
	// setting that overrides it). ReadApp gives Function, the host's
	// default, when host.json sets none; the zero value is Anonymous.
	AuthLevel AuthLevel

	// authLevelFrom says where AuthLevel came from, for messages.
	authLevelFrom string
}

// hostJSON is the part of host.json the host reads to start the handler
// and check requests. Property names match in any case, as encoding/json
// matches them and as the host's configuration reads host.json.
type hostJSON struct {
	CustomHandler struct {
		Description struct {
			DefaultExecutablePath string   `json:"defaultExecutablePath"`
			Arguments             []string `json:"arguments"`
			WorkingDirectory      string   `json:"workingDirectory"`
		} `json:"description"`
		HTTP struct {
			DefaultAuthorizationLevel json.RawMessage `json:"DefaultAuthorizationLevel"`
		} `json:"http"`
		Port json.RawMessage `json:"port"`
	} `json:"customHandler"`
}

// ReadApp reads the custom handler description from root/host.json.
func ReadApp(root string) (App, error) {
	path := filepath.Join(root, "host.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return App{}, fmt.Errorf("read the custom handler's host.json: %w", err)
	}
	var hj hostJSON
	if err := json.Unmarshal(b, &hj); err != nil {
		return App{}, fmt.Errorf("parse %s: %w", path, err)
	}
	d := hj.CustomHandler.Description
	if d.DefaultExecutablePath == "" {
		return App{}, fmt.Errorf("%s: customHandler.description.defaultExecutablePath is empty: name the executable the host starts", path)
	}
	a := App{Root: root, Executable: d.DefaultExecutablePath, Arguments: d.Arguments, WorkingDirectory: d.WorkingDirectory}
	if p := strings.Trim(string(hj.CustomHandler.Port), `"`); p != "" && p != "null" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return App{}, fmt.Errorf("%s: customHandler.port %s is not a port number (1 to 65535)", path, hj.CustomHandler.Port)
		}
		a.Port = n
	}
	if a.AuthLevel, a.authLevelFrom, err = readAuthLevel(hj.CustomHandler.HTTP.DefaultAuthorizationLevel); err != nil {
		return App{}, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// Command returns the handler process as the host starts it, listening on
// port: the executable and arguments in the working directory, with env
// (the inherited environment, os.Environ() when nil) followed by the host's
// own variables, which win.
func (a App) Command(port int, env []string) *exec.Cmd {
	if env == nil {
		env = os.Environ()
	}
	env = append(env[:len(env):len(env)],
		"FUNCTIONS_CUSTOMHANDLER_PORT="+strconv.Itoa(port),
		"FUNCTIONS_HTTPWORKER_PORT="+strconv.Itoa(port),
		"FUNCTIONS_CUSTOMHANDLER_WORKER_ID="+NewID(),
		"FUNCTIONS_HTTPWORKER_ID="+NewID(),
		"FUNCTIONS_APP_ROOT_PATH="+a.Root,
	)
	exe := expand(a.Executable, env)
	if !filepath.IsAbs(exe) {
		if fi, err := os.Stat(filepath.Join(a.Root, exe)); err == nil && !fi.IsDir() {
			exe = filepath.Join(a.Root, exe)
		}
	}
	args := make([]string, len(a.Arguments))
	for i, s := range a.Arguments {
		args[i] = expand(s, env)
	}
	cmd := exec.Command(exe, args...)
	cmd.Dir = a.Root
	if wd := a.WorkingDirectory; wd != "" {
		if !filepath.IsAbs(wd) {
			wd = filepath.Join(a.Root, wd)
		}
		cmd.Dir = wd
	}
	cmd.Env = env
	return cmd
}

var settingRef = regexp.MustCompile(`%([A-Za-z_][A-Za-z0-9_.]*)%`)

// expand replaces %NAME% with the value of NAME in env; an unknown name
// stays as written, as .NET's Environment.ExpandEnvironmentVariables
// leaves it.
func expand(s string, env []string) string {
	return settingRef.ReplaceAllStringFunc(s, func(ref string) string {
		if v, ok := Getenv(env, ref[1:len(ref)-1]); ok {
			return v
		}
		return ref
	})
}

// Getenv returns the value of name in env ("K=V" entries, the last one
// winning, as in exec.Cmd.Env).
func Getenv(env []string, name string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}

// NewID returns a random id in the GUID form the host uses for worker and
// invocation ids.
func NewID() string {
	b := make([]byte, 16)
	rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// ErrPortBusy reports a handler port another process holds; the host
// refuses to start then ("Unable to bind to port … specified in
// configuration").
var ErrPortBusy = errors.New("port in use")

// FreePort returns a port that is free on 127.0.0.1 now.
func FreePort() (int, error) {
	ln, err := listenLoopback(0)
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// CheckPort reports whether the host could bind port on 127.0.0.1, the
// address it pings the handler on. The error wraps ErrPortBusy.
func CheckPort(port int) error {
	ln, err := listenLoopback(port)
	if err != nil {
		return fmt.Errorf("127.0.0.1:%d: %w (%w)", port, ErrPortBusy, err)
	}
	return ln.Close()
}
