package main

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/git-snap/git-snap/gitsnap"
)

// pick shows recent snapshots on a terminal and returns the chosen id.
// Elsewhere it refuses: a script must name what it restores.
func (e *env) pick(c *cli.Context, snap *gitsnap.Snap) (string, error) {
	if !e.interactive() || e.json {
		return "", usageError("name it, e.g. git snap restore known-good (git snap list shows the others)", "no snapshot named")
	}
	list, err := snap.List(c.Context, gitsnap.ListOptions{Limit: 15})
	if err != nil {
		return "", err
	}
	if len(list) == 0 {
		return "", gitsnap.WithHint(fmt.Errorf("%w: there are no snapshots", gitsnap.ErrSnapshotNotFound), "create one with: git snap create")
	}
	now := time.Now()
	fmt.Fprintln(e.stderr, "Recent snapshots:")
	for i, s := range list {
		fmt.Fprintf(e.stderr, "%3d) %s  %-7s %-9s %-20s %s\n", i+1, s.ID, s.Status, age(s.CreatedAt(), now),
			truncate(strings.Join(s.Tags, ","), 20), truncate(s.Manifest.Message, 40))
	}
	fmt.Fprintf(e.stderr, "Restore which one? [1-%d, Enter to cancel] ", len(list))
	line, _ := bufio.NewReader(e.stdin).ReadString('\n')
	n, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || n < 1 || n > len(list) {
		return "", gitsnap.ErrAborted
	}
	return list[n-1].ID, nil
}
