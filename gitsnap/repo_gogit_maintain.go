package gitsnap

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Every git-snap command that writes objects writes one pack: a restore
// adds a few small ones (its safety snapshot, its events), a create at
// least one. Left alone they pile up, and each costs every later lookup
// (go-git's and git's) and, past git's gc.autoPackLimit, makes the next
// `git commit` start a background `git gc` that repacks every chunk with
// delta search. So a command that wrote a pack, once the repository holds
// more than gc.autoPackLimit packs (50 by default, like git), rolls them up
// with `git repack -d --geometric=2`: it merges the small packs into one
// and leaves large ones alone, keeps every object of the packs it merges
// (referenced or not: another process may be about to point a ref at
// them), and copies compressed objects as they are, without delta search
// (pack.window=0). gc.auto=0 or gc.autoPackLimit=0 turns it off, as they
// do for git. Readers in other processes see packs come and go as they do
// around git gc (repo_gogit_objects.go looks again while the pack
// directory keeps changing).

// defaultPackLimit is git's gc.autoPackLimit default.
const defaultPackLimit = 50

// packLimit is the number of packs above which maintainPacks rolls them
// up, 0 for never.
func (r *goGitRepo) packLimit() int {
	if v, ok := r.ConfigValue("gc.auto"); ok && strings.TrimSpace(v) == "0" {
		return 0
	}
	if v, ok := r.ConfigValue("gc.autopacklimit"); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
			return n
		}
	}
	return defaultPackLimit
}

// packCount counts the packs in the repository's own object directory.
func (r *goGitRepo) packCount() int {
	names, _ := filepath.Glob(filepath.Join(r.commonDir, "objects", "pack", "pack-*.pack"))
	return len(names)
}

// MaintainPacks rolls the repository's packs up when this process wrote
// one and there are more than the limit; it reports whether it did.
func (r *goGitRepo) MaintainPacks(ctx context.Context) (bool, error) {
	if r.packsWritten.Load() == 0 {
		return false, nil
	}
	limit := r.packLimit()
	if limit == 0 || r.packCount() <= limit {
		return false, nil
	}
	// One roll-up at a time: two repacks at once fail each other (each
	// deletes packs the other is reading). Another process rolling up
	// now does this one's work too.
	release, ok, err := tryLock(filepath.Join(r.commonDir, "git-snap", "maintain.lock"))
	if err != nil || !ok {
		return false, err
	}
	defer release()
	if r.packCount() <= limit {
		return false, nil
	}
	cmd := exec.CommandContext(ctx, "git", "--git-dir="+r.commonDir,
		"-c", "pack.window=0", "-c", "repack.writeBitmaps=false",
		"repack", "-d", "-l", "-q", "--geometric=2")
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANGUAGE=C")
	// Interrupted (Ctrl-C after the command's own work), git removes its
	// temporary pack on SIGINT; it is killed only if it does not exit.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		return false, fmt.Errorf("git repack --geometric=2: %w: %s", err, oneLine(string(out)))
	}
	r.mu.Lock()
	r.refreshPacksLocked(true)
	r.mu.Unlock()
	return true, nil
}
