//go:build !unix

package deps

import "os/exec"

// killGroup: without process groups, cancellation kills the shell only.
func killGroup(cmd *exec.Cmd) {}
