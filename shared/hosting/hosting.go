// Package hosting runs an MCP server, built with the official Go MCP SDK, as
// an Azure Functions custom handler: one call from main turns an *mcp.Server
// into a process the Functions host can start, ping, proxy to and stop.
//
// A server's main is usually three lines:
//
//	func main() {
//		impl := &mcp.Implementation{Name: "weather", Version: hosting.Version()}
//		hosting.Start(newServer(impl), hosting.WithInfo(impl))
//	}
//
// What Start and Run do:
//
//   - Listen on FUNCTIONS_CUSTOMHANDLER_PORT when the Functions host sets it,
//     else on the -port flag, else on the port given by [WithPort] (default
//     8080). The address is loopback (127.0.0.1) unless -host or
//     [WithListener] says otherwise.
//   - Serve MCP at /mcp over stateless streamable HTTP, using the one
//     *mcp.Server for every request. Responses are JSON by default; in SSE
//     mode (MCP_RESPONSE_MODE=sse or [WithResponseMode]) a tool call's
//     answer is an event stream that also carries the log and progress
//     notifications the tool sends while it runs.
//   - Refuse POSTs to /mcp from browser pages on other origins with 403
//     and a JSON-RPC error, using net/http's [http.CrossOriginProtection]:
//     the MCP transport requires servers to validate Origin. Requests with
//     no Origin (native clients such as VS Code, mcp-remote or the SDKs)
//     and same-origin ones pass; other origins must be listed in
//     MCP_ALLOWED_ORIGINS or [WithAllowedOrigins].
//   - Refuse JSON-RPC batches (a JSON array body) with 400 and a JSON-RPC
//     -32600 error, whatever the protocol version. Protocol 2025-06-18
//     removed them; the SDK still accepts them at 2025-03-26 and runs
//     their calls concurrently, so one POST could start hundreds of tool
//     calls. Single messages at 2025-03-26 are served as before.
//   - Answer GET / with 200 and {"name":…,"version":…}: the Functions host
//     pings / until it answers before it forwards any request.
//   - Log one line per request with log/slog (MCP method, tool, status,
//     duration, Functions invocation id): info to stdout, warnings and errors
//     to stderr, JSON under the Functions host and text in a terminal.
//     Headers are never logged, so neither are tokens. The method and tool
//     come from the request body, which is what runs, not from the
//     Mcp-Method and Mcp-Name headers (mcp_headers_mismatch=true says they
//     disagreed); invocation_id_source says whether the Functions host set
//     the invocation id ("functions_host") or the client did ("client").
//     Client-supplied values are cut to 64 bytes, control characters
//     replaced.
//   - Turn a panic in a tool or an HTTP handler into an error response.
//   - On SIGTERM or SIGINT, stop accepting, let in-flight requests finish
//     within the shutdown bound, and exit 0.
//
// Settings read from the environment:
//
//   - FUNCTIONS_CUSTOMHANDLER_PORT: the port, set by the Functions host.
//   - MCP_LOCALHOST_PROTECTION: "on" (default) keeps the SDK's DNS-rebinding
//     guard, which answers 403 when a request to a loopback listener carries a
//     non-loopback Host header; "off" disables it. The Functions host's proxy
//     sends Host 127.0.0.1:<port>, so "on" works there; set "off" as an app
//     setting only if a deployed app answers 403 "invalid Host header".
//   - MCP_RESPONSE_MODE: "json" (default unless [WithResponseMode] says
//     otherwise) answers each POST with one application/json message, as the
//     official samples do; "sse" answers with text/event-stream, so that
//     notifications sent during a call reach the client. The Functions host
//     streams custom-handler responses when its HTTP proxying is on; if a
//     deployed app's clients see notifications arrive only at the end of a
//     call, or not at all, set "json".
//   - MCP_ALLOWED_ORIGINS: comma-separated browser origins
//     (scheme://host[:port], such as https://chat.example.com) whose pages
//     may POST to /mcp, added to those of [WithAllowedOrigins]. Empty by
//     default: only native clients (no Origin header) and same-origin pages
//     (Sec-Fetch-Site: same-origin) are served. A web client on another
//     origin also needs the Function app's CORS setting to answer its
//     preflight. A bad entry, "*" or "null" stops the server at startup.
//   - LOG_FORMAT: "json" or "text" (default: json under the Functions host).
//   - LOG_LEVEL: debug, info (default), warn or error.
package hosting

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Environment variables read by this package.
const (
	// envPort is set by the Functions host to the port it forwards to.
	envPort = "FUNCTIONS_CUSTOMHANDLER_PORT"
	// envLocalhostProtection switches the SDK's DNS-rebinding guard: "on" or "off".
	envLocalhostProtection = "MCP_LOCALHOST_PROTECTION"
	// envResponseMode chooses how POSTs are answered: "json" or "sse".
	envResponseMode = "MCP_RESPONSE_MODE"
	// envLogFormat chooses "json" or "text" logs. (envAllowedOrigins is
	// in origin.go.)
	envLogFormat = "LOG_FORMAT"
	// envLogLevel chooses the lowest level logged: debug, info, warn or error.
	envLogLevel = "LOG_LEVEL"
)

