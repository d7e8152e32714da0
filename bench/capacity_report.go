package main

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// idleMarks are the times after a load at which a watched idle process's
// RSS is reported.
var idleMarks = []time.Duration{time.Second, 10 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 3 * time.Minute, 4 * time.Minute}

func (c *capacity) report(w io.Writer) {
	o := c.b.o
	fmt.Fprintf(w, "\nmcpfunc capacity: %s %s/%s, %d CPUs (%s)\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel())
	fmt.Fprintf(w, "NOTE: the load client, the fakes and the delayed upstreams run in the bench process on the same %d CPUs as the server:\n", runtime.NumCPU())
	fmt.Fprintln(w, "      calls/s and latency include that contention; CPU/call counts the server process alone (utime+stime, /proc).")
	fmt.Fprintf(w, "N calls in flight: N clients, each sending its next call when the last is answered, one keep-alive connection each,\n")
	fmt.Fprintf(w, "%s timeout per call. Each row: a fresh server process, LOG_LEVEL=%s, %s warm-up, then %s measured.\n", capClientTimeout, capLog, capWarmup, o.duration)
	fmt.Fprintln(w, "RSS idle: once the server answers, before any load. Peak RSS: VmHWM, the process's highest RSS (warm-up included).")
	fmt.Fprintf(w, "RSS after: %s after the load ended and the client closed its connections. CPU/call: server CPU in the window ÷ calls completed.\n", capSettle)
	fmt.Fprintln(w, "upstream held: the most requests the delayed upstream had in flight at once; with no cap in the server it nears N")
	fmt.Fprintln(w, "unless calls queue for CPU before they reach it (then p50 exceeds the upstream time).")
	for _, server := range o.servers {
		c.reportServer(w, server)
	}
	c.reportLimits(w)
}

func (c *capacity) reportServer(w io.Writer, server string) {
	o := c.b.o
	levels := slices.Sorted(slices.Values(o.capLevels))
	fmt.Fprintf(w, "\n=== %s: capacity ===\n", server)
	switch server {
	case "weather":
		fmt.Fprintln(w, "tools/call get_forecast for a new point each call, NWS cache off (NWS_CACHE_ENTRIES=0): no two calls share an NWS request.")
		fmt.Fprintf(w, "The fake NWS answers each request after %s; get_forecast makes two (the point, then its forecast), so a call takes ≥ %s.\n",
			o.upstreamDelay, 2*o.upstreamDelay)
		fmt.Fprintln(w, "Baseline: sdkfloor, the same tools behind the go-sdk's own handler (no shared/hosting), same fakes and delay.")
	case "userinfo":
		fmt.Fprintln(w, "tools/call get_user_info with a new user token each call (MCP_AUTH=easyauth): an On-Behalf-Of cache miss, so one")
		fmt.Fprintf(w, "exchange with the fake Entra (TLS, no delay), then the fake Graph, which answers after %s.\n", o.upstreamDelay)
		fmt.Fprintln(w, "Baseline: userinfofloor, the same tool, exchange and Graph client behind the go-sdk's own handler (no shared/hosting,")
		fmt.Fprintln(w, "no Easy Auth check; its Graph client keeps Go's default 2 idle connections per host), same fakes and delay.")
	}
	fmt.Fprintln(w)
	names := capUpstreamNames[server]
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "in flight\tsetup\tcalls/s\tp50\tp99\tCPU/call\tpeak RSS\tRSS idle\tRSS after\tupstream held\tserver fds\t")
	for _, u := range names {
		fmt.Fprintf(tw, "%s\t", u)
	}
	fmt.Fprintln(tw, "errors\tother load\t")
	var errLines []string
	for _, n := range levels {
		for _, i := range c.setups() {
			s := capSetups[i]
			if s.server != server {
				continue
			}
			r := c.results[capKey{i, n}]
			st := r.st
			fmt.Fprintf(tw, "%d\t%s\t%.0f\t%s\t%s\t%.0f µs\t%s\t%s\t%s\t%d\t%d\t", n, s.bin, st.rps(),
				ms(percentile(st.Latencies, 50)), ms(percentile(st.Latencies, 99)), micros(st.cpuPerReq()),
				mib(st.PeakRSS), mib(r.idleRSS), mib(r.afterRSS), r.inflight, r.fds)
			for k := range names {
				fmt.Fprintf(tw, "%.2f\t", st.upstreamPerReq(k))
			}
			fmt.Fprintf(tw, "%d\t%.2f CPUs\t\n", st.Errors, st.otherLoad())
			if st.Errors > 0 {
				errLines = append(errLines, fmt.Sprintf("  %s at %d: %d: %s; first: %v", s.bin, n, st.Errors, formatKinds(r.kinds), st.FirstErr))
			}
		}
	}
	tw.Flush()
	if len(errLines) == 0 {
		fmt.Fprintln(w, "Errors: none.")
	} else {
		fmt.Fprintln(w, "Errors by kind (warm-up included):")
		for _, l := range errLines {
			fmt.Fprintln(w, l)
		}
	}

	if len(levels) >= 2 {
		lo, hi := levels[len(levels)-2], levels[len(levels)-1]
		fmt.Fprintf(w, "Memory per call in flight: peak RSS growth from %d to %d calls ÷ %d, and (peak − idle RSS at %d) ÷ %d:\n", lo, hi, hi-lo, hi, hi)
		for _, i := range c.setups() {
			s := capSetups[i]
			if s.server != server {
				continue
			}
			rl, rh := c.results[capKey{i, lo}], c.results[capKey{i, hi}]
			slope := float64(rh.st.PeakRSS-rl.st.PeakRSS) / float64(hi-lo)
			whole := float64(rh.st.PeakRSS-rh.idleRSS) / float64(hi)
			fmt.Fprintf(w, "  %-14s %6.1f KiB  %6.1f KiB\n", s.bin, slope/1024, whole/1024)
		}
	}
	for _, iw := range c.idle {
		if capSetupOf(iw.bin).server == server {
			c.reportIdle(w, iw)
		}
	}
}

