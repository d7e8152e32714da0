//go:build mage

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Bench measures each server (weather, userinfo) against its go-sdk floor, and weather against bare net/http: sizes, cold start, req/s, latency, CPU/request, RSS. With -capacity: instead, 16 to 1024 calls in flight against upstreams answering in 300 ms (about 3 minutes): RSS, CPU/call, errors, latency.
func Bench(ctx context.Context,
	// measured load per server and concurrency level (default 5s)
	duration *time.Duration,
	// folder to write CPU and allocation profiles of one run per server to
	profile *string,
	// load runs per server and level, reporting the median (default 1)
	rounds *int,
	// comma-separated servers to measure (default weather,userinfo)
	servers *string,
	// run the capacity measurements instead: N calls in flight against a slow upstream (uses duration and servers)
	capacity *bool,
) error {
	tmp, err := os.MkdirTemp("", "mcpfunc-benchcmd-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bench")
	if err := run(ctx, ".", nil, "go", "build", "-o", bin, "./bench"); err != nil {
		return err
	}
	var args []string
	if duration != nil {
		args = append(args, "-duration", duration.String())
	}
	if profile != nil {
		args = append(args, "-profile", *profile)
	}
	if rounds != nil {
		args = append(args, "-rounds", strconv.Itoa(*rounds))
	}
	if servers != nil {
		args = append(args, "-servers", *servers)
	}
	if capacity != nil {
		args = append(args, "-capacity="+strconv.FormatBool(*capacity))
	}
	// The bench program cleans up after itself (stops its servers, removes
	// its temp files) on SIGINT, so Ctrl-C is passed on rather than killing it.
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 4 * time.Second // mage allows 5 s for cleanup after Ctrl-C
	return cmd.Run()
}
