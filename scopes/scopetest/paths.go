package scopetest

import (
	"context"
	"errors"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/git-snap/git-snap/gitsnap"
)

// PathCase is a path-pattern scope under test. The suite fills the root
// itself, so it only needs to know which paths the patterns cover.
type PathCase struct {
	Scope gitsnap.Scope
	Env   *gitsnap.ScopeEnv // Env.Root is the root RunPaths passed in
	// Inside are at least 5 file paths the patterns cover, none a parent
	// of another. The suite makes Inside[0] a 0600 file, Inside[1] a 0755
	// file, Inside[2] a symlink to a file outside the root, Inside[3] a
	// 0644 file and Inside[4] an empty file.
	Inside []string
	// Stray is at least one path the patterns cover that is not in Inside;
	// it is created only after the capture. Put one in a new directory to
	// check that restore removes the directory it leaves empty.
	Stray []string
	// Outside is at least one path the patterns do not cover.
	Outside []string
}

// RunPaths runs Run plus the checks specific to path scopes. newCase gets
// an empty root directory; the suite keeps the root's parent for itself
// (an "outside" directory and nothing else), to prove nothing is written
// outside the root.
func RunPaths(t *testing.T, newCase func(t *testing.T, root string) *PathCase) {
	t.Helper()
	newFixture := func(t *testing.T) *pathFixture {
		t.Helper()
		dir := t.TempDir()
		f := &pathFixture{dir: dir, root: filepath.Join(dir, "work"), outside: filepath.Join(dir, "outside")}
		for _, d := range []string{f.root, f.outside} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		f.PathCase = newCase(t, f.root)
		if len(f.Inside) < 5 || len(f.Stray) < 1 || len(f.Outside) < 1 {
			t.Fatalf("PathCase needs 5 Inside, 1 Stray and 1 Outside paths; got %d, %d, %d", len(f.Inside), len(f.Stray), len(f.Outside))
		}
		return f
	}
	Run(t, func(t *testing.T) *Case { return newFixture(t).asCase() })
	t.Run("PlanLists", func(t *testing.T) { testPlanLists(t, newFixture(t)) })
	t.Run("ModesAndLinks", func(t *testing.T) { testModesAndLinks(t, newFixture(t)) })
	t.Run("OutsideUntouched", func(t *testing.T) { testOutsideUntouched(t, newFixture(t)) })
	t.Run("IntegrityKeepsOriginal", func(t *testing.T) { testIntegrityKeepsOriginal(t, newFixture(t)) })
	t.Run("UnsafePaths", func(t *testing.T) { testUnsafePaths(t, newFixture) })
}

type pathFixture struct {
	*PathCase
	dir, root, outside string
}

func (f *pathFixture) linkTarget() string { return filepath.Join(f.outside, "target.txt") }

// setup fills the root: the Inside files, the Outside files and a .git dir.
func (f *pathFixture) setup(t *testing.T) {
	t.Helper()
	WriteFile(t, f.outside, "target.txt", "outside the root\n", 0o644)
	WriteFile(t, f.root, ".git/config", "[core]\n", 0o644)
	WriteFile(t, f.root, f.Inside[0], "SECRET=1\n", 0o600)
	WriteFile(t, f.root, f.Inside[1], "#!/bin/sh\necho one\n", 0o755)
	Symlink(t, f.root, f.Inside[2], f.linkTarget())
	WriteFile(t, f.root, f.Inside[3], "three\n", 0o644)
	WriteFile(t, f.root, f.Inside[4], "", 0o644)
	for i, p := range f.Inside[5:] {
		WriteFile(t, f.root, p, strings.Repeat("x", i+1), 0o644)
	}
	for _, p := range f.Outside {
		WriteFile(t, f.root, p, "outside "+p+"\n", 0o644)
	}
}

// mutate makes every kind of change: mode only, same-size content,
// link target, size, deletion, stray files.
func (f *pathFixture) mutate(t *testing.T) {
	t.Helper()
	abs := func(rel string) string { return filepath.Join(f.root, filepath.FromSlash(rel)) }
	if err := os.Chmod(abs(f.Inside[0]), 0o644); err != nil {
		t.Fatal(err)
	}
	WriteFile(t, f.root, f.Inside[1], "#!/bin/sh\necho two\n", 0o755)
	if err := os.Remove(abs(f.Inside[2])); err != nil {
		t.Fatal(err)
	}
	Symlink(t, f.root, f.Inside[2], "elsewhere")
	WriteFile(t, f.root, f.Inside[3], "three, longer\n", 0o644)
	if err := os.Remove(abs(f.Inside[4])); err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Stray {
		WriteFile(t, f.root, p, "stray\n", 0o644)
	}
}

func (f *pathFixture) asCase() *Case {
	return &Case{
		Scope:  f.Scope,
		Env:    f.Env,
		Setup:  f.setup,
		Mutate: f.mutate,
		State:  func(t *testing.T) string { return Listing(t, f.root) },
	}
}

