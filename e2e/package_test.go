//go:build e2e

package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpfunc/mcpfunc/internal/workspace"
)

// copyRepo copies the repository as git sees it (tracked files plus
// untracked ones that are not ignored, so work in progress is included) to
// a temporary folder, without dist/, built binaries or node_modules. It
// falls back to walking the tree when git is not available.
func copyRepo(t *testing.T) string {
	t.Helper()
	src, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	var files []string
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = src
	if out, err := cmd.Output(); err == nil {
		for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
			files = append(files, filepath.FromSlash(f))
		}
	} else {
		t.Logf("git ls-files failed (%v); copying the tree", err)
		filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			if !d.IsDir() {
				files = append(files, rel)
			}
			return nil
		})
	}
	for _, rel := range files {
		slash := filepath.ToSlash(rel)
		if slash == "" || strings.HasPrefix(slash, "dist/") || strings.Contains(slash, "node_modules/") ||
			(strings.HasPrefix(slash, "servers/") && (strings.HasSuffix(slash, "/app") || strings.HasSuffix(slash, "/app.exe"))) {
			continue
		}
		fi, err := os.Lstat(filepath.Join(src, rel))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // deleted in the work tree
			}
			t.Fatal(err)
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, rel))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// runMage runs `go tool mage args…` in dir and returns its combined output.
func runMage(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", append([]string{"tool", "mage"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// runGo runs the go command in dir with extra environment and fails the
// test if it fails.
func runGo(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s (in %s): %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

// checkPackage opens a package zip, checks it is what azd deploys to a Flex
// Consumption app (exactly app and host.json; app with mode 0755 in Unix
// attributes, a static little-endian x86-64 ELF built for linux/amd64
// without cgo; host.json on contract), and unpacks it into a fresh app
// folder, keeping the modes, as the platform does.
func checkPackage(t *testing.T, zipPath string) string {
	t.Helper()
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	appDir := t.TempDir()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(appDir, filepath.Base(f.Name)), b, f.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
		if f.Name != "app" {
			continue
		}
		if f.CreatorVersion>>8 != 3 || f.ExternalAttrs>>16 != 0o100755 {
			t.Errorf("%s: app creator %d, mode %o; want 3 (Unix) and 100755", zipPath, f.CreatorVersion>>8, f.ExternalAttrs>>16)
		}
		ef, err := elf.NewFile(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: app is not ELF: %v", zipPath, err)
		}
		if ef.Class != elf.ELFCLASS64 || ef.Data != elf.ELFDATA2LSB || ef.Machine != elf.EM_X86_64 || (ef.OSABI != elf.ELFOSABI_NONE && ef.OSABI != elf.ELFOSABI_LINUX) {
			t.Errorf("%s: app is %v %v %v %v; want a 64-bit little-endian x86-64 Linux ELF", zipPath, ef.Class, ef.Data, ef.Machine, ef.OSABI)
		}
		for _, p := range ef.Progs {
			if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
				t.Errorf("%s: app has %v: not static", zipPath, p.Type)
			}
		}
		ef.Close()
		bi, err := buildinfo.Read(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: no Go build information in app: %v", zipPath, err)
		}
		for _, s := range bi.Settings {
			if want, ok := map[string]string{"GOOS": "linux", "GOARCH": "amd64", "CGO_ENABLED": "0"}[s.Key]; ok && s.Value != want {
				t.Errorf("%s: app built with %s=%s, want %s", zipPath, s.Key, s.Value, want)
			}
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"app", "host.json"}) {
		t.Fatalf("%s holds %v, want exactly [app host.json]", zipPath, names)
	}
	if err := workspace.CheckHostJSON(appDir); err != nil {
		t.Errorf("%s: %v", zipPath, err)
	}
	return appDir
}

// canRunLinuxAMD64 reports whether this machine runs the packaged binary.
func canRunLinuxAMD64() bool { return runtime.GOOS == "linux" && runtime.GOARCH == "amd64" }