// Defaults used when no option overrides them.
const (
	defaultPort            = 8080
	defaultShutdownTimeout = 10 * time.Second
	defaultMaxRequestBytes = 1 << 20
	// MCPPath is where the MCP endpoint is served.
	MCPPath = "/mcp"
)

// ResponseMode is how the MCP endpoint answers a POST.
type ResponseMode string

const (
	// ResponseJSON answers with one application/json message. Notifications
	// a tool sends while it runs are dropped: there is no stream for them.
	ResponseJSON ResponseMode = "json"
	// ResponseSSE answers with a text/event-stream that carries the
	// notifications a tool sends while it runs, then its result.
	ResponseSSE ResponseMode = "sse"
)

// Option changes how [Start] and [Run] serve. Options are applied in order.
type Option func(*config)

type route struct {
	pattern string
	handler http.Handler
}

type config struct {
	info            *mcp.Implementation
	port            int
	host            string
	listener        net.Listener
	routes          []route
	middleware      []func(http.Handler) http.Handler
	logger          *slog.Logger
	shutdownTimeout time.Duration
	maxRequestBytes int64
	responseMode    ResponseMode
	listenLimit     time.Duration
	origins         []string
	getenv          func(string) string
}

// WithInfo sets the name and version that GET / reports. Pass the same
// Implementation the server was built with.
func WithInfo(impl *mcp.Implementation) Option {
	return func(c *config) { c.info = impl }
}

// WithPort sets the port used when neither FUNCTIONS_CUSTOMHANDLER_PORT nor
// the -port flag gives one.
func WithPort(port int) Option {
	return func(c *config) { c.port = port }
}

// WithListener serves on l instead of opening a listener. The port settings
// are then ignored. Tests use it with a listener on 127.0.0.1:0.
func WithListener(l net.Listener) Option {
	return func(c *config) { c.listener = l }
}

// WithHandler serves h at pattern (an http.ServeMux pattern such as
// "GET /authcomplete") next to /mcp. Extra routes get the same logging,
// panic recovery and body limit as /mcp but not its middleware.
func WithHandler(pattern string, h http.Handler) Option {
	return func(c *config) { c.routes = append(c.routes, route{pattern, h}) }
}

// WithMiddleware wraps the MCP handler, for example with authentication.
// The first middleware given is the outermost.
func WithMiddleware(mw ...func(http.Handler) http.Handler) Option {
	return func(c *config) { c.middleware = append(c.middleware, mw...) }
}

// WithLogger logs through l instead of the logger built from LOG_FORMAT and
// LOG_LEVEL.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithShutdownTimeout bounds how long in-flight requests may run after a
// shutdown signal (default 10s).
func WithShutdownTimeout(d time.Duration) Option {
	return func(c *config) { c.shutdownTimeout = d }
}

// WithMaxRequestBytes limits request bodies (default 1 MiB); larger
// requests get 413.
func WithMaxRequestBytes(n int64) Option {
	return func(c *config) { c.maxRequestBytes = n }
}

// WithResponseMode sets how POSTs are answered when MCP_RESPONSE_MODE is
// not set (default [ResponseJSON]). A server whose tools report progress
// or log while they run wants [ResponseSSE].
func WithResponseMode(m ResponseMode) Option {
	return func(c *config) { c.responseMode = m }
}

