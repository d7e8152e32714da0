package funchost

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the custom handler the tests start: with
// FUNCHOST_TEST_HELPER set it runs helperMain instead of the tests.
func TestMain(m *testing.M) {
	if mode := os.Getenv("FUNCHOST_TEST_HELPER"); mode != "" {
		helperMain(mode)
		return
	}
	os.Exit(m.Run())
}

// echo is what the helper's /echo answers: what it received and how it
// was started.
type echo struct {
	Host    string
	Headers http.Header
	Env     map[string]string
	Args    []string
	Dir     string
}

// helperMain is a tiny custom handler:
//
//	serve    listens on FUNCTIONS_CUSTOMHANDLER_PORT (after HELPER_DELAY),
//	         exits 0 on SIGTERM and dies of SIGINT (Go's default)
//	crash    writes a line to stdout and one to stderr, exits 3
//	never    writes a line and never listens
func helperMain(mode string) {
	switch mode {
	case "crash":
		fmt.Println("starting up")
		fmt.Fprint(os.Stderr, "boom: bad config\nsecond line without newline")
		os.Exit(3)
	case "never":
		fmt.Println("not listening")
		time.Sleep(time.Hour)
	case "serve":
		if d, err := time.ParseDuration(os.Getenv("HELPER_DELAY")); err == nil {
			time.Sleep(d)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println("listening on", ln.Addr())
		fmt.Fprintln(os.Stderr, "a warning")
		term := make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		go func() {
			<-term
			os.Exit(0)
		}()
		http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/echo" {
				http.NotFound(w, r)
				return
			}
			env := map[string]string{}
			for _, kv := range os.Environ() {
				if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "FUNCTIONS_") || strings.HasPrefix(k, "TEST_") {
					env[k] = v
				}
			}
			dir, _ := os.Getwd()
			json.NewEncoder(w).Encode(echo{Host: r.Host, Headers: r.Header, Env: env, Args: os.Args[1:], Dir: dir})
		}))
	default:
		fmt.Fprintln(os.Stderr, "unknown helper mode", mode)
		os.Exit(1)
	}
}

// helperApp is an App that starts this test binary in the given mode.
func helperApp(t *testing.T, mode string, args ...string) (App, []string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return App{Root: t.TempDir(), Executable: exe, Arguments: args}, append(os.Environ(), "FUNCHOST_TEST_HELPER="+mode, "GORACE=atexit_sleep_ms=0")
}
