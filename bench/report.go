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
	targetCPURatio  = 1.10
	targetColdStart = 20 * time.Millisecond
	targetPeakRSS   = 40 << 20
	targetRSSLevel  = 64
)

func (b *bench) report(w io.Writer) {
	o := b.o
	fmt.Fprintf(w, "\nmcpfunc bench: %s %s/%s, %d CPUs (%s)\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel())
	fmt.Fprintf(w, "NOTE: the load client and the fake NWS run in the bench process on the same %d CPUs as the server:\n", runtime.NumCPU())
	fmt.Fprintln(w, "      req/s and latency include that contention; CPU/req counts the server process alone (utime+stime, /proc).")
	fmt.Fprintf(w, "Each row: a fresh server process, %s warm-up, then %s measured", o.warmup, o.duration)
	if o.rounds > 1 {
		fmt.Fprintf(w, " (the round with the median CPU/req of %d)", o.rounds)
	}
	fmt.Fprintln(w, "; tools/call get_alerts {\"state\":\"CA\"}, one stateless POST per call.")
	fmt.Fprintf(w, "The answer is %d bytes; nethttp sends a canned answer of that size. Server stdout (the request log) goes to /dev/null.\n", b.respBytes)
	fmt.Fprintln(w, "cache=off: NWS_CACHE_ENTRIES=0, every call asks the fake NWS (concurrent identical calls still share one fetch);")
	fmt.Fprintln(w, "cache=on: the default 512-entry cache. log=warn: no per-request log line; log=info: one JSON line per request, as in production.")
	fmt.Fprintln(w, "other load: CPUs kept busy by other processes of this machine during the window (a busy host under a VM does not show);")
	fmt.Fprintln(w, "            rows with a high value are less reliable.")

	fmt.Fprintf(w, "\nBinaries (cold start = exec → first 200 answer to initialize on /mcp, polled every 1 ms, %d runs)\n", o.coldRuns)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "binary\tsize\tcold start median\tmin\tmax\t")
	for _, bin := range binaries {
		d := slices.Sorted(slices.Values(b.cold[bin.name]))
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", bin.name, mib(b.sizes[bin.name]), ms(median(d)), ms(d[0]), ms(d[len(d)-1]))
	}
	tw.Flush()

	for _, n := range o.levels {
		fmt.Fprintf(w, "\nLoad: %d concurrent client(s)\n", n)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "server\treq/s\tp50\tp99\tCPU/req\tpeak RSS\tNWS req/call\terrors\tother load\t")
		for i, c := range configs {
			st := b.results[runKey{i, n}]
			up := "-"
			if c.cache != "" {
				up = fmt.Sprintf("%.2f", st.upstreamPerReq())
			}
			fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%.0f µs\t%s\t%s\t%d\t%.2f CPUs\t\n", c.label, st.rps(),
				ms(percentile(st.Latencies, 50)), ms(percentile(st.Latencies, 99)),
				micros(st.cpuPerReq()), mib(st.PeakRSS), up, st.Errors, st.otherLoad())
		}
		tw.Flush()
	}

	fmt.Fprintln(w, "\nRatios of server CPU per request")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "\t")
	for _, n := range o.levels {
		fmt.Fprintf(tw, "%d clients\t", n)
	}
	fmt.Fprintln(tw)
	ratioRow := func(label string, num, den int) {
		fmt.Fprintf(tw, "%s\t", label)
		for _, n := range o.levels {
			fmt.Fprintf(tw, "%.2f\t", b.cpuRatio(num, den, n))
		}
		fmt.Fprintln(tw)
	}
	ratioRow("weather ÷ sdkfloor, cache=off log=warn (like for like)", cfgWeatherOff, cfgSdkfloorOff)
	ratioRow("weather log=info ÷ sdkfloor log=warn, cache=off (production logging)", cfgWeatherOffInfo, cfgSdkfloorOff)
	ratioRow("weather ÷ sdkfloor, cache=on log=warn", cfgWeatherOn, cfgSdkfloorOn)
	ratioRow("weather log=info ÷ sdkfloor log=warn, cache=on (production)", cfgWeatherOnInfo, cfgSdkfloorOn)
	ratioRow("sdkfloor cache=off ÷ nethttp (the SDK and tools over bare HTTP)", cfgSdkfloorOff, cfgNethttp)
	tw.Flush()

	fmt.Fprintln(w, "\nTargets (a MISS does not fail the run)")
	for _, n := range o.levels {
		r := b.cpuRatio(cfgWeatherOff, cfgSdkfloorOff, n)
		fmt.Fprintf(w, "  CPU/request weather ÷ sdkfloor, cache=off log=warn, %2d clients: %.2f (target ≤ %.2f)  %s\n",
			n, r, targetCPURatio, verdict(r <= targetCPURatio, fmt.Sprintf("by %.0f%%", (r/targetCPURatio-1)*100)))
	}
	if o.rounds == 1 {
		fmt.Fprintln(w, "  (one round per row: on a shared 2-CPU machine a CPU/req ratio moves by up to ±10% between runs;")
		fmt.Fprintln(w, "   confirm a MISS, or a PASS near the line, with -rounds=3 or more before acting on it)")
	}
	cold := median(slices.Sorted(slices.Values(b.cold["weather"])))
	fmt.Fprintf(w, "  cold start weather, median: %s (target < %s)  %s\n", ms(cold), ms(targetColdStart),
		verdict(cold < targetColdStart, "by "+ms(cold-targetColdStart)))
	if !slices.Contains(o.levels, targetRSSLevel) {
		fmt.Fprintf(w, "  peak RSS weather at %d clients: not measured (-levels has no %d)\n", targetRSSLevel, targetRSSLevel)
		return
	}
	var worst int64
	var worstLabel string
	for i, c := range configs {
		if st := b.results[runKey{i, targetRSSLevel}]; c.bin == "weather" && st.PeakRSS > worst {
			worst, worstLabel = st.PeakRSS, strings.Join(strings.Fields(c.label), " ")
		}
	}
	fmt.Fprintf(w, "  peak RSS weather at %d clients, highest of its rows: %s, %s (target < %s)  %s\n",
		targetRSSLevel, mib(worst), worstLabel, mib(targetPeakRSS), verdict(worst < targetPeakRSS, "by "+mib(worst-targetPeakRSS)))
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
