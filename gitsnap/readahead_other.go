//go:build !linux

package gitsnap

// setPipeSize: pipe buffers keep their size outside Linux.
func setPipeSize(fd uintptr, size int) bool { return false }
