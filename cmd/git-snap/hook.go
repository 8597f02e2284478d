package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/git-snap/git-snap/hooks"
)

func hookCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "hook",
		Usage: "run a git hook (the installed shims call this)",
		Subcommands: []*cli.Command{{
			Name:      "pre-push",
			Usage:     "refuse to push commits without a validated snapshot",
			ArgsUsage: "<remote name> <remote url>  (ref lines on stdin, as git gives them)",
			Description: `Applies [hooks.pre_push] of .gitsnap.toml: every pushed branch matching
branches (all when empty) and every tag must point at a commit with a snapshot
that passed validation (require = "validated", the default), that is also
tagged known-good (require = "known-good"), or nothing (require = "off").
Deletions and other refs pass. With push_snapshots = true the snapshots that
allowed the push are pushed to the snapshot remote (a failure there is only a
warning). git push --no-verify skips the hook.

EXIT STATUS
   0   the push may go ahead
   1   the push is refused (the refs are named), or the check failed
   2   bad input or .gitsnap.toml`,
			Action: func(c *cli.Context) error {
				snap, err := e.open(c)
				if err != nil {
					return err
				}
				ups, err := hooks.ParseRefUpdates(e.stdin)
				if err != nil {
					return err
				}
				res, err := hooks.Check(c.Context, snap, ups)
				var re *hooks.RefusedError
				if errors.As(err, &re) && len(re.Refused) > 1 {
					for _, v := range re.Refused {
						fmt.Fprintf(e.stderr, "  %s (%s) %s\n", v.Update.RemoteRef, v.Commit.String()[:12], v.Reason)
					}
				}
				if err != nil {
					return err
				}
				if res.Policy.PushSnapshots {
					if _, err := hooks.PushSnapshots(c.Context, snap, res, e.warn); err != nil {
						e.warn(fmt.Sprintf("push_snapshots: %v; the code push goes ahead, run git snap push later", err))
					}
				}
				return nil
			},
		}},
	}
}
