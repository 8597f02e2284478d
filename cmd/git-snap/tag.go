package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/git-snap/git-snap/gitsnap"
)

func tagCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "tag",
		Usage:     "add or remove tags on a snapshot",
		ArgsUsage: "<snapshot> <tag>...",
		Description: `Tags are events in the snapshot's note, so their history is kept.
known-good only goes on a snapshot whose validation passed, unless --force.

EXIT STATUS
   0   success
   2   bad arguments, or known-good on an unvalidated snapshot without --force
   10  no such snapshot
   11  concurrent update; run again`,
		Flags: append(commonFlags(e),
			&cli.BoolFlag{Name: "remove", Aliases: []string{"d"}, Usage: "remove the tags"},
			&cli.BoolFlag{Name: "force", Usage: "allow known-good on a snapshot that did not pass validation (recorded)"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() < 2 {
				return usageError("git snap tag <snapshot> <tag>...", "tag needs a snapshot and at least one tag")
			}
			snap, err := e.open(c)
			if err != nil {
				return err
			}
			s, err := snap.Tag(c.Context, c.Args().First(), c.Args().Slice()[1:], gitsnap.TagOptions{Remove: c.Bool("remove"), Force: c.Bool("force")})
			if err != nil {
				return err
			}
			if e.json {
				out := toJSON(s, false)
				out.Held = snap.HoldsCopies(s)
				return writeJSON(e.stdout, out)
			}
			fmt.Fprintf(e.stdout, "%s tags: %s\n", s.ID, dash(strings.Join(s.Tags, ", ")))
			return nil
		},
	}
}
