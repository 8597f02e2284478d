package gitsnap

import "syscall"

// setPipeSize sets the buffer of the pipe fd to size bytes
// (fcntl F_SETPIPE_SZ; 1 MiB is the default limit for unprivileged users,
// /proc/sys/fs/pipe-max-size) and reports whether it did. It fails on
// anything but a pipe.
func setPipeSize(fd uintptr, size int) bool {
	const fSetPipeSz = 1031 // F_SETPIPE_SZ
	n, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, fSetPipeSz, uintptr(size))
	return errno == 0 && int(n) >= size
}
