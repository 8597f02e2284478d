package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/scopes"
)

// env carries what every command needs; there are no globals.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	dir            string
	json, quiet    bool
	opened         []*gitsnap.Snap // by open, maintained after the command
}

// interactive reports whether we may prompt: stdin and stderr are terminals.
func (e *env) interactive() bool {
	return isTerminal(e.stdin) && isTerminal(e.stderr)
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// open opens the repository and the Snap for a command.
func (e *env) open(c *cli.Context) (*gitsnap.Snap, error) {
	repo, err := gitsnap.OpenRepo(e.dir)
	if err != nil {
		return nil, err
	}
	if repo.Root() == "" {
		return nil, gitsnap.WithHint(errors.New("this operation must be run in a work tree"), "run it in a checkout, not a bare repository")
	}
	snap, err := gitsnap.New(gitsnap.Options{
		Repo:     repo,
		Scopes:   scopes.Default(),
		Progress: newProgress(e),
		Version:  version,
		Getenv:   e.getenv,
	})
	if err == nil {
		e.opened = append(e.opened, snap)
	}
	return snap, err
}

// maintain rolls up the packs of the repositories a successful command
// wrote to, once there are too many (gitsnap.Snap.Maintain). A failure
// only warns: the command itself succeeded.
func (e *env) maintain(ctx context.Context) {
	for _, s := range e.opened {
		if _, err := s.Maintain(ctx); err != nil && ctx.Err() == nil {
			e.warn(fmt.Sprintf("could not roll up the repository's packs (%v); git gc does it too", err))
		}
	}
}

// run is main without os.Exit, so tests and testscript can call it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	dir, err := os.Getwd()
	if err != nil {
		return printError(stderr, err, false)
	}
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv, dir: dir}
	app := newApp(e)
	for _, c := range app.Commands {
		c.OnUsageError = app.OnUsageError // urfave/cli does not pass it down: unknown flags must exit 2
	}
	args = reorderArgs(app, args)
	err = app.RunContext(ctx, args)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err == nil {
		e.maintain(ctx)
	}
	if err != nil {
		return printError(stderr, err, e.json || hasFlag(args, "--json"))
	}
	return exitOK
}

func newApp(e *env) *cli.App {
	return &cli.App{
		Name:      "git-snap",
		HelpName:  "git snap",
		Usage:     "known-good snapshots of code, config, data and dependencies, stored in Git",
		Version:   version,
		Reader:    e.stdin,
		Writer:    e.stdout,
		ErrWriter: e.stderr,
		// urfave/cli must never exit the process: run maps errors to codes.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return usageError("git snap "+c.Command.Name+" --help shows the flags", "%s", err.Error())
		},
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "machine-readable output"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress output"},
			&cli.StringFlag{Name: "C", Usage: "run as if started in `DIR`"},
		},
		Before: func(c *cli.Context) error {
			e.json = e.json || c.Bool("json")
			e.quiet = e.quiet || c.Bool("quiet")
			if d := c.String("C"); d != "" {
				e.dir = d
			}
			return nil
		},
		Commands: []*cli.Command{
			initCommand(e),
			createCommand(e),
			listCommand(e),
			showCommand(e),
			restoreCommand(e),
			settleCommand(e),
			tagCommand(e),
			tryCommand(e),
			deployCommand(e),
			verifyCommand(e),
			checkCommand(e),
			statsCommand(e),
			pruneCommand(e),
			diffCommand(e),
			pushCommand(e),
			fetchCommand(e),
			hooksCommand(e),
			hookCommand(e),
			exportCommand(e),
			importCommand(e),
		},
		// An unknown command is a usage error (exit 2), like git's.
		CommandNotFound: func(c *cli.Context, name string) {},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError("git snap help lists the commands", "%q is not a git snap command", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
	}
}

// commonFlags are accepted after the subcommand as well.
func commonFlags(e *env) []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "json", Usage: "machine-readable output", Destination: &e.json},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress output", Destination: &e.quiet},
	}
}

func hasFlag(args []string, f string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == f {
			return true
		}
	}
	return false
}

// reorderArgs moves a subcommand's flags in front of its positional
// arguments, so that "git snap restore known-good --yes" works as users
// type it (urfave/cli v2 stops parsing flags at the first argument).
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	i := 1
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		if args[i] == "-C" && i+1 < len(args) {
			i++
		}
		i++
	}
	if i >= len(args) {
		return args
	}
	var cmd *cli.Command
	for _, c := range app.Commands {
		if c.HasName(args[i]) {
			cmd = c
		}
	}
	if cmd == nil {
		return args
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue["-"+n], takesValue["--"+n] = !isBool, !isBool
		}
	}
	var flags, pos []string
	rest := args[i+1:]
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		switch {
		case a == "--":
			pos = append(pos, rest[j:]...)
			j = len(rest)
		case strings.HasPrefix(a, "-") && a != "-":
			flags = append(flags, a)
			if takesValue[a] && !strings.Contains(a, "=") && j+1 < len(rest) {
				flags = append(flags, rest[j+1])
				j++
			}
		default:
			pos = append(pos, a)
		}
	}
	out := append([]string{}, args[:i+1]...)
	out = append(out, flags...)
	return append(out, pos...)
}
