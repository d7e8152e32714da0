package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Targets.
const (
	targetCPURatio = 1.10
	targetPeakRSS  = 40 << 20
	targetRSSLevel = 64
)

// targetColdStart is each server's cold-start target.
var targetColdStart = map[string]time.Duration{
	"weather":  20 * time.Millisecond,
	"userinfo": 60 * time.Millisecond,
}

func (b *bench) report(w io.Writer) {
	o := b.o
	fmt.Fprintf(w, "\nmcpfunc bench: %s %s/%s, %d CPUs (%s)\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel())
	fmt.Fprintf(w, "NOTE: the load client and the fakes run in the bench process on the same %d CPUs as the server:\n", runtime.NumCPU())
	fmt.Fprintln(w, "      req/s and latency include that contention; CPU/req counts the server process alone (utime+stime, /proc).")
	fmt.Fprintf(w, "Each row: a fresh server process, %s warm-up, then %s measured", o.warmup, o.duration)
	if o.rounds > 1 {
		fmt.Fprintf(w, " (the round with the median CPU/req of %d)", o.rounds)
	}
	fmt.Fprintln(w, "; one stateless POST per call. Server stdout (the request log) goes to /dev/null.")
	fmt.Fprintln(w, "log=warn: no per-request log line; log=info: one JSON line per request, as in production.")
	fmt.Fprintln(w, "other load: CPUs kept busy by other processes of this machine during the window (a busy host under a VM does not show);")
	fmt.Fprintln(w, "            rows with a high value are less reliable.")
	fmt.Fprintf(w, "Binaries: built with CGO_ENABLED=0 -trimpath -ldflags='-s -w' (as mage build's dist/ on linux/amd64); package = the zip azd\n")
	fmt.Fprintf(w, "deploys (app + host.json, deflate). Cold start = exec → first 200 answer to initialize on /mcp, polled every 1 ms, %d runs.\n", o.coldRuns)

	for _, server := range o.servers {
		b.reportServer(w, server)
	}

	fmt.Fprintln(w, "\nTargets (a MISS does not fail the run)")
	for _, server := range o.servers {
		for _, r := range ratios[server] {
			if !r.target {
				continue
			}
			for _, n := range o.levels {
				v := b.cpuRatio(r.num, r.den, n)
				fmt.Fprintf(w, "  CPU/request %s, %2d clients: %.2f (target ≤ %.2f)  %s\n",
					r.label, n, v, targetCPURatio, verdict(v <= targetCPURatio, fmt.Sprintf("by %.0f%%", (v/targetCPURatio-1)*100)))
			}
		}
	}
	if o.rounds == 1 {
		fmt.Fprintln(w, "  (one round per row: on a shared 2-CPU machine a CPU/req ratio moves by up to ±10% between runs;")
		fmt.Fprintln(w, "   confirm a MISS, or a PASS near the line, with -rounds=3 or more before acting on it)")
	}
	for _, server := range o.servers {
		cold := median(slices.Sorted(slices.Values(b.cold[server])))
		t := targetColdStart[server]
		fmt.Fprintf(w, "  cold start %s, median: %s (target < %s)  %s\n", server, ms(cold), ms(t), verdict(cold < t, "by "+ms(cold-t)))
	}
	if !b.selected("weather") {
		return
	}
	if !slices.Contains(o.levels, targetRSSLevel) {
		fmt.Fprintf(w, "  peak RSS weather at %d clients: not measured (-levels has no %d)\n", targetRSSLevel, targetRSSLevel)
		return
	}
	worst, worstLabel := b.highestRSS("weather", targetRSSLevel)
	fmt.Fprintf(w, "  peak RSS weather at %d clients, highest of its rows: %s, %s (target < %s)  %s\n",
		targetRSSLevel, mib(worst), worstLabel, mib(targetPeakRSS), verdict(worst < targetPeakRSS, "by "+mib(worst-targetPeakRSS)))
}

// reportServer prints one server's section: its binaries, its load tables
// and its CPU ratios.
func (b *bench) reportServer(w io.Writer, server string) {
	o := b.o
	fmt.Fprintf(w, "\n=== %s ===\n", server)
	switch server {
	case "weather":
		fmt.Fprintln(w, "tools/call get_alerts {\"state\":\"CA\"} against a fake NWS.")
		fmt.Fprintf(w, "The answer is %d bytes; nethttp sends a canned answer of that size.\n", b.respBytes)
		fmt.Fprintln(w, "cache=off: NWS_CACHE_ENTRIES=0, every call asks the fake NWS (concurrent identical calls still share one fetch);")
		fmt.Fprintln(w, "cache=on: the default 512-entry cache.")
	case "userinfo":
		fmt.Fprintln(w, "tools/call get_user_info with Authorization: Bearer <user token> and X-MS-CLIENT-PRINCIPAL (MCP_AUTH=easyauth),")
		fmt.Fprintln(w, "On-Behalf-Of with a managed identity against fake Entra (TLS), managed-identity and Graph endpoints.")
		fmt.Fprintln(w, "one token: the same user token on every call: OBO cached; each call hits the fake Graph (Entra only for the first).")
		fmt.Fprintln(w, "fresh token per call: a new user token each call: an OBO cache miss, so one Entra exchange (over TLS) per call, then Graph.")
		fmt.Fprintln(w, "userinfofloor has no hosting layer and no Easy Auth principal check.")
	}

	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "binary\tsize\tpackage\tcold start median\tmin\tmax\t")
	for _, bin := range b.binaries() {
		if bin.server != server {
			continue
		}
		d := slices.Sorted(slices.Values(b.cold[bin.name]))
		pkg := "-"
		if bin.product {
			pkg = mib(b.pkgSizes[bin.name])
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", bin.name, mib(b.sizes[bin.name]), pkg, ms(median(d)), ms(d[0]), ms(d[len(d)-1]))
	}
	tw.Flush()

	names := upstreamNames[server]
	for _, n := range o.levels {
		fmt.Fprintf(w, "\nLoad: %s, %d concurrent client(s)\n", server, n)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprint(tw, "setup\treq/s\tp50\tp99\tCPU/req\tpeak RSS\t")
		for _, u := range names {
			fmt.Fprintf(tw, "%s\t", u)
		}
		fmt.Fprintln(tw, "errors\tother load\t")
		for i, c := range configs {
			if c.server != server {
				continue
			}
			st := b.results[runKey{i, n}]
			fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%.0f µs\t%s\t", c.label, st.rps(),
				ms(percentile(st.Latencies, 50)), ms(percentile(st.Latencies, 99)), micros(st.cpuPerReq()), mib(st.PeakRSS))
			for k := range names {
				if c.bin == "nethttp" {
					fmt.Fprint(tw, "-\t")
				} else {
					fmt.Fprintf(tw, "%.2f\t", st.upstreamPerReq(k))
				}
			}
			fmt.Fprintf(tw, "%d\t%.2f CPUs\t\n", st.Errors, st.otherLoad())
		}
		tw.Flush()
	}

	fmt.Fprintf(w, "\nRatios of server CPU per request, %s\n", server)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "\t")
	for _, n := range o.levels {
		fmt.Fprintf(tw, "%d clients\t", n)
	}
	fmt.Fprintln(tw)
	for _, r := range ratios[server] {
		fmt.Fprintf(tw, "%s\t", r.label)
		for _, n := range o.levels {
			fmt.Fprintf(tw, "%.2f\t", b.cpuRatio(r.num, r.den, n))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	if server != "weather" && slices.Contains(o.levels, targetRSSLevel) {
		rss, label := b.highestRSS(server, targetRSSLevel)
		fmt.Fprintf(w, "Peak RSS %s at %d clients, highest of its rows: %s, %s (no target)\n", server, targetRSSLevel, mib(rss), label)
	}
}

// highestRSS is the highest peak RSS among the server's own rows (not its
// floors') at n clients, and the row's label.
func (b *bench) highestRSS(server string, n int) (int64, string) {
	var worst int64
	var label string
	for i, c := range configs {
		if st := b.results[runKey{i, n}]; c.bin == server && st.PeakRSS > worst {
			worst, label = st.PeakRSS, strings.Join(strings.Fields(c.label), " ")
		}
	}
	return worst, label
}

// cpuRatio divides the CPU per request of two configs at n clients.
func (b *bench) cpuRatio(num, den, n int) float64 {
	d := b.results[runKey{den, n}].cpuPerReq()
	if d == 0 {
		return 0
	}
	return float64(b.results[runKey{num, n}].cpuPerReq()) / float64(d)
}

func verdict(ok bool, miss string) string {
	if ok {
		return "PASS"
	}
	return "MISS " + miss
}

// median of sorted values, 0 for none.
func median(sorted []time.Duration) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func ms(d time.Duration) string      { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
func mib(n int64) string             { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
