package deploy

// The deployment package: what azd's `language: go` support uploads to a
// Flex Consumption app: a zip holding only the static
// linux/amd64 binary `app`, with its executable bit, and the server's
// host.json.

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mcpfunc/mcpfunc/internal/workspace"
)

// Names of the two files of a package.
const (
	AppFile      = "app"
	HostJSONFile = "host.json"
)

// appMode is the mode of app in the zip: azd sets the execute bit of the
// Go binary it packages (rzip.WithExecutableMatcher).
const appMode fs.FileMode = 0o755

// BuildDeployable builds the main package in dir into out exactly as azd
// builds a `language: go` service: `go build -o out .` in dir with
// CGO_ENABLED=0 GOOS=linux GOARCH=amd64 added to the environment, and no
// other flags, so in workspace mode when dir is inside this repository.
// With standalone, the module is built on its own (GOWORK=off) instead.
func BuildDeployable(ctx context.Context, dir, out string, standalone bool) error {
	env := slices.Clone(deployEnv)
	if standalone {
		env = append(env, "GOWORK=off")
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	_, err = Output(ctx, dir, env, "go", "build", "-o", abs, ".")
	return err
}

// WritePackage writes the zip azd would deploy to zipPath: appPath as
// "app" (mode 0755, Unix attributes) and hostJSONPath as "host.json"
// (0644). The zip replaces zipPath atomically.
func WritePackage(zipPath, appPath, hostJSONPath string) error {
	f, err := os.CreateTemp(filepath.Dir(zipPath), "."+filepath.Base(zipPath)+".tmp-")
	if err != nil {
		return fmt.Errorf("create %s: %w", zipPath, err)
	}
	tmp := f.Name()
	werr := func() error {
		zw := zip.NewWriter(f)
		for _, e := range []struct {
			name, path string
			mode       fs.FileMode
		}{{AppFile, appPath, appMode}, {HostJSONFile, hostJSONPath, 0o644}} {
			if err := addZipFile(zw, e.name, e.path, e.mode); err != nil {
				return err
			}
		}
		return zw.Close()
	}()
	if err := errors.Join(werr, f.Close()); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", zipPath, err)
	}
	if err := os.Rename(tmp, zipPath); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", zipPath, err)
	}
	return nil
}

func addZipFile(zw *zip.Writer, name, path string, mode fs.FileMode) error {
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: fi.ModTime()}
	h.SetMode(mode) // also marks the entry as made on Unix
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, src)
	return err
}

// PackageFile is one file of a package.
type PackageFile struct {
	Name string
	Size uint64
	Mode fs.FileMode
}

// PackageInfo describes a verified package.
type PackageInfo struct {
	Path  string
	Size  int64
	Files []PackageFile
	// GoVersion is the Go release that built app.
	GoVersion string
}

// zipCreatorUnix is the "version made by" host of Unix zip entries, whose
// external attributes carry the Unix mode.
const zipCreatorUnix = 3

// VerifyPackage checks a package zip the way the Flex Consumption host
// will use it: exactly "app" and "host.json"; app is a regular file with
// mode 0755 in Unix external attributes; app is a 64-bit little-endian
// x86-64 ELF executable that is static (no PT_INTERP, no dynamic section)
// and, per its Go build information, built for linux/amd64 without cgo;
// host.json follows the custom-handler contract (workspace.CheckHostJSON).
// Each problem is reported; the error names the zip.
func VerifyPackage(zipPath string) (*PackageInfo, error) {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", zipPath, err)
	}
	defer zr.Close()
	fi, err := os.Stat(zipPath)
	if err != nil {
		return nil, err
	}
	info := &PackageInfo{Path: zipPath, Size: fi.Size()}
	var errs []error
	var names []string
	var app, hostJSON []byte
	for _, f := range zr.File {
		names = append(names, f.Name)
		info.Files = append(info.Files, PackageFile{Name: f.Name, Size: f.UncompressedSize64, Mode: f.Mode()})
		switch f.Name {
		case AppFile:
			if f.CreatorVersion>>8 != zipCreatorUnix {
				errs = append(errs, fmt.Errorf("app was not zipped with Unix attributes (creator %d), so its mode would be lost", f.CreatorVersion>>8))
			}
			if !f.Mode().IsRegular() || f.Mode().Perm() != appMode {
				errs = append(errs, fmt.Errorf("app has mode %v, want -rwxr-xr-x (0755): the host cannot execute it otherwise", f.Mode()))
			}
			if app, err = readZipFile(f); err != nil {
				errs = append(errs, fmt.Errorf("read app: %w", err))
			}
		case HostJSONFile:
			if hostJSON, err = readZipFile(f); err != nil {
				errs = append(errs, fmt.Errorf("read host.json: %w", err))
			}
		}
	}
	if sorted := slices.Sorted(slices.Values(names)); !slices.Equal(sorted, []string{AppFile, HostJSONFile}) {
		errs = append(errs, fmt.Errorf("holds %q, want exactly [app host.json] (what azd deploys for language: go)", names))
	}
	if app != nil {
		gv, err := checkELF(app)
		info.GoVersion = gv
		if err != nil {
			errs = append(errs, err)
		}
	}
	if hostJSON != nil {
		if err := checkHostJSONBytes(hostJSON); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return info, fmt.Errorf("%s is not deployable (rebuild it with `go tool mage package`): %w", zipPath, errors.Join(errs...))
	}
	return info, nil
}