// reportIdle prints the RSS of a process watched idle after its load.
func (c *capacity) reportIdle(w io.Writer, iw *idleWatch) {
	fmt.Fprintf(w, "RSS of %s left idle (no requests) after its %d-call load: idle before %s, peak %s",
		iw.bin, iw.n, mib(iw.run.idleRSS), mib(iw.run.st.PeakRSS))
	last, ok := iw.last()
	if !ok {
		fmt.Fprintln(w, "; not sampled")
		return
	}
	for _, d := range idleMarks {
		if s, ok := iw.at(d); ok && s.at <= last.at {
			fmt.Fprintf(w, ", +%s %s", s.at.Round(time.Second), mib(s.rss))
		}
	}
	if last.at > idleMarks[len(idleMarks)-1]+time.Second {
		fmt.Fprintf(w, ", +%s %s", last.at.Round(time.Second), mib(last.rss))
	}
	fmt.Fprintln(w)
	if first, _ := iw.at(0); last.rss > first.rss*9/10 {
		fmt.Fprintln(w, "  (Go returns freed memory to the system only after a GC: an idle process gets one forced after 2 to 3 minutes, then the")
		fmt.Fprintln(w, "  scavenger releases the free pages over a minute or so: `go run ./bench -capacity -capacity-idle=4m` watches that long.)")
	}
}

// reportLimits prints what may have capped the calls in flight.
func (c *capacity) reportLimits(w io.Writer) {
	fmt.Fprintln(w, "\nLimits")
	fmt.Fprintf(w, "  client: a pool of %d connections per server (one per call in flight), no cap on connections per host.\n", slices.Max(c.b.o.capLevels))
	var short []string
	var fdLimit int64
	mostFDs, mostAt := 0, ""
	for _, k := range slices.SortedFunc(maps.Keys(c.results), func(a, b capKey) int { return cmp.Or(cmp.Compare(a.setup, b.setup), cmp.Compare(a.n, b.n)) }) {
		r, s := c.results[k], capSetups[k.setup]
		if r.inflight < int64(k.n) {
			short = append(short, fmt.Sprintf("%s at %d: %d", s.bin, k.n, r.inflight))
		}
		fdLimit = r.fdLimit
		if r.fds > mostFDs {
			mostFDs, mostAt = r.fds, fmt.Sprintf("%s at %d", s.bin, k.n)
		}
	}
	if len(short) == 0 {
		fmt.Fprintln(w, "  server: the delayed upstream held all N calls at once at every level: nothing in the servers capped the calls in flight.")
	} else {
		fmt.Fprintf(w, "  server: the delayed upstream held fewer than N calls at once in %d row(s) (%s):\n", len(short), strings.Join(short, ", "))
		fmt.Fprintln(w, "          a cap in front of the upstream, or calls waiting for CPU (compare p50 with the upstream time).")
	}
	limit := "unlimited"
	if fdLimit >= 0 {
		limit = fmt.Sprint(fdLimit)
	}
	fmt.Fprintf(w, "  open files: the servers' soft limit here is %s; the most open was %d (%s): a call in flight holds\n", limit, mostFDs, mostAt)
	fmt.Fprintln(w, "              its client connection and an upstream one. The limit on Flex Consumption is not known here.")
}

// capSetupOf returns the capSetup of bin.
func capSetupOf(bin string) capSetup {
	i := slices.IndexFunc(capSetups, func(s capSetup) bool { return s.bin == bin })
	return capSetups[i]
}

// formatKinds lists error kinds, most frequent first.
func formatKinds(kinds map[string]int) string {
	keys := slices.SortedFunc(maps.Keys(kinds), func(a, b string) int {
		return cmp.Or(cmp.Compare(kinds[b], kinds[a]), strings.Compare(a, b))
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s ×%d", k, kinds[k])
	}
	return strings.Join(parts, ", ")
}
