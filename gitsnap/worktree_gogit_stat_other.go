//go:build !linux

package gitsnap

import (
	"os"
	"time"
)

// wtStat is the stat data git keeps in the index beyond size and mtime.
// Outside Linux we only use size and mtime, which is enough for a correct
// (if slightly less tight) stat cache.
type wtStat struct {
	ctime              time.Time
	dev, ino, uid, gid uint32
	ok                 bool
}

func wtStatOf(os.FileInfo) wtStat { return wtStat{} }

// wtOpenNoFollow opens a regular file for reading. The caller checks with
// Stat that it got a regular file.
func wtOpenNoFollow(name string) (*os.File, error) {
	return os.Open(name)
}
