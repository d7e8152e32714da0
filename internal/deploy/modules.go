package deploy

// Which module versions a server is built with. azd builds a `language: go`
// service with `go build -o app .` in servers/<name> (framework_service_go.go
// in Azure/azure-dev), so Go finds the repository's go.work and builds in
// workspace mode: the versions are the workspace's, which can be newer than
// the ones the server's own go.mod names. These helpers make the versions
// explicit, so `GOWORK=off`, `mage package` and azd can be checked to build
// the same thing.

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// deployEnv is the environment azd adds to `go build` for a Function app.
var deployEnv = []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64"}

// Modules maps module path to version for the non-local modules a binary
// is built from. Modules of the repository itself (workspace modules, and
// modules replaced by a directory) are left out: they have no version.
type Modules map[string]string

// SelectedModules asks the go command which module versions building the
// main package in dir for linux/amd64 would use: in workspace mode, as azd
// builds, or with standalone, on the module's own go.mod (GOWORK=off).
func SelectedModules(ctx context.Context, dir string, standalone bool) (Modules, error) {
	env := slices.Clone(deployEnv)
	if standalone {
		env = append(env, "GOWORK=off")
	}
	const format = `{{with .Module}}{{.Path}} {{.Version}} {{.Main}} {{with .Replace}}{{.Path}}{{end}}{{end}}`
	out, stderr, err := capture(ctx, dir, env, "go", "list", "-deps", "-f", format, ".")
	if err != nil {
		return nil, fmt.Errorf("go list -deps in %s (%s): %w\n%s", dir, strings.Join(env, " "), err, strings.TrimSpace(stderr))
	}
	mods := Modules{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue // a standard-library package has no module
		}
		path, version, main := f[0], f[1], f[2]
		if main == "true" || (len(f) > 3 && localPath(f[3])) {
			continue
		}
		mods[path] = version
	}
	return mods, nil
}

// BinaryModules reads the module versions recorded in a Go binary (what
// `go version -m` prints), leaving out the main module and modules
// replaced by a directory.
func BinaryModules(path string) (Modules, error) {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the Go build information of %s: %w", path, err)
	}
	mods := Modules{}
	for _, d := range bi.Deps {
		if d.Replace != nil {
			if localPath(d.Replace.Path) {
				continue
			}
			mods[d.Path] = d.Replace.Version
			continue
		}
		if d.Version == "(devel)" || d.Version == "" {
			continue // a workspace module
		}
		mods[d.Path] = d.Version
	}
	return mods, nil
}

func localPath(p string) bool {
	return strings.HasPrefix(p, ".") || strings.HasPrefix(p, "/") || (len(p) > 1 && p[1] == ':')
}

// Diff lists, sorted, each module whose version differs between m (named
// mName) and o (named oName), or that only one of them has.
func (m Modules) Diff(mName string, o Modules, oName string) []string {
	var out []string
	for _, p := range slices.Sorted(maps.Keys(m)) {
		switch v, ok := o[p]; {
		case !ok:
			out = append(out, fmt.Sprintf("%s %s in %s, absent from %s", p, m[p], mName, oName))
		case v != m[p]:
			out = append(out, fmt.Sprintf("%s %s in %s, %s in %s", p, m[p], mName, v, oName))
		}
	}
	for _, p := range slices.Sorted(maps.Keys(o)) {
		if _, ok := m[p]; !ok {
			out = append(out, fmt.Sprintf("%s %s in %s, absent from %s", p, o[p], oName, mName))
		}
	}
	return out
}

// CheckVersionsExplicit checks that a server's own go.mod selects the
// versions azd deploys: the workspace build and the GOWORK=off build use
// the same module versions. The error lists the differences and the fix.
func CheckVersionsExplicit(ctx context.Context, dir string) error {
	ws, err := SelectedModules(ctx, dir, false)
	if err != nil {
		return err
	}
	own, err := SelectedModules(ctx, dir, true)
	if err != nil {
		return err
	}
	if d := ws.Diff("the workspace build (what azd deploys)", own, "the module's own go.mod (GOWORK=off)"); len(d) > 0 {
		return fmt.Errorf("%s is deployed with other module versions than its go.mod names:\n  %s\nrun `go work sync` at the repository root, then `GOWORK=off go mod tidy` in %s, so both builds use the deployed versions",
			dir, strings.Join(d, "\n  "), dir)
	}
	return nil
}
