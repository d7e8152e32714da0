package funchost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeRunning is a service whose exit the test decides.
type fakeRunning struct {
	name     string
	once     sync.Once
	stopOnce sync.Once
	done     chan struct{}
	err      error
	stopped  chan struct{}
}

func newFakeRunning(name string) *fakeRunning {
	return &fakeRunning{name: name, done: make(chan struct{}), stopped: make(chan struct{})}
}

func (f *fakeRunning) exit(err error) {
	f.once.Do(func() { f.err = err; close(f.done) })
}

func (f *fakeRunning) wasStopped() bool {
	select {
	case <-f.stopped:
		return true
	default:
		return false
	}
}

func (f *fakeRunning) Done() <-chan struct{} { return f.done }
func (f *fakeRunning) Err() error            { <-f.done; return f.err }
func (f *fakeRunning) Stop(time.Duration) error {
	f.stopOnce.Do(func() { close(f.stopped) })
	f.exit(errors.New("signal: terminated"))
	return f.Err()
}

// fakeServices returns n services that are ready at once, and a function
// that returns them in order, once all have started.
func fakeServices(n int) ([]Service, func() []*fakeRunning) {
	ch := make(chan *fakeRunning, n)
	var svcs []Service
	for i := range n {
		name := fmt.Sprintf("fake%d", i)
		svcs = append(svcs, Service{
			Name: name,
			URL:  fmt.Sprintf("http://localhost:%d/mcp", 7071+i),
			Start: func(ctx context.Context, stdout, stderr io.Writer) (Running, error) {
				fmt.Fprintln(stdout, "hello")
				fmt.Fprintln(stderr, "careful")
				f := newFakeRunning(name)
				ch <- f
				return f, nil
			},
		})
	}
	return svcs, func() []*fakeRunning {
		out := make([]*fakeRunning, n)
		for range n {
			f := <-ch
			i, _ := strconv.Atoi(strings.TrimPrefix(f.name, "fake"))
			out[i] = f
		}
		return out
	}
}

// hostService is a service that starts app under Start; started, when not
// nil, sees each Host that started.
func hostService(name string, app App, env []string, started func(*Host)) Service {
	return Service{Name: name, URL: "http://localhost/" + name, Start: func(ctx context.Context, stdout, stderr io.Writer) (Running, error) {
		h, err := Start(ctx, Config{App: app, Env: env, Stdout: stdout, Stderr: stderr, StartTimeout: time.Minute})
		if err == nil && started != nil {
			started(h)
		}
		return h, err
	}}
}

type runResult struct {
	err  error
	took time.Duration
}

func runSupervisor(ctx context.Context, s *Supervisor, svcs []Service) chan runResult {
	res := make(chan runResult, 1)
	start := time.Now()
	go func() {
		err := s.Run(ctx, svcs)
		res <- runResult{err, time.Since(start)}
	}()
	return res
}

// Ctrl-C reaches the servers and dev at the same moment, so a server that
// does not handle SIGINT can die before dev's context ends. That exit is
// part of the stop, whichever comes first: the race of `mage dev` that
// used to end about 40% of Ctrl-Cs with "stopped unexpectedly: signal:
// interrupt" and exit status 1, reproduced here in every order.
func TestSupervisorCtrlCRace(t *testing.T) {
	tests := []struct {
		name string
		// delay is how long after the first server's exit the context
		// ends; negative: before it.
		delay time.Duration
	}{
		{"context ends first", -20 * time.Millisecond},
		{"at the same moment", 0},
		{"server exits 1 ms before", time.Millisecond},
		{"server exits 50 ms before", 50 * time.Millisecond},
		{"server exits 300 ms before", 300 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svcs, started := fakeServices(2)
			var out, errw Buffer
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			res := runSupervisor(ctx, &Supervisor{Stdout: &out, Stderr: &errw}, svcs)
			fakes := started()
			a, b := fakes[0], fakes[1]
			if tt.delay < 0 {
				cancel()
				time.Sleep(-tt.delay)
				a.exit(errors.New("signal: interrupt"))
			} else {
				a.exit(errors.New("signal: interrupt"))
				time.Sleep(tt.delay)
				cancel()
			}
			r := <-res
			if r.err != nil {
				t.Fatalf("Run after Ctrl-C = %v, want nil\nstdout:\n%s\nstderr:\n%s", r.err, &out, &errw)
			}
			if !b.wasStopped() {
				t.Error("the other server was not stopped")
			}
			if !strings.Contains(out.String(), "every server stopped") {
				t.Errorf("stdout:\n%s", &out)
			}
		})
	}
}

// The same race with real processes and real signals: the test binary as
// two servers that die of SIGINT, signalled the way a terminal does, then
// the supervisor's context cancelled a little later, as mage does.
func TestSupervisorCtrlCRealSignals(t *testing.T) {
	const rounds = 20
	exitCodes := map[string]int{}
	for round := range rounds {
		pids := make(chan int, 2)
		var svcs []Service
		for _, name := range []string{"one", "two"} {
			app, env := helperApp(t, "serve")
			svcs = append(svcs, hostService(name, app, env, func(h *Host) { pids <- h.Cmd.Process.Pid }))
		}
		var out, errw Buffer
		ctx, cancel := context.WithCancel(context.Background())
		res := runSupervisor(ctx, &Supervisor{Stdout: &out, Stderr: &errw}, svcs)
		var both []int
		for len(both) < 2 {
			select {
			case pid := <-pids:
				both = append(both, pid)
			case r := <-res:
				t.Fatalf("round %d: Run ended before the servers were ready: %v\nstderr:\n%s", round, r.err, &errw)
			}
		}
		for _, pid := range both {
			syscall.Kill(pid, syscall.SIGINT)
		}
		time.Sleep(time.Duration(round%5) * 10 * time.Millisecond)
		cancel()
		r := <-res
		exitCodes[fmt.Sprint(r.err)]++
		if r.err != nil {
			t.Errorf("round %d: Run after Ctrl-C = %v, want nil\nstderr:\n%s", round, r.err, &errw)
		}
	}
	t.Logf("%d rounds: results %v", rounds, exitCodes)
}

