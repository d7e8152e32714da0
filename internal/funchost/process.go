package funchost

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// Process is a started child process and the watch on its exit.
type Process struct {
	Cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// StartProcess starts cmd and watches for its exit.
func StartProcess(cmd *exec.Cmd) (*Process, error) {
	if cmd.WaitDelay == 0 {
		// A grandchild that inherits the output pipes must not keep Wait
		// from returning once the process itself has exited.
		cmd.WaitDelay = time.Second
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	p := &Process{Cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Done is closed once the process has exited and its output is copied.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is the process's exit error (nil for exit code 0); valid after Done.
func (p *Process) Err() error {
	<-p.done
	return p.err
}

// Stop asks the process to end with SIGTERM, as the host does when it
// recycles a worker (on Windows, which has no SIGTERM, it kills it), kills
// it if it is still running after grace, and returns its exit error. A
// process that has already exited is left alone.
func (p *Process) Stop(grace time.Duration) error {
	select {
	case <-p.done:
		return p.err
	default:
	}
	if runtime.GOOS == "windows" {
		p.Cmd.Process.Kill()
	} else {
		p.Cmd.Process.Signal(syscall.SIGTERM)
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		p.Cmd.Process.Kill()
		<-p.done
	}
	return p.err
}

// ExitStatus describes how a process ended, for a report ("exit code 2",
// "killed by signal: interrupt", "exit code 0"), and wraps its exit error.
type ExitStatus struct {
	Err error // from exec.Cmd.Wait; nil for exit code 0
}

func (e ExitStatus) Error() string {
	if e.Err == nil {
		return "exit code 0"
	}
	var ee *exec.ExitError
	if errors.As(e.Err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "killed by signal: " + ws.Signal().String()
		}
		return "exit code " + strconv.Itoa(ee.ExitCode())
	}
	return e.Err.Error()
}

func (e ExitStatus) Unwrap() error { return e.Err }

func listenLoopback(port int) (net.Listener, error) {
	return net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
}
