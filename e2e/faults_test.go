//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpfunc/mcpfunc/servers/weather/nws/nwstest"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// newFaultNWS starts the fake NWS API of nwstest answering every path by
// its kind (any /points/ path gets the one point, which links the one
// forecast), without Cache-Control, for faults to be set on kinds of
// request.
func newFaultNWS(t *testing.T) *nwstest.Server {
	t.Helper()
	return nwstest.Start(t, nwstest.Config{ByKind: true})
}

// faultTimeout is NWS_TIMEOUT for the fault tests.
const faultTimeout = 300 * time.Millisecond

// TestFaultsWeatherUpstream makes the fake NWS fail in each way for each
// tool: every call must end with a clear tool error within its bound, and
// a normal call must succeed right after.
func TestFaultsWeatherUpstream(t *testing.T) {
	nws := newFaultNWS(t)
	app := appDir(t, "weather")
	host := startUnderHost(t, app, "app", map[string]string{
		"NWS_API_BASE_URL":  nws.URL,
		"NWS_TIMEOUT":       faultTimeout.String(),
		"NWS_CACHE_ENTRIES": "0",
	}, yarpProxy)
	cs := connectMCP(t, host.URL+"/mcp", "2025-11-25")
	// The tool bound: 3 attempts of NWS_TIMEOUT, 2 waits of at most 2 s
	// (the client's RetryMaxDelay), plus the tools' 3 s slack.
	bound := 3*faultTimeout + 2*2*time.Second + 3*time.Second
	const slack = 5 * time.Second // a loaded CI machine, the race detector

	tests := []struct {
		fault    string
		want     string
		attempts int // upstream requests for the failing kind
	}{
		{"500", "the National Weather Service API is unavailable (HTTP 500) after 3 attempts; try again shortly", 3},
		{"429", "the National Weather Service API is rate limiting requests (HTTP 429) after 3 attempts; try again in a few seconds", 3},
		{"429 once", "", 2},
		{"slow", "the National Weather Service API did not answer within 300ms", 1},
		{"truncated", "could not reach the National Weather Service API after 3 attempts; try again shortly", 3},
		{"cut JSON", "the National Weather Service API returned malformed JSON", 1},
		{"HTML", "the National Weather Service API returned malformed JSON", 1},
		{"empty", "the National Weather Service API returned malformed JSON", 1},
		// 3 attempts; Go's transport also retries a GET once, unseen, when
		// a reused keep-alive connection is reset before any answer.
		{"reset", "could not reach the National Weather Service API after 3 attempts; try again shortly", 4},
	}
	calls := []struct {
		tool string
		args map[string]any
		kind nwstest.Kind // the request that fails
	}{
		{"get_alerts", map[string]any{"state": "CA"}, "alerts"},
		{"get_forecast", map[string]any{"latitude": 39.7456, "longitude": -97.0892}, "points"},
		{"get_forecast", map[string]any{"latitude": 39.7456, "longitude": -97.0892}, "forecast"},
	}
	for _, tt := range tests {
		for _, c := range calls {
			t.Run(tt.fault+" on "+string(c.kind), func(t *testing.T) {
				nws.SetFault(c.kind, nwstest.Fault(tt.fault))
				before := nws.KindRequests(c.kind)
				start := time.Now()
				res, text := call(t, cs, c.tool, c.args)
				took := time.Since(start)
				nws.SetFault(c.kind, "")
				attempts := nws.KindRequests(c.kind) - before
				t.Logf("%s after %s and %d upstream requests: %q", c.tool, took.Round(time.Millisecond), attempts, text)
				if tt.want == "" {
					if res.IsError {
						t.Errorf("want success, got tool error %q", text)
					}
					if took < time.Second {
						t.Errorf("answered after %s: Retry-After: 1 not honoured", took)
					}
				} else if !res.IsError || text != tt.want {
					t.Errorf("got isError %v %q\nwant tool error %q", res.IsError, text, tt.want)
				}
				if attempts != tt.attempts && !(tt.fault == "reset" && attempts == 3) {
					t.Errorf("%d upstream requests for %s, want %d", attempts, c.kind, tt.attempts)
				}
				if took > bound+slack {
					t.Errorf("call took %s, past its bound %s (+%s slack)", took, bound, slack)
				}
				// The server keeps serving.
				if res, text := call(t, cs, c.tool, c.args); res.IsError {
					t.Errorf("normal call after the fault: %q", text)
				}
			})
		}
	}
	select {
	case err := <-host.exited:
		t.Fatalf("worker exited: %v", err)
	default:
	}
	checkWorkerLogs(t, host)
	if took, err := host.Stop(t, 15*time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v (after %s), want 0", err, took)
	}
}

// sigtermRequest is one request of the SIGTERM test and what became of it.
type sigtermRequest struct {
	points     string // the unique upstream path it causes
	start, end time.Time
	status     int // 0: transport error
	err        error
	body       []byte
}

