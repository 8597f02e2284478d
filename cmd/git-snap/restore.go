package main

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/git-snap/git-snap/gitsnap"
)

func restoreCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "restore",
		Usage:     "put the system back to a snapshot, e.g. known-good",
		ArgsUsage: "[<snapshot>]",
		Description: `Plans the restore per scope, asks for confirmation (or --yes), takes a
pre-restore safety snapshot (meanwhile loading databases into temporary
copies, which changes nothing live), runs [restore] stop, restores each scope
(a loaded database is swapped in), runs [restore] start, validates, and rolls
back to the safety snapshot if anything fails. Files are written atomically;
files are removed only inside each scope's patterns. Without an argument, a
terminal shows a picker of recent snapshots.

EXIT STATUS
   0   restored (and validated, when checks are configured)
   2   bad flags, or not confirmed on a non-terminal (pass --yes)
   5   the restore failed and the previous state was put back (or could not be: see the message)
   6   the snapshot is damaged; nothing was changed
   10  no such snapshot, or the name is ambiguous
   128 not a git repository
   130 interrupted; the previous state was put back`,
		Flags: append(commonFlags(e),
			&cli.StringSliceFlag{Name: "scope", Aliases: []string{"s"}, Usage: "restore only this scope (repeatable)"},
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "print the plan and change nothing"},
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "do not ask for confirmation"},
			&cli.BoolFlag{Name: "validate", Usage: "run the checks after restoring (default: [restore] validate)"},
			&cli.BoolFlag{Name: "no-validate", Usage: "do not run the checks after restoring"},
			&cli.BoolFlag{Name: "no-code", Usage: "leave HEAD and tracked files alone"},
			&cli.BoolFlag{Name: "any-branch", Usage: "known-good may come from any branch"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return usageError("git snap restore [<snapshot>]", "restore takes one snapshot name")
			}
			name := c.Args().First()
			snap, err := e.open(c)
			if err != nil {
				return err
			}
			if name == "" {
				if name, err = e.pick(c, snap); err != nil {
					return err
				}
			}
			o := gitsnap.RestoreOptions{Scopes: splitList(c.StringSlice("scope")), DryRun: c.Bool("dry-run"), NoCode: c.Bool("no-code"), AnyBranch: c.Bool("any-branch")}
			if c.IsSet("validate") || c.IsSet("no-validate") {
				v := c.Bool("validate") && !c.Bool("no-validate")
				o.Validate = &v
			}
			if !c.Bool("yes") && !o.DryRun {
				o.Confirm = func(p *gitsnap.RestorePlan) (bool, error) { return e.confirm(p) }
			}
			res, err := snap.Restore(c.Context, name, o)
			if err != nil {
				return err
			}
			if o.DryRun {
				if e.json {
					return writeJSON(e.stdout, planJSON{MessageType: "plan", Snapshot: res.Plan.Target.ID, DryRun: true, Validate: res.Plan.Validate, Scopes: res.Plan.Scopes})
				}
				printPlan(e, res.Plan)
				fmt.Fprintln(e.stdout, "dry run: nothing was changed")
				return nil
			}
			changes := 0
			for _, p := range res.Plan.Scopes {
				changes += len(p.Changes)
			}
			settle := settleAfterRestore(e, snap, res)
			if e.json {
				return writeJSONLine(e.stdout, restoreJSON{MessageType: "summary", Snapshot: res.Plan.Target.ID, Safety: res.Safety.ID,
					DurationMS: res.Duration.Milliseconds(), ScopeMS: res.ScopeMS, Validated: res.Validation != nil, Changes: changes, Settle: settle})
			}
			fmt.Fprintf(e.stdout, "restored %s in %.1fs (%d change(s))\n", res.Plan.Target.ID, res.Duration.Seconds(), changes)
			if res.Validation != nil {
				fmt.Fprintf(e.stdout, "validated: %d check(s) passed\n", len(res.Validation.Checks))
			}
			fmt.Fprintf(e.stdout, "undo with: git snap restore %s\n", res.Safety.ID)
			switch settle {
			case "background":
				fmt.Fprintln(e.stdout, "the replaced database is kept on its server and is being copied into the safety snapshot in the background (git snap settle waits for it)")
			case "manual":
				fmt.Fprintln(e.stdout, "the replaced database is kept on its server until you run: git snap settle")
			case "failed":
				fmt.Fprintln(e.stdout, "the replaced database is kept on its server; settling it failed: run git snap settle")
			}
			return nil
		},
	}
}

// printPlan renders the restore plan per scope.
func printPlan(e *env, p *gitsnap.RestorePlan) {
	m := p.Target.Manifest
	fmt.Fprintf(e.stdout, "restore %s (%s, %s, %s)\n", p.Target.ID, m.CreatedAt.Local().Format("2006-01-02 15:04"), p.Target.Status, dash(strings.Join(p.Target.Tags, ",")))
	for _, sp := range p.Scopes {
		if sp.Empty() {
			fmt.Fprintf(e.stdout, "  %s: unchanged\n", sp.Scope)
		} else {
			fmt.Fprintf(e.stdout, "  %s: %d change(s)\n", sp.Scope, len(sp.Changes))
		}
		for i, ch := range sp.Changes {
			if i == 20 {
				fmt.Fprintf(e.stdout, "    … and %d more\n", len(sp.Changes)-20)
				break
			}
			detail := ""
			if ch.Detail != "" {
				detail = "  (" + ch.Detail + ")"
			}
			fmt.Fprintf(e.stdout, "    %-7s %s%s\n", ch.Op, ch.Path, detail)
		}
		for _, w := range sp.Warnings {
			fmt.Fprintf(e.stdout, "    warning: %s\n", w)
		}
	}
	for _, s := range p.Stop {
		fmt.Fprintf(e.stdout, "  stop:  %s\n", s)
	}
	for _, s := range p.Start {
		fmt.Fprintf(e.stdout, "  start: %s\n", s)
	}
	if p.Validate {
		fmt.Fprintln(e.stdout, "  then validate; roll back automatically if a check fails")
	}
}

// confirm shows the plan and asks on a terminal; elsewhere it refuses.
func (e *env) confirm(p *gitsnap.RestorePlan) (bool, error) {
	if !e.interactive() {
		return false, gitsnap.WithHint(fmt.Errorf("%w: restore changes files and data and needs confirmation", gitsnap.ErrNeedsConfirmation),
			"not a terminal: pass --yes to restore, or --dry-run to see the plan")
	}
	printPlan(e, p)
	fmt.Fprint(e.stderr, "Proceed? A safety snapshot is taken first. [y/N] ")
	line, _ := bufio.NewReader(e.stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// settleAfterRestore settles the safety snapshot's held copies as
// [restore] settle says, and reports how: "" (nothing held, or settled
// already), "background", "manual" or "failed".
func settleAfterRestore(e *env, snap *gitsnap.Snap, res *gitsnap.RestoreResult) string {
	if !res.Held {
		return ""
	}
	if res.SettleErr != nil {
		e.warn(fmt.Sprintf("settle %s: %v", res.Safety.ID, res.SettleErr))
		return "failed"
	}
	if snap.SettleMode() != "background" {
		return "manual"
	}
	if err := startSettle(snap, res.Safety.ID); err != nil {
		e.warn(fmt.Sprintf("could not start git snap settle in the background: %v", err))
		return "manual"
	}
	return "background"
}
