package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/git-snap/git-snap/gitsnap"
)

const tryExitStatus = `EXIT STATUS
   0   the change passed validation; a new known-good snapshot was written
   2   bad flags or .gitsnap.toml
   4   the current state fails validation; nothing ran (see --allow-unvalidated)
   5   the change failed and the rollback failed too: restore the named snapshot by hand
   7   the command failed or timed out; the pre-change state was restored
   8   the command passed but validation failed; the pre-change state was restored
   128 not a git repository
   130 interrupted; the pre-change state was restored`

func tryCommand(e *env) *cli.Command {
	return changeCommand(e, false)
}

func deployCommand(e *env) *cli.Command {
	return changeCommand(e, true)
}

// changeCommand builds try and deploy, which differ only in defaults.
func changeCommand(e *env, deploy bool) *cli.Command {
	name, usage, level := "try", "run a change; undo it automatically if it fails", "configured [snapshot] level"
	desc := `Validates the current state and snapshots it (tagged pre-try), runs the
command, validates again, and restores the pre-change snapshot automatically
(every scope, databases included) when the command fails, times out or is
interrupted, or when validation fails. A passing change becomes a new
known-good snapshot. One argument runs with sh -c; several run as a command
line. The command sees GITSNAP_PRE_SNAPSHOT=<id>.`
	if deploy {
		name, usage, level = "deploy", "deploy with automatic rollback: try with full validation and a deploy tag", "full"
		desc = `Like git snap try, with deploy defaults: validation runs up to the full level,
the pre-change snapshot is tagged pre-deploy and the new known-good snapshot
is tagged deploy.`
	}
	return &cli.Command{
		Name:        name,
		Usage:       usage,
		ArgsUsage:   "-- <command> [<arg>...]",
		Description: desc + "\n\n" + tryExitStatus,
		Flags: append(commonFlags(e),
			&cli.DurationFlag{Name: "timeout", Usage: "kill the command after this long (e.g. 10m; 0: no limit)"},
			&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "message of the post-change snapshot"},
			&cli.StringSliceFlag{Name: "scope", Aliases: []string{"s"}, Usage: "snapshot and restore only this scope (repeatable)"},
			&cli.StringSliceFlag{Name: "tag", Aliases: []string{"t"}, Usage: "extra tag for the post-change snapshot (repeatable)"},
			&cli.StringFlag{Name: "level", Usage: "validation depth: health, smoke, full, perf (default: " + level + ")"},
			&cli.BoolFlag{Name: "allow-unvalidated", Usage: "start even when the current state fails validation"},
		),
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			if len(args) == 0 {
				return usageError("git snap "+name+" -- <command> [<arg>...]", "no command given")
			}
			snap, err := e.open(c)
			if err != nil {
				return err
			}
			// With --json, stdout carries only JSON: the command's output goes to stderr.
			out := e.stdout
			if e.json {
				out = e.stderr
			}
			res, err := snap.Try(c.Context, gitsnap.TryOptions{
				Command: args, Timeout: c.Duration("timeout"), Message: c.String("message"),
				Scopes: splitList(c.StringSlice("scope")), Tags: splitList(c.StringSlice("tag")), Level: c.String("level"),
				Deploy: deploy, AllowUnvalidated: c.Bool("allow-unvalidated"),
				Stdin: e.stdin, Stdout: out, Stderr: e.stderr,
			})
			var tf *gitsnap.TryFailedError
			if errors.As(err, &tf) {
				res = tf.Result
			}
			var ve *gitsnap.ValidationError
			if errors.As(err, &ve) && !e.json {
				printFailedChecks(e, ve)
			}
			if res == nil {
				return err
			}
			for _, w := range res.Warnings {
				fmt.Fprintf(e.stderr, "warning: %s\n", w)
			}
			if e.json {
				if jerr := writeJSONLine(e.stdout, toTryJSON(res)); jerr != nil && err == nil {
					return jerr
				}
				return err
			}
			printTry(e, res)
			return err
		},
	}
}

// Exit codes of try and deploy (docs/exit-codes.md), beside exit.go's.
const (
	exitChangeFailed  = 7 // the command failed or timed out; the pre-change state is back
	exitChangeInvalid = 8 // validation failed after the change; the pre-change state is back
)

// tryExitCode maps a failed change to its exit code (docs/exit-codes.md).
func tryExitCode(tf *gitsnap.TryFailedError) int {
	switch {
	case !tf.RolledBack:
		return exitRolledBack
	case tf.Outcome == gitsnap.OutcomeInterrupted:
		return exitInterrupted
	case tf.Outcome == gitsnap.OutcomeValidationFailed:
		return exitChangeInvalid
	}
	return exitChangeFailed
}

type tryJSON struct {
	MessageType string           `json:"message_type"`
	Outcome     string           `json:"outcome"`
	Before      string           `json:"pre_change_snapshot"`
	After       string           `json:"snapshot,omitempty"`
	ExitCode    int              `json:"command_exit_code"`
	RolledBack  bool             `json:"rolled_back"`
	RollbackMS  int64            `json:"rollback_ms,omitempty"`
	ScopeMS     map[string]int64 `json:"scope_ms,omitempty"`
	Checks      []checkJSON      `json:"checks,omitempty"`
	DurationMS  int64            `json:"duration_ms"`
	Warnings    []string         `json:"warnings,omitempty"`
}

func toTryJSON(r *gitsnap.TryResult) tryJSON {
	j := tryJSON{MessageType: "summary", Outcome: r.Outcome, ExitCode: r.ExitCode, RolledBack: r.RolledBack,
		RollbackMS: r.Rollback.Milliseconds(), ScopeMS: r.ScopeMS, DurationMS: r.Duration.Milliseconds(), Warnings: r.Warnings}
	if r.Before != nil {
		j.Before = r.Before.ID
	}
	if r.After != nil {
		j.After = r.After.ID
	}
	if r.Validation != nil {
		for _, c := range r.Validation.Checks {
			j.Checks = append(j.Checks, checkJSON{Name: c.Name, Kind: c.Kind, Status: c.Status, ExitCode: c.ExitCode,
				DurationMS: c.DurationMS, Error: c.Error, Metrics: c.Metrics})
		}
	}
	return j
}

func printTry(e *env, r *gitsnap.TryResult) {
	if r.Before != nil {
		fmt.Fprintf(e.stdout, "pre-change snapshot: %s (%s)\n", r.Before.ID, dash(strings.Join(r.Before.Tags, ", ")))
	}
	switch {
	case r.Outcome == gitsnap.OutcomeSucceeded:
		fmt.Fprintf(e.stdout, "change succeeded in %.1fs\n", r.Duration.Seconds())
		fmt.Fprintf(e.stdout, "created %s (%s)\n", r.After.ID, dash(strings.Join(r.After.Tags, ", ")))
		fmt.Fprintf(e.stdout, "undo with: git snap restore %s\n", r.Before.ID)
	case r.RolledBack:
		fmt.Fprintf(e.stdout, "change %s; rolled back to %s in %.1fs\n", strings.ReplaceAll(r.Outcome, "_", " "), r.Before.ID, r.Rollback.Seconds())
	}
}
