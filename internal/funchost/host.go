package funchost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// StartTimeout is the host's InitializationTimeout: how long a handler may
// take to answer its first ping.
const StartTimeout = 30 * time.Second

// Config says how to run one app under the host.
type Config struct {
	App App
	// Port is the handler port: App.Port when 0, and a free port when
	// both are 0.
	Port int
	// Env is the handler's environment before the host's own variables
	// (os.Environ() when nil).
	Env []string
	// Stdout and Stderr receive the handler's output (discarded when nil).
	Stdout, Stderr io.Writer
	Mode           ProxyMode
	// Listener is where the host serves requests (its local port, such as
	// 7071); nil means a new listener on 127.0.0.1 and a free port. Start
	// takes ownership: Close closes it, and so does a failed Start.
	Listener net.Listener
	// PingInterval is the startup ping's interval (PingInterval when 0).
	PingInterval time.Duration
	// StartTimeout bounds the startup ping (StartTimeout when 0).
	StartTimeout time.Duration
	// OnInvocation, when not nil, sees every request's invocation id and
	// path.
	OnInvocation func(id, path string)
	// LocalhostProtection makes the host refuse, with 403, a request that
	// reaches a loopback listener under a name that is not loopback (DNS
	// rebinding: a web page that renamed 127.0.0.1). The Go MCP SDK guards a
	// server on loopback that way, but behind the YARP proxy the handler
	// sees Host: 127.0.0.1:<port> and cannot tell; the Azure host needs no
	// such guard, a developer's machine does.
	LocalhostProtection bool
	// Keys are the keys the host accepts when the app's effective
	// authorization level (App.EffectiveAuthLevel of Env) is function or
	// admin: a request without one that passes gets 401 and an empty body.
	// Start fails when the level needs a key Keys lacks.
	Keys Keys

	// freePort picks a handler port (FreePort when nil); tests replace it.
	freePort func() (int, error)
}

// Host is a handler process started, pinged and fronted as the Functions
// host does it.
type Host struct {
	*Process
	// URL is the host's own address, like https://<app>.azurewebsites.net.
	URL string
	// WorkerPort is the port the handler was told to listen on.
	WorkerPort int
	// StartupPings is how many pings the handler needed to answer.
	StartupPings int
	// AuthLevel is the authorization level the host applies to requests.
	AuthLevel AuthLevel
	server    *http.Server
	served    chan struct{}
}

// Start starts the handler described by cfg, pings it until it answers and
// then serves the proxy on cfg.Listener. It fails without starting anything
// when the handler port is busy (an error wrapping ErrPortBusy), and stops
// the handler again when it exits (ErrExited), does not answer in time
// (*NotReadyError) or ctx ends first. ctx bounds only the start. It fails
// before starting anything when the app's authorization level is not valid
// or needs a key cfg.Keys lacks.
func Start(ctx context.Context, cfg Config) (_ *Host, err error) {
	ln := cfg.Listener
	defer func() {
		if err != nil && ln != nil {
			ln.Close()
		}
	}()
	level, from, err := cfg.App.EffectiveAuthLevel(cfg.Env)
	if err != nil {
		return nil, err
	}
	if err := cfg.Keys.check(level); err != nil {
		return nil, fmt.Errorf("authorization level %s (from %s): %w", level, from, err)
	}
	if ln == nil {
		if ln, err = listenLoopback(0); err != nil {
			return nil, fmt.Errorf("listen for the host: %w", err)
		}
	}
	port := cfg.Port
	if port == 0 {
		port = cfg.App.Port
	}
	if port != 0 {
		if err := CheckPort(port); err != nil {
			return nil, fmt.Errorf("handler port: %w", err)
		}
		p, pings, err := startAndWait(ctx, cfg, port)
		if err != nil {
			return nil, err
		}
		return serve(cfg, level, ln, p, port, pings), nil
	}
	// A port picked here is free only until the handler binds it: another
	// program may take it in between. The handler then exits with "address
	// already in use" while the port is still busy, and another port is
	// tried.
	pick := cfg.freePort
	if pick == nil {
		pick = FreePort
	}
	for attempt := 1; ; attempt++ {
		if port, err = pick(); err != nil {
			return nil, err
		}
		p, pings, err := startAndWait(ctx, cfg, port)
		if err == nil {
			return serve(cfg, level, ln, p, port, pings), nil
		}
		if attempt == freePortAttempts || !errors.Is(err, ErrExited) || CheckPort(port) == nil {
			return nil, err
		}
		if cfg.Stderr != nil {
			fmt.Fprintf(cfg.Stderr, "port %d was taken by another program before the handler bound it; trying another port\n", port)
		}
	}
}

// freePortAttempts bounds how often Start picks a new free port when
// another program took the one it picked.
const freePortAttempts = 3

// startAndWait starts the handler on port and pings it until it answers.
func startAndWait(ctx context.Context, cfg Config, port int) (*Process, int, error) {
	cmd := cfg.App.Command(port, cfg.Env)
	cmd.Stdout, cmd.Stderr = cfg.Stdout, cfg.Stderr
	p, err := StartProcess(cmd)
	if err != nil {
		return nil, 0, err
	}
	limit := cfg.StartTimeout
	if limit <= 0 {
		limit = StartTimeout
	}
	pctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	pings, err := WaitReady(pctx, port, cfg.PingInterval, p)
	if err != nil {
		if !errors.Is(err, ErrExited) {
			p.Stop(5 * time.Second)
		}
		return nil, pings, err
	}
	return p, pings, nil
}

// serve fronts the started handler p with the host's proxy on ln, behind
// the key check of level.
func serve(cfg Config, level AuthLevel, ln net.Listener, p *Process, port, pings int) *Host {
	handler := requireKey(level, cfg.Keys, NewProxy(port, cfg.Mode, cfg.OnInvocation))
	if cfg.LocalhostProtection {
		handler = loopbackHostOnly(handler)
	}
	h := &Host{
		Process:      p,
		URL:          "http://" + ln.Addr().String(),
		WorkerPort:   port,
		StartupPings: pings,
		AuthLevel:    level,
		server:       &http.Server{Handler: handler, ReadHeaderTimeout: 30 * time.Second},
		served:       make(chan struct{}),
	}
	go func() {
		defer close(h.served)
		h.server.Serve(ln)
	}()
	return h
}

// Close stops serving requests at once; the handler keeps running.
func (h *Host) Close() error {
	err := h.server.Close()
	<-h.served
	return err
}

// Stop stops serving and then stops the handler (see Process.Stop).
func (h *Host) Stop(grace time.Duration) error {
	h.Close()
	return h.Process.Stop(grace)
}

// loopbackHostOnly refuses a request that arrived on a loopback address
// with a Host header that names something else, as the Go MCP SDK's
// DNS-rebinding guard does.
func loopbackHostOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok && isLoopback(local.String()) && !isLoopback(r.Host) {
			http.Error(w, fmt.Sprintf("Forbidden: invalid Host header %q", r.Host), http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isLoopback reports whether a host or host:port is localhost or a
// loopback address.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = strings.Trim(addr, "[]")
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
