package deploy

// The Bicep check of `mage up` and `mage deploy`: compile infra/main.bicep
// with the user's Bicep CLI (or the Azure CLI's) before azd starts a long
// provision, and stop with the compiler's own message if it fails.

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// MainBicep is the template azd provisions, relative to the repository.
const MainBicep = "infra/main.bicep"

// BicepInstallURL is where to install the Bicep CLI.
const BicepInstallURL = "https://learn.microsoft.com/azure/azure-resource-manager/bicep/install"

// bicepTimeout bounds one compilation (the first `az bicep build` may
// download the compiler).
const bicepTimeout = 5 * time.Minute

// ErrNoBicep means neither the Bicep CLI nor the Azure CLI is on PATH.
var ErrNoBicep = errors.New("no Bicep compiler on PATH (bicep, or az with its bicep command)")

// bicepCompiler returns the command that compiles a Bicep file to standard
// output: `bicep build FILE --stdout` if the Bicep CLI is on PATH, else
// `az bicep build --file FILE --stdout`, else ErrNoBicep.
func bicepCompiler(file string) ([]string, error) {
	if p, err := exec.LookPath("bicep"); err == nil {
		return []string{p, "build", file, "--stdout"}, nil
	}
	if p, err := exec.LookPath("az"); err == nil {
		return []string{p, "bicep", "build", "--file", file, "--stdout"}, nil
	}
	return nil, ErrNoBicep
}

// BuildBicep compiles root's infra/main.bicep (and every module it uses)
// and discards the ARM template. It returns the command it ran, and an
// error holding the compiler's diagnostics if compilation fails, or
// ErrNoBicep.
func BuildBicep(ctx context.Context, root string) (string, error) {
	args, err := bicepCompiler(filepath.Join(root, filepath.FromSlash(MainBicep)))
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, bicepTimeout)
	defer cancel()
	name := filepath.Base(args[0]) + " " + strings.Join(args[1:], " ")
	// The ARM template on standard output is not needed.
	if _, stderr, err := capture(ctx, root, nil, args[0], args[1:]...); err != nil {
		if ctx.Err() != nil {
			return name, fmt.Errorf("%s did not finish within %s", name, bicepTimeout)
		}
		msg := strings.TrimSpace(stderr)
		if msg == "" {
			msg = err.Error()
		}
		return name, fmt.Errorf("%s failed, so azd would fail too; fix infra/ first:\n%s", name, msg)
	}
	return name, nil
}
