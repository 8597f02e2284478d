package main

import (
	"errors"
	"fmt"
	"sort"

	"github.com/urfave/cli/v2"

	"github.com/git-snap/git-snap/gitsnap"
)

func verifyCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "restore drill: restore a snapshot into a sandbox and run the checks there",
		ArgsUsage: "[<snapshot>]",
		Description: `Restores the snapshot (default: known-good) into a temporary linked worktree,
with SQLite databases inside it, runs the configured command checks there
(cwd = the sandbox, GITSNAP_DRILL=1, GITSNAP_SANDBOX=<dir>), records a drill
event with the result and the time per scope, and removes the sandbox, also
on failure or Ctrl-C. The live worktree, HEAD and databases are never
touched; [restore] stop/start commands and HTTP checks do not run. Made for
cron and CI.

EXIT STATUS
   0   the drill passed
   1   the snapshot did not restore in the sandbox
   4   it restored but a check failed in the sandbox
   6   the snapshot is damaged (missing object, size or sha256 mismatch)
   10  no such snapshot (or no known-good one)
   128 not a git repository
   130 interrupted; the sandbox was removed, nothing was recorded`,
		Flags: append(commonFlags(e),
			&cli.StringFlag{Name: "level", Usage: "run checks up to this kind: health, smoke, full, perf (default: [snapshot] level)"},
			&cli.BoolFlag{Name: "any-branch", Usage: "known-good may come from any branch"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return usageError("git snap verify [<snapshot>]", "verify takes one snapshot name")
			}
			snap, err := e.open(c)
			if err != nil {
				return err
			}
			res, err := snap.Verify(c.Context, c.Args().First(), gitsnap.VerifyOptions{Level: c.String("level"), AnyBranch: c.Bool("any-branch")})
			if res == nil || c.Err() != nil {
				return err
			}
			if e.json {
				if jerr := writeJSONLine(e.stdout, toDrillJSON(res)); jerr != nil && err == nil {
					return jerr
				}
				return err
			}
			printDrill(e, res)
			var ve *gitsnap.ValidationError
			if errors.As(err, &ve) {
				printFailedChecks(e, ve)
			}
			return err
		},
	}
}

type drillJSON struct {
	MessageType string           `json:"message_type"`
	Snapshot    string           `json:"snapshot"`
	Status      string           `json:"status"`
	DurationMS  int64            `json:"duration_ms"`
	ScopeMS     map[string]int64 `json:"scope_ms"`
	Checks      []checkJSON      `json:"checks"`
	Skipped     []string         `json:"skipped,omitempty"`
	Error       string           `json:"error,omitempty"`
}

func toDrillJSON(r *gitsnap.DrillResult) drillJSON {
	j := drillJSON{MessageType: "summary", Snapshot: r.Snapshot.ID, Status: r.Status, DurationMS: r.Duration.Milliseconds(),
		ScopeMS: r.ScopeMS, Checks: []checkJSON{}, Skipped: r.Skipped, Error: r.Error}
	if r.Validation != nil {
		for _, c := range r.Validation.Checks {
			j.Checks = append(j.Checks, checkJSON{Name: c.Name, Kind: c.Kind, Status: c.Status, ExitCode: c.ExitCode,
				DurationMS: c.DurationMS, Tail: c.Tail, Error: c.Error, Metrics: c.Metrics})
		}
	}
	return j
}

func printDrill(e *env, r *gitsnap.DrillResult) {
	fmt.Fprintf(e.stdout, "drill of %s %s in %.1fs\n", r.Snapshot.ID, r.Status, r.Duration.Seconds())
	scopes := make([]string, 0, len(r.ScopeMS))
	for s := range r.ScopeMS {
		scopes = append(scopes, s)
	}
	sort.Slice(scopes, func(i, j int) bool { return scopeOrder(scopes[i]) < scopeOrder(scopes[j]) })
	for _, s := range scopes {
		fmt.Fprintf(e.stdout, "  restored %-12s %6d ms\n", s, r.ScopeMS[s])
	}
	if v := r.Validation; v != nil {
		passed := 0
		for _, c := range v.Checks {
			if c.Status == gitsnap.StatusPassed {
				passed++
			}
		}
		fmt.Fprintf(e.stdout, "  checks: %d of %d passed (level %s)\n", passed, len(v.Checks), v.Level)
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(e.stdout, "  not exercised: %s\n", s)
	}
}

func scopeOrder(s string) int {
	for i, n := range gitsnap.AllScopes {
		if n == s {
			return i
		}
	}
	return len(gitsnap.AllScopes)
}
