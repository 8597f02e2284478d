package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run git-snap in-process: `exec git snap …` in a
// script goes through the real git binary, which finds git-snap on PATH.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"git-snap": func() { os.Exit(run(context.Background(), os.Args, os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs testdata/script/*.txtar end to end with real git.
func TestScripts(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end scripts are skipped with -short")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("..", "..", "testdata", "script"),
		RequireExplicitExec: true,
		UpdateScripts:       os.Getenv("UPDATE_SCRIPTS") == "1",
		Setup: func(env *testscript.Env) error {
			home := filepath.Join(env.WorkDir, "home")
			if err := os.MkdirAll(home, 0o755); err != nil {
				return err
			}
			env.Setenv("HOME", home)
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
			env.Setenv("GIT_CONFIG_NOSYSTEM", "1")
			env.Setenv("GIT_AUTHOR_NAME", "Snap Tester")
			env.Setenv("GIT_AUTHOR_EMAIL", "tester@example.com")
			env.Setenv("GIT_COMMITTER_NAME", "Snap Tester")
			env.Setenv("GIT_COMMITTER_EMAIL", "tester@example.com")
			env.Setenv("GIT_AUTHOR_DATE", "2026-01-02T03:04:05Z")
			env.Setenv("GIT_COMMITTER_DATE", "2026-01-02T03:04:05Z")
			env.Setenv("GITSNAP_CREATED_BY", "")
			env.Setenv("CI", "")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"chmod":       cmdChmod,
			"checkmode":   cmdCheckMode,
			"snapcorrupt": cmdSnapCorrupt,
			"grab":        cmdGrab,
			"jsonvalid":   cmdJSONValid,
			"jsonkeys":    cmdJSONKeys,
			"genfile":     cmdGenFile,
			"editfile":    cmdEditFile,
			"jsonnorm":    cmdJSONNorm,
		},
	})
}