func readZipFile(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, 1<<30))
}

// checkELF checks that b is a static linux/amd64 executable and returns the
// Go version that built it.
func checkELF(b []byte) (string, error) {
	ef, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("app is not an ELF executable (%w): build it with GOOS=linux", err)
	}
	defer ef.Close()
	var errs []error
	if ef.Class != elf.ELFCLASS64 {
		errs = append(errs, fmt.Errorf("app is %v, want ELFCLASS64", ef.Class))
	}
	if ef.Data != elf.ELFDATA2LSB {
		errs = append(errs, fmt.Errorf("app is %v, want little-endian", ef.Data))
	}
	if ef.Machine != elf.EM_X86_64 {
		errs = append(errs, fmt.Errorf("app is for %v, want EM_X86_64 (build with GOARCH=amd64)", ef.Machine))
	}
	if ef.OSABI != elf.ELFOSABI_NONE && ef.OSABI != elf.ELFOSABI_LINUX {
		errs = append(errs, fmt.Errorf("app has OS ABI %v, want Linux", ef.OSABI))
	}
	if ef.Type != elf.ET_EXEC && ef.Type != elf.ET_DYN {
		errs = append(errs, fmt.Errorf("app is %v, not an executable", ef.Type))
	}
	for _, p := range ef.Progs {
		switch p.Type {
		case elf.PT_INTERP:
			errs = append(errs, errors.New("app has an ELF interpreter (PT_INTERP): it is dynamically linked; build with CGO_ENABLED=0"))
		case elf.PT_DYNAMIC:
			errs = append(errs, errors.New("app has a dynamic section (PT_DYNAMIC): it is dynamically linked; build with CGO_ENABLED=0"))
		}
	}
	var goVersion string
	if bi, err := buildinfo.Read(bytes.NewReader(b)); err == nil {
		goVersion = bi.GoVersion
		settings := map[string]string{}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
		for k, want := range map[string]string{"GOOS": "linux", "GOARCH": "amd64", "CGO_ENABLED": "0"} {
			if got, ok := settings[k]; ok && got != want {
				errs = append(errs, fmt.Errorf("app was built with %s=%s, want %s", k, got, want))
			}
		}
	}
	return goVersion, errors.Join(errs...)
}

// checkHostJSONBytes checks a packaged host.json against the contract.
func checkHostJSONBytes(b []byte) error {
	dir, err := os.MkdirTemp("", "mcpfunc-hostjson-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, HostJSONFile), b, 0o644); err != nil {
		return err
	}
	if err := workspace.CheckHostJSON(dir); err != nil {
		// The temporary path means nothing to the reader.
		return errors.New(strings.ReplaceAll(err.Error(), filepath.Join(dir, HostJSONFile), "packaged host.json"))
	}
	return nil
}

// FormatSize prints n bytes for people: 812 B, 4.2 KiB, 9.8 MiB.
func FormatSize[N int64 | uint64 | int](n N) string {
	f := float64(n)
	switch {
	case f >= 1<<20:
		return fmt.Sprintf("%.1f MiB", f/(1<<20))
	case f >= 1<<10:
		return fmt.Sprintf("%.1f KiB", f/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
