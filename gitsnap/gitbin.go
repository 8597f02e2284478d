package gitsnap

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// runGit runs the git binary for the few operations where git's own
// behaviour is the contract (config writes, transports). git-snap is a git
// extension, so git is on PATH whenever we run.
func runGit(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// ConfigureNotesMerge sets notes.snap.mergeStrategy=cat_sort_uniq so that
// stock "git notes merge" of snapshot notes is lossless, matching git-snap.
func ConfigureNotesMerge(ctx context.Context, repo Repo) error {
	if v, ok := repo.ConfigValue("notes.snap.mergeStrategy"); ok && v == "cat_sort_uniq" {
		return nil
	}
	_, err := runGit(ctx, repo.Root(), "config", "notes.snap.mergeStrategy", "cat_sort_uniq")
	return err
}
