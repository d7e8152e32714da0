//go:build !linux

package main

import "os/exec"

// killWithParent does nothing here: the bench runs only on Linux, and this
// file only keeps the package building elsewhere.
func killWithParent(*exec.Cmd) {}
