// Package treehash fingerprints a folder tree, so that tests can tell
// exactly which files a command created, changed or removed.
package treehash

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// Snapshot returns the SHA-256 of every file under root, and "dir" for
// every folder (its path ending in "/"), keyed by slash path relative to
// root.
func Snapshot(root string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			out[rel+"/"] = "dir"
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[rel] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("treehash: %w", err)
	}
	return out, nil
}

// Diff lists, sorted, what differs between two snapshots of one tree:
// "changed or removed: <path>" and "created: <path>".
func Diff(before, after map[string]string) []string {
	var diff []string
	for f, h := range before {
		if after[f] != h {
			diff = append(diff, "changed or removed: "+f)
		}
	}
	for f := range after {
		if _, ok := before[f]; !ok {
			diff = append(diff, "created: "+f)
		}
	}
	slices.Sort(diff)
	return diff
}
