package deploy

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Output runs name with args in dir (the current folder if empty), with
// env added to the environment, and returns what it wrote to standard
// output. If it fails, the error names the command and holds what it
// wrote to standard error (or, if nothing, to standard output).
func Output(ctx context.Context, dir string, env []string, name string, args ...string) (string, error) {
	stdout, stderr, err := capture(ctx, dir, env, name, args...)
	if err != nil {
		msg := strings.TrimSpace(stderr)
		if msg == "" {
			msg = strings.TrimSpace(stdout)
		}
		return stdout, fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, msg)
	}
	return stdout, nil
}

// capture runs name with args in dir, with env added to the environment,
// and returns what it wrote to standard output and to standard error. When
// ctx ends, the command is killed and its output waited for at most a
// second more.
func capture(ctx context.Context, dir string, env []string, name string, args ...string) (stdout, stderr string, err error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	return o.String(), e.String(), err
}
