package bicep

// The pinned definitions the AVM and Graph checks compare infra/ against:
// per Azure Verified Module version, its parameters, outputs and the
// resource types it deploys (extracted from the module's compiled main.json
// by cmd/avmdefs), and per Microsoft Graph Bicep extension version, the
// properties of each resource type (from its generated types.json). They
// are kept as JSON under testdata/avm and testdata/graph.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Directories and files of the definitions, relative to the definitions
// root (the package's testdata directory).
const (
	// AVMDefsDir holds one file per module version:
	// avm/<module path after "avm/">/<version>.json,
	// e.g. avm/res/web/site/0.15.1.json.
	AVMDefsDir = "avm"
	// GraphDefsDir holds one file per Graph extension version:
	// graph/<extension>/<version>.json, e.g.
	// graph/microsoftgraph/v1.0/1.0.0.json.
	GraphDefsDir = "graph"
	// ExtraAPIVersionsFile is the hand-kept list of API versions, each with
	// its source, that existing resources may use besides those the pinned
	// modules deploy.
	ExtraAPIVersionsFile = "avm/extra-api-versions.json"
)

// RefreshCommand is the command that regenerates the definitions; the
// check's messages about missing or stale definitions name it.
const RefreshCommand = "go run ./internal/bicep/cmd/avmdefs"

// TypeDef is the part of a parameter, output or property type that the
// checks use.
type TypeDef struct {
	// Type is string, int, bool, object, array or any.
	Type string `json:"type"`
	// Required: a module parameter without default that is not nullable,
	// an object property that is not nullable, or a Graph property flagged
	// Required.
	Required bool `json:"required,omitempty"`
	// Nullable: null may be passed.
	Nullable bool `json:"nullable,omitempty"`
	// ReadOnly and WriteOnly are Graph property flags.
	ReadOnly  bool `json:"readOnly,omitempty"`
	WriteOnly bool `json:"writeOnly,omitempty"`
	// AllowedValues, when set, lists every value accepted (for an array,
	// every value accepted for its items).
	AllowedValues []any `json:"allowedValues,omitempty"`
	// Properties of an object type whose shape the definition gives. Nil
	// means any keys.
	Properties map[string]*TypeDef `json:"properties,omitempty"`
	// Open: keys beyond Properties are accepted.
	Open bool `json:"additionalProperties,omitempty"`
	// KeysRead: the definition declares a plain object, and Properties
	// are instead the keys that the module's template reads from it
	// (tryGet, contains, .key, ['key']), the only use it makes of the
	// parameter. Any other key would be ignored.
	KeysRead bool `json:"keysRead,omitempty"`
	// Items is the item type of an array, when the definition gives it.
	Items *TypeDef `json:"items,omitempty"`
}

// Source says where a definition was extracted from.
type Source struct {
	// Repo is the GitHub repository (owner/name) of the definition, with
	// Tag and Commit the version read and Path the file inside it.
	Repo   string `json:"repo,omitempty"`
	Tag    string `json:"tag,omitempty"`
	Commit string `json:"commit,omitempty"`
	Path   string `json:"path,omitempty"`
	// Registry is the OCI reference when the definition was read from the
	// Bicep CLI's module cache instead, e.g.
	// mcr.microsoft.com/bicep/avm/res/web/site:0.15.1.
	Registry string `json:"registry,omitempty"`
	// SHA256 is the hex digest of the file read (main.json, or types.json).
	SHA256 string `json:"sha256"`
}

// ResourceVersion is one resource type and API version.
type ResourceVersion struct {
	Type       string `json:"type"`
	APIVersion string `json:"apiVersion"`
}

// ModuleDef is what one version of an Azure Verified Module declares.
type ModuleDef struct {
	// Module is the module's path, e.g. avm/res/web/site.
	Module string `json:"module"`
	// Version is the published version, e.g. 0.15.1.
	Version string `json:"version"`
	Source  Source `json:"source"`
	// Parameters and Outputs are keyed by name.
	Parameters map[string]*TypeDef `json:"parameters"`
	Outputs    map[string]*TypeDef `json:"outputs"`
	// Resources lists every resource type and API version in the module's
	// template, its nested deployments included, sorted.
	Resources []ResourceVersion `json:"resources"`
}

// Ref returns the module reference key, e.g. avm/res/web/site:0.15.1.
func (m *ModuleDef) Ref() string { return m.Module + ":" + m.Version }

