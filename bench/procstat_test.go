package main

import (
	"os"
	"testing"
	"time"
)

// A /proc/<pid>/stat line whose command name holds a space and a ')':
// utime (field 14) is 1234 ticks and stime (field 15) 567.
const sampleStat = "4242 (my server) x) S 1 4242 4242 0 -1 4194560 2207 0 0 0 1234 567 0 0 20 0 7 0 126842 1268936704 5187 18446744073709551615 1 1 0 0 0 0 0 0 2143420159 0 0 0 17 1 0 0 0 0 0\n"

const sampleStatus = `Name:	weather
Umask:	0022
State:	S (sleeping)
Tgid:	4242
VmPeak:	 1239760 kB
VmSize:	 1239176 kB
VmHWM:	   20748 kB
VmRSS:	   20132 kB
Threads:	7
`

func TestParseStatCPU(t *testing.T) {
	got, err := parseStatCPU(sampleStat)
	if err != nil {
		t.Fatal(err)
	}
	if want := 18010 * time.Millisecond; got != want {
		t.Errorf("parseStatCPU = %v, want %v", got, want)
	}
	for _, bad := range []string{"", "4242 (x) S 1 2 3", "4242 (x) S 1 4242 4242 0 -1 4194560 2207 0 0 0 12a 567 0 0"} {
		if _, err := parseStatCPU(bad); err == nil {
			t.Errorf("parseStatCPU(%q): no error", bad)
		}
	}
}

func TestParseStatusHWM(t *testing.T) {
	got, err := parseStatusHWM(sampleStatus)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(20748 * 1024); got != want {
		t.Errorf("parseStatusHWM = %d, want %d", got, want)
	}
	for _, bad := range []string{"", "Name:\tx\nVmRSS:\t1 kB\n", "VmHWM:\t12 MB\n"} {
		if _, err := parseStatusHWM(bad); err == nil {
			t.Errorf("parseStatusHWM(%q): no error", bad)
		}
	}
}

// The parsers agree with the kernel's own files for this process.
func TestProcSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	if _, err := cpuTime(os.Getpid()); err != nil {
		t.Error(err)
	}
	if rss, err := peakRSS(os.Getpid()); err != nil || rss <= 0 {
		t.Errorf("peakRSS = %d, %v", rss, err)
	}
}

func TestParseMachineBusy(t *testing.T) {
	const stat = "cpu  49869 1 16202 231128 457 2 668 73 0 0\ncpu0 25025 0 7695 116055 94 0 325 38 0 0\n"
	got, err := parseMachineBusy(stat)
	if err != nil {
		t.Fatal(err)
	}
	if want := (49869 + 1 + 16202 + 2 + 668 + 73) * 10 * time.Millisecond; got != want {
		t.Errorf("parseMachineBusy = %v, want %v", got, want)
	}
	if _, err := parseMachineBusy("intr 1 2 3\n"); err == nil {
		t.Error("parseMachineBusy of a line other than cpu: no error")
	}
}
