package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/git-snap/git-snap/gitsnap"
)

type fetchJSON struct {
	MessageType string   `json:"message_type"`
	Remote      string   `json:"remote"`
	Available   int      `json:"available"`
	Fetched     []string `json:"fetched"`
	AlreadyHere int      `json:"already_here"`
	Notes       string   `json:"notes"`
	Objects     int      `json:"objects"`
	Bytes       int64    `json:"bytes"`
}

func fetchCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "fetch",
		Usage:     "bring snapshots and their notes from the snapshot remote",
		ArgsUsage: "[remote] [<snapshot>...]",
		Description: `Lists the remote's snapshots and fetches the ones named (ids, id prefixes,
latest, or a tag such as known-good: every remote snapshot carrying it), or all
of them. Snapshot refs are fetched by exact name and never overwrite a local
one. The remote's notes land in refs/notes/remotes/<remote>/snap and are merged
into refs/notes/snap: no local event is ever lost.

Disaster recovery on a fresh clone:
   git remote add snapshots <url>
   git snap fetch snapshots
   git snap restore known-good

EXIT STATUS
   0   success
   1   the remote failed (the hint says whether to retry or fix access)
   2   no remote configured, or bad arguments
   10  a named snapshot is not on the remote, or the name is ambiguous
   128 not a git repository`,
		Flags: commonFlags(e),
		Action: func(c *cli.Context) error {
			snap, err := e.open(c)
			if err != nil {
				return err
			}
			remote, names := splitRemoteArgs(snap, c.Args().Slice())
			bar := newTransferBar(e, "fetching")
			res, err := snap.Fetch(c.Context, gitsnap.FetchOptions{Remote: remote, Snapshots: names, Progress: bar})
			bar.done()
			if err != nil {
				return err
			}
			if e.json {
				return writeJSONLine(e.stdout, fetchJSON{MessageType: "summary", Remote: res.Remote.Name, Available: res.Available,
					Fetched: nonNil(res.Fetched), AlreadyHere: res.AlreadyHere, Notes: res.Notes, Objects: res.Objects, Bytes: res.Bytes})
			}
			if len(res.Fetched) == 0 {
				fmt.Fprintf(e.stdout, "nothing new from %s (%d snapshot(s) there, %d already here; notes %s)\n",
					res.Remote.Name, res.Available, res.AlreadyHere, res.Notes)
				return nil
			}
			fmt.Fprintf(e.stdout, "fetched %d snapshot(s) from %s: %s\n", len(res.Fetched), res.Remote.Name, strings.Join(res.Fetched, ", "))
			fmt.Fprintf(e.stdout, "  received: %d object(s), %s (%d already here; notes %s)\n", res.Objects, humanBytes(res.Bytes), res.AlreadyHere, res.Notes)
			return nil
		},
	}
}

// transferBar draws git's transfer progress as one line with bytes and
// rate, on a terminal only, at most ten times a second.
type transferBar struct {
	mu    sync.Mutex
	e     *env
	w     io.Writer // nil: no bar (warnings still go to e)
	verb  string
	start time.Time
	bytes int64
	last  time.Time
	drawn bool
}

// newTransferBar draws a bar on a terminal only (not with --json or
// --quiet); warnings (retries) are always shown.
func newTransferBar(e *env, verb string) *transferBar {
	if e.json || e.quiet || !isTerminal(e.stderr) {
		return &transferBar{e: e}
	}
	return &transferBar{e: e, w: e.stderr, verb: verb, start: time.Now()}
}

// Event implements gitsnap.Progress.
func (b *transferBar) Event(ev gitsnap.ProgressEvent) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case ev.Kind == "warning":
		if b.drawn {
			fmt.Fprint(b.w, "\r\033[K")
			b.drawn = false
		}
		b.e.warn(ev.Message)
	case ev.Kind == "transfer" && b.w != nil:
		b.bytes += ev.Bytes
		if time.Since(b.last) < 100*time.Millisecond && ev.Message != "100%" {
			return
		}
		b.last = time.Now()
		rate := float64(b.bytes) / time.Since(b.start).Seconds()
		fmt.Fprintf(b.w, "\r\033[K%s: %s %s, %s/s", b.verb, ev.Name, ev.Message, humanBytes(int64(rate)))
		fmt.Fprintf(b.w, " (%s)", humanBytes(b.bytes))
		b.drawn = true
	}
}

func (b *transferBar) done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprintln(b.w)
		b.drawn = false
	}
}
