// Package deploy prepares servers for Azure Functions (Flex Consumption)
// the way azd does, and checks the tools that do it: the linux/amd64
// binary azd builds (BuildDeployable), the zip azd uploads and its
// verification (WritePackage, VerifyPackage), the module versions a build
// selects (SelectedModules, CheckVersionsExplicit), the Bicep check and the
// azd preflight of `mage deploy` and `mage up` (BuildBicep, AzdPreflight),
// and the tool versions `mage doctor` reports and `mage dev` needs
// (MinGoVersion, MinAzdVersion, MinFuncVersion, CheckFunc), each stated
// once. It does not import package scaffold; scaffold builds what it adds
// with it. The magefile only calls it, so all of it is tested here.
package deploy
