package scaffold

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/mcpfunc/mcpfunc/internal/workspace"
)

// RemoveOptions configures Remove.
type RemoveOptions struct {
	// Out receives progress lines; nil discards them.
	Out io.Writer
	// Delete deletes the server's folder. Without it only the files that
	// make the module a server here go (host.json and
	// local.settings.json), and the rest of the folder stays.
	Delete bool
}

// RemoveResult says what Remove did.
type RemoveResult struct {
	Name string
	// Dir is the server's folder, relative to the repository root.
	Dir string
	// Deleted reports whether Dir was deleted; otherwise Removed lists the
	// files removed from it (slash paths relative to the root).
	Deleted bool
	Removed []string
	// Sync is what unregistering the server changed in the registry files.
	Sync *workspace.Plan
	// GoWorkGo holds go.work's go line before and after, if removing the
	// server lowered it.
	GoWorkGo [2]string
	// Warnings are what the user should know or do by hand.
	Warnings []string
}

// Remove undoes New or Adopt: it unregisters servers/<name> from the
// registry files with workspace.Sync, after taking the server out of
// servers/ so that sync no longer counts it. With opts.Delete the folder
// is deleted; without it, host.json and local.settings.json are removed
// and the module stays where it is (`mage adopt` hosts it again). If the
// server's go line is go.work's, go.work's go line goes back down to the
// highest go line of the modules left.
//
// With opts.Delete it also deletes a module folder a Remove without
// Delete left (not a server any more). It refuses a name that is not a
// server, listing the servers, and a server another module of the
// workspace requires; nothing is changed then. If a step fails, every
// change is undone.
func Remove(ctx context.Context, root, name string, opts RemoveOptions) (*RemoveResult, error) {
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	rel := "servers/" + name
	servers, err := workspace.Servers(root)
	if err != nil {
		return nil, fmt.Errorf("read the servers (fix this first; nothing was changed): %w", err)
	}
	var srv *workspace.Server
	var rest []workspace.Server
	for i, s := range servers {
		if s.Name == name {
			srv = &servers[i]
		} else {
			rest = append(rest, s)
		}
	}
	dir := filepath.Join(root, "servers", name)
	unhosted := srv == nil && workspace.ValidName(name) && isModule(dir) && !workspace.Hosted(dir)
	switch {
	case unhosted && opts.Delete:
		// What a remove without -delete left: only the folder is to go.
		goVersion, _, _ := workspace.ModuleInfo(dir)
		srv = &workspace.Server{Name: name, Dir: dir, GoVersion: goVersion}
	case srv == nil:
		return nil, notAServer(root, name, dir, workspace.Names(servers))
	}
	if err := checkNotRequired(root, rel, dir); err != nil {
		return nil, err
	}

	// Plan first: a registry file sync cannot read stops everything here.
	var goWork string
	if b, err := os.ReadFile(filepath.Join(root, workspace.GoWorkFile)); err == nil {
		if w, err := workspace.ParseGoWork(b); err == nil {
			goWork = w.Go
		}
	}
	// Lower go.work's go line only if this server's could have raised it.
	sopts := workspace.SyncOptions{LowerGo: srv.GoVersion != "" && srv.GoVersion == goWork}
	if _, err := workspace.PlanSync(root, rest, sopts); err != nil {
		return nil, fmt.Errorf("%w; fix it, then run this again (nothing was changed)", err)
	}

	res := &RemoveResult{Name: name, Dir: rel, Deleted: opts.Delete}
	// Take the server out of servers/: move the folder aside (deleted once
	// the registry is written), or remove its Functions files.
	var putBack func() error
	var aside string
	if opts.Delete {
		aside, err = os.MkdirTemp(filepath.Join(root, "servers"), ".remove-"+name+"-")
		if err == nil {
			err = os.Remove(aside)
		}
		if err == nil {
			err = os.Rename(dir, aside)
		}
		if err != nil {
			return nil, fmt.Errorf("move %s aside to delete it: %w; nothing was changed", rel, err)
		}
		putBack = func() error { return os.Rename(aside, dir) }
	} else {
		type saved struct {
			path string
			data []byte
			mode fs.FileMode
		}
		var files []saved
		for _, f := range []string{"host.json", "local.settings.json"} {
			p := filepath.Join(dir, f)
			b, err := os.ReadFile(p)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			fi, serr := os.Stat(p)
			if err != nil || serr != nil {
				return nil, fmt.Errorf("read %s/%s: %w; nothing was changed", rel, f, errors.Join(err, serr))
			}
			files = append(files, saved{p, b, fi.Mode().Perm()})
			res.Removed = append(res.Removed, rel+"/"+f)
		}
		putBack = func() error {
			var errs []error
			for _, f := range files {
				if err := workspace.WriteFileAtomic(f.path, f.data, f.mode); err != nil {
					errs = append(errs, err)
				}
			}
			return errors.Join(errs...)
		}
		for _, f := range files {
			if err := os.Remove(f.path); err != nil {
				return nil, errors.Join(fmt.Errorf("remove %s: %w", f.path, err), putBack())
			}
		}
	}

	fmt.Fprintf(out, "==> unregistering %s (%s)\n", rel, workspace.SyncCommand)
	plan, err := workspace.Sync(root, sopts)
	if err != nil {
		if perr := putBack(); perr != nil {
			return nil, fmt.Errorf("removing %s failed (%w), and putting it back failed too: %w", rel, err, perr)
		}
		return nil, fmt.Errorf("removing %s failed, so every change was undone: %w", rel, err)
	}
	res.Sync = plan
	for _, l := range plan.Lines() {
		fmt.Fprintf(out, "    %s\n", l)
	}
	if b, err := os.ReadFile(filepath.Join(root, workspace.GoWorkFile)); err == nil {
		if w, err := workspace.ParseGoWork(b); err == nil && w.Go != goWork {
			res.GoWorkGo = [2]string{goWork, w.Go}
		}
	}
	if opts.Delete {
		fmt.Fprintf(out, "==> deleting %s\n", rel)
		if err := os.RemoveAll(aside); err != nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s is unregistered, but deleting its folder (moved to %s) failed: %v; delete that folder by hand", rel, aside, err))
		}
	}
	if len(rest) == 0 {
		res.Warnings = append(res.Warnings, "no server is left under servers/: `go tool mage dev` and `mage test` need one (`go tool mage new NAME`)")
	}
	return res, nil
}

