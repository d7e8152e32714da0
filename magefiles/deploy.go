//go:build mage

package main

// Targets to package and deploy servers. The work is done by internal/deploy,
// where it is tested; these targets print progress and what to do next.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/magefile/mage/mg"
	"github.com/mcpfunc/mcpfunc/internal/deploy"
	"github.com/mcpfunc/mcpfunc/internal/workspace"
)

// Package writes dist/<name>.zip per server (-server=a,b for some), the zip azd deploys, and verifies it.
func Package(ctx context.Context,
	// comma-separated servers to package (default: all)
	server *string,
) error {
	all, err := loadServers()
	if err != nil {
		return err
	}
	servers := all
	if server != nil {
		if servers, err = pickServers(all, func(s workspace.Server) string { return s.Name }, *server); err != nil {
			return err
		}
		// Build for the chosen servers only, exactly as Build does.
		if err := buildDist(ctx, servers); err != nil {
			return err
		}
	} else {
		mg.CtxDeps(ctx, Build)
	}
	for _, s := range servers {
		zipPath := filepath.Join(distDir, s.Name+".zip")
		fmt.Printf("==> packaging %s -> %s\n", s.Name, zipPath)
		dir := filepath.Join(distDir, s.Name)
		if err := deploy.WritePackage(zipPath, filepath.Join(dir, deploy.AppFile), filepath.Join(dir, deploy.HostJSONFile)); err != nil {
			return fmt.Errorf("package %s: %w", s.Name, err)
		}
		info, err := deploy.VerifyPackage(zipPath)
		if err != nil {
			return err
		}
		var parts []string
		for _, f := range info.Files {
			parts = append(parts, fmt.Sprintf("%s %s %v", f.Name, deploy.FormatSize(f.Size), f.Mode))
		}
		fmt.Printf("    %s: %s (%s); app is a static linux/amd64 ELF built with %s\n", zipPath, deploy.FormatSize(info.Size), strings.Join(parts, ", "), info.GoVersion)
		if err := checkPackageVersions(ctx, s.Dir, filepath.Join(dir, deploy.AppFile)); err != nil {
			return fmt.Errorf("package %s: %w", s.Name, err)
		}
	}
	fmt.Println("==> packages verified; azd builds and uploads the same two files on `azd deploy`")
	return nil
}

// checkPackageVersions compares the module versions in a package's app
// with those of azd's build (go build in the server's folder, so in
// workspace mode), and warns when the module's own go.mod (GOWORK=off)
// would build other versions.
func checkPackageVersions(ctx context.Context, serverDir, app string) error {
	got, err := deploy.BinaryModules(app)
	if err != nil {
		return err
	}
	azd, err := deploy.SelectedModules(ctx, serverDir, false)
	if err != nil {
		return err
	}
	if d := got.Diff("the package", azd, "azd's build"); len(d) > 0 {
		return fmt.Errorf("the package's module versions are not azd's:\n  %s", strings.Join(d, "\n  "))
	}
	if err := deploy.CheckVersionsExplicit(ctx, serverDir); err != nil {
		fmt.Printf("    warning: %v\n", err)
		return nil
	}
	fmt.Printf("    module versions: %d modules, the same in the package, in azd's build and in the module's own go.mod\n", len(got))
	return nil
}

// Deploy runs `azd deploy` (-service=NAME for one server) after checking azd is 1.26+ and logged in and infra/ compiles.
func Deploy(ctx context.Context,
	// deploy only this server (azd service name)
	service *string,
) error {
	args := []string{"deploy"}
	if service != nil {
		args = append(args, *service)
	}
	return runAzd(ctx, args...)
}

// Up runs `azd up` (provision Azure resources, then deploy every server) after checking azd is 1.26+ and logged in and infra/ compiles.
func Up(ctx context.Context) error {
	return runAzd(ctx, "up")
}

// runAzd runs the azd preflight, compiles infra/main.bicep if a Bicep
// compiler is installed, then runs azd with the terminal attached.
func runAzd(ctx context.Context, args ...string) error {
	fmt.Println("==> checking azd (installed, version, login)")
	azd, err := deploy.AzdPreflight(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("==> azd %s (%s) is logged in\n", azd.Version, azd.Path)
	fmt.Printf("==> compiling %s (a Bicep error stops here, not minutes into azd)\n", deploy.MainBicep)
	switch cmdline, err := deploy.BuildBicep(ctx, "."); {
	case errors.Is(err, deploy.ErrNoBicep):
		fmt.Printf("    skipped: %v; azd compiles it with its own copy (install the Bicep CLI to check first: %s)\n", err, deploy.BicepInstallURL)
	case err != nil:
		return err
	default:
		fmt.Printf("    ok (%s)\n", cmdline)
	}
	fmt.Printf("==> running azd %s\n", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, azd.Path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 4 * time.Second // mage allows 5 s for cleanup after Ctrl-C
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("azd %s failed (%w); see its output above and the README's troubleshooting section (a transient \"unable to find a resource tagged with azd-service-name\" goes away when you run `azd deploy` again)", strings.Join(args, " "), err)
		}
		return fmt.Errorf("run azd: %w", err)
	}
	return nil
}

// Doctor lists the tools (go, func, azd, bicep, az, node, npm) with their versions and what each is needed for.
func Doctor(ctx context.Context) error {
	fmt.Println("==> looking for the tools this repository uses")
	return deploy.WriteDoctor(os.Stdout, deploy.Diagnose(ctx, deploy.Tools()))
}
