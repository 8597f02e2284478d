package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/git-snap/git-snap/gitsnap"
)

func createCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "validate the live state and snapshot it",
		ArgsUsage: " ",
		Description: `Runs the [[check]]s of .gitsnap.toml; if any fails, lists the failures and
writes nothing. Otherwise captures the scopes into refs/snapshots/<id> and records
the validation as a note; a passing snapshot is tagged known-good.

EXIT STATUS
   0   snapshot written
   2   bad flags or .gitsnap.toml
   4   a check failed; nothing was written
   11  a concurrent writer won a race; run again
   128 not a git repository
   130 interrupted; nothing was left half-written`,
		Flags: append(commonFlags(e),
			&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "describe the snapshot"},
			&cli.StringSliceFlag{Name: "scope", Aliases: []string{"s"}, Usage: "capture only this scope (repeatable): code, config, dependencies, files, database, full"},
			&cli.StringSliceFlag{Name: "tag", Aliases: []string{"t"}, Usage: "add a tag (repeatable)"},
			&cli.BoolFlag{Name: "no-validate", Usage: "skip the checks: an unvalidated snapshot, never known-good"},
			&cli.StringFlag{Name: "level", Usage: "validate up to this check kind: health, smoke, full, perf (default: [snapshot] level)"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError("use -m to give a message", "unexpected argument %q", c.Args().First())
			}
			snap, err := e.open(c)
			if err != nil {
				return err
			}
			res, err := snap.Create(c.Context, gitsnap.CreateOptions{
				Message: c.String("message"), Scopes: splitList(c.StringSlice("scope")),
				Tags: splitList(c.StringSlice("tag")), NoValidate: c.Bool("no-validate"), Level: c.String("level"),
			})
			var ve *gitsnap.ValidationError
			if errors.As(err, &ve) && !e.json {
				printFailedChecks(e, ve)
			}
			if err != nil {
				return err
			}
			if e.json {
				return writeJSONLine(e.stdout, createJSON{MessageType: "summary", DurationMS: res.Duration.Milliseconds(), Snapshot: toJSON(res.Snapshot, false), Warnings: res.Warnings})
			}
			for _, w := range res.Warnings {
				fmt.Fprintf(e.stderr, "warning: %s\n", w)
			}
			s := res.Snapshot
			status := "unvalidated"
			if res.Validation != nil {
				status = fmt.Sprintf("validated: %d check(s) passed at level %s", len(res.Validation.Checks), res.Validation.Level)
			}
			fmt.Fprintf(e.stdout, "created %s\n", s.ID)
			fmt.Fprintf(e.stdout, "  scopes: %s\n  status: %s\n", strings.Join(s.Manifest.Scopes, ", "), status)
			if len(s.Tags) > 0 {
				fmt.Fprintf(e.stdout, "  tags:   %s\n", strings.Join(s.Tags, ", "))
			}
			return nil
		},
	}
}

func printFailedChecks(e *env, ve *gitsnap.ValidationError) {
	for _, f := range ve.Failed {
		reason := fmt.Sprintf("exit %d", f.ExitCode)
		if f.Err != "" {
			reason = f.Err
		}
		fmt.Fprintf(e.stderr, "check %q failed (%s)\n", f.Name, reason)
		for _, l := range lastLines(f.Tail, 10) {
			fmt.Fprintf(e.stderr, "  | %s\n", l)
		}
	}
}

func lastLines(s string, n int) []string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return nil
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// splitList accepts both repeated flags and comma-separated values.
func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}