// GraphDef is what one version of a Microsoft Graph Bicep extension
// declares.
type GraphDef struct {
	// Extension is the extension's path, e.g. microsoftgraph/v1.0.
	Extension string `json:"extension"`
	// Version is its published version, e.g. 1.0.0.
	Version string `json:"version"`
	Source  Source `json:"source"`
	// Resources maps a resource type with its API version, e.g.
	// Microsoft.Graph/applications@v1.0, to its body type.
	Resources map[string]*TypeDef `json:"resources"`
}

// Ref returns the extension reference key, e.g. microsoftgraph/v1.0:1.0.0.
func (g *GraphDef) Ref() string { return g.Extension + ":" + g.Version }

// ExtraAPIVersion is one hand-kept entry of ExtraAPIVersionsFile.
type ExtraAPIVersion struct {
	Type       string `json:"type"`
	APIVersion string `json:"apiVersion"`
	// Source is where the API version is documented (a URL or a repository
	// path at a commit).
	Source string `json:"source"`
}

// Defs is every pinned definition.
type Defs struct {
	// Modules is keyed by ModuleDef.Ref, Graph by GraphDef.Ref.
	Modules map[string]*ModuleDef
	Graph   map[string]*GraphDef
	// Extra is the hand-kept list of ExtraAPIVersionsFile.
	Extra []ExtraAPIVersion
}

// AVMDefPath returns the file, relative to the definitions root, that holds
// the definition of a module version.
func AVMDefPath(module, version string) string {
	return path.Join(AVMDefsDir, strings.TrimPrefix(module, "avm/"), version+".json")
}

// GraphDefPath returns the file, relative to the definitions root, that
// holds the definition of a Graph extension version.
func GraphDefPath(extension, version string) string {
	return path.Join(GraphDefsDir, extension, version+".json")
}

// LoadDefs reads every definition under dir (the package's testdata).
func LoadDefs(dir string) (*Defs, error) {
	d := &Defs{Modules: map[string]*ModuleDef{}, Graph: map[string]*GraphDef{}}
	extra := filepath.Join(dir, filepath.FromSlash(ExtraAPIVersionsFile))
	err := loadDefDir(dir, AVMDefsDir, extra, func(m *ModuleDef) (string, string) {
		d.Modules[m.Ref()] = m
		return m.Ref(), AVMDefPath(m.Module, m.Version)
	})
	if err != nil {
		return nil, fmt.Errorf("reading module definitions: %w", err)
	}
	err = loadDefDir(dir, GraphDefsDir, extra, func(g *GraphDef) (string, string) {
		d.Graph[g.Ref()] = g
		return g.Ref(), GraphDefPath(g.Extension, g.Version)
	})
	if err != nil {
		return nil, fmt.Errorf("reading Graph definitions: %w", err)
	}
	var list struct {
		// About says what the list is for; Entries are the API versions.
		About   string            `json:"about"`
		Entries []ExtraAPIVersion `json:"entries"`
	}
	if err := readJSON(extra, &list); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	d.Extra = list.Entries
	for _, e := range d.Extra {
		if e.Type == "" || e.APIVersion == "" || e.Source == "" {
			return nil, fmt.Errorf("%s: entry %+v needs type, apiVersion and source", extra, e)
		}
	}
	return d, nil
}

// loadDefDir decodes every .json file under dir/sub but skip into a new
// T and hands it to add, which returns its reference and the path
// (relative to dir) where it belongs.
func loadDefDir[T any](dir, sub, skip string, add func(*T) (ref, want string)) error {
	err := filepath.WalkDir(filepath.Join(dir, sub), func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(p, ".json") || p == skip {
			return err
		}
		def := new(T)
		if err := readJSON(p, def); err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if ref, want := add(def); filepath.ToSlash(rel) != want {
			return fmt.Errorf("%s declares %s, which belongs in %s", p, ref, want)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func readJSON(p string, v any) error {
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w (regenerate it with %s)", p, err, RefreshCommand)
	}
	return nil
}

// MarshalDef renders a definition as the indented JSON kept in testdata,
// with a trailing newline. Map keys come out sorted, so a refresh of an
// unchanged definition changes nothing.
func MarshalDef(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding definition: %w", err)
	}
	return append(b, '\n'), nil
}

// apiVersions returns, per lower-cased resource type, the API versions the
// pinned modules deploy or the hand-kept list names.
func (d *Defs) apiVersions() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	add := func(t, v string) {
		k := strings.ToLower(t)
		if out[k] == nil {
			out[k] = map[string]bool{}
		}
		out[k][v] = true
	}
	for _, m := range d.Modules {
		for _, r := range m.Resources {
			add(r.Type, r.APIVersion)
		}
	}
	for _, e := range d.Extra {
		add(e.Type, e.APIVersion)
	}
	return out
}

// sortedKeys returns the keys of m, sorted.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
