package workspace

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// SyncCommand is the command that writes the registry files.
const SyncCommand = "go tool mage sync"

// CheckRegistry verifies that the servers under root/servers and the files
// that register them agree. Above all, a sync (PlanSync) would change
// nothing: each thing it would change is reported as a problem, with what
// `go tool mage sync` would do about it. Besides, it reports what sync
// leaves to people:
//
//   - ports are unique and every host.json follows the contract (Check);
//   - a go.work use outside servers/ names a folder with a go.mod;
//   - every azure.yaml service is a server's (project ./servers/<name>,
//     language go or the documented custom fallback, host function), once.
//
// Every problem is reported, each naming the file to fix.
func CheckRegistry(root string) error {
	servers, err := Servers(root)
	if err != nil {
		return err
	}
	var errs []error
	if err := Check(servers); err != nil {
		errs = append(errs, err)
	}
	plan, err := PlanSync(root, servers, SyncOptions{})
	if err != nil {
		errs = append(errs, err)
	}
	for _, c := range plan.Changes {
		for _, e := range c.Edits {
			where := c.File
			if e.Line > 0 {
				where = fmt.Sprintf("%s:%d", c.File, e.Line)
			}
			errs = append(errs, fmt.Errorf("%s: %s: run `%s` (it will %s)", where, e.Problem, SyncCommand, e.Fix))
		}
	}
	if b, err := os.ReadFile(filepath.Join(root, GoWorkFile)); err == nil {
		errs = append(errs, checkGoWork(root, b)...)
	}
	if b, err := os.ReadFile(filepath.Join(root, AzureYAMLFile)); err == nil {
		errs = append(errs, checkAzureYAML(b, servers)...)
	}
	return errors.Join(errs...)
}

// NextFreePorts returns the lowest local port from 7071 and the lowest
// handler port from 8081 that no server in servers uses, as a local or a
// handler port: the ports `mage new` and `mage adopt` give a new server.
func NextFreePorts(servers []Server) (devPort, handlerPort int) {
	used := map[int]bool{}
	for _, s := range servers {
		used[s.DevPort] = true
		used[s.HandlerPort] = true
	}
	next := func(from int) int {
		for p := from; ; p++ {
			if !used[p] {
				return p
			}
		}
	}
	return next(7071), next(8081)
}
