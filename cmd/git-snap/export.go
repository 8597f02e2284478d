package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/git-snap/git-snap/gitsnap"
)

type exportJSON struct {
	MessageType string `json:"message_type"`
	Snapshot    string `json:"snapshot"`
	File        string `json:"file"`
	Objects     int    `json:"objects"`
	Bytes       int64  `json:"bytes"`
	Compressed  int64  `json:"compressed_bytes"`
}

func exportCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write a snapshot to a self-contained .tar.xz archive",
		ArgsUsage: "<snapshot> -o <file.tar.xz>",
		Description: `Writes every object of the snapshot (commit, trees, blobs, chunks) and its
note into one archive for storage outside Git: another disk, cold storage.
git snap import verifies and restores it into any repository. The file is
written next to its final name and renamed into place when complete; -o -
writes to stdout. Layout: docs/format.md, "Export archive".

EXIT STATUS
   0   archive written
   1   it could not be written, or the snapshot is held (settle it first)
   2   bad arguments
   6   the snapshot is damaged (missing object)
   10  no such snapshot
   128 not a git repository`,
		Flags: append(commonFlags(e),
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` (- for stdout)"},
		),
		Action: func(c *cli.Context) error {
			out := c.String("output")
			if c.NArg() != 1 || out == "" {
				return usageError("git snap export <snapshot> -o <file.tar.xz>", "export needs one snapshot and -o <file>")
			}
			snap, err := e.open(c)
			if err != nil {
				return err
			}
			if out == "-" {
				_, err := snap.Export(c.Context, c.Args().First(), e.stdout)
				return err
			}
			path := out
			if !filepath.IsAbs(path) {
				path = filepath.Join(e.dir, path)
			}
			tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
			if err != nil {
				return gitsnap.WithHint(fmt.Errorf("create %s: %w", out, err), "check that the directory of %s exists and is writable", out)
			}
			defer os.Remove(tmp.Name())
			res, err := snap.Export(c.Context, c.Args().First(), tmp)
			if err == nil {
				err = tmp.Sync()
			}
			if cerr := tmp.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("write %s: %w", out, cerr)
			}
			if err != nil {
				return err
			}
			if err := os.Rename(tmp.Name(), path); err != nil {
				return fmt.Errorf("write %s: %w", out, err)
			}
			var size int64
			if fi, err := os.Stat(path); err == nil {
				size = fi.Size()
			}
			if e.json {
				return writeJSONLine(e.stdout, exportJSON{MessageType: "summary", Snapshot: res.Snapshot.ID, File: out,
					Objects: res.Objects, Bytes: res.Bytes, Compressed: size})
			}
			fmt.Fprintf(e.stdout, "exported %s to %s (%d objects, %s, %s compressed)\n", res.Snapshot.ID, out,
				res.Objects, humanBytes(res.Bytes), humanBytes(size))
			return nil
		},
	}
}