// withGetenv replaces os.Getenv, for tests.
func withGetenv(getenv func(string) string) Option {
	return func(c *config) { c.getenv = getenv }
}

// withListenLimit shortens the subscriptions/listen bound, for tests.
func withListenLimit(d time.Duration) Option {
	return func(c *config) { c.listenLimit = d }
}

// Start serves s until SIGTERM or SIGINT and then exits the process: with
// status 0 after a clean shutdown, 1 if serving failed. Start sets the
// default slog logger to the one it logs with, so the server's own code can
// use slog directly.
//
// The program owns its command line: Start defines the flags -port and
// -host on [flag.CommandLine] (with [DefineFlags]) unless they are defined
// already, and calls [flag.Parse] only if the program has not parsed the
// command line itself. A program with flags of its own either leaves the
// parsing to Start, or calls DefineFlags(flag.CommandLine) before its own
// flag.Parse so that -port and -host are known. A program that defines
// -port or -host itself gets its values used as Start's.
func Start(s *mcp.Server, opts ...Option) {
	DefineFlags(flag.CommandLine)
	if !flag.Parsed() {
		flag.Parse()
	}
	if port, err := strconv.Atoi(flag.Lookup("port").Value.String()); err == nil && port != 0 {
		opts = append(opts, WithPort(port))
	}
	host := flag.Lookup("host").Value.String()
	opts = append([]Option{func(c *config) { c.host = host }}, opts...)

	cfg := newConfig(opts)
	slog.SetDefault(cfg.logger)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, s, cfg); err != nil {
		cfg.logger.Error("server stopped", "err", err)
		stop()
		os.Exit(1)
	}
	os.Exit(0)
}

// DefineFlags defines on fs the flags Start reads, -port (the port to
// listen on when FUNCTIONS_CUSTOMHANDLER_PORT is not set) and -host (the
// address to listen on, default 127.0.0.1), each only if fs does not define
// it yet. A program that parses [flag.CommandLine] itself calls
// DefineFlags(flag.CommandLine) before [flag.Parse].
func DefineFlags(fs *flag.FlagSet) {
	if fs.Lookup("port") == nil {
		fs.Int("port", 0, "port to listen on when "+envPort+" is not set")
	}
	if fs.Lookup("host") == nil {
		fs.String("host", "127.0.0.1", "address to listen on (use 0.0.0.0 for all interfaces)")
	}
}

// Run serves s until ctx is done, then shuts down gracefully: it stops
// accepting connections and waits for in-flight requests up to the shutdown
// timeout. It returns nil after a clean shutdown.
func Run(ctx context.Context, s *mcp.Server, opts ...Option) error {
	return run(ctx, s, newConfig(opts))
}

func newConfig(opts []Option) *config {
	c := &config{
		port:            defaultPort,
		host:            "127.0.0.1",
		shutdownTimeout: defaultShutdownTimeout,
		maxRequestBytes: defaultMaxRequestBytes,
		responseMode:    ResponseJSON,
		listenLimit:     defaultListenLimit,
		getenv:          os.Getenv,
	}
	for _, o := range opts {
		o(c)
	}
	if c.logger == nil {
		c.logger = newLogger(c.getenv, os.Stdout, os.Stderr)
	}
	return c
}

// listenAddr resolves the address to listen on.
func (c *config) listenAddr() (string, error) {
	port := c.port
	if v := strings.TrimSpace(c.getenv(envPort)); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			return "", fmt.Errorf("%s=%q is not a port number (1-65535)", envPort, v)
		}
		port = p
	}
	if port < 0 || port > 65535 {
		return "", fmt.Errorf("port %d is out of range (0-65535)", port)
	}
	return net.JoinHostPort(c.host, strconv.Itoa(port)), nil
}

func (c *config) localhostProtection() (bool, error) {
	switch v := strings.ToLower(strings.TrimSpace(c.getenv(envLocalhostProtection))); v {
	case "", "on", "true", "1":
		return true, nil
	case "off", "false", "0":
		return false, nil
	default:
		return false, fmt.Errorf("%s=%q: use on or off", envLocalhostProtection, v)
	}
}

