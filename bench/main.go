// Command bench measures this repository's MCP servers, each against its
// floors, on this machine:
//
//   - weather (servers/weather) against sdkfloor (bench/baselines/sdkfloor:
//     the same tools served by the go-sdk's own stateless handler on
//     net/http, no hosting layer) and nethttp (bench/baselines/nethttp: a
//     bare net/http handler returning a canned tools/call answer of the
//     same size, the floor of HTTP itself), with a fake NWS API;
//   - userinfo (servers/userinfo) against userinfofloor
//     (bench/baselines/userinfofloor: the same tool, On-Behalf-Of exchange
//     and Graph client behind the go-sdk's own handler), with fakes of
//     Entra ID (TLS), the managed-identity endpoint and Graph
//     (bench/userinfofake).
//
// It builds the binaries, starts the fakes on loopback, and for each binary
// measures binary and package size and cold start, then tools/call load at
// a few concurrency levels: throughput, latency, server CPU per request and
// peak RSS. Run it from the repository root with `go tool mage bench`, or
// `go run ./bench -h` for the flags. Linux only: it reads /proc.
//
// With -capacity (`go tool mage bench -capacity`) it measures instead how
// each server and its floor hold N tool calls in flight at once while
// their upstream answers slowly (-upstream-delay, 300 ms: the fake NWS for
// weather's get_forecast, the fake Graph for userinfo's get_user_info),
// for N in -capacity-levels: peak and idle RSS, CPU per call, errors by
// kind, throughput and latency (capacity.go).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	repo     string
	duration time.Duration
	warmup   time.Duration
	levels   []int
	coldRuns int
	rounds   int
	profile  string
	timeout  time.Duration
	servers  []string // in report order

	capacity      bool          // run the capacity measurements instead
	capLevels     []int         // numbers of calls in flight of the capacity run
	upstreamDelay time.Duration // the capacity run's upstream answer time
	capIdle       time.Duration // how long the capacity run watches a server idle after its highest level
}

func main() {
	var o options
	var levels, servers, capLevels string
	flag.StringVar(&o.repo, "repo", ".", "repository root")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "measured load `duration` per server and concurrency level")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured load before each measurement")
	flag.StringVar(&levels, "levels", "1,16,64", "comma-separated numbers of concurrent clients")
	flag.IntVar(&o.coldRuns, "coldruns", 10, "cold starts per binary")
	flag.IntVar(&o.rounds, "rounds", 1, "load runs per server and level; the report shows the one with the median CPU/request")
	flag.StringVar(&servers, "servers", "weather,userinfo", "comma-separated servers to measure, each with its floors")
	flag.StringVar(&o.profile, "profile", "", "also write CPU and allocation profiles of one run per server to `DIR` and print their top functions")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Minute, "bound on the whole run")
	flag.BoolVar(&o.capacity, "capacity", false, "measure instead how many calls in flight each server holds against a slow upstream (uses -servers and -duration)")
	flag.StringVar(&capLevels, "capacity-levels", "16,64,256,1024", "comma-separated numbers of calls in flight of -capacity")
	flag.DurationVar(&o.upstreamDelay, "upstream-delay", 300*time.Millisecond, "time the upstream takes to answer each request in -capacity")
	flag.DurationVar(&o.capIdle, "capacity-idle", 130*time.Second, "how long -capacity watches each server's RSS idle after its highest level (0: not at all)")
	flag.Parse()

	if err := errors.Join(o.check(levels, servers), o.checkCapacity(capLevels)); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	err := run(ctx, o)
	cancel()
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func (o *options) check(levels, servers string) error {
	for f := range strings.SplitSeq(servers, ",") {
		name := strings.TrimSpace(f)
		if !slices.Contains(serverNames, name) {
			return fmt.Errorf("-servers: %q is not one of %s", f, strings.Join(serverNames, ", "))
		}
		if !slices.Contains(o.servers, name) {
			o.servers = append(o.servers, name)
		}
	}
	for f := range strings.SplitSeq(levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 256 {
			return fmt.Errorf("-levels: %q is not a number of clients between 1 and 256", f)
		}
		o.levels = append(o.levels, n)
	}
	switch {
	case o.duration < 100*time.Millisecond || o.duration > 5*time.Minute:
		return errors.New("-duration must be between 100ms and 5m")
	case o.warmup < 0 || o.warmup > time.Minute:
		return errors.New("-warmup must be between 0 and 1m")
	case o.coldRuns < 1 || o.coldRuns > 100:
		return errors.New("-coldruns must be between 1 and 100")
	case o.rounds < 1 || o.rounds > 20:
		return errors.New("-rounds must be between 1 and 20")
	case o.timeout <= 0:
		return errors.New("-timeout must be positive")
	}
	return nil
}

// checkCapacity checks the flags of the capacity run.
func (o *options) checkCapacity(capLevels string) error {
	for f := range strings.SplitSeq(capLevels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 4096 {
			return fmt.Errorf("-capacity-levels: %q is not a number of calls between 1 and 4096", f)
		}
		if !slices.Contains(o.capLevels, n) {
			o.capLevels = append(o.capLevels, n)
		}
	}
	switch {
	case o.upstreamDelay < 0 || o.upstreamDelay > 10*time.Second:
		return errors.New("-upstream-delay must be between 0 and 10s")
	case o.capIdle < 0 || o.capIdle > 10*time.Minute:
		return errors.New("-capacity-idle must be between 0 and 10m")
	case o.capacity && (o.profile != "" || o.rounds != 1):
		return errors.New("-profile and -rounds do not apply to -capacity")
	}
	return nil
}

func run(ctx context.Context, o options) error {
	if runtime.GOOS != "linux" {
		return errors.New("the benchmark reads /proc and runs only on Linux")
	}
	b, err := newBench(ctx, o)
	if b != nil {
		defer b.close()
	}
	if err != nil {
		return err
	}
	if o.capacity {
		return runCapacity(ctx, b)
	}
	if err := b.probe(ctx); err != nil {
		return err
	}
	if err := b.coldStarts(ctx); err != nil {
		return err
	}
	if err := b.loads(ctx); err != nil {
		return err
	}
	b.report(os.Stdout)
	if o.profile != "" {
		if err := b.profileRuns(ctx); err != nil {
			return err
		}
	}
	return b.failures()
}
