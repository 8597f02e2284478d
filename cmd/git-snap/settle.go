package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/git-snap/git-snap/gitsnap"
)

func settleCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "settle",
		Usage:     "copy the databases a restore kept aside into its safety snapshot, then drop them",
		ArgsUsage: "[<snapshot>]",
		Description: `A restore keeps each PostgreSQL database it replaces on its server, renamed
<name>__gitsnap_held_<token>, instead of dumping it first ([restore]
database_safety = "hold", the default): its safety snapshot records the held
copy, and restoring that snapshot swaps the copy back at once. Settling dumps
each held copy into a snapshot that replaces the held one (same time, message,
tags and history; its old id still names it), then drops the copy. A restore
starts a settle in the background ([restore] settle = "background", log in
.git/git-snap/settle.log); running it again waits for that one and settles
whatever is left. A held snapshot whose copy is gone (a rollback swapped it
back, or it was dropped by hand) cannot restore its database and is removed.

EXIT STATUS
   0   settled (or nothing was held)
   1   a copy could not be dumped or stored: it stays held; run again
   10  no such snapshot
   128 not a git repository`,
		Flags: commonFlags(e),
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return usageError("git snap settle [<snapshot>]", "settle takes at most one snapshot name")
			}
			snap, err := e.open(c)
			if err != nil {
				return err
			}
			res, err := snap.Settle(c.Context, gitsnap.SettleOptions{Name: c.Args().First()})
			for _, r := range res {
				printSettled(e, r)
			}
			if err != nil && gitsnap.HintOf(err) == "" {
				return gitsnap.WithHint(err, "the copies not settled stay held on their servers; run git snap settle again")
			}
			if err != nil {
				return err
			}
			if len(res) == 0 && !e.quiet && !e.json {
				fmt.Fprintln(e.stdout, "nothing is held")
			}
			return nil
		},
	}
}

func printSettled(e *env, r gitsnap.SettleResult) {
	if e.json {
		j := settleJSON{MessageType: "settled", From: r.From, Gone: r.Gone}
		if r.Into != nil {
			j.Into = r.Into.ID
		}
		_ = writeJSONLine(e.stdout, j)
		return
	}
	if r.Into == nil {
		fmt.Fprintf(e.stdout, "removed %s: its held copy is gone (%v), so it could not restore it\n", r.From, r.Gone)
		return
	}
	fmt.Fprintf(e.stdout, "settled %s into %s\n", r.From, r.Into.ID)
}

type settleJSON struct {
	MessageType string   `json:"message_type"`
	From        string   `json:"from"`
	Into        string   `json:"into,omitempty"`
	Gone        []string `json:"gone,omitempty"`
}

// startSettle starts git snap settle <id> as a detached process that
// outlives this one, logging to <common dir>/git-snap/settle.log.
func startSettle(snap *gitsnap.Snap, id string) error {
	// argv[0], not os.Executable: git runs us as git-snap from its PATH,
	// and a test binary standing in for git-snap is only git-snap by name.
	exe := os.Args[0]
	if !strings.ContainsRune(exe, filepath.Separator) {
		p, err := exec.LookPath(exe)
		if err != nil {
			return err
		}
		exe = p
	}
	logPath := filepath.Join(snap.Repo().CommonDir(), "git-snap", "settle.log")
	if err := os.MkdirAll(filepath.Dir(logPath), 0o777); err != nil {
		return err
	}
	log, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(exe, "-C", snap.Repo().Root(), "settle", "--quiet", id)
	cmd.Stdout, cmd.Stderr = log, log
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	return cmd.Process.Release()
}