// TestPackageWeather runs `go tool mage package -server=weather` in a copy
// of the repository, checks the zip, and starts the unpacked app the way
// the Functions host would.
func TestPackageWeather(t *testing.T) {
	root := copyRepo(t)
	start := time.Now()
	out, err := runMage(t, root, "package", "-server=weather")
	if err != nil {
		t.Fatalf("mage package: %v\n%s", err, out)
	}
	t.Logf("mage package -server=weather took %s", time.Since(start).Round(time.Millisecond))
	for _, want := range []string{"==> building weather for linux/amd64", "==> packaging weather -> dist/weather.zip", "app is a static linux/amd64 ELF", "rwxr-xr-x", "MiB",
		"module versions: ", "the same in the package, in azd's build and in the module's own go.mod"} {
		if !strings.Contains(out, want) {
			t.Errorf("mage package output lacks %q:\n%s", want, out)
		}
	}
	app := checkPackage(t, filepath.Join(root, "dist", "weather.zip"))
	if _, err := os.Stat(filepath.Join(root, "dist", "userinfo.zip")); err == nil {
		t.Error("-server=weather also packaged userinfo")
	}

	// An unknown server is refused with the list of servers.
	servers, err := workspace.Servers(root)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range servers {
		names = append(names, s.Name)
	}
	if out, err := runMage(t, root, "package", "-server=nope"); err == nil || !strings.Contains(out, `no server "nope" under servers/ (there are: `+strings.Join(names, ", ")+`)`) {
		t.Errorf("mage package -server=nope: %v\n%s", err, out)
	}

	if !canRunLinuxAMD64() {
		t.Skip("the package is linux/amd64; cannot run it here")
	}
	nws := newFakeNWS(t)
	host := startUnderHost(t, app, "app", map[string]string{"NWS_API_BASE_URL": nws.URL}, yarpProxy)
	cs := connectMCP(t, host.URL+"/mcp", "2025-11-25")
	res, text := call(t, cs, "get_alerts", map[string]any{"state": "CA"})
	if res.IsError || !strings.Contains(text, "Event: Wind Advisory") {
		t.Fatalf("get_alerts from the package = %q", text)
	}
	if _, err := host.Stop(t, 15*time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
}

// TestDeployPreflight runs `go tool mage deploy` and `go tool mage up`
// with a fake azd first on PATH: the preflight calls `azd version` and
// `azd auth login --check-status`, then azd runs with the target's
// arguments and its output streams through; a too old azd stops before
// deploying, with what to do.
func TestDeployPreflight(t *testing.T) {
	fake := t.TempDir()
	script := `#!/bin/sh
echo "$@" >> "${0%/*}/calls"
case "$1" in
version) echo "azd version ${FAKE_AZD_VERSION} (commit 0123456)" ;;
auth) echo "Logged in to Azure as dev@example.com" ;;
deploy|up) echo "fake azd: $* done" ;;
*) exit 9 ;;
esac
`
	if err := os.WriteFile(filepath.Join(fake, "azd"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(version string, args ...string) (string, string, error) {
		os.Remove(filepath.Join(fake, "calls"))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", append([]string{"tool", "mage"}, args...)...)
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "PATH="+fake+string(os.PathListSeparator)+os.Getenv("PATH"), "FAKE_AZD_VERSION="+version)
		out, err := cmd.CombinedOutput()
		calls, _ := os.ReadFile(filepath.Join(fake, "calls"))
		return string(out), string(calls), err
	}

	out, calls, err := run("1.26.0", "deploy", "-service=weather")
	if err != nil || !strings.Contains(out, "fake azd: deploy weather done") || !strings.Contains(out, "==> azd 1.26.0") {
		t.Errorf("mage deploy: %v\n%s", err, out)
	}
	if calls != "version\nauth login --check-status\ndeploy weather\n" {
		t.Errorf("azd calls:\n%s", calls)
	}
	out, calls, err = run("1.27.3", "up")
	if err != nil || !strings.Contains(out, "fake azd: up done") || !strings.HasSuffix(calls, "\nup\n") {
		t.Errorf("mage up: %v\n%s\ncalls:\n%s", err, out, calls)
	}
	if !strings.Contains(out, "skipped: no Bicep compiler on PATH") {
		t.Errorf("mage up without a Bicep compiler does not say it skipped the check:\n%s", out)
	}
	out, calls, err = run("1.25.0", "deploy")
	if err == nil || !strings.Contains(out, "azd 1.25.0 is too old") || !strings.Contains(out, "https://aka.ms/azd-install") {
		t.Errorf("mage deploy with azd 1.25.0: %v\n%s", err, out)
	}
	if strings.Contains(calls, "deploy") {
		t.Errorf("an old azd was asked to deploy:\n%s", calls)
	}

	// With a Bicep CLI on PATH, mage up compiles infra/main.bicep first: a
	// compile error (as the CLI prints it, on stderr) stops before azd up.
	const bcp138 = "vnet.bicep(15,7) : Error BCP138: For-expressions are not supported in this context."
	bicep := filepath.Join(fake, "bicep")
	if err := os.WriteFile(bicep, []byte("#!/bin/sh\necho \"bicep $*\" >> \"${0%/*}/calls\"\necho '"+bcp138+"' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, calls, err = run("1.26.0", "up")
	if err == nil || !strings.Contains(out, bcp138) || !strings.Contains(out, "fix infra/ first") {
		t.Errorf("mage up with a failing Bicep build: %v\n%s", err, out)
	}
	if !strings.Contains(calls, "bicep build ") || strings.HasSuffix(calls, "\nup\n") {
		t.Errorf("calls with a failing Bicep build (want bicep build and no azd up):\n%s", calls)
	}
	if err := os.WriteFile(bicep, []byte("#!/bin/sh\necho \"bicep $*\" >> \"${0%/*}/calls\"\necho '{}'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, calls, err = run("1.26.0", "up")
	if err != nil || !strings.Contains(out, "ok (bicep build ") || !strings.HasSuffix(calls, "\nup\n") {
		t.Errorf("mage up with a passing Bicep build: %v\n%s\ncalls:\n%s", err, out, calls)
	}
}
