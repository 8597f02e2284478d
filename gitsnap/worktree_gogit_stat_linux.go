package gitsnap

import (
	"os"
	"syscall"
	"time"
)

// wtStat is the stat data git keeps in the index beyond size and mtime.
type wtStat struct {
	ctime              time.Time
	dev, ino, uid, gid uint32
	ok                 bool
}

func wtStatOf(fi os.FileInfo) wtStat {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return wtStat{}
	}
	// The index stores 32-bit fields; git truncates the same way.
	return wtStat{
		ctime: time.Unix(int64(st.Ctim.Sec), int64(st.Ctim.Nsec)),
		dev:   uint32(st.Dev),
		ino:   uint32(st.Ino),
		uid:   st.Uid,
		gid:   st.Gid,
		ok:    true,
	}
}

// wtOpenNoFollow opens a regular file for reading without following a
// symlink that replaced it since the walk saw it.
func wtOpenNoFollow(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
}
