// Package deploy prepares servers for Azure Functions (Flex Consumption)
// the way azd does, and checks the tools that do it: the linux/amd64
// binary azd builds (BuildDeployable), the zip azd uploads and its
// verification (WritePackage, VerifyPackage), the module versions a build
// selects (SelectedModules, CheckVersionsExplicit), the Bicep check and the
// azd preflight of `mage deploy` and `mage up` (BuildBicep, AzdPreflight),
// and the tools `mage doctor` reports (Tools, Diagnose). The oldest Go,
// azd and Core Tools releases that work are stated once, in versions.go,
// and every tool's version is read the same way; CheckFunc tells `mage
// dev` whether Core Tools can run MCP custom handlers. It does not import
// package scaffold; scaffold builds what it adds with it. The magefile
// only calls it, so all of it is tested here.
package deploy