// responses is how POSTs are answered: MCP_RESPONSE_MODE when set, else
// the mode from WithResponseMode.
func (c *config) responses() (ResponseMode, error) {
	v := ResponseMode(strings.ToLower(strings.TrimSpace(c.getenv(envResponseMode))))
	src := envResponseMode
	if v == "" {
		v, src = c.responseMode, "WithResponseMode"
	}
	if v != ResponseJSON && v != ResponseSSE {
		return "", fmt.Errorf("%s=%q: use %s or %s", src, v, ResponseJSON, ResponseSSE)
	}
	return v, nil
}

func run(ctx context.Context, s *mcp.Server, cfg *config) error {
	if s == nil {
		return errors.New("hosting: nil *mcp.Server")
	}
	stopping := make(chan struct{})
	h, err := newHandler(s, cfg, stopping)
	if err != nil {
		return err
	}
	ln := cfg.listener
	if ln == nil {
		addr, err := cfg.listenAddr()
		if err != nil {
			return err
		}
		ln, err = net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w (is another server using the port? set -port or %s)", addr, err, envPort)
		}
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Azure caps an HTTP-triggered response at 230 s; allow a little more.
		WriteTimeout:   240 * time.Second,
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(cfg.logger.Handler(), slog.LevelWarn),
	}
	underHost := cfg.getenv(envPort) != ""
	mode, _ := cfg.responses()         // newHandler has checked it
	origins, _ := cfg.allowedOrigins() // and this
	cfg.logger.Info("listening",
		"name", cfg.name(), "version", cfg.version(),
		"url", "http://"+ln.Addr().String()+MCPPath, "functions_host", underHost,
		"responses", mode, "allowed_origins", strings.Join(origins, ","))

	srv.RegisterOnShutdown(func() { close(stopping) })
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	cfg.logger.Info("shutting down", "timeout", cfg.shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("in-flight requests did not finish within %s: %w", cfg.shutdownTimeout, err)
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	cfg.logger.Info("stopped")
	return nil
}

// newHandler builds the whole HTTP handler: /, /mcp and the extra routes,
// behind the body limit, request logging and panic recovery. Closing
// stopping ends open subscriptions/listen streams.
func newHandler(s *mcp.Server, cfg *config, stopping <-chan struct{}) (http.Handler, error) {
	protect, err := cfg.localhostProtection()
	if err != nil {
		return nil, err
	}
	mode, err := cfg.responses()
	if err != nil {
		return nil, err
	}
	origins, err := cfg.allowedOrigins()
	if err != nil {
		return nil, err
	}
	cop, err := newCrossOriginProtection(origins)
	if err != nil {
		return nil, err
	}
	s.AddReceivingMiddleware(recoverMCP(cfg.logger))
	var mcpHandler http.Handler = mcp.NewStreamableHTTPHandler(
		func(*http.Request) *mcp.Server { return s },
		&mcp.StreamableHTTPOptions{
			Stateless:                  true,
			JSONResponse:               mode == ResponseJSON,
			DisableLocalhostProtection: !protect,
			MaxRequestBodyBytes:        cfg.maxRequestBytes,
		})
	for i := len(cfg.middleware) - 1; i >= 0; i-- {
		mcpHandler = cfg.middleware[i](mcpHandler)
	}
	mcpHandler = checkOrigin(cop, refuseBatches(mcpHandler))

	root, err := json.Marshal(map[string]string{"name": cfg.name(), "version": cfg.version()})
	if err != nil {
		return nil, fmt.Errorf("encode root document: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle(MCPPath, mcpHandler)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(root)
	})
	for _, rt := range cfg.routes {
		mux.Handle(rt.pattern, rt.handler)
	}
	underHost := cfg.getenv(envPort) != ""
	return serveLogged(cfg.logger, cfg.maxRequestBytes, cfg.listenLimit, underHost, stopping, recoverHTTP(cfg.logger, mux)), nil
}

func (c *config) name() string {
	if c.info != nil && c.info.Name != "" {
		return c.info.Name
	}
	return "mcp-server"
}

func (c *config) version() string {
	if c.info != nil && c.info.Version != "" {
		return c.info.Version
	}
	return Version()
}

// Version returns the main module's version from the build information:
// the module version when built from a tagged module, else the VCS revision
// (with "+dirty" for a modified tree), else "devel".
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return rev + dirty
}