func TestSupervisorExitAfterReady(t *testing.T) {
	svcs, started := fakeServices(2)
	var out, errw Buffer
	res := runSupervisor(context.Background(), &Supervisor{Stdout: &out, Stderr: &errw, SignalGrace: 100 * time.Millisecond}, svcs)
	fakes := started()
	a, b := fakes[0], fakes[1]
	a.exit(errors.New("exit status 2"))
	r := <-res
	if r.err == nil || !strings.Contains(r.err.Error(), "fake0 stopped on its own: exit status 2") {
		t.Fatalf("Run = %v", r.err)
	}
	for _, want := range []string{"[fake0]  hello", "[fake0!] careful"} {
		if !strings.Contains(r.err.Error(), want) {
			t.Errorf("the error does not quote the last line %q:\n%v", want, r.err)
		}
	}
	if r.took > 5*time.Second {
		t.Errorf("reported after %s", r.took)
	}
	if !b.wasStopped() {
		t.Error("the other server was not stopped")
	}
	if !strings.Contains(errw.String(), "[fake0!] stopped on its own: exit status 2") {
		t.Errorf("not reported on stderr:\n%s", &errw)
	}
}

func TestSupervisorFailures(t *testing.T) {
	busyPort := holdPort(t)

	type svc struct{ name, mode string }
	tests := []struct {
		name     string
		services []svc
		want     []string // in the error
		notWant  []string
		within   time.Duration
	}{
		{"exits before ready", []svc{{"crash", "serve-crash"}, {"good", "serve"}},
			[]string{"crash exited before it answered on http://127.0.0.1:", "exit code 3", "its last lines:", "[crash]  starting up", "[crash!] boom: bad config", "[crash!] second line without newline"},
			[]string{"good"}, 20 * time.Second},
		// The first to exit stops the other, which may or may not have
		// exited by then: one report at least.
		{"two exit before ready", []svc{{"a", "serve-crash"}, {"b", "serve-crash"}},
			[]string{" exited before it answered", "exit code 3"}, nil, 20 * time.Second},
		{"every server not ready is named", []svc{{"slow1", "never"}, {"good", "serve"}, {"slow2", "never"}},
			[]string{"not ready after 1s: ", "slow1 (no answer on http://127.0.0.1:", "slow2 (no answer on"},
			[]string{"good ("}, 20 * time.Second},
		{"handler port busy", []svc{{"busy", "busy"}, {"good", "serve"}},
			[]string{"busy: handler port: 127.0.0.1:" + strconv.Itoa(busyPort) + ": port in use"}, nil, 20 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var svcs []Service
			var mu sync.Mutex
			var hosts []*Host
			for _, s := range tt.services {
				mode := strings.TrimPrefix(s.mode, "serve-")
				if s.mode == "busy" {
					mode = "serve"
				}
				app, env := helperApp(t, mode)
				if s.mode == "busy" {
					app.Port = busyPort
				}
				svcs = append(svcs, hostService(s.name, app, env, func(h *Host) {
					mu.Lock()
					hosts = append(hosts, h)
					mu.Unlock()
				}))
			}
			var out, errw Buffer
			r := <-runSupervisor(context.Background(), &Supervisor{Stdout: &out, Stderr: &errw, ReadyTimeout: time.Second}, svcs)
			if r.err == nil {
				t.Fatal("Run succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(r.err.Error(), w) {
					t.Errorf("the error lacks %q:\n%v", w, r.err)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(r.err.Error(), w) {
					t.Errorf("the error has %q:\n%v", w, r.err)
				}
			}
			if r.took > tt.within {
				t.Errorf("reported after %s, want within %s", r.took, tt.within)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, h := range hosts {
				select {
				case <-h.Done():
				default:
					t.Errorf("a server (port %d) still runs after Run returned", h.WorkerPort)
				}
			}
			if t.Failed() {
				t.Logf("stdout:\n%s\nstderr:\n%s", &out, &errw)
			}
		})
	}
}

// Each server's stdout and stderr lines keep their stream and are marked
// apart; Ctrl-C (the context ending) stops every server and Run returns nil.
func TestSupervisorOutput(t *testing.T) {
	app, env := helperApp(t, "serve")
	svcs := []Service{hostService("weather", app, env, nil), hostService("userinfo", app, env, nil)}
	var out, errw Buffer
	ctx, cancel := context.WithCancel(context.Background())
	res := runSupervisor(ctx, &Supervisor{Stdout: &out, Stderr: &errw}, svcs)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "every server is ready") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if r := <-res; r.err != nil {
		t.Fatalf("Run after Ctrl-C = %v", r.err)
	}
	for _, want := range []string{"[weather]   listening on 127.0.0.1:", "[userinfo]  listening on", "[weather]   ready: http://localhost/weather", "[userinfo]  ready: http://localhost/userinfo", "every server stopped"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, &out)
		}
	}
	for _, want := range []string{"[weather!]  a warning", "[userinfo!] a warning"} {
		if !strings.Contains(errw.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, &errw)
		}
	}
	if strings.Contains(out.String(), "a warning") || strings.Contains(errw.String(), "listening on") {
		t.Errorf("a line changed stream:\nstdout:\n%s\nstderr:\n%s", &out, &errw)
	}
}
