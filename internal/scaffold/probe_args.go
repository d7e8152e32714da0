package scaffold

// Arguments for a server that speaks stdio unless a flag says otherwise:
// read its -h output, guess the flags that make it serve HTTP, and try
// them. host.json carries the arguments (customHandler.description.
// arguments); `{port}` in them stands for customHandler.port.

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// PortPlaceholder in -args is replaced by the handler port.
const PortPlaceholder = "{port}"

// SplitArgs splits a -args value into arguments: spaces separate them,
// single or double quotes keep spaces in one.
func SplitArgs(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, in = r, true
		case unicode.IsSpace(r):
			if in {
				args = append(args, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unclosed %c quote in %q", quote, s)
	}
	if in {
		args = append(args, cur.String())
	}
	return args, nil
}

// JoinArgs is the inverse of SplitArgs, for messages.
func JoinArgs(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t'\"") {
			a = `"` + strings.ReplaceAll(a, `"`, `'`) + `"`
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}

// withPort replaces PortPlaceholder in args by port.
func withPort(args []string, port int) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.ReplaceAll(a, PortPlaceholder, strconv.Itoa(port))
	}
	return out
}

// cliFlag is a flag found in a program's usage text.
type cliFlag struct {
	Name  string // without dashes
	Dash  string // "-" or "--", as the usage writes it
	Value bool   // takes a value
	Usage string
}

// flagLineRE matches a flag line of Go's flag package ("  -http string"),
// of pflag/cobra ("  -t, --transport string   Transport type") and of
// urfave/cli ("   --port value, -p value  port").
var flagLineRE = regexp.MustCompile(`^\s{1,8}(?:-[A-Za-z0-9],\s+)?(--?)([A-Za-z0-9][A-Za-z0-9._-]*)(?:[ =]([A-Za-z][A-Za-z0-9_.\[\]]*))?(?:,\s+-[A-Za-z0-9](?:\s+\w+)?)?(?:\t|\s{2,}|$)(.*)$`)

// parseUsage reads flags from usage text.
func parseUsage(text string) []cliFlag {
	var flags []cliFlag
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if m := flagLineRE.FindStringSubmatch(line); m != nil {
			flags = append(flags, cliFlag{Dash: m[1], Name: m[2], Value: m[3] != "" && m[3] != "bool", Usage: strings.TrimSpace(m[4])})
			continue
		}
		// Go's flag package puts the usage on the next line, after a tab.
		if n := len(flags); n > 0 && strings.HasPrefix(strings.TrimLeft(line, " "), "\t") {
			flags[n-1].Usage = strings.TrimSpace(flags[n-1].Usage + " " + strings.TrimSpace(line))
		}
	}
	return flags
}

// usageOf runs bin -h (then --help) in an empty folder and returns what it
// printed, bounded in time.
func usageOf(ctx context.Context, bin, dir string) string {
	for _, h := range []string{"-h", "--help"} {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		cmd := exec.CommandContext(ctx, bin, h)
		cmd.Dir = dir
		cmd.WaitDelay = time.Second
		out, _ := cmd.CombinedOutput()
		cancel()
		if len(parseUsage(string(out))) > 0 {
			return string(out)
		}
	}
	return ""
}

// findFlag returns the first flag named one of names (any case).
func findFlag(flags []cliFlag, names ...string) *cliFlag {
	for _, n := range names {
		for i := range flags {
			if strings.EqualFold(flags[i].Name, n) {
				return &flags[i]
			}
		}
	}
	return nil
}

// listenArgs returns the arguments that set a server's port to
// PortPlaceholder: its port flag, else its address flag on 127.0.0.1.
func listenArgs(flags []cliFlag) []string {
	if f := findFlag(flags, "port", "http-port", "http_port", "listen-port", "p"); f != nil && f.Value {
		return []string{f.Dash + f.Name, PortPlaceholder}
	}
	if f := findFlag(flags, "addr", "address", "listen", "http-addr", "http_addr", "listen-addr", "bind"); f != nil && f.Value {
		return []string{f.Dash + f.Name, "127.0.0.1:" + PortPlaceholder}
	}
	return nil
}

// argCandidates proposes argument lists that may make a stdio server
// serve streamable HTTP on PortPlaceholder, most likely first.
func argCandidates(flags []cliFlag) [][]string {
	find := func(names ...string) *cliFlag { return findFlag(flags, names...) }
	flagArg := func(f *cliFlag) string { return f.Dash + f.Name }
	listen := listenArgs(flags)
	var out [][]string
	add := func(a ...string) {
		for _, o := range out {
			if JoinArgs(o) == JoinArgs(a) {
				return
			}
		}
		out = append(out, a)
	}
	if f := find("http", "streamable-http", "streamable"); f != nil {
		if f.Value {
			add(flagArg(f), "127.0.0.1:"+PortPlaceholder)
		} else {
			add(append([]string{flagArg(f)}, listen...)...)
		}
	}
	if f := find("transport", "mode", "t", "protocol", "server-type"); f != nil && f.Value {
		u := strings.ToLower(f.Usage)
		for _, v := range []string{"streamable-http", "streamable_http", "streamablehttp", "streamable", "http"} {
			if regexp.MustCompile(`(^|[^a-z_-])` + regexp.QuoteMeta(v) + `($|[^a-z_-])`).MatchString(u) {
				add(append([]string{flagArg(f), v}, listen...)...)
			}
		}
	}
	if len(out) > 3 {
		out = out[:3]
	}
	return out
}
