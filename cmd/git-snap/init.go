package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/git-snap/git-snap/gitsnap"
)

func initCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "init",
		Usage:     "write a .gitsnap.toml from what is detected in the worktree",
		ArgsUsage: " ",
		Description: `Detects .env and config files, lockfiles, upload directories, SQLite files and
DATABASE_URL, and writes a minimal .gitsnap.toml. Sets notes.snap.mergeStrategy.

EXIT STATUS
   0   written
   2   .gitsnap.toml exists (use --force)
   128 not a git repository`,
		Flags: append(commonFlags(e), &cli.BoolFlag{Name: "force", Usage: "replace an existing .gitsnap.toml"}),
		Action: func(c *cli.Context) error {
			repo, err := gitsnap.OpenRepo(e.dir)
			if err != nil {
				return err
			}
			res, err := gitsnap.Init(repo.Root(), e.getenv, c.Bool("force"))
			if err != nil {
				return err
			}
			if err := gitsnap.ConfigureNotesMerge(c.Context, repo); err != nil {
				return err
			}
			if e.json {
				return writeJSON(e.stdout, map[string]any{"path": res.Path, "detected": res.Detected, "content": res.Content})
			}
			fmt.Fprintf(e.stdout, "wrote %s\n", res.Path)
			for _, d := range res.Detected {
				fmt.Fprintf(e.stdout, "  detected %s\n", d)
			}
			fmt.Fprintln(e.stdout, "next: add [[check]]s that prove the system works, then run: git snap create")
			return nil
		},
	}
}
