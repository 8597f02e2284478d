package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/git-snap/git-snap/gitsnap"
)

func listCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "list",
		Aliases:   []string{"ls"},
		Usage:     "list snapshots, newest first",
		ArgsUsage: " ",
		Description: `Lists snapshots by recorded creation time (never file times), newest first.
Filters combine with AND.

EXIT STATUS
   0   success (also when nothing matches)
   2   bad flags
   128 not a git repository`,
		Flags: append(commonFlags(e),
			&cli.StringFlag{Name: "tag", Usage: "only snapshots with this tag"},
			&cli.StringFlag{Name: "branch", Usage: "only snapshots taken on this branch"},
			&cli.StringFlag{Name: "status", Usage: "only this validation status: passed, failed, unknown"},
			&cli.StringFlag{Name: "created-by", Usage: "only snapshots whose created_by contains this"},
			&cli.StringFlag{Name: "since", Usage: "created at or after: 7d, 36h, 30m, 2w, 2026-11-01 or 2026-11-01T14:30"},
			&cli.StringFlag{Name: "until", Usage: "created at or before (same forms as --since)"},
			&cli.StringFlag{Name: "before-commit", Usage: "created before this commit (hash, tag, HEAD~3) was committed"},
			&cli.StringFlag{Name: "where", Usage: "performance metric conditions, e.g. 'p95_ms<100 AND error_rate<=0.01'"},
			&cli.IntFlag{Name: "limit", Aliases: []string{"n"}, Usage: "at most N snapshots"},
		),
		Action: func(c *cli.Context) error {
			switch c.String("status") {
			case "", gitsnap.StatusPassed, gitsnap.StatusFailed, gitsnap.StatusUnknown:
			default:
				return usageError("use passed, failed or unknown", "invalid --status %q", c.String("status"))
			}
			o := gitsnap.ListOptions{Tag: c.String("tag"), Branch: c.String("branch"), Status: c.String("status"),
				CreatedBy: c.String("created-by"), BeforeCommit: c.String("before-commit"), Limit: c.Int("limit")}
			if c.Int("limit") < 0 {
				return usageError("give a positive number", "invalid --limit %d", c.Int("limit"))
			}
			var err error
			now := time.Now()
			if v := c.String("since"); v != "" {
				if o.Since, err = gitsnap.ParseTimeBound(v, now); err != nil {
					return err
				}
			}
			if v := c.String("until"); v != "" {
				if o.Until, err = gitsnap.ParseTimeBound(v, now); err != nil {
					return err
				}
			}
			if v := c.String("where"); v != "" {
				if o.Where, err = gitsnap.ParseWhere(v); err != nil {
					return err
				}
			}
			snap, err := e.open(c)
			if err != nil {
				return err
			}
			list, err := snap.List(c.Context, o)
			if err != nil {
				return err
			}
			for _, d := range snap.Damaged() {
				fmt.Fprintf(e.stderr, "warning: skipped %v (git snap check tells more)\n", d)
			}
			if e.json {
				out := make([]snapshotJSON, 0, len(list))
				for _, s := range list {
					j := toJSON(s, false)
					j.Held = snap.HoldsCopies(s)
					out = append(out, j)
				}
				return writeJSON(e.stdout, out)
			}
			if len(list) == 0 {
				fmt.Fprintln(e.stdout, "no snapshots (create one with: git snap create)")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tCREATED\tSTATUS\tBRANCH\tTAGS\tMESSAGE")
			for _, s := range list {
				status := string(s.Status)
				if snap.HoldsCopies(s) {
					status += " (held)" // its databases are on their servers until git snap settle
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.CreatedAt().Local().Format("2006-01-02 15:04"), status,
					dash(shortRef(s.Manifest.Branch)), dash(strings.Join(s.Tags, ",")), truncate(s.Manifest.Message, 50))
			}
			return tw.Flush()
		},
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}

func age(t time.Time, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}
