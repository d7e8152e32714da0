package deploy

import (
	"archive/zip"
	"context"
	"debug/elf"
	"encoding/binary"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// buildTiny builds a small main package into dir/app as BuildDeployable
// builds servers.
func buildTiny(t *testing.T, dir string) string {
	t.Helper()
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "go.mod"), []byte("module example.com/tiny\n\ngo 1.26.0\n"), 0o644)
	os.WriteFile(filepath.Join(src, "main.go"), []byte("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hi\") }\n"), 0o644)
	out := filepath.Join(dir, "app")
	if err := BuildDeployable(context.Background(), src, out, true); err != nil {
		t.Fatal(err)
	}
	return out
}

// validHostJSON returns testdata/host.json, a host.json that follows the
// custom-handler contract (what `mage new` writes for handler port 8081).
func validHostJSON(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "host.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeHostJSON(t *testing.T, dir string, content []byte) string {
	t.Helper()
	p := filepath.Join(dir, "host.json")
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWriteAndVerifyPackage(t *testing.T) {
	dir := t.TempDir()
	app := buildTiny(t, dir)
	hj := writeHostJSON(t, dir, validHostJSON(t))
	zipPath := filepath.Join(dir, "tiny.zip")
	if err := WritePackage(zipPath, app, hj); err != nil {
		t.Fatal(err)
	}
	info, err := VerifyPackage(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Files) != 2 || info.Files[0].Name != "app" || info.Files[0].Mode != 0o755 || info.Files[1].Name != "host.json" || info.Files[1].Mode != 0o644 {
		t.Errorf("files = %+v", info.Files)
	}
	if !strings.HasPrefix(info.GoVersion, "go1.") || info.Size == 0 {
		t.Errorf("info = %+v", info)
	}
	// The raw attributes, as unzip on the host reads them.
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if h := zr.File[0].FileHeader; h.CreatorVersion>>8 != 3 || h.ExternalAttrs>>16 != 0o100755 {
		t.Errorf("app: creator %d, external attributes %o; want 3 (Unix) and 0100755", h.CreatorVersion>>8, h.ExternalAttrs>>16)
	}
	// No temporary files are left next to the zip.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// writeZip writes a zip with the given entries (name, content, mode, unix).
type zipEntry struct {
	name    string
	content []byte
	mode    fs.FileMode
	msdos   bool
}

func writeZip(t *testing.T, path string, entries []zipEntry) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if !e.msdos {
			h.SetMode(e.mode)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.content)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func TestVerifyPackageRejects(t *testing.T) {
	dir := t.TempDir()
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	good := read(buildTiny(t, t.TempDir()))
	// Other platforms, without cross-compiling the standard library: the
	// same binary with e_machine set to AArch64, and a Mach-O header.
	arm := append([]byte(nil), good...)
	binary.LittleEndian.PutUint16(arm[18:], uint16(elf.EM_AARCH64))
	darwin := append([]byte{0xcf, 0xfa, 0xed, 0xfe, 0x07, 0x00, 0x00, 0x01}, make([]byte, 64)...)
	dynamic := read("/bin/ls") // a dynamically linked x86-64 ELF on Linux
	hj := validHostJSON(t)
	badHost := []byte(`{"version": "2.0", "customHandler": {"description": {"defaultExecutablePath": "weather"}, "port": "8081"}}`)

	tests := []struct {
		name    string
		entries []zipEntry
		want    []string
	}{
		{"extra file", []zipEntry{{name: "app", content: good, mode: 0o755}, {name: "host.json", content: hj, mode: 0o644}, {name: "local.settings.json", content: []byte("{}"), mode: 0o644}},
			[]string{`holds ["app" "host.json" "local.settings.json"], want exactly [app host.json]`}},
		{"missing host.json", []zipEntry{{name: "app", content: good, mode: 0o755}}, []string{"want exactly [app host.json]"}},
		{"folder prefix", []zipEntry{{name: "weather/app", content: good, mode: 0o755}, {name: "weather/host.json", content: hj, mode: 0o644}}, []string{"want exactly [app host.json]"}},
		{"not executable", []zipEntry{{name: "app", content: good, mode: 0o644}, {name: "host.json", content: hj, mode: 0o644}}, []string{"app has mode -rw-r--r--, want -rwxr-xr-x (0755)"}},
		{"zipped without Unix attributes", []zipEntry{{name: "app", content: good, msdos: true}, {name: "host.json", content: hj, mode: 0o644}}, []string{"app was not zipped with Unix attributes", "want -rwxr-xr-x"}},
		{"not ELF", []zipEntry{{name: "app", content: []byte("#!/bin/sh\necho hi\n"), mode: 0o755}, {name: "host.json", content: hj, mode: 0o644}}, []string{"app is not an ELF executable"}},
		{"arm64", []zipEntry{{name: "app", content: arm, mode: 0o755}, {name: "host.json", content: hj, mode: 0o644}}, []string{"app is for EM_AARCH64, want EM_X86_64"}},
		{"darwin", []zipEntry{{name: "app", content: darwin, mode: 0o755}, {name: "host.json", content: hj, mode: 0o644}}, []string{"app is not an ELF executable"}},
		{"dynamically linked", []zipEntry{{name: "app", content: dynamic, mode: 0o755}, {name: "host.json", content: hj, mode: 0o644}}, []string{"PT_INTERP", "PT_DYNAMIC"}},
		{"host.json off contract", []zipEntry{{name: "app", content: good, mode: 0o755}, {name: "host.json", content: badHost, mode: 0o644}}, []string{`packaged host.json: configurationProfile must be "mcp-custom-handler"`, `defaultExecutablePath must be "app"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".zip")
			writeZip(t, p, tt.entries)
			_, err := VerifyPackage(p)
			if err == nil {
				t.Fatal("VerifyPackage = nil, want an error")
			}
			if !strings.Contains(err.Error(), p+" is not deployable (rebuild it with `go tool mage package`)") {
				t.Errorf("error does not name the zip and the fix: %v", err)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q: %v", want, err)
				}
			}
		})
	}
	if _, err := VerifyPackage(filepath.Join(dir, "missing.zip")); err == nil || !strings.Contains(err.Error(), "missing.zip") {
		t.Errorf("missing zip: %v", err)
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 812: "812 B", 4300: "4.2 KiB", 10 << 20: "10.0 MiB"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}
