package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/git-snap/git-snap/gitsnap"
)

func checkCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "check the integrity of every stored snapshot",
		ArgsUsage: " ",
		Description: `Walks every refs/snapshots/* ref to its commit, snap.json, trees, blobs and
chunks, and the notes, and reports every problem found (not only the first):
missing or unreadable objects, artifacts in snap.json but not in the tree,
chunk lists that do not match, refs that were moved. With --read-data it also
reads every artifact and recomputes its size and sha256, and re-hashes every
blob of the code trees. It changes nothing.

EXIT STATUS
   0   no problem found
   6   problems found (each one is listed)
   128 not a git repository
   130 interrupted`,
		Flags: append(commonFlags(e),
			&cli.BoolFlag{Name: "read-data", Usage: "read all data: recompute every size and sha256"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError("git snap check [--read-data]", "check takes no argument")
			}
			snap, err := e.open(c)
			if err != nil {
				return err
			}
			rep, err := snap.CheckIntegrity(c.Context, gitsnap.IntegrityOptions{ReadData: c.Bool("read-data")})
			var ie *gitsnap.IntegrityError
			if err != nil && !errors.As(err, &ie) {
				return err
			}
			if e.json {
				j := checkReportJSON{MessageType: "summary", Snapshots: rep.Snapshots, Objects: rep.Objects, BytesRead: rep.Bytes,
					ReadData: c.Bool("read-data"), Problems: []problemJSON{}}
				for _, p := range rep.Problems {
					j.Problems = append(j.Problems, problemJSON{Snapshot: p.Snapshot, Path: p.Path, Object: p.Object, Problem: p.Problem})
				}
				if jerr := writeJSON(e.stdout, j); jerr != nil {
					return jerr
				}
				return err
			}
			for _, p := range rep.Problems {
				fmt.Fprintf(e.stdout, "problem: %s\n", p)
			}
			what := "objects present"
			if c.Bool("read-data") {
				what = fmt.Sprintf("data read (%s)", humanBytes(rep.Bytes))
			}
			fmt.Fprintf(e.stdout, "checked %d snapshot(s), %d object(s), %s: %d problem(s)\n", rep.Snapshots, rep.Objects, what, len(rep.Problems))
			return err
		},
	}
}

type checkReportJSON struct {
	MessageType string        `json:"message_type"`
	Snapshots   int           `json:"snapshots"`
	Objects     int           `json:"objects"`
	BytesRead   int64         `json:"bytes_read"`
	ReadData    bool          `json:"read_data"`
	Problems    []problemJSON `json:"problems"`
}

type problemJSON struct {
	Snapshot string `json:"snapshot,omitempty"`
	Path     string `json:"path,omitempty"`
	Object   string `json:"object,omitempty"`
	Problem  string `json:"problem"`
}
