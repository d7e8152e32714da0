package funchost

import (
	"bytes"
	"io"
	"strings"
	"sync"
)

// Prefixes returns the line prefixes for a service's standard output and
// standard error, padded so that the output of services whose names are up
// to width long lines up: "[weather]  " and "[weather!] ". The "!" marks
// stderr, which the Functions host logs as errors.
func Prefixes(name string, width int) (stdout, stderr string) {
	pad := strings.Repeat(" ", max(0, width-len(name)))
	return "[" + name + "]  " + pad, "[" + name + "!] " + pad
}

// LineWriter writes each complete line to W with Prefix in one Write, so
// the lines of several processes writing to one terminal never mix, and
// keeps the last lines in Tail when it is set.
type LineWriter struct {
	W      io.Writer
	Prefix string
	Tail   *Tail

	mu  sync.Mutex
	buf []byte
}

func (p *LineWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		err := p.emit(p.buf[:i])
		p.buf = p.buf[i+1:]
		if err != nil {
			return 0, err
		}
	}
}

// Flush writes a last line that has no newline yet.
func (p *LineWriter) Flush() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) == 0 {
		return nil
	}
	err := p.emit(p.buf)
	p.buf = nil
	return err
}

func (p *LineWriter) emit(line []byte) error {
	s := p.Prefix + strings.TrimSuffix(string(line), "\r")
	if p.Tail != nil {
		p.Tail.add(s)
	}
	_, err := io.WriteString(p.W, s+"\n")
	return err
}

// Tail keeps the last N lines written through the LineWriters that share it.
type Tail struct {
	N int

	mu    sync.Mutex
	lines []string
}

func (t *Tail) add(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, s)
	if len(t.lines) > t.N {
		t.lines = t.lines[len(t.lines)-t.N:]
	}
}

// Lines returns the lines kept, oldest first.
func (t *Tail) Lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.lines...)
}

// Buffer collects output written from several goroutines, such as a
// handler's stdout and stderr; its zero value is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