func testPlanLists(t *testing.T, f *pathFixture) {
	c := f.asCase()
	c.Setup(t)
	st := Capture(t, c)
	c.Mutate(t)
	type change struct{ Op, Path string }
	want := []change{
		{string(gitsnap.OpMode), f.Inside[0]},
		{string(gitsnap.OpModify), f.Inside[1]},
		{string(gitsnap.OpModify), f.Inside[2]},
		{string(gitsnap.OpModify), f.Inside[3]},
		{string(gitsnap.OpAdd), f.Inside[4]},
	}
	for _, p := range f.Stray {
		want = append(want, change{string(gitsnap.OpRemove), p})
	}
	sort.Slice(want, func(i, j int) bool { return want[i].Path < want[j].Path })
	var got []change
	for _, ch := range Plan(t, c, st).Changes {
		got = append(got, change{string(ch.Op), ch.Path})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
}

func testModesAndLinks(t *testing.T, f *pathFixture) {
	c := f.asCase()
	c.Setup(t)
	st := Capture(t, c)
	byPath := map[string]gitsnap.Artifact{}
	for _, a := range st.Artifacts() {
		byPath[a.Path] = a
	}
	if a := byPath[f.Inside[0]]; a.Kind != gitsnap.KindBlob || a.Mode.Perm() != 0o600 {
		t.Errorf("%s captured as %s %s, want blob 0600", f.Inside[0], a.Kind, a.Mode)
	}
	if a := byPath[f.Inside[1]]; a.Mode.Perm() != 0o755 {
		t.Errorf("%s captured with mode %s, want 0755", f.Inside[1], a.Mode)
	}
	if data, _ := st.Data(f.Inside[2]); byPath[f.Inside[2]].Kind != gitsnap.KindSymlink || string(data) != f.linkTarget() {
		t.Errorf("%s captured as %s %q, want a symlink to %s", f.Inside[2], byPath[f.Inside[2]].Kind, data, f.linkTarget())
	}
	for _, p := range f.Outside {
		if _, ok := byPath[p]; ok {
			t.Errorf("%s is outside the patterns but was captured", p)
		}
	}
	if _, ok := byPath[".git/config"]; ok {
		t.Error(".git/config was captured")
	}
	outsideBefore := Listing(t, f.outside)
	c.Mutate(t)
	if err := c.Scope.Restore(context.Background(), c.Env, st); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(filepath.Join(f.root, filepath.FromSlash(f.Inside[0])))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s restored as %v (err %v), want mode 0600", f.Inside[0], fi.Mode(), err)
	}
	target, err := os.Readlink(filepath.Join(f.root, filepath.FromSlash(f.Inside[2])))
	if err != nil || target != f.linkTarget() {
		t.Errorf("%s restored as link to %q (err %v), want %q", f.Inside[2], target, err, f.linkTarget())
	}
	if diff := cmp.Diff(outsideBefore, Listing(t, f.outside)); diff != "" {
		t.Errorf("the link's target outside the root changed:\n%s", diff)
	}
}

func testOutsideUntouched(t *testing.T, f *pathFixture) {
	c := f.asCase()
	c.Setup(t)
	st := Capture(t, c)
	for _, p := range f.Outside {
		WriteFile(t, f.root, p, "changed after capture\n", 0o600)
	}
	extra := path.Join(path.Dir(f.Outside[0]), "new-untracked-outside.txt")
	WriteFile(t, f.root, extra, "new\n", 0o644)
	WriteFile(t, f.root, ".git/config", "[core]\n\tbare = false\n", 0o644)
	for _, rel := range f.Inside {
		if err := os.Remove(filepath.Join(f.root, filepath.FromSlash(rel))); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]string{extra: "new\n", ".git/config": "[core]\n\tbare = false\n"}
	for _, p := range f.Outside {
		want[p] = "changed after capture\n"
	}
	if err := c.Scope.Restore(context.Background(), c.Env, st); err != nil {
		t.Fatal(err)
	}
	for rel, content := range want {
		b, err := os.ReadFile(filepath.Join(f.root, filepath.FromSlash(rel)))
		if err != nil || string(b) != content {
			t.Errorf("%s outside the patterns: got %q (err %v), want %q untouched", rel, b, err, content)
		}
	}
}

func testIntegrityKeepsOriginal(t *testing.T, f *pathFixture) {
	c := f.asCase()
	c.Setup(t)
	st := Capture(t, c)
	c.Mutate(t)
	before := Listing(t, f.root)
	st.Corrupt(f.Inside[3])
	err := c.Scope.Restore(context.Background(), c.Env, st)
	if !errors.Is(err, gitsnap.ErrIntegrity) {
		t.Fatalf("restore with a corrupted artifact: got %v, want ErrIntegrity", err)
	}
	b, _ := os.ReadFile(filepath.Join(f.root, filepath.FromSlash(f.Inside[3])))
	if string(b) != "three, longer\n" {
		t.Errorf("%s was changed by a failed restore: %q", f.Inside[3], b)
	}
	known := map[string]bool{}
	for _, l := range strings.Split(before, "\n") {
		known[strings.Fields(l + " x")[0]] = true
	}
	for _, a := range st.Artifacts() {
		known[a.Path] = true
	}
	for _, l := range strings.Split(strings.TrimSpace(Listing(t, f.root)), "\n") {
		if p := strings.Fields(l)[0]; !known[p] {
			t.Errorf("failed restore left %s behind", p)
		}
	}
}
