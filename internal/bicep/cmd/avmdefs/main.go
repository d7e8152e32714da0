// Command avmdefs refreshes the pinned definitions that package bicep's
// AVM and Graph check (CheckDefinitions, run by TestAVMInfra) compares
// infra/ against: for each Azure Verified Module version infra/ references,
// its parameters (type, required, nullable, allowed values, and the keys
// of object parameters as deep as the module defines them), its outputs,
// and the resource types and API versions it deploys, nested deployments
// included (from the module's compiled main.json); for each Microsoft Graph
// Bicep extension in infra/bicepconfig.json, the properties of its resource
// types with their required, read-only and write-only flags (from its
// generated index.json and types.json). It writes one JSON file per version,
// with its provenance (repository, tag, commit, path and SHA-256 of the file
// read, or the registry reference), to
// internal/bicep/testdata/avm/<module path after avm/>/<version>.json and
// internal/bicep/testdata/graph/<extension>/<version>.json.
//
// After changing a module or extension version in infra/, TestAVMInfra
// fails, naming this command, until the data covers every reference. Run it
// from the repository root, then `go test ./internal/bicep/` and commit the
// changed testdata:
//
//	# From clones of Azure/bicep-registry-modules (with its tags,
//	# avm/res/<module>/<version>) and microsoftgraph/msgraph-bicep-types
//	# (generated/microsoftgraph/microsoft.graph/<api>/<version>/):
//	go run ./internal/bicep/cmd/avmdefs -repo ../bicep-registry-modules -graph ../msgraph-bicep-types
//
//	# Or from the Bicep CLI's cache, after `bicep restore infra/main.bicep`
//	# (~/.bicep/br/mcr.microsoft.com/bicep$avm$res$web$site/0.15.1$/main.json,
//	# ~/.bicep/br/mcr.microsoft.com/bicep$extensions$microsoftgraph$v1.0/1.0.0$/types.tgz):
//	go run ./internal/bicep/cmd/avmdefs
//
// With no arguments it refreshes every reference in infra/ (parsed with
// tree-sitter-bicep on the Node in clients/, like the tests); naming
// references refreshes only those, as avm/res/web/site:0.15.1 for a module
// or microsoftgraph/v1.0:1.0.0 for a Graph extension. -repo and -graph take
// a git directory or a work tree, read at the module's release tag and at
// the extension's tag v<version> (at HEAD when there is none). Files of
// versions no longer referenced are left in place: delete them by hand.
// Nothing but the extracted lists is written.
//
// API versions that existing resources may use beyond those the modules
// deploy are kept by hand, each with its source, in
// internal/bicep/testdata/avm/extra-api-versions.json.
package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/mcpfunc/mcpfunc/internal/bicep"
)

func main() {
	home, _ := os.UserHomeDir()
	o := options{}
	flag.StringVar(&o.infra, "infra", "infra", "infra directory whose references are refreshed when none are named")
	flag.StringVar(&o.out, "out", filepath.Join("internal", "bicep", "testdata"), "definitions root to write")
	flag.StringVar(&o.repo, "repo", "", "git directory or work tree of Azure/bicep-registry-modules (default: the Bicep CLI cache)")
	flag.StringVar(&o.graph, "graph", "", "git directory or work tree of microsoftgraph/msgraph-bicep-types (default: the Bicep CLI cache)")
	flag.StringVar(&o.cache, "cache", filepath.Join(home, ".bicep", "br", "mcr.microsoft.com"), "the Bicep CLI's registry cache for mcr.microsoft.com")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: avmdefs [flags] [avm/res/<module>:<version> | microsoftgraph/<api>:<version> ...]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := run(context.Background(), o, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "avmdefs:", err)
		os.Exit(1)
	}
}

type options struct {
	infra, out, repo, graph, cache string
}

func run(ctx context.Context, o options, refs []string) error {
	if len(refs) == 0 {
		modules, graphs, err := infraRefs(ctx, o.infra)
		if err != nil {
			return err
		}
		refs = append(modules, graphs...)
	}
	for _, ref := range refs {
		name, version, ok := strings.Cut(ref, ":")
		var def any
		var rel string
		var err error
		switch {
		case ok && strings.HasPrefix(name, "avm/"):
			rel = bicep.AVMDefPath(name, version)
			if o.repo != "" {
				def, err = moduleFromRepo(ctx, o.repo, name, version)
			} else {
				def, err = moduleFromCache(o.cache, name, version)
			}
		case ok && strings.HasPrefix(name, "microsoftgraph/"):
			rel = bicep.GraphDefPath(name, version)
			if o.graph != "" {
				def, err = graphFromRepo(ctx, o.graph, name, version)
			} else {
				def, err = graphFromCache(o.cache, name, version)
			}
		default:
			return fmt.Errorf("reference %q is neither avm/<path>:<version> nor microsoftgraph/<api>:<version>", ref)
		}
		if err != nil {
			return err
		}
		if err := write(o.out, rel, def); err != nil {
			return err
		}
	}
	return nil
}

