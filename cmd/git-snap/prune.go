package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/git-snap/git-snap/gitsnap"
)

func pruneCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "prune",
		Usage:     "apply retention: remove snapshots no keep rule keeps (dry run unless --yes)",
		ArgsUsage: " ",
		Description: `Keeps every snapshot that one of the rules keeps and removes the others.
Rules come from [retention] in .gitsnap.toml; each flag replaces its key.
The newest --keep-known-good (default 3) known-good snapshots and every
snapshot tagged pinned are always kept. Without --yes it only prints what
would go. With --yes the refs are deleted (compare-and-swap) and their notes
removed in one notes commit; --remote deletes them on the snapshot remote
too. The objects stay until git gc reclaims them.

EXIT STATUS
   0   done (or dry run printed)
   2   no retention rule, bad flags or [retention]
   11  a concurrent update won a race; run again
   128 not a git repository`,
		Flags: append(commonFlags(e),
			&cli.IntFlag{Name: "keep-last", Usage: "keep the `N` newest"},
			&cli.IntFlag{Name: "keep-hourly", Usage: "keep the newest of each of the last `N` hours with snapshots"},
			&cli.IntFlag{Name: "keep-daily", Usage: "… of the last `N` days"},
			&cli.IntFlag{Name: "keep-weekly", Usage: "… of the last `N` weeks"},
			&cli.IntFlag{Name: "keep-monthly", Usage: "… of the last `N` months"},
			&cli.IntFlag{Name: "keep-yearly", Usage: "… of the last `N` years"},
			&cli.StringFlag{Name: "keep-within", Usage: "keep all created within `DURATION` of the newest (30d, 2w, 1y, 36h)"},
			&cli.StringSliceFlag{Name: "keep-tag", Usage: "keep snapshots with this `TAG` (repeatable; pinned always)"},
			&cli.IntFlag{Name: "keep-known-good", Usage: "always keep the `N` newest known-good (default 3)"},
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "remove them (default: dry run)"},
			&cli.BoolFlag{Name: "remote", Usage: "also delete them on the snapshot remote ([remote] name or snap.remote)"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError("git snap prune --keep-last N [--yes]", "prune takes no argument")
			}
			snap, err := e.open(c)
			if err != nil {
				return err
			}
			p, err := gitsnap.PolicyFromConfig(snap.Config().Retention)
			if err != nil {
				return err
			}
			for name, dst := range map[string]*int{"keep-last": &p.Last, "keep-hourly": &p.Hourly, "keep-daily": &p.Daily,
				"keep-weekly": &p.Weekly, "keep-monthly": &p.Monthly, "keep-yearly": &p.Yearly, "keep-known-good": &p.KnownGood} {
				if c.IsSet(name) {
					if c.Int(name) < 0 {
						return usageError("give a number of snapshots, 0 or more", "invalid --%s %d", name, c.Int(name))
					}
					*dst = c.Int(name)
				}
			}
			if v := c.String("keep-within"); v != "" {
				if p.Within, err = gitsnap.ParseKeepWithin(v); err != nil {
					return usageError("write it like 30d, 2w, 1y or 36h", "invalid --keep-within: %v", err)
				}
			}
			p.Tags = append(p.Tags, splitList(c.StringSlice("keep-tag"))...)
			o := gitsnap.PruneOptions{Policy: p, Apply: c.Bool("yes")}
			if c.Bool("remote") {
				r, err := snap.ResolveRemote("")
				if err != nil {
					return err
				}
				o.Remote = r.Name
			}
			res, err := snap.Prune(c.Context, o)
			if res == nil {
				return err
			}
			for _, w := range res.Warnings {
				fmt.Fprintf(e.stderr, "warning: %s\n", w)
			}
			if e.json {
				if jerr := writeJSON(e.stdout, toPruneJSON(p, res, !o.Apply)); jerr != nil && err == nil {
					return jerr
				}
				return err
			}
			printPrune(e, p, res, o.Apply)
			return err
		},
	}
}

func printPrune(e *env, p gitsnap.RetentionPolicy, res *gitsnap.PruneResult, applied bool) {
	fmt.Fprintf(e.stdout, "policy: %s\n", p)
	for _, d := range res.Decisions {
		sn := d.Snapshot
		what, why := "remove", ""
		if d.Keep {
			what, why = "keep", "("+strings.Join(d.Reasons, ", ")+")"
		}
		fmt.Fprintf(e.stdout, "%-6s %s %s %-7s %-20s %s\n", what, sn.ID, sn.CreatedAt().Local().Format("2006-01-02 15:04"), sn.Status, dash(strings.Join(sn.Tags, ",")), why)
	}
	total, gone := len(res.Decisions), len(res.Decisions)-res.Kept()
	if !applied {
		fmt.Fprintf(e.stdout, "would remove %d of %d snapshot(s); dry run: nothing was removed (pass --yes)\n", gone, total)
		return
	}
	fmt.Fprintf(e.stdout, "removed %d of %d snapshot(s)", len(res.Removed), total)
	if res.Remote != "" {
		fmt.Fprintf(e.stdout, ", also on %s", res.Remote)
	}
	fmt.Fprintln(e.stdout)
	if len(res.Removed) > 0 {
		fmt.Fprintln(e.stdout, "their objects are reclaimed by git gc (git gc --prune=now reclaims them at once)")
	}
}

type pruneJSON struct {
	MessageType string          `json:"message_type"`
	DryRun      bool            `json:"dry_run"`
	Policy      string          `json:"policy"`
	Snapshots   []pruneSnapJSON `json:"snapshots"`
	Removed     []string        `json:"removed"`
	Remote      string          `json:"remote,omitempty"`
	Warnings    []string        `json:"warnings,omitempty"`
}

type pruneSnapJSON struct {
	ID      string   `json:"id"`
	Keep    bool     `json:"keep"`
	Reasons []string `json:"reasons"`
}

func toPruneJSON(p gitsnap.RetentionPolicy, res *gitsnap.PruneResult, dryRun bool) pruneJSON {
	j := pruneJSON{MessageType: "summary", DryRun: dryRun, Policy: p.String(), Snapshots: []pruneSnapJSON{},
		Removed: append([]string{}, res.Removed...), Remote: res.Remote, Warnings: res.Warnings}
	for _, d := range res.Decisions {
		j.Snapshots = append(j.Snapshots, pruneSnapJSON{ID: d.Snapshot.ID, Keep: d.Keep, Reasons: append([]string{}, d.Reasons...)})
	}
	return j
}
