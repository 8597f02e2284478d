package gitsnap

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValuePrecedence(t *testing.T) {
	t.Parallel()
	f := newGitFixture(t)
	home := f.env["HOME"]
	system := filepath.Join(filepath.Dir(home), "system-gitconfig")
	delete(f.env, "GIT_CONFIG_NOSYSTEM")
	f.env["GIT_CONFIG_SYSTEM"] = system
	writeFile(t, system, "[snap]\n\tlevel = system\n\tsystem = yes\n")
	writeFile(t, filepath.Join(home, ".config", "git", "config"), "[snap]\n\tlevel = xdg\n\txdg = yes\n")
	writeFile(t, filepath.Join(home, ".gitconfig"), "[snap]\n\tlevel = global\n\tglobal = yes\n[include]\n\tpath = extra.inc\n")
	writeFile(t, filepath.Join(home, "extra.inc"), "[snap]\n\tincluded = yes\n")
	f.git("config", "snap.level", "repo")
	f.git("config", "--add", "snap.multi", "first")
	f.git("config", "--add", "snap.multi", "second")
	f.git("config", "Notes.snap.MergeStrategy", "cat_sort_uniq")
	f.git("config", "core.repositoryformatversion", "1")
	f.git("config", "extensions.worktreeConfig", "true")
	f.git("config", "--worktree", "snap.worktree", "yes")
	f.git("config", "--worktree", "snap.wtlevel", "worktree")
	f.env["GIT_CONFIG_COUNT"] = "1"
	f.env["GIT_CONFIG_KEY_0"] = "snap.envlevel"
	f.env["GIT_CONFIG_VALUE_0"] = "env"
	f.env["GIT_CONFIG_PARAMETERS"] = `'snap.param'='it'\''s' 'snap.old=style'`
	r := f.open(f.dir)

	tests := []struct {
		key, want string
		ok        bool
	}{
		{"snap.level", "repo", true},
		{"snap.system", "yes", true},
		{"snap.xdg", "yes", true},
		{"snap.global", "yes", true},
		{"snap.included", "yes", true},
		{"snap.multi", "second", true},
		{"SNAP.LEVEL", "repo", true},
		{"notes.snap.mergeStrategy", "cat_sort_uniq", true},
		{"NOTES.snap.MERGESTRATEGY", "cat_sort_uniq", true},
		{"notes.SNAP.mergeStrategy", "", false},
		{"snap.worktree", "yes", true},
		{"snap.wtlevel", "worktree", true},
		{"snap.envlevel", "env", true},
		{"snap.param", "it's", true},
		{"snap.old", "style", true},
		{"snap.missing", "", false},
		{"nodot", "", false},
	}
	for _, tc := range tests {
		got, ok := r.ConfigValue(tc.key)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ConfigValue(%q) = %q, %v; want %q, %v", tc.key, got, ok, tc.want, tc.ok)
		}
	}
	// git itself agrees on the file-based values.
	for _, key := range []string{"snap.level", "snap.system", "snap.xdg", "snap.included", "snap.multi", "notes.snap.mergeStrategy", "snap.worktree", "snap.envlevel", "snap.param"} {
		want := f.git("config", "--get", key)
		if got, _ := r.ConfigValue(key); got != want {
			t.Errorf("ConfigValue(%q) = %q, git config says %q", key, got, want)
		}
	}

	f.env["GIT_CONFIG_NOSYSTEM"] = "1"
	if v, ok := r.ConfigValue("snap.system"); ok {
		t.Errorf("GIT_CONFIG_NOSYSTEM: snap.system = %q", v)
	}
	f.env["GIT_CONFIG_GLOBAL"] = os.DevNull
	if v, ok := r.ConfigValue("snap.global"); ok {
		t.Errorf("GIT_CONFIG_GLOBAL=/dev/null: snap.global = %q", v)
	}
}

func TestParseConfigParameters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want [][2]string
	}{
		{"", nil},
		{`'a.b'='c'`, [][2]string{{"a.b", "c"}}},
		{`'a.b=c' 'd.e'='f g'`, [][2]string{{"a.b", "c"}, {"d.e", "f g"}}},
		{`'a.b'='it'\''s'`, [][2]string{{"a.b", "it's"}}},
		{`'a.b'=`, [][2]string{{"a.b", ""}}},
		{`'unterminated`, nil},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, parseConfigParameters(tc.in)); diff != "" {
			t.Errorf("parseConfigParameters(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestConfigIncludeIf(t *testing.T) {
	t.Parallel()
	f := newGitFixture(t)
	home := f.env["HOME"]
	base := filepath.Dir(home)
	writeFile(t, filepath.Join(home, ".gitconfig"), `[user]
	name = Default
[includeIf "gitdir:`+filepath.ToSlash(base)+`/repo/"]
	path = abs.inc
[includeIf "gitdir/i:REPO/.GIT"]
	path = fold.inc
[includeIf "gitdir:other/"]
	path = never.inc
[includeIf "onbranch:main"]
	path = branch.inc
[includeIf "onbranch:release/"]
	path = never.inc
`)
	writeFile(t, filepath.Join(home, "abs.inc"), "[user]\n\tname = Work\n")
	writeFile(t, filepath.Join(home, "fold.inc"), "[snap]\n\tfold = yes\n")
	writeFile(t, filepath.Join(home, "branch.inc"), "[snap]\n\tbranch = main\n")
	writeFile(t, filepath.Join(home, "never.inc"), "[snap]\n\tnever = yes\n[user]\n\tname = Never\n")
	r := f.open(f.dir)
	for _, key := range []string{"user.name", "snap.fold", "snap.branch", "snap.never"} {
		got, ok := r.ConfigValue(key)
		want := ""
		cmd := testGitCmd(f, "config", "--get", key)
		if out, err := cmd.Output(); err == nil {
			want = strings.TrimSpace(string(out))
		}
		if got != want || ok != (want != "") {
			t.Errorf("ConfigValue(%q) = %q, %v; git config says %q", key, got, ok, want)
		}
	}
	for key, want := range map[string]string{"user.name": "Work", "snap.fold": "yes", "snap.branch": "main"} {
		if got, _ := r.ConfigValue(key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
}

// testGitCmd builds a git command in the fixture's repo and environment.
func testGitCmd(f *gitFixture, args ...string) *exec.Cmd {
	cmd := exec.Command("git", args...)
	cmd.Dir = f.dir
	cmd.Env = envList(f.env)
	return cmd
}
