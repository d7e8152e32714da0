package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// loadStats is the outcome of one load run.
type loadStats struct {
	Clients   int
	Requests  int             // successful calls completed in the measured window
	Errors    int             // failed calls, warm-up included
	FirstErr  error           // the first failure
	Window    time.Duration   // length of the measured window
	Latencies []time.Duration // of the Requests, sorted
	ServerCPU time.Duration   // utime+stime of the server over the window
	PeakRSS   int64           // VmHWM of the server at the end, bytes
	Upstream  []int64         // the fakes' counters over the window (requests, connections: see upstreamNames)
	OtherCPU  time.Duration   // CPU time used in the window by processes other than the server and the bench
}

func (s loadStats) rps() float64 {
	if s.Window <= 0 {
		return 0
	}
	return float64(s.Requests) / s.Window.Seconds()
}

func (s loadStats) cpuPerReq() time.Duration {
	if s.Requests == 0 {
		return 0
	}
	return s.ServerCPU / time.Duration(s.Requests)
}

// otherLoad is the average number of CPUs that processes other than the
// server and the bench kept busy during the window.
func (s loadStats) otherLoad() float64 {
	if s.Window <= 0 {
		return 0
	}
	return max(s.OtherCPU.Seconds(), 0) / s.Window.Seconds()
}

// upstreamPerReq is the i-th counter of the fakes per successful call.
func (s loadStats) upstreamPerReq(i int) float64 {
	if s.Requests == 0 || i >= len(s.Upstream) {
		return 0
	}
	return float64(s.Upstream[i]) / float64(s.Requests)
}

// newLoadClient is the HTTP client of the load: keep-alive connections, as
// many idle ones per host as the highest concurrency level.
func newLoadClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     30 * time.Second,
			DisableCompression:  true,
		},
		Timeout: 10 * time.Second,
	}
}

// runLoad runs clients concurrent callers of the requests call makes
// against p, each sending its next call as soon as the last one is
// answered: warm-up first, then a measured window of length dur. upstream
// reads the fakes' counters.
func runLoad(ctx context.Context, hc *http.Client, p *proc, clients int, warmup, dur time.Duration, call caller, upstream func() []int64) (loadStats, error) {
	st := loadStats{Clients: clients}
	var (
		mu       sync.Mutex
		base     = time.Now()
		winStart atomic.Int64 // ns since base; 0 while warming up
		winEnd   atomic.Int64 // ns since base; 0 until the window closes
		done     = make(chan struct{})
		wg       sync.WaitGroup
	)
	for w := range clients {
		wg.Go(func() {
			var lat []time.Duration
			errs := 0
			var firstErr error
			id := int64(w) << 32
			for {
				select {
				case <-done:
					mu.Lock()
					st.Latencies = append(st.Latencies, lat...)
					st.Errors += errs
					if st.FirstErr == nil {
						st.FirstErr = firstErr
					}
					mu.Unlock()
					return
				default:
				}
				id++
				t0 := time.Since(base)
				reqBody, hdr := call(id)
				status, body, err := post(ctx, hc, p.url, reqBody, hdr)
				if err == nil {
					err = checkToolResult(status, body)
				}
				t1 := time.Since(base)
				if err != nil {
					if ctx.Err() != nil {
						err = ctx.Err()
					}
					errs++
					if firstErr == nil {
						firstErr = err
					}
					time.Sleep(time.Millisecond) // no hot loop against a dead server
					continue
				}
				if s := winStart.Load(); s != 0 && int64(t1) >= s {
					if e := winEnd.Load(); e == 0 || int64(t1) <= e {
						lat = append(lat, t1-t0)
					}
				}
			}
		})
	}
	finish := func(err error) (loadStats, error) {
		close(done)
		wg.Wait()
		slices.Sort(st.Latencies)
		st.Requests = len(st.Latencies)
		return st, err
	}

	if err := sleep(ctx, warmup); err != nil {
		return finish(err)
	}
	s0, err := takeSample(p.pid(), upstream)
	if err != nil {
		return finish(err)
	}
	winStart.Store(int64(max(time.Since(base), 1)))
	if err := sleep(ctx, dur); err != nil {
		return finish(err)
	}
	winEnd.Store(int64(time.Since(base)))
	s1, err := takeSample(p.pid(), upstream)
	if err != nil {
		return finish(err)
	}
	st.Window = time.Duration(winEnd.Load() - winStart.Load())
	st.ServerCPU = s1.server - s0.server
	st.OtherCPU = (s1.machine - s0.machine) - st.ServerCPU - (s1.self - s0.self)
	for i := range s1.upstream {
		st.Upstream = append(st.Upstream, s1.upstream[i]-s0.upstream[i])
	}
	if st.PeakRSS, err = peakRSS(p.pid()); err != nil {
		return finish(err)
	}
	return finish(nil)
}

// sample is what is measured at both ends of the window.
type sample struct {
	server, self, machine time.Duration // CPU time used by the server, the bench and the whole machine
	upstream              []int64       // the fakes' counters
}

func takeSample(pid int, upstream func() []int64) (sample, error) {
	var s sample
	var err [3]error
	s.server, err[0] = cpuTime(pid)
	s.self, err[1] = cpuTime(os.Getpid())
	s.machine, err[2] = machineBusy()
	s.upstream = upstream()
	return s, errors.Join(err[:]...)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// post sends one stateless MCP POST with the extra headers hdr (nil for
// none) and returns the status and body.
func post(ctx context.Context, hc *http.Client, url string, body []byte, hdr http.Header) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp.StatusCode, b, err
}

// checkToolResult reports why an answer to tools/call is not a success:
// a status other than 200, a JSON-RPC error or a result with isError.
func checkToolResult(status int, body []byte) error {
	if status != http.StatusOK {
		return fmt.Errorf("HTTP %d: %s", status, clip(body))
	}
	var r struct {
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		Result *struct {
			IsError bool `json:"isError"`
		} `json:"result"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("answer is not JSON-RPC (%v): %s", err, clip(body))
	}
	switch {
	case r.Error != nil:
		return fmt.Errorf("JSON-RPC error %d: %s", r.Error.Code, r.Error.Message)
	case r.Result == nil:
		return fmt.Errorf("answer has no result: %s", clip(body))
	case r.Result.IsError:
		return errors.New("tool error: " + clip(body))
	}
	return nil
}

func clip(b []byte) string {
	const n = 300
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted by the
// nearest-rank method, or 0 for no values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}
