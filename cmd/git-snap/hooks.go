package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/hooks"
)

type hookActionJSON struct {
	Hook   string `json:"hook"`
	Path   string `json:"path"`
	Result string `json:"result"`
	Backup string `json:"backup,omitempty"`
	Manual string `json:"manual,omitempty"`
}

func hooksCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "hooks",
		Usage: "install or uninstall git-snap's git hooks",
		Description: `Hooks are thin shims (exec git snap hook pre-push "$@") written where git runs
hooks from: core.hooksPath, or the common hooks directory that linked worktrees
share. A hook git-snap did not write is never overwritten: --manual prints what
to add to it, --force replaces it and keeps it as <hook>.git-snap-backup (which
uninstall puts back). Shims of earlier git-snap versions are upgraded.

EXIT STATUS
   0   success
   1   a hook git-snap did not write is in the way, or it could not be written
   128 not a git repository`,
		// The flags are accepted before and after "install": the argument
		// reordering of app.go moves them in front of the subcommand.
		Flags: installFlags(e),
		Subcommands: []*cli.Command{
			{
				Name:  "install",
				Usage: "install the pre-push hook",
				Flags: installFlags(e),
				Action: func(c *cli.Context) error {
					return runHooks(c, e, func() ([]hooks.Action, error) {
						return hooks.Install(c.Context, e.dir, hooks.InstallOptions{Force: anyBool(c, "force"), Manual: anyBool(c, "manual")})
					})
				},
			},
			{
				Name:  "uninstall",
				Usage: "remove the hooks git-snap installed (others are kept)",
				Flags: commonFlags(e),
				Action: func(c *cli.Context) error {
					return runHooks(c, e, func() ([]hooks.Action, error) { return hooks.Uninstall(c.Context, e.dir) })
				},
			},
		},
	}
}

func installFlags(e *env) []cli.Flag {
	return append(commonFlags(e),
		&cli.BoolFlag{Name: "force", Usage: "replace a hook git-snap did not write (it is kept as a backup)"},
		&cli.BoolFlag{Name: "manual", Usage: "change nothing; print what to add to existing hooks"},
	)
}

// anyBool reports whether a flag was given at this level or the parent's.
func anyBool(c *cli.Context, name string) bool {
	for _, x := range c.Lineage() {
		if x.IsSet(name) && x.Bool(name) {
			return true
		}
	}
	return false
}

func runHooks(c *cli.Context, e *env, do func() ([]hooks.Action, error)) error {
	if c.NArg() > 0 {
		return usageError("git snap hooks install|uninstall", "unexpected argument %q", c.Args().First())
	}
	if _, err := gitsnap.OpenRepo(e.dir); err != nil {
		return err
	}
	acts, err := do()
	var ee *hooks.ExistsError
	if errors.As(err, &ee) {
		return gitsnap.WithHint(err, "%s", ee.Hint())
	}
	if err != nil {
		return err
	}
	if e.json {
		out := []hookActionJSON{}
		for _, a := range acts {
			out = append(out, hookActionJSON(a))
		}
		return writeJSON(e.stdout, out)
	}
	for _, a := range acts {
		switch a.Result {
		case "manual":
			fmt.Fprintf(e.stdout, "%s: %s exists and was not written by git-snap; add these lines to it:\n\n%s\n", a.Hook, a.Path, a.Manual)
		case "replaced":
			fmt.Fprintf(e.stdout, "%s: replaced %s (the old hook is %s)\n", a.Hook, a.Path, a.Backup)
		case "removed":
			fmt.Fprintf(e.stdout, "%s: removed %s\n", a.Hook, a.Path)
			if a.Backup != "" {
				fmt.Fprintf(e.stdout, "%s: put back the hook saved as %s\n", a.Hook, a.Backup)
			}
		case "kept":
			fmt.Fprintf(e.stdout, "%s: kept %s (not written by git-snap)\n", a.Hook, a.Path)
		case "absent":
			fmt.Fprintf(e.stdout, "%s: not installed\n", a.Hook)
		default:
			fmt.Fprintf(e.stdout, "%s: %s %s\n", a.Hook, a.Result, a.Path)
		}
	}
	return nil
}
