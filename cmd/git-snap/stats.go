package main

import (
	"fmt"
	"sort"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/git-snap/git-snap/gitsnap"
)

func statsCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "stats",
		Usage:     "restore and drill statistics: counts, success rate, median and p95 restore time (MTTR)",
		ArgsUsage: " ",
		Description: `Folds the restored and drill events of every snapshot: counts, success
rate, and median, p95 and max duration of the successful ones (for restores:
the time to recover), overall and per scope. Warns when the latest
known-good snapshot has never been drilled, its last drill failed, or it is
older than --max-drill-age (default 30 days).

EXIT STATUS
   0   statistics printed (warnings do not change the exit status)
   2   bad flags
   128 not a git repository`,
		Flags: append(commonFlags(e),
			&cli.StringFlag{Name: "since", Usage: "only events at or after: 7d, 2w, 2026-11-01 …"},
			&cli.DurationFlag{Name: "max-drill-age", Value: gitsnap.DefaultDrillMaxAge, Usage: "warn when the last drill of the latest known-good is older"},
			&cli.BoolFlag{Name: "any-branch", Usage: "the latest known-good may come from any branch"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError("git snap stats [--since 30d]", "stats takes no argument")
			}
			snap, err := e.open(c)
			if err != nil {
				return err
			}
			o := gitsnap.StatsOptions{DrillMaxAge: c.Duration("max-drill-age"), AnyBranch: c.Bool("any-branch")}
			if v := c.String("since"); v != "" {
				if o.Since, err = gitsnap.ParseTimeBound(v, time.Now()); err != nil {
					return err
				}
			}
			st, err := snap.Stats(c.Context, o)
			if err != nil {
				return err
			}
			if e.json {
				return writeJSON(e.stdout, toStatsJSON(st))
			}
			printOutcomes(e, "restores", "MTTR", st.Restores)
			printOutcomes(e, "drills", "drill time", st.Drills)
			if kg := st.LatestKnownGood; kg != nil {
				last := "never drilled"
				if st.LastDrill != nil {
					last = fmt.Sprintf("last drill %s %s", st.LastDrill.Time().Local().Format("2006-01-02 15:04"), st.LastDrill.Status)
				}
				fmt.Fprintf(e.stdout, "latest known-good: %s (%s)\n", kg.ID, last)
			}
			for _, w := range st.Warnings {
				fmt.Fprintf(e.stderr, "warning: %s\n", w)
			}
			return nil
		},
	}
}

func printOutcomes(e *env, what, timeName string, o gitsnap.OutcomeStats) {
	if o.Count == 0 {
		fmt.Fprintf(e.stdout, "%s: none recorded\n", what)
		return
	}
	fmt.Fprintf(e.stdout, "%s: %d, %d succeeded (%.0f%%)", what, o.Count, o.Succeeded, 100*o.SuccessRate)
	if o.RolledBack > 0 {
		fmt.Fprintf(e.stdout, ", %d rolled back", o.RolledBack)
	}
	if o.Failed > 0 {
		fmt.Fprintf(e.stdout, ", %d failed", o.Failed)
	}
	fmt.Fprintln(e.stdout)
	if o.Duration.Count == 0 {
		return
	}
	fmt.Fprintf(e.stdout, "  %-14s median %s  p95 %s  max %s\n", timeName, ms(o.Duration.MedianMS), ms(o.Duration.P95MS), ms(o.Duration.MaxMS))
	scopes := make([]string, 0, len(o.Scopes))
	for s := range o.Scopes {
		scopes = append(scopes, s)
	}
	sort.Slice(scopes, func(i, j int) bool { return scopeOrder(scopes[i]) < scopeOrder(scopes[j]) })
	for _, s := range scopes {
		d := o.Scopes[s]
		fmt.Fprintf(e.stdout, "  %-14s median %s  p95 %s  max %s\n", s, ms(d.MedianMS), ms(d.P95MS), ms(d.MaxMS))
	}
}

func ms(v int64) string {
	if v >= 10000 {
		return fmt.Sprintf("%.0fs", float64(v)/1000)
	}
	if v >= 1000 {
		return fmt.Sprintf("%.1fs", float64(v)/1000)
	}
	return fmt.Sprintf("%dms", v)
}

type outcomeJSON struct {
	Count       int                     `json:"count"`
	Succeeded   int                     `json:"succeeded"`
	RolledBack  int                     `json:"rolled_back"`
	Failed      int                     `json:"failed"`
	SuccessRate float64                 `json:"success_rate"`
	Duration    durationJSON            `json:"duration"`
	Scopes      map[string]durationJSON `json:"scopes"`
	Last        *time.Time              `json:"last"`
}

type durationJSON struct {
	Count    int   `json:"count"`
	MedianMS int64 `json:"median_ms"`
	P95MS    int64 `json:"p95_ms"`
	MaxMS    int64 `json:"max_ms"`
}

type statsJSON struct {
	Snapshots       int         `json:"snapshots"`
	Restores        outcomeJSON `json:"restores"`
	Drills          outcomeJSON `json:"drills"`
	LatestKnownGood string      `json:"latest_known_good,omitempty"`
	LastDrill       *time.Time  `json:"last_drill,omitempty"`
	LastDrillStatus string      `json:"last_drill_status,omitempty"`
	Warnings        []string    `json:"warnings"`
}

func toOutcomeJSON(o gitsnap.OutcomeStats) outcomeJSON {
	dj := func(d gitsnap.DurationStats) durationJSON {
		return durationJSON{Count: d.Count, MedianMS: d.MedianMS, P95MS: d.P95MS, MaxMS: d.MaxMS}
	}
	j := outcomeJSON{Count: o.Count, Succeeded: o.Succeeded, RolledBack: o.RolledBack, Failed: o.Failed,
		SuccessRate: o.SuccessRate, Duration: dj(o.Duration), Scopes: map[string]durationJSON{}, Last: o.Last}
	for s, d := range o.Scopes {
		j.Scopes[s] = dj(d)
	}
	return j
}

func toStatsJSON(st *gitsnap.Stats) statsJSON {
	j := statsJSON{Snapshots: st.Snapshots, Restores: toOutcomeJSON(st.Restores), Drills: toOutcomeJSON(st.Drills), Warnings: append([]string{}, st.Warnings...)}
	if st.LatestKnownGood != nil {
		j.LatestKnownGood = st.LatestKnownGood.ID
	}
	if st.LastDrill != nil {
		t := st.LastDrill.Time()
		j.LastDrill, j.LastDrillStatus = &t, st.LastDrill.Status
	}
	return j
}
