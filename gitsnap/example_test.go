package gitsnap_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/scopes"
)

// exampleConfig captures the code and an untracked .env, and calls a state
// known-good only when .env holds the right token.
const exampleConfig = `[snapshot]
scopes = ["code", "config"]

[config]
paths = [".env"]

[[check]]
name = "token"
kind = "smoke"
run = "grep -q '^TOKEN=good$' .env"
`

// Example shows the whole cycle on a throwaway repository: create a
// validated snapshot, see a broken state refused, list the catalog and
// restore known-good. It needs the git binary only to set the repository
// up; git-snap itself reads and writes through gitsnap.OpenRepo.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "gitsnap-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	// A repository with tracked code and an untracked, ignored .env.
	if err := exampleSetupRepo(dir); err != nil {
		fmt.Println(err)
		return
	}

	// Wire the built-in scopes in, as cmd/git-snap does.
	repo, err := gitsnap.OpenRepo(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	snap, err := gitsnap.New(gitsnap.Options{Repo: repo, Scopes: scopes.Default()})
	if err != nil {
		fmt.Println(err)
		return
	}

	// create: the check passes, so the snapshot is tagged known-good.
	created, err := snap.Create(ctx, gitsnap.CreateOptions{Message: "first known-good"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("created:", created.Snapshot.Status, created.Snapshot.Tags, created.Snapshot.Manifest.Scopes)

	// Break the system; a broken state cannot become a snapshot.
	exampleWriteFile(dir, "app.txt", "v2 (broken)\n")
	exampleWriteFile(dir, ".env", "TOKEN=bad\n")
	_, err = snap.Create(ctx, gitsnap.CreateOptions{Message: "broken"})
	var ve *gitsnap.ValidationError
	if errors.As(err, &ve) {
		fmt.Printf("refused: %d of %d check(s) failed: %s\n", len(ve.Failed), ve.Total, ve.Failed[0].Name)
	}

	// list: the catalog, newest first.
	list, err := snap.List(ctx, gitsnap.ListOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("snapshots:", len(list))

	// restore known-good: a nil Confirm means "--yes".
	res, err := snap.Restore(ctx, gitsnap.TagKnownGood, gitsnap.RestoreOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range res.Plan.Scopes {
		for _, c := range p.Changes {
			fmt.Printf("restored %s: %s %s\n", p.Scope, c.Op, c.Path)
		}
	}
	fmt.Println("validated after restore:", res.Validation.Status)
	fmt.Print("app.txt: ", exampleReadFile(dir, "app.txt"))
	fmt.Print(".env: ", exampleReadFile(dir, ".env"))

	// The restore left a pre-restore safety snapshot, so it can be undone.
	list, err = snap.List(ctx, gitsnap.ListOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range list {
		fmt.Println("snapshot:", s.Status, s.Tags, s.RestoreCount, "restore(s)")
	}

	// Output:
	// created: passed [known-good] [code config]
	// refused: 1 of 1 check(s) failed: token
	// snapshots: 1
	// restored code: modify .
	// restored config: modify .env
	// validated after restore: passed
	// app.txt: v1
	// .env: TOKEN=good
	// snapshot: unknown [pre-restore] 0 restore(s)
	// snapshot: passed [known-good] 1 restore(s)
}

// exampleSetupRepo runs git init and commits app.txt and .gitsnap.toml,
// with git isolated from the user's configuration.
func exampleSetupRepo(dir string) error {
	home := filepath.Join(dir, ".home")
	if err := os.Mkdir(home, 0o755); err != nil {
		return err
	}
	exampleWriteFile(dir, "app.txt", "v1\n")
	exampleWriteFile(dir, ".env", "TOKEN=good\n")
	exampleWriteFile(dir, ".gitignore", ".env\n.home/\n")
	exampleWriteFile(dir, gitsnap.ConfigFile, exampleConfig)
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"config", "user.name", "Example"},
		{"config", "user.email", "example@example.com"},
		{"add", "app.txt", ".gitignore", gitsnap.ConfigFile},
		{"commit", "-q", "-m", "app"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+home)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}

func exampleWriteFile(dir, name, content string) {
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		fmt.Println(err)
	}
}

func exampleReadFile(dir, name string) string {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return err.Error() + "\n"
	}
	return string(b)
}
