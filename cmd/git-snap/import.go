package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"
)

type importJSON struct {
	MessageType string `json:"message_type"`
	Snapshot    string `json:"snapshot"`
	Objects     int    `json:"objects"`
	Created     bool   `json:"created"`
	Events      int    `json:"events"`
}

func importCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "bring a snapshot back from an export archive",
		ArgsUsage: "<file.tar.xz>",
		Description: `Reads an archive written by git snap export (- reads stdin), checks the
SHA-1 of every object and the size and sha256 of every artifact, and only then
creates refs/snapshots/<id>. An existing snapshot ref is never moved; the
archive's note is merged into refs/notes/snap without losing local events.
Restore it with git snap restore <id> (the code scope needs the code commit,
so import into a clone of the code repository for a full restore).

EXIT STATUS
   0   imported (or it was already here)
   1   the file could not be read, or a different snapshot has the same id
   2   bad arguments
   6   the archive is damaged or not an export archive; nothing was changed
   128 not a git repository`,
		Flags: commonFlags(e),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("git snap import <file.tar.xz>", "import needs one archive")
			}
			snap, err := e.open(c)
			if err != nil {
				return err
			}
			r := e.stdin
			if name := c.Args().First(); name != "-" {
				if !filepath.IsAbs(name) {
					name = filepath.Join(e.dir, name)
				}
				f, err := os.Open(name)
				if err != nil {
					return fmt.Errorf("open archive: %w", err)
				}
				defer f.Close()
				r = f
			}
			res, err := snap.Import(c.Context, r)
			if err != nil {
				return err
			}
			if e.json {
				return writeJSONLine(e.stdout, importJSON{MessageType: "summary", Snapshot: res.Snapshot.ID,
					Objects: res.Objects, Created: res.Created, Events: res.Events})
			}
			verb := "imported"
			if !res.Created {
				verb = "already had"
			}
			fmt.Fprintf(e.stdout, "%s %s (%d objects verified, %d note event(s) merged)\n", verb, res.Snapshot.ID, res.Objects, res.Events)
			return nil
		},
	}
}
