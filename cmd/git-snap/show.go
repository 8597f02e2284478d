package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/git-snap/git-snap/gitsnap"
)

func showCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "show a snapshot: manifest, validation, tags, restore history",
		ArgsUsage: "<snapshot>",
		Description: `A snapshot is named by id or id prefix, snapshot commit prefix, latest,
known-good, a tag, each optionally followed by ~N.

EXIT STATUS
   0   success
   10  no such snapshot, or the name is ambiguous
   128 not a git repository`,
		Flags: append(commonFlags(e), &cli.BoolFlag{Name: "any-branch", Usage: "known-good may come from any branch"}),
		Action: func(c *cli.Context) error {
			name := c.Args().First()
			if c.NArg() != 1 {
				return usageError("git snap show <snapshot>", "show takes exactly one snapshot name")
			}
			snap, err := e.open(c)
			if err != nil {
				return err
			}
			s, err := snap.Show(c.Context, name, gitsnap.ResolveOptions{AnyBranch: c.Bool("any-branch")})
			if err != nil {
				return err
			}
			if e.json {
				out := toJSON(s, true)
				out.Held = snap.HoldsCopies(s)
				return writeJSON(e.stdout, out)
			}
			m := s.Manifest
			w := e.stdout
			fmt.Fprintf(w, "snapshot  %s\n", s.ID)
			fmt.Fprintf(w, "commit    %s\n", s.Commit)
			fmt.Fprintf(w, "created   %s (%s) by %s on %s\n", m.CreatedAt.Local().Format(time.RFC3339), age(m.CreatedAt, time.Now()), m.CreatedBy, m.Host)
			if m.SourceCommit != "" {
				dirty := ""
				if m.Dirty {
					dirty = " (with uncommitted changes)"
				}
				fmt.Fprintf(w, "source    %s on %s%s\n", m.SourceCommit, dash(shortRef(m.Branch)), dirty)
			}
			if m.Message != "" {
				fmt.Fprintf(w, "message   %s\n", m.Message)
			}
			fmt.Fprintf(w, "status    %s\n", s.Status)
			if snap.HoldsCopies(s) {
				fmt.Fprintf(w, "held      its databases are on their servers until: git snap settle %s\n", s.ID)
			}
			fmt.Fprintf(w, "tags      %s\n", dash(strings.Join(s.Tags, ", ")))
			fmt.Fprintf(w, "scopes    %s\n", strings.Join(m.Scopes, ", "))
			for _, ch := range s.Checks {
				fmt.Fprintf(w, "  check %-20s %-6s %s exit %d %dms\n", ch.Name, ch.Kind, ch.Status, ch.ExitCode, ch.DurationMS)
			}
			if len(m.Artifacts) > 0 {
				fmt.Fprintln(w, "artifacts")
				for _, a := range m.Artifacts {
					fmt.Fprintf(w, "  %-12s %s %10d  %s\n", a.Scope, a.Mode, a.Size, a.Path)
				}
			}
			fmt.Fprintf(w, "restores  %d\n", s.RestoreCount)
			if len(s.Events) > 0 {
				fmt.Fprintln(w, "history")
				for _, ev := range s.Events {
					detail := strings.Join(ev.Tags, ",")
					if ev.Result != "" {
						detail = fmt.Sprintf("%s in %dms", ev.Result, ev.DurationMS)
					} else if ev.Status != "" {
						detail = ev.Status
					}
					fmt.Fprintf(w, "  %s  %-11s %s %s\n", ev.Time().Local().Format("2006-01-02 15:04:05"), ev.Type, detail, ev.By)
				}
			}
			return nil
		},
	}
}
