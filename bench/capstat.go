package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// rss returns the resident set size of pid now, in bytes.
func rss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	if err != nil {
		return 0, err
	}
	return parseStatmRSS(string(b), os.Getpagesize())
}

// parseStatmRSS reads the resident pages, the second field of
// /proc/<pid>/statm, and returns them in bytes.
func parseStatmRSS(statm string, pageSize int) (int64, error) {
	f := strings.Fields(statm)
	if len(f) < 2 {
		return 0, fmt.Errorf("/proc statm: %d fields, want at least 2", len(f))
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("/proc statm: bad resident pages %q", f[1])
	}
	return pages * int64(pageSize), nil
}

// openFDs returns the number of file descriptors pid has open.
func openFDs(pid int) (int, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(ents), err
}

// fdLimit returns pid's soft limit on open files, -1 for unlimited.
func fdLimit(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return 0, err
	}
	return parseFDLimit(string(b))
}

// parseFDLimit reads the soft limit of the "Max open files" line of
// /proc/<pid>/limits.
func parseFDLimit(limits string) (int64, error) {
	for line := range strings.Lines(limits) {
		v, ok := strings.CutPrefix(line, "Max open files")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) < 1 {
			return 0, fmt.Errorf("/proc limits: unexpected line %q", strings.TrimSpace(line))
		}
		if f[0] == "unlimited" {
			return -1, nil
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc limits: bad open-file limit %q", f[0])
		}
		return n, nil
	}
	return 0, errors.New("/proc limits: no \"Max open files\" line")
}
