package funchost

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDevKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".mcpfunc", "dev-keys.json")
	noEnv := func(string) string { return "" }

	first, err := DevKeys(path, []string{"weather"}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	k := first["weather"]
	if len(k.Function) != 43 || len(k.Master) != 43 || k.Function == k.Master {
		t.Fatalf("new keys %+v: want two different 32-byte keys in base 64", k)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", p, fi.Mode().Perm(), want)
		}
	}

	// Stable across runs; a server added later gets keys of its own.
	again, err := DevKeys(path, []string{"weather", "userinfo"}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if again["weather"] != k {
		t.Errorf("weather's keys changed from %+v to %+v", k, again["weather"])
	}
	if u := again["userinfo"]; u.Function == "" || u.Function == k.Function || u.Master == k.Master {
		t.Errorf("userinfo's keys %+v, want new ones", u)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), again["userinfo"].Function) || !strings.Contains(string(b), k.Function) {
		t.Errorf("the file does not hold both servers' keys:\n%s", b)
	}

	// The variables replace the stored keys without changing the file.
	env := map[string]string{DevFunctionKeyEnv: "ci-function-key", DevMasterKeyEnv: "ci-master-key"}
	over, err := DevKeys(path, []string{"weather"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if want := (Keys{Function: "ci-function-key", Master: "ci-master-key"}); over["weather"] != want {
		t.Errorf("with the variables: %+v, want %+v", over["weather"], want)
	}
	delete(env, DevMasterKeyEnv)
	over, _ = DevKeys(path, []string{"weather"}, func(k string) string { return env[k] })
	if want := (Keys{Function: "ci-function-key", Master: k.Master}); over["weather"] != want {
		t.Errorf("with %s only: %+v, want %+v", DevFunctionKeyEnv, over["weather"], want)
	}
	if b2, _ := os.ReadFile(path); string(b2) != string(b) {
		t.Errorf("the variables changed the file:\n%s", b2)
	}

	// A damaged file is an error that says how to recover.
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := DevKeys(path, []string{"weather"}, noEnv); err == nil || !strings.Contains(err.Error(), "delete the file") {
		t.Errorf("DevKeys of a damaged file = %v", err)
	}
}
