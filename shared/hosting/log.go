package hosting

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
)

// NewLogger returns the logger [Start] uses when no [WithLogger] option is
// given, for a server's own code to log the same way: records below Warn go
// to stdout and the rest to stderr, JSON under the Functions host and text
// in a terminal (LOG_FORMAT and LOG_LEVEL override).
func NewLogger() *slog.Logger {
	return newLogger(os.Getenv, os.Stdout, os.Stderr)
}

// newLogger builds the process logger: records below Warn go to stdout and
// the rest to stderr, because the Functions host shows everything on stderr
// as an error. The format is JSON under the Functions host (envPort set) and
// text otherwise, unless LOG_FORMAT says which.
func newLogger(getenv func(string) string, stdout, stderr io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: parseLevel(getenv(envLogLevel))}
	jsonFormat := getenv(envPort) != ""
	switch strings.ToLower(strings.TrimSpace(getenv(envLogFormat))) {
	case "json":
		jsonFormat = true
	case "text":
		jsonFormat = false
	}
	var out, errs slog.Handler
	if jsonFormat {
		out, errs = slog.NewJSONHandler(stdout, opts), slog.NewJSONHandler(stderr, opts)
	} else {
		out, errs = slog.NewTextHandler(stdout, opts), slog.NewTextHandler(stderr, opts)
	}
	return slog.New(splitHandler{out: out, err: errs})
}

func parseLevel(s string) slog.Level {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// splitHandler sends records of level Warn and above to err, the rest to out.
type splitHandler struct{ out, err slog.Handler }

func (h splitHandler) pick(l slog.Level) slog.Handler {
	if l >= slog.LevelWarn {
		return h.err
	}
	return h.out
}

func (h splitHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.pick(l).Enabled(ctx, l)
}

func (h splitHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.pick(r.Level).Handle(ctx, r)
}

func (h splitHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return splitHandler{out: h.out.WithAttrs(attrs), err: h.err.WithAttrs(attrs)}
}

func (h splitHandler) WithGroup(name string) slog.Handler {
	return splitHandler{out: h.out.WithGroup(name), err: h.err.WithGroup(name)}
}
