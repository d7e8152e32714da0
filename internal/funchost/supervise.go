package funchost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Running is a started service: a Host or a Process.
type Running interface {
	// Done is closed when the service's process has exited.
	Done() <-chan struct{}
	// Err is the process's exit error; valid after Done.
	Err() error
	// Stop ends the service, killing its process after grace.
	Stop(grace time.Duration) error
}

// Service is one server a Supervisor runs.
type Service struct {
	Name string
	// URL is announced once the service is ready.
	URL string
	// Start starts the service and returns once it is ready, writing its
	// output to stdout and stderr. ctx bounds only the start: the
	// supervisor's readiness deadline and its stop. When Start fails it
	// has stopped whatever it started.
	Start func(ctx context.Context, stdout, stderr io.Writer) (Running, error)
}

// Supervisor runs services side by side until its context ends or one of
// them fails, and reports on them: each ready service's URL, a service
// that exits at once with its exit code and last lines, every service not
// ready in time. Each line a service writes is prefixed with its name
// (see Prefixes).
type Supervisor struct {
	// Stdout and Stderr receive the services' prefixed output and the
	// supervisor's own messages; several goroutines write to them, so they
	// must be safe for concurrent use, as os.Stdout and os.Stderr are.
	Stdout, Stderr io.Writer
	// ReadyTimeout bounds the start of all services (60 s when 0).
	ReadyTimeout time.Duration
	// StopGrace is how long a service may take to stop before it is killed
	// (4 s when 0: mage allows a target 5 s after Ctrl-C).
	StopGrace time.Duration
	// SignalGrace is how long a service's exit waits for the supervisor's
	// context to end before it counts as a failure (1 s when 0). Ctrl-C in
	// a terminal signals every process in the foreground group at once, so
	// a server that does not handle SIGINT can exit before the supervisor
	// has seen its own cancellation.
	SignalGrace time.Duration
	// TailLines is how many of a failed service's last lines the error
	// quotes (20 when 0).
	TailLines int
}

type eventKind int

const (
	started eventKind = iota
	startFailed
	exited
)

type event struct {
	i    int
	kind eventKind
	r    Running
	err  error
}

