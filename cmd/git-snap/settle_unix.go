//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// detach puts cmd in its own session, so Ctrl-C in the terminal that ran
// the restore does not stop the settle.
func detach(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }
