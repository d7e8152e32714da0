package funchost

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestPrefixes(t *testing.T) {
	tests := []struct {
		name       string
		width      int
		out, errPr string
	}{
		{"weather", 8, "[weather]   ", "[weather!]  "},
		{"userinfo", 8, "[userinfo]  ", "[userinfo!] "},
		{"a", 1, "[a]  ", "[a!] "},
	}
	for _, tt := range tests {
		out, errPr := Prefixes(tt.name, tt.width)
		if out != tt.out || errPr != tt.errPr {
			t.Errorf("Prefixes(%q, %d) = %q, %q; want %q, %q", tt.name, tt.width, out, errPr, tt.out, tt.errPr)
		}
		if len(out) != len(errPr) {
			t.Errorf("%q and %q differ in length: the output would not line up", out, errPr)
		}
	}
}

func TestLineWriter(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
		tail   []string
	}{
		{"whole lines", []string{"a\nb\n"}, "> a\n> b\n", []string{"> a", "> b"}},
		{"split across writes", []string{"he", "llo\nwor", "ld\n"}, "> hello\n> world\n", []string{"> hello", "> world"}},
		{"CRLF", []string{"x\r\n"}, "> x\n", []string{"> x"}},
		{"last line without newline is flushed", []string{"a\nb"}, "> a\n> b\n", []string{"> a", "> b"}},
		{"tail keeps the last 3", []string{"1\n2\n3\n4\n5\n"}, "> 1\n> 2\n> 3\n> 4\n> 5\n", []string{"> 3", "> 4", "> 5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			tail := &Tail{N: 3}
			w := &LineWriter{W: &b, Prefix: "> ", Tail: tail}
			for _, s := range tt.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			w.Flush()
			if b.String() != tt.want {
				t.Errorf("wrote %q, want %q", b.String(), tt.want)
			}
			if got := tail.Lines(); !slices.Equal(got, tt.tail) {
				t.Errorf("tail %q, want %q", got, tt.tail)
			}
		})
	}
}

// Lines written concurrently through several LineWriters never mix.
func TestLineWriterConcurrent(t *testing.T) {
	var out Buffer
	var wg sync.WaitGroup
	for _, p := range []string{"[a] ", "[b!] "} {
		w := &LineWriter{W: &out, Prefix: p}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				w.Write([]byte("part one, "))
				w.Write([]byte("part two\n"))
			}
		}()
	}
	wg.Wait()
	for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if l != "[a] part one, part two" && l != "[b!] part one, part two" {
			t.Fatalf("mixed line %q", l)
		}
	}
}
