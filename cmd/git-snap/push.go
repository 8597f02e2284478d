package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/git-snap/git-snap/gitsnap"
)

type pushJSON struct {
	MessageType   string   `json:"message_type"`
	Remote        string   `json:"remote"`
	Pushed        []string `json:"pushed"`
	AlreadyThere  int      `json:"already_there"`
	Notes         string   `json:"notes"`
	NotesMerges   int      `json:"notes_merges"`
	Objects       int      `json:"objects"`
	Bytes         int64    `json:"bytes"`
	Attempts      int      `json:"attempts"`
	SecretsWarned []string `json:"secrets_warned"`
	HeldLeftOut   []string `json:"held_left_out"`
}

func pushCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "push",
		Usage:     "send snapshots and their notes to the snapshot remote",
		ArgsUsage: "[remote] [<snapshot>...]",
		Description: `Pushes every snapshot the remote lacks (or only the ones named) by exact ref
name, never by force, and refs/notes/snap. When the remote's notes moved, they
are fetched and merged (no event is ever lost) and the push is retried. Only
objects the remote lacks are sent. The remote is the argument, [remote] name in
.gitsnap.toml, or git config snap.remote; any URL git supports works.

Before the first push of secret-looking files (.env, *.pem, *.key) to a remote
a warning names them; git config snap.allowSecrets true silences it.

A restore's safety snapshot whose databases are still held on their servers
is left out, with a warning, until git snap settle has copied them into Git;
naming one is an error.

EXIT STATUS
   0   success
   1   the remote failed (the hint says whether to retry or fix access), or
       a named snapshot is held (settle it first)
   2   no remote configured, or bad arguments
   10  a named snapshot does not exist
   11  other pushes kept moving the remote's notes; run again
   128 not a git repository`,
		Flags: commonFlags(e),
		Action: func(c *cli.Context) error {
			snap, err := e.open(c)
			if err != nil {
				return err
			}
			remote, names := splitRemoteArgs(snap, c.Args().Slice())
			bar := newTransferBar(e, "pushing")
			res, err := snap.Push(c.Context, gitsnap.PushOptions{Remote: remote, Snapshots: names, Progress: bar, Warn: e.warn})
			bar.done()
			if err != nil {
				return err
			}
			if e.json {
				return writeJSONLine(e.stdout, pushJSON{MessageType: "summary", Remote: res.Remote.Name, Pushed: nonNil(res.Pushed),
					AlreadyThere: res.AlreadyThere, Notes: res.Notes, NotesMerges: res.NotesMerges, Objects: res.Objects,
					Bytes: res.Bytes, Attempts: res.Attempts, SecretsWarned: nonNil(res.Secrets), HeldLeftOut: nonNil(res.Held)})
			}
			if len(res.Pushed) == 0 {
				fmt.Fprintf(e.stdout, "%s is up to date (%d snapshot(s) there", res.Remote.Name, res.AlreadyThere)
			} else {
				fmt.Fprintf(e.stdout, "pushed %d snapshot(s) to %s: %s\n", len(res.Pushed), res.Remote.Name, strings.Join(res.Pushed, ", "))
				fmt.Fprintf(e.stdout, "  sent: %d object(s), %s (%d already there", res.Objects, humanBytes(res.Bytes), res.AlreadyThere)
			}
			fmt.Fprintf(e.stdout, "; notes %s", res.Notes)
			if res.NotesMerges > 0 {
				fmt.Fprintf(e.stdout, " after merging the remote's %d time(s)", res.NotesMerges)
			}
			fmt.Fprintln(e.stdout, ")")
			return nil
		},
	}
}

// splitRemoteArgs reads "[remote] [<snapshot>...]": the first argument is
// the remote when it is one (a configured remote, a URL or a path), or
// when no snapshot remote is configured.
func splitRemoteArgs(snap *gitsnap.Snap, args []string) (string, []string) {
	if len(args) == 0 {
		return "", nil
	}
	if _, err := snap.ResolveRemote(""); err != nil || snap.IsRemote(args[0]) {
		return args[0], args[1:]
	}
	return "", args
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// warn prints a warning on stderr (a JSON line with --json), now: warnings
// from push come before anything is sent.
func (e *env) warn(msg string) {
	if e.json {
		_ = writeJSONLine(e.stderr, map[string]string{"message_type": "warning", "message": msg})
		return
	}
	for _, l := range strings.Split(msg, "\n") {
		fmt.Fprintf(e.stderr, "warning: %s\n", l)
	}
}