// Run starts every service and supervises them. It returns nil when ctx
// ended (Ctrl-C) and the services stopped because of it, and an error
// naming every failed service otherwise: one that exited (before it was
// ready: with its exit code and last lines, as soon as it happened), one
// that did not answer within ReadyTimeout, one that could not start.
// Either way every service has stopped when Run returns.
func (s *Supervisor) Run(ctx context.Context, services []Service) error {
	readyTimeout := orDefault(s.ReadyTimeout, 60*time.Second)
	stopGrace := orDefault(s.StopGrace, 4*time.Second)
	signalGrace := orDefault(s.SignalGrace, time.Second)
	tailN := s.TailLines
	if tailN <= 0 {
		tailN = 20
	}

	width := 0
	for _, svc := range services {
		width = max(width, len(svc.Name))
	}
	type unit struct {
		out, errw *LineWriter
		tail      *Tail
		running   Running
	}
	units := make([]*unit, len(services))
	for i, svc := range services {
		op, ep := Prefixes(svc.Name, width)
		t := &Tail{N: tailN}
		units[i] = &unit{tail: t, out: &LineWriter{W: s.Stdout, Prefix: op, Tail: t}, errw: &LineWriter{W: s.Stderr, Prefix: ep, Tail: t}}
	}
	say := func(i int, toErr bool, format string, args ...any) {
		u := units[i]
		w := u.out
		if toErr {
			w = u.errw
		}
		// Not through the LineWriter: the supervisor's lines are not the
		// service's output and stay out of its tail.
		fmt.Fprintf(w.W, "%s%s\n", w.Prefix, fmt.Sprintf(format, args...))
	}

	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	readyCtx, readyDone := context.WithTimeout(runCtx, readyTimeout)
	defer readyDone()

	events := make(chan event, 2*len(services))
	for i, svc := range services {
		u := units[i]
		go func() {
			r, err := svc.Start(readyCtx, u.out, u.errw)
			if err != nil {
				u.out.Flush()
				u.errw.Flush()
				events <- event{i: i, kind: startFailed, err: err}
				return
			}
			events <- event{i: i, kind: started, r: r}
			<-r.Done()
			u.out.Flush()
			u.errw.Flush()
			events <- event{i: i, kind: exited, err: r.Err()}
		}()
	}

	var (
		interrupted bool // ctx ended: Ctrl-C
		failed      []error
		notReady    []string
		starting    = len(services)
		pending     = len(services)
		ready       int
		stopping    bool
	)
	stopAll := func() {
		if stopping {
			return
		}
		stopping = true
		stopRun()
		for _, u := range units {
			if u.running != nil {
				go u.running.Stop(stopGrace)
			}
		}
	}
	// byCtrlC reports whether an exit came from the stop ctx asks for,
	// waiting signalGrace for ctx to end: the signal may reach the service
	// before it reaches this process.
	byCtrlC := func() bool {
		if interrupted {
			return true
		}
		t := time.NewTimer(signalGrace)
		defer t.Stop()
		select {
		case <-ctx.Done():
			interrupted = true
			return true
		case <-t.C:
			return false
		}
	}
	withTail := func(i int, err error) error {
		lines := units[i].tail.Lines()
		if len(lines) == 0 {
			return fmt.Errorf("%w; it wrote no output", err)
		}
		return fmt.Errorf("%w; its last lines:\n    %s", err, strings.Join(lines, "\n    "))
	}

	ctxDone := ctx.Done()
	for pending > 0 {
		select {
		case <-ctxDone:
			ctxDone = nil
			interrupted = true
			stopAll()
			continue
		case ev := <-events:
			name := services[ev.i].Name
			switch ev.kind {
			case started:
				starting--
				units[ev.i].running = ev.r
				if stopping {
					go ev.r.Stop(stopGrace)
					break
				}
				ready++
				say(ev.i, false, "ready: %s", services[ev.i].URL)
				if ready == len(services) {
					fmt.Fprintln(s.Stdout, "==> every server is ready; press Ctrl-C to stop them")
				}
			case startFailed:
				starting--
				pending--
				var nr *NotReadyError
				switch {
				case errors.Is(ev.err, ErrExited):
					// While stopping after another failure this is a
					// failure of its own; otherwise it may be Ctrl-C.
					if interrupted || (!stopping && byCtrlC()) {
						stopAll()
						break
					}
					say(ev.i, true, "%v", ev.err)
					failed = append(failed, withTail(ev.i, fmt.Errorf("%s %w", name, ev.err)))
				case errors.As(ev.err, &nr):
					say(ev.i, true, "not ready after %s: %v", readyTimeout, ev.err)
					notReady = append(notReady, fmt.Sprintf("%s (%v)", name, ev.err))
				case stopping:
					// Cancelled: Ctrl-C or another service failed.
				default:
					say(ev.i, true, "cannot start: %v", ev.err)
					failed = append(failed, fmt.Errorf("%s: %w", name, ev.err))
				}
			case exited:
				pending--
				if stopping || byCtrlC() {
					stopAll()
					break
				}
				say(ev.i, true, "stopped on its own: %v", ExitStatus{ev.err})
				failed = append(failed, withTail(ev.i, fmt.Errorf("%s stopped on its own: %w", name, ExitStatus{ev.err})))
			}
		}
		if len(failed) > 0 || (starting == 0 && len(notReady) > 0) {
			stopAll()
		}
	}
	if len(notReady) > 0 {
		failed = append(failed, fmt.Errorf("not ready after %s: %s; a server must answer GET / on the port the host gives it (FUNCTIONS_CUSTOMHANDLER_PORT, customHandler.port in its host.json)", readyTimeout, strings.Join(notReady, ", ")))
	}
	if len(failed) > 0 {
		return errors.Join(failed...)
	}
	fmt.Fprintln(s.Stdout, "==> every server stopped")
	return nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
