package main

import (
	"os/exec"
	"syscall"
)

// killWithParent has the kernel kill the server if the bench dies without
// cleaning up (SIGKILL, a crash).
func killWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
