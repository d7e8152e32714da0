package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpfunc/mcpfunc/internal/bicep"
)

// TestRunFromCache refreshes one module and one Graph extension from a
// Bicep CLI cache laid out as `bicep restore` leaves it, and loads them
// back.
func TestRunFromCache(t *testing.T) {
	cache := t.TempDir()
	mod := filepath.Join(cache, "bicep$avm$res$test$thing", "1.0.0$")
	ext := filepath.Join(cache, "bicep$extensions$microsoftgraph$v1.0", "1.0.0$")
	for _, d := range []string{mod, ext} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mainJSON := `{"parameters": {"name": {"type": "string"}}, "outputs": {"id": {"type": "string"}},
  "resources": {"thing": {"type": "Microsoft.Test/things", "apiVersion": "2024-01-01"}}}`
	if err := os.WriteFile(filepath.Join(mod, "main.json"), []byte(mainJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	var tgz bytes.Buffer
	zw := gzip.NewWriter(&tgz)
	tw := tar.NewWriter(zw)
	for name, body := range map[string]string{
		"index.json": `{"resources": {"Microsoft.Graph/things@v1.0": {"$ref": "types.json#/2"}}}`,
		"types.json": `[{"$type": "StringType"}, {"$type": "ObjectType", "name": "T", "properties": {"id": {"type": {"$ref": "#/0"}, "flags": 2}}},
  {"$type": "ResourceType", "name": "Microsoft.Graph/things@v1.0", "body": {"$ref": "#/1"}}]`,
	} {
		if err := tw.WriteHeader(&tar.Header{Name: "./" + name, Mode: 0o644, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ext, "types.tgz"), tgz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	out := t.TempDir()
	o := options{out: out, cache: cache}
	if err := run(context.Background(), o, []string{"avm/res/test/thing:1.0.0", "microsoftgraph/v1.0:1.0.0"}); err != nil {
		t.Fatal(err)
	}
	defs, err := bicep.LoadDefs(out)
	if err != nil {
		t.Fatal(err)
	}
	m := defs.Modules["avm/res/test/thing:1.0.0"]
	if m == nil || !m.Parameters["name"].Required || m.Source.Registry != "mcr.microsoft.com/bicep/avm/res/test/thing:1.0.0" {
		t.Errorf("module = %+v", m)
	}
	g := defs.Graph["microsoftgraph/v1.0:1.0.0"]
	if g == nil || !g.Resources["Microsoft.Graph/things@v1.0"].Properties["id"].ReadOnly {
		t.Errorf("graph = %+v", g)
	}

	err = run(context.Background(), o, []string{"avm/res/test/thing:9.9.9"})
	if err == nil || !strings.Contains(err.Error(), "bicep restore") {
		t.Errorf("missing cache entry: err = %v, want advice to run bicep restore", err)
	}
	if err := run(context.Background(), o, []string{"thing"}); err == nil {
		t.Error("a reference of neither form was accepted")
	}
}
