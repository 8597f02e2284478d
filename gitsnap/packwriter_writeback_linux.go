//go:build linux && (amd64 || arm64 || riscv64 || loong64 || s390x)

package gitsnap

import (
	"os"
	"syscall"
)

// startWriteback asks the kernel to start writing [off, off+n) of f to disk
// without waiting (sync_file_range(2) with SYNC_FILE_RANGE_WRITE), so that
// the fsync in Flush finds little left to write. Advisory: errors are
// ignored, the fsync still guarantees durability.
func startWriteback(f *os.File, off, n int64) {
	const syncFileRangeWrite = 2 // SYNC_FILE_RANGE_WRITE
	_, _, _ = syscall.Syscall6(syscall.SYS_SYNC_FILE_RANGE, f.Fd(), uintptr(off), uintptr(n), syncFileRangeWrite, 0, 0)
}
