package bicep

import (
	"encoding/json"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mcpfunc/mcpfunc/internal/workspace"
)

// repoInfra is the repository's infra/ folder, seen from this package.
const repoInfra = "../../infra"

// worstServerName is the longest server name workspace.ValidName accepts,
// with the hyphens and digits it allows.
func worstServerName(t *testing.T) string {
	t.Helper()
	name := "s" + strings.Repeat("-9", 15) + "z"
	if !workspace.ValidName(name) || workspace.ValidName(name+"a") {
		t.Fatalf("%q (%d characters) is no longer the longest valid server name: update worstServerName to workspace.ValidName's limit", name, len(name))
	}
	return name
}

// infraOptions binds main.bicep's servers to the ones in servers.json plus
// the longest valid server name.
func infraOptions(t *testing.T, infra string) Options {
	t.Helper()
	servers := append(serverList(t, infra), map[string]any{"name": worstServerName(t), "graph": true})
	return Options{Inputs: map[string]any{"servers": servers}}
}

// serverList reads servers.json in the infra folder.
func serverList(t *testing.T, infra string) []any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(infra, "servers.json"))
	if err != nil {
		t.Fatal(err)
	}
	var servers []any
	if err := json.Unmarshal(b, &servers); err != nil {
		t.Fatalf("servers.json: %v", err)
	}
	return servers
}

// bicepFiles lists the .bicep files under dir, relative to it.
func bicepFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && strings.HasSuffix(p, ".bicep") {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("no .bicep files under %s", dir)
	}
	return out
}

// checkInfra parses and checks every .bicep file under dir.
func checkInfra(t *testing.T, dir string) Report {
	t.Helper()
	files := parse(t, dir, bicepFiles(t, dir)...)
	return CheckRules(files, infraOptions(t, dir))
}

// TestInfra runs every rule over infra/: it must have no violations. What
// a rule could not evaluate is logged.
func TestInfra(t *testing.T) {
	rep := checkInfra(t, repoInfra)
	logLongestNames(t, rep.Names)
	for _, n := range rep.Notes {
		t.Logf("not checked: %s", n)
	}
	for _, v := range rep.Violations {
		t.Errorf("infra/%s", v)
	}
}

// logLongestNames logs the longest value of each kind of name.
func logLongestNames(t *testing.T, names []CheckedName) {
	t.Helper()
	longest := map[string]CheckedName{}
	var kinds []string
	for _, n := range names {
		l, ok := longest[n.Kind]
		if !ok {
			kinds = append(kinds, n.Kind)
		}
		if !ok || len(n.Value) > len(l.Value) {
			longest[n.Kind] = n
		}
	}
	for _, k := range kinds {
		n := longest[k]
		t.Logf("longest %s: %d of %d characters, %q (%s:%d)", k, len(n.Value), n.Max, n.Value, n.Path, n.Line)
	}
}

// TestInfraBugsRestored puts each of the three bugs that broke `azd up`
// before a6676a4 (and a variant of the third) back into a scratch copy of
// infra/, in the shape infra/ has now, and requires the rule that catches
// it to report it (and nothing else to be reported). When infra/ changes so that a snippet is gone, the
// test fails: update the snippet to the new shape. The bugs as they were
// written then are in testdata/rules/*/bad.
func TestInfraBugsRestored(t *testing.T) {
	cases := []struct {
		name, file, old, new, rule string
	}{
		{
			// Bicep BCP138: `azd up` failed at build.
			name: "for-expression in concat", file: "app/vnet.bicep", rule: RuleForExpression,
			old: "subnets: concat(endpointSubnets, appSubnets)",
			new: `subnets: concat(
      endpointSubnets,
      [
        for i in range(0, appSubnetCount): {
          name: 'app-${i}'
          addressPrefix: '10.0.${i + 2}.0/24'
        }
      ]
    )`,
		},
		{
			// DeploymentNotFound for an anonymous deployment: easyAuth is
			// `if (useEasyAuth)` like entra, but ARM evaluates its
			// properties all the same.
			name: "entra outputs read by easyAuth", file: "app/server.bicep", rule: RuleConditionalRead,
			old: "clientId: applicationId",
			new: "clientId: entra.outputs.applicationId",
		},
		{
			// UnmatchedPrincipalType under `azd auth login --client-id`.
			name: "deployer type hard-coded to User", file: "app/rbac.bicep", rule: RulePrincipalType,
			old: "type: deployerPrincipalType",
			new: "type: 'User'",
		},
		{
			// The same failure the other way round, after `azd auth
			// login` as a user: the id is traced from AZURE_PRINCIPAL_ID
			// in main.parameters.json through main.bicep and server.bicep.
			name: "deployer type hard-coded to ServicePrincipal", file: "app/rbac.bicep", rule: RulePrincipalType,
			old: "type: deployerPrincipalType",
			new: "type: 'ServicePrincipal'",
		},
	}
	scratch := t.TempDir()
	var all []string
	for i, c := range cases {
		dir := filepath.Join(scratch, strconv.Itoa(i))
		if err := os.CopyFS(dir, os.DirFS(repoInfra)); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(c.file))
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(string(b), c.old) != 1 {
			t.Fatalf("%s: infra/%s no longer holds %q once; update this case to the file's new shape", c.name, c.file, c.old)
		}
		if err := os.WriteFile(p, []byte(strings.Replace(string(b), c.old, c.new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, f := range bicepFiles(t, dir) {
			all = append(all, path.Join(strconv.Itoa(i), f))
		}
	}
	parsed := parse(t, scratch, all...) // one Node process for all copies
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var files []*File
			for _, f := range parsed {
				if strings.HasPrefix(f.Path, strconv.Itoa(i)+"/") {
					files = append(files, f)
				}
			}
			rep := CheckRules(files, infraOptions(t, repoInfra))
			caught := false
			for _, v := range rep.Violations {
				t.Log(v)
				if v.Rule == c.rule && v.Path == strconv.Itoa(i)+"/"+c.file {
					caught = true
				} else {
					t.Errorf("unexpected: %s", v)
				}
			}
			if !caught {
				t.Errorf("rule %s did not report the restored bug in %s", c.rule, c.file)
			}
		})
	}
}