// TestSigtermUnderLoad stops the weather worker while 16 clients call it
// through the host's proxy and the NWS answers slowly: every request the
// worker was serving completes successfully, later ones are refused at
// once (the proxy's 502, or a refused connection), and the process exits 0
// within its shutdown bound.
func TestSigtermUnderLoad(t *testing.T) {
	nws := newFaultNWS(t)
	nws.SetDelay(200 * time.Millisecond)
	app := appDir(t, "weather")
	host := startUnderHost(t, app, "app", map[string]string{
		"NWS_API_BASE_URL":  nws.URL,
		"NWS_CACHE_ENTRIES": "0",
	}, yarpProxy)

	const clients = 16
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var (
		mu       sync.Mutex
		requests []*sigtermRequest
		seq      atomic.Int64
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				// A unique latitude per request makes a unique upstream
				// path, which tells when the worker began serving it.
				lat := strconv.FormatFloat(float64(300000+seq.Add(1))/1e4, 'f', -1, 64)
				r := &sigtermRequest{points: "/points/" + lat + ",-97.0892", start: time.Now()}
				body := toolCall(`"get_forecast"`, `{"latitude":`+lat+`,"longitude":-97.0892}`)
				resp, err := client.Do(mcpPost(host.URL+"/mcp", strings.NewReader(body), "2025-11-25"))
				if err == nil {
					r.status = resp.StatusCode
					r.body, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				r.err, r.end = err, time.Now()
				mu.Lock()
				requests = append(requests, r)
				mu.Unlock()
				if r.status != http.StatusOK {
					time.Sleep(20 * time.Millisecond) // refused: do not spin
				}
			}
		})
	}

	time.Sleep(1500 * time.Millisecond)
	sigterm := time.Now()
	took, exitErr := host.Stop(t, 30*time.Second)
	// A moment more of clients knocking on a closed door.
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()

	var before, inflight, okAfter, refused int
	for _, r := range requests {
		at, served := nws.FirstSeen(r.points)
		servedBefore := served && at.Before(sigterm)
		success := r.status == http.StatusOK && !bytesContains(r.body, `"isError":true`) && bytesContains(r.body, `"result"`)
		switch {
		case servedBefore:
			if r.end.Before(sigterm) {
				before++
			} else {
				inflight++
			}
			if !success {
				t.Errorf("request served before SIGTERM (%s) failed: status %d err %v body %.200q", r.points, r.status, r.err, r.body)
			}
		case success:
			okAfter++ // accepted before the listener closed
		case r.status == http.StatusBadGateway && len(strings.TrimSpace(string(r.body))) == 0,
			r.err != nil && isRefused(r.err):
			refused++
		default:
			t.Errorf("request %s after SIGTERM: status %d err %v body %.200q; want success or a clean refusal", r.points, r.status, r.err, r.body)
		}
		if d := r.end.Sub(r.start); d > 10*time.Second {
			t.Errorf("request %s took %s", r.points, d)
		}
	}
	t.Logf("%d requests: %d done before SIGTERM, %d in flight at SIGTERM (all completed), %d accepted after, %d refused; exit after %s: %v",
		len(requests), before, inflight, okAfter, refused, took.Round(time.Millisecond), exitErr)
	if exitErr != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0", exitErr)
	}
	if took > 10*time.Second+5*time.Second {
		t.Errorf("exit took %s, past the 10 s shutdown bound", took)
	}
	if inflight == 0 || refused == 0 {
		t.Errorf("the test did not exercise both cases: %d in flight, %d refused", inflight, refused)
	}
	// The worker's port refuses connections now.
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", host.WorkerPort), time.Second); err == nil {
		c.Close()
		t.Error("the worker's port still accepts connections")
	}
	checkWorkerLogs(t, host)
}

// TestSigtermWithListenClient stops the weather worker while a Go SDK
// client is connected with protocol 2026-07-28 and a tools/list_changed
// handler. weather does not advertise tools.listChanged (it is stateless
// and never notifies), so the client opens no subscriptions/listen stream
// that would hold a request and an instance open; the process exits 0
// within its shutdown bound. (A server that still gets a listen stream
// ends it at shutdown: shared/hosting's TestShutdownEndsListenStream.)
func TestSigtermWithListenClient(t *testing.T) {
	app := appDir(t, "weather")
	host := startUnderHost(t, app, "app", map[string]string{"NWS_API_BASE_URL": "http://127.0.0.1:1"}, yarpProxy)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c := mcp.NewClient(&mcp.Implementation{Name: "e2e", Version: "1"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {},
	})
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: host.URL + "/mcp", MaxRetries: -1}, &mcp.ClientSessionOptions{ProtocolVersion: "2026-07-28"})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer cs.Close()
	if tools := cs.InitializeResult().Capabilities.Tools; tools == nil || tools.ListChanged {
		t.Errorf("weather's tools capability %+v, want tools without listChanged", tools)
	}
	if _, err := cs.ListTools(ctx, nil); err != nil {
		t.Fatal(err)
	}
	took, exitErr := host.Stop(t, 30*time.Second)
	t.Logf("exit after %s: %v", took.Round(time.Millisecond), exitErr)
	if exitErr != nil {
		t.Errorf("exit after SIGTERM with a 2026-07-28 client connected: %v, want status 0 (stderr: %s)", exitErr, lastLine(host.Stderr.String()))
	}
	if took > 10*time.Second+5*time.Second {
		t.Errorf("exit took %s, past the 10 s shutdown bound", took)
	}
	if strings.Contains(host.Stdout.String(), "subscriptions/listen") {
		t.Errorf("the client opened a subscriptions/listen stream:\n%s", host.Stdout.String())
	}
}

func lastLine(s string) string {
	l := lines(s)
	if len(l) == 0 {
		return ""
	}
	return l[len(l)-1]
}

func bytesContains(b []byte, s string) bool { return strings.Contains(string(b), s) }

// isRefused reports whether err is a refused or reset connection.
func isRefused(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) || strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "EOF")
}
