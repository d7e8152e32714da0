package funchost

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// PingInterval is how often the host pings a starting handler.
const PingInterval = 25 * time.Millisecond

// ErrExited reports a handler that exited before it answered the ping.
var ErrExited = errors.New("exited before it answered")

// NotReadyError reports a handler that did not answer in time.
type NotReadyError struct {
	URL   string
	Pings int
	Err   error // the last ping's error
}

func (e *NotReadyError) Error() string {
	return fmt.Sprintf("no answer on %s after %d pings (last: %v)", e.URL, e.Pings, e.Err)
}

func (e *NotReadyError) Unwrap() error { return e.Err }

// WaitReady sends GET http://127.0.0.1:<port>/ every interval (PingInterval
// when 0) until any HTTP response arrives, as the host's startup ping does;
// a socket error means "not ready yet". It returns the number of pings
// sent. It fails with ErrExited as soon as p (when not nil) exits, and with a *NotReadyError when ctx ends first.
func WaitReady(ctx context.Context, port int, interval time.Duration, p *Process) (int, error) {
	if interval <= 0 {
		interval = PingInterval
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	defer client.CloseIdleConnections()
	var done <-chan struct{}
	if p != nil {
		done = p.Done()
	}
	exitErr := func() error {
		return fmt.Errorf("%w on %s: %w", ErrExited, url, ExitStatus{p.Err()})
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	pings := 0
	for {
		pings++
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return pings, err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			select {
			case <-done:
				// Something answered, but our handler is gone: another
				// process holds its port.
				return pings, exitErr()
			default:
			}
			return pings, nil
		}
		select {
		case <-done:
			return pings, exitErr()
		case <-ctx.Done():
			select {
			case <-done: // it exited too: say so
				return pings, exitErr()
			default:
			}
			if errors.Is(ctx.Err(), context.Canceled) {
				return pings, ctx.Err()
			}
			return pings, &NotReadyError{URL: url, Pings: pings, Err: err}
		case <-t.C:
		}
	}
}