// notAServer explains why name cannot be removed.
func notAServer(root, name, dir string, names []string) error {
	list := "there are none"
	if len(names) > 0 {
		list = "they are: " + strings.Join(names, ", ")
	}
	rel := "servers/" + name
	switch {
	case !workspace.ValidName(name):
		return fmt.Errorf("%q is not a server name (%s); nothing was changed", name, list)
	case isModule(dir):
		return fmt.Errorf("%s is a Go module but not a server here (it has no host.json or local.settings.json), so there is nothing to unregister: `go tool mage remove %s -delete` deletes the folder, `go tool mage adopt %s` hosts it; nothing was changed", rel, name, rel)
	}
	msg := fmt.Sprintf("there is no server %s (%s); nothing was changed", rel, list)
	if servers, err := workspace.Servers(root); err == nil {
		if plan, err := workspace.PlanSync(root, servers, workspace.SyncOptions{}); err == nil && len(plan.Changes) > 0 {
			msg += fmt.Sprintf(". The registry files do not match servers/ (leftovers of a folder deleted by hand?): `%s` fixes them", workspace.SyncCommand)
		}
	}
	return errors.New(msg)
}

func isModule(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "go.mod"))
	return err == nil
}

// checkNotRequired refuses to remove a server another module of the
// workspace requires (the root module requires weather and userinfo for
// bench/): removing it would break that module's build.
func checkNotRequired(root, rel, dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return fmt.Errorf("read %s/go.mod: %w; nothing was changed", rel, err)
	}
	m := moduleLineRE.FindSubmatch(b)
	if m == nil {
		return nil
	}
	mod := string(m[1])
	gw, err := os.ReadFile(filepath.Join(root, workspace.GoWorkFile))
	if err != nil {
		return fmt.Errorf("read %s: %w; nothing was changed", workspace.GoWorkFile, err)
	}
	w, err := workspace.ParseGoWork(gw)
	if err != nil {
		return fmt.Errorf("%w; nothing was changed", err)
	}
	req := regexp.MustCompile(`(?m)^\s*(?:require\s+)?` + regexp.QuoteMeta(mod) + `\s+v`)
	var by []string
	for _, u := range w.Use {
		p := filepath.Join(root, filepath.FromSlash(u))
		if same, _ := sameDir(p, dir); same {
			continue
		}
		if gm, err := os.ReadFile(filepath.Join(p, "go.mod")); err == nil && req.Match(gm) {
			by = append(by, filepath.ToSlash(filepath.Join(u, "go.mod")))
		}
	}
	if len(by) > 0 {
		return fmt.Errorf("%s (module %s) is required by %s: remove what imports it and its require and replace lines there first, or its build breaks; nothing was changed", rel, mod, strings.Join(by, ", "))
	}
	return nil
}

func sameDir(a, b string) (bool, error) {
	aa, err := filepath.Abs(a)
	if err != nil {
		return false, err
	}
	bb, err := filepath.Abs(b)
	if err != nil {
		return false, err
	}
	return filepath.Clean(aa) == filepath.Clean(bb), nil
}