// infraRefs returns the module and Graph extension references of infra/.
func infraRefs(ctx context.Context, infra string) (modules, graphs []string, err error) {
	files, err := bicep.ParseDir(ctx, infra)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range bicep.ModuleRefs(files) {
		if r.Key != "" {
			modules = append(modules, r.Key)
		}
	}
	exts, err := bicep.GraphExtensions(infra)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range exts {
		graphs = append(graphs, e.Key)
	}
	if len(modules)+len(graphs) == 0 {
		return nil, nil, fmt.Errorf("no module or Graph extension references under %s", infra)
	}
	return dedupe(modules), dedupe(graphs), nil
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// moduleFromRepo reads a module's main.json from a bicep-registry-modules
// git directory at the module's release tag.
func moduleFromRepo(ctx context.Context, repo, module, version string) (*bicep.ModuleDef, error) {
	tag := module + "/" + version
	commit, err := git(ctx, repo, "rev-parse", "--verify", "--quiet", tag+"^{commit}")
	if err != nil {
		return nil, fmt.Errorf("%s:%s: no tag %s in %s (fetch the repository's tags: git -C %s fetch --tags): %w", module, version, tag, repo, repo, err)
	}
	p := module + "/main.json"
	b, err := git(ctx, repo, "show", commit+":"+p)
	if err != nil {
		return nil, fmt.Errorf("%s:%s: reading %s at %s: %w", module, version, p, tag, err)
	}
	return bicep.ModuleDefFromARM(module, version, []byte(b), bicep.Source{
		Repo: "Azure/bicep-registry-modules", Tag: tag, Commit: commit, Path: p,
	})
}

// moduleFromCache reads a module's main.json from the Bicep CLI's cache.
func moduleFromCache(cache, module, version string) (*bicep.ModuleDef, error) {
	repo := "bicep/" + module
	p := filepath.Join(cache, strings.ReplaceAll(repo, "/", "$"), version+"$", "main.json")
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("%s:%s: %w (run `bicep restore infra/main.bicep` first, or pass -repo)", module, version, err)
	}
	return bicep.ModuleDefFromARM(module, version, b, bicep.Source{
		Registry: "mcr.microsoft.com/" + repo + ":" + version,
	})
}

// graphTypesDir is where msgraph-bicep-types keeps the generated types of
// an extension version.
func graphTypesDir(ext, version string) string {
	_, api, _ := strings.Cut(ext, "/")
	return path.Join("generated", "microsoftgraph", "microsoft.graph", api, version)
}

// graphFromRepo reads an extension's types from a msgraph-bicep-types git
// directory, at tag v<version> if there is one, else at HEAD.
func graphFromRepo(ctx context.Context, repo, ext, version string) (*bicep.GraphDef, error) {
	tag := "v" + version
	commit, err := git(ctx, repo, "rev-parse", "--verify", "--quiet", tag+"^{commit}")
	if err != nil {
		tag = ""
		if commit, err = git(ctx, repo, "rev-parse", "HEAD"); err != nil {
			return nil, fmt.Errorf("%s:%s: %w", ext, version, err)
		}
	}
	dir := graphTypesDir(ext, version)
	index, err := git(ctx, repo, "show", commit+":"+dir+"/index.json")
	if err != nil {
		return nil, fmt.Errorf("%s:%s: %w", ext, version, err)
	}
	types, err := git(ctx, repo, "show", commit+":"+dir+"/types.json")
	if err != nil {
		return nil, fmt.Errorf("%s:%s: %w", ext, version, err)
	}
	return bicep.GraphDefFromTypes(ext, version, []byte(index), []byte(types), bicep.Source{
		Repo: "microsoftgraph/msgraph-bicep-types", Tag: tag, Commit: commit, Path: dir + "/types.json",
	})
}

// graphFromCache reads an extension's types.tgz from the Bicep CLI's cache.
func graphFromCache(cache, ext, version string) (*bicep.GraphDef, error) {
	repo := "bicep/extensions/" + ext
	p := filepath.Join(cache, strings.ReplaceAll(repo, "/", "$"), version+"$", "types.tgz")
	files, err := readTgz(p, "index.json", "types.json")
	if err != nil {
		return nil, fmt.Errorf("%s:%s: %w (run `bicep restore infra/main.bicep` first, or pass -graph)", ext, version, err)
	}
	return bicep.GraphDefFromTypes(ext, version, files["index.json"], files["types.json"], bicep.Source{
		Registry: "mcr.microsoft.com/" + repo + ":" + version,
	})
}

// readTgz returns the named top-level files of a gzipped tar.
func readTgz(p string, names ...string) (map[string][]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	out := map[string][]byte{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		for _, n := range names {
			if name == n {
				if out[n], err = io.ReadAll(tr); err != nil {
					return nil, fmt.Errorf("%s: %s: %w", p, n, err)
				}
			}
		}
	}
	for _, n := range names {
		if out[n] == nil {
			return nil, fmt.Errorf("%s has no %s", p, n)
		}
	}
	return out, nil
}

// git runs git in dir and returns its output; for rev-parse, without the
// trailing newline.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	if args[0] == "rev-parse" {
		return strings.TrimSpace(string(out)), nil
	}
	return string(out), nil
}

func write(root, rel string, def any) error {
	b, err := bicep.MarshalDef(def)
	if err != nil {
		return err
	}
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		return err
	}
	fmt.Println("wrote", p)
	return nil
}
