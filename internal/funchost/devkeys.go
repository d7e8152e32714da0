package funchost

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DevKeysFile is where `mage dev` keeps each server's local keys, relative
// to the repository root. They are secrets: the file is written with mode
// 0600 in a folder of mode 0700, and .gitignore lists the folder.
const DevKeysFile = ".mcpfunc/dev-keys.json"

// Variables that replace the stored local keys of every server, for tests
// and CI; they are not written to DevKeysFile.
const (
	DevFunctionKeyEnv = "MCP_DEV_FUNCTION_KEY"
	DevMasterKeyEnv   = "MCP_DEV_MASTER_KEY"
)

// devKeyFile is DevKeysFile's content.
type devKeyFile struct {
	Servers map[string]devKeys `json:"servers"`
}

type devKeys struct {
	Function string `json:"function"`
	Master   string `json:"master"`
}

// DevKeys returns the local keys of the servers named: their function key
// and master key from the file at path, or new random ones for a server
// the file does not hold yet, which are then saved there so that they stay
// the same from run to run. DevFunctionKeyEnv and DevMasterKeyEnv, when
// getenv returns them set, replace every server's function and master key.
func DevKeys(path string, servers []string, getenv func(string) string) (map[string]Keys, error) {
	var f devKeyFile
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read the local function keys: %w", err)
	default:
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("%s: %w; delete the file to get new local keys", path, err)
		}
	}
	if f.Servers == nil {
		f.Servers = map[string]devKeys{}
	}
	changed := false
	keys := map[string]Keys{}
	for _, name := range servers {
		k := f.Servers[name]
		for _, key := range []*string{&k.Function, &k.Master} {
			if *key == "" {
				*key = NewKey()
				changed = true
			}
		}
		f.Servers[name] = k
		if v := getenv(DevFunctionKeyEnv); v != "" {
			k.Function = v
		}
		if v := getenv(DevMasterKeyEnv); v != "" {
			k.Master = v
		}
		keys[name] = Keys(k)
	}
	if changed {
		if err := writeSecretFile(path, &f); err != nil {
			return nil, fmt.Errorf("save the local function keys: %w", err)
		}
	}
	return keys, nil
}

// NewKey returns a random key in the form the Functions host generates
// them: 32 random bytes, URL-safe base 64.
func NewKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// writeSecretFile writes v as JSON to path with mode 0600, in a folder
// created with mode 0700, replacing the file at once.
func writeSecretFile(path string, v *devKeyFile) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".dev-keys-*") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
