package scaffold

// Files next to the binary: azd deploys only app and host.json, so any
// other file in the module folder that the server reads at run time is
// missing in Azure. Adopt lists the files a server might read (not Go
// sources, module files, docs, licences, tests, build files or binaries,
// and not files the code embeds with go:embed).

import (
	"bytes"
	"go/build"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// unshippedFiles lists, as slash paths relative to dir, the files of the
// module in dir that the deployed package will not carry and that the
// server might read at run time.
func unshippedFiles(dir string) ([]string, error) {
	embedded := map[string]bool{}
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		name := d.Name()
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor" || name == "node_modules") {
				return filepath.SkipDir
			}
			if rel != "." {
				if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
					return filepath.SkipDir // another module
				}
			}
			for _, f := range embeddedFiles(p) {
				embedded[path.Join(rel, f)] = true
			}
			return nil
		}
		if !d.Type().IsRegular() || ignoredFile(rel, name) || isBinary(p) {
			return nil
		}
		files = append(files, rel)
		return nil
	})
	if err != nil {
		return nil, err
	}
	files = slices.DeleteFunc(files, func(f string) bool { return embedded[path.Clean(f)] })
	slices.Sort(files)
	return files, nil
}

// ignoredFile reports whether a file is one a server does not read at run
// time: Go sources and module files, docs and licences, build and CI
// files, and the Functions files adopt writes.
func ignoredFile(rel, name string) bool {
	lower := strings.ToLower(name)
	if strings.HasPrefix(name, ".") {
		return true
	}
	switch lower {
	case "go.mod", "go.sum", "go.work", "go.work.sum", "host.json", "local.settings.json", "app",
		"makefile", "gnumakefile", "taskfile.yml", "taskfile.yaml", "justfile", "magefile.go",
		"dockerfile", "containerfile", "docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml",
		"renovate.json", "mise.toml", "codecov.yml", "goreleaser.yml", "goreleaser.yaml":
		return true
	}
	for _, prefix := range []string{"readme", "license", "licence", "copying", "notice", "changelog", "contributing", "code_of_conduct", "security", "authors", "dockerfile"} {
		if strings.HasPrefix(lower, prefix) {
			return true
		}
	}
	switch path.Ext(lower) {
	case ".go", ".md", ".mod", ".sum", ".s", ".c", ".h", ".syso", ".sh", ".bash", ".ps1", ".bat", ".cmd":
		return true
	}
	return false
}

// isBinary reports whether p is a compiled program (ELF, Mach-O, PE):
// a build left in the folder, not data.
func isBinary(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 4)
	n, _ := f.Read(head)
	head = head[:n]
	for _, magic := range [][]byte{{0x7f, 'E', 'L', 'F'}, {0xcf, 0xfa, 0xed, 0xfe}, {0xce, 0xfa, 0xed, 0xfe}, {0xca, 0xfe, 0xba, 0xbe}, {'M', 'Z'}} {
		if bytes.HasPrefix(head, magic) {
			return true
		}
	}
	return false
}

// embeddedFiles lists, relative to dir, the files the Go package in dir
// embeds (its //go:embed patterns, for linux/amd64 without cgo).
func embeddedFiles(dir string) []string {
	bctx := build.Default
	bctx.GOOS, bctx.GOARCH, bctx.CgoEnabled = "linux", "amd64", false
	pkg, err := bctx.ImportDir(dir, 0)
	if err != nil {
		return nil
	}
	var out []string
	for _, pat := range pkg.EmbedPatterns {
		pat = strings.TrimPrefix(pat, "all:")
		matches, _ := filepath.Glob(filepath.Join(dir, filepath.FromSlash(pat)))
		for _, m := range matches {
			filepath.WalkDir(m, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					rel, _ := filepath.Rel(dir, p)
					out = append(out, filepath.ToSlash(rel))
				}
				return nil
			})
		}
	}
	return out
}
