//go:build !(linux && (amd64 || arm64 || riscv64 || loong64 || s390x))

package gitsnap

import "os"

// startWriteback is a no-op where sync_file_range(2) is not used; Flush's
// fsync writes everything.
func startWriteback(f *os.File, off, n int64) {}
