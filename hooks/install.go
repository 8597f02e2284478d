package hooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Managed lists the hooks git-snap installs.
func Managed() []string { return []string{"pre-push"} }

// BackupSuffix is appended to a hook replaced with --force.
const BackupSuffix = ".git-snap-backup"

// Shim returns the current stub for a hook: it runs `git snap hook <name>`
// and says clearly what to do when git-snap is not installed.
func Shim(name string) string {
	return "#!/bin/sh\n" +
		"# git-snap " + name + " hook, v1. Written by \"git snap hooks install\" and removed by\n" +
		"# \"git snap hooks uninstall\". Once edited, git-snap leaves it alone.\n" +
		"if ! command -v git-snap >/dev/null 2>&1; then\n" +
		"\techo >&2 \"error: this repository's " + name + " hook runs git-snap, which is not on PATH\"\n" +
		"\techo >&2 \"hint: install git-snap, or delete $0; git push --no-verify skips the hook once\"\n" +
		"\texit 1\n" +
		"fi\n" +
		"exec git snap hook " + name + " \"$@\"\n"
}

// knownShims are every stub git-snap ever wrote for a hook, newest first:
// only these are upgraded or uninstalled.
func knownShims(name string) []string {
	return []string{
		Shim(name),
		"#!/bin/sh\nexec git snap hook " + name + " \"$@\"\n",
	}
}

func recognised(name string, content []byte) bool {
	norm := func(s string) string {
		return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	}
	got := norm(string(content))
	for _, k := range knownShims(name) {
		if got == norm(k) {
			return true
		}
	}
	return false
}

// ManualSnippet is what to add to an existing hook by hand.
func ManualSnippet(name string) string {
	return "# git-snap: refuse pushes without a validated snapshot\n" +
		"input=$(cat)\n" +
		"printf '%s\\n' \"$input\" | git snap hook " + name + " \"$@\" || exit 1\n" +
		"# (later commands that read the ref lines can use \"$input\")\n"
}

// Action is what Install or Uninstall did with one hook.
type Action struct {
	Hook   string // "pre-push"
	Path   string
	Result string // installed, upgraded, unchanged, replaced, manual, removed, absent, kept
	Backup string // the hook a replace moved aside (or an uninstall put back)
	Manual string // with Result "manual": the lines to add
}

// ExistsError is returned when a hook git-snap did not write is in the way.
type ExistsError struct {
	Hook, Path string
}

func (e *ExistsError) Error() string {
	return fmt.Sprintf("hook already exists and was not written by git-snap: %s", e.Path)
}

// Hint says how to proceed.
func (e *ExistsError) Hint() string {
	return "git snap hooks install --manual shows what to add to it; --force replaces it (keeping a " + BackupSuffix + " copy)"
}

// InstallOptions control Install.
type InstallOptions struct {
	Force  bool // replace a hook git-snap did not write, keeping a backup
	Manual bool // change nothing; return what to add to existing hooks
}

// Dir returns the directory git runs hooks from for the repository at dir:
// core.hooksPath when set, else <common dir>/hooks (shared by linked
// worktrees). git itself answers, so every rule git applies holds.
func Dir(ctx context.Context, dir string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", "rev-parse", "--path-format=absolute", "--git-path", "hooks")
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("find the hooks directory: %w: %s", err, strings.TrimSpace(errb.String()))
	}
	p := strings.TrimSpace(out.String())
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return filepath.Clean(p), nil
}

// Install writes the shims into the hooks directory of the repository at
// dir. A hook that is absent is written, one of our past shims is
// upgraded, anything else is an *ExistsError unless o.Force (replace,
// keeping a backup) or o.Manual (report what to add, change nothing).
func Install(ctx context.Context, dir string, o InstallOptions) ([]Action, error) {
	hooksDir, err := Dir(ctx, dir)
	if err != nil {
		return nil, err
	}
	var acts []Action
	for _, name := range Managed() {
		a, err := install(hooksDir, name, o)
		if err != nil {
			return acts, err
		}
		acts = append(acts, a)
	}
	return acts, nil
}

func install(hooksDir, name string, o InstallOptions) (Action, error) {
	p := filepath.Join(hooksDir, name)
	a := Action{Hook: name, Path: p}
	old, err := os.ReadFile(p)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return a, fmt.Errorf("read hook %s: %w", p, err)
	}
	want := Shim(name)
	switch {
	case exists && string(old) == want:
		a.Result = "unchanged"
		return a, os.Chmod(p, 0o755)
	case exists && recognised(name, old):
		a.Result = "upgraded"
	case exists && o.Manual:
		a.Result, a.Manual = "manual", ManualSnippet(name)
		return a, nil
	case exists && !o.Force:
		return a, &ExistsError{Hook: name, Path: p}
	case exists:
		a.Result, a.Backup = "replaced", p+BackupSuffix
		if err := os.Rename(p, a.Backup); err != nil {
			return a, fmt.Errorf("back up hook %s: %w", p, err)
		}
	default:
		a.Result = "installed"
	}
	if err := os.MkdirAll(hooksDir, 0o755); err != nil {
		return a, fmt.Errorf("create hooks directory: %w", err)
	}
	if err := writeExecutable(p, []byte(want)); err != nil {
		return a, err
	}
	return a, nil
}

// writeExecutable writes a hook atomically (temp file + rename).
func writeExecutable(p string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write hook %s: %w", p, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write hook %s: %w", p, err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return fmt.Errorf("write hook %s: %w", p, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write hook %s: %w", p, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("write hook %s: %w", p, err)
	}
	return nil
}

// Uninstall removes the shims git-snap wrote, putting back a hook that
// --force moved aside. Hooks it did not write are kept.
func Uninstall(ctx context.Context, dir string) ([]Action, error) {
	hooksDir, err := Dir(ctx, dir)
	if err != nil {
		return nil, err
	}
	var acts []Action
	for _, name := range Managed() {
		p := filepath.Join(hooksDir, name)
		a := Action{Hook: name, Path: p}
		old, err := os.ReadFile(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			a.Result = "absent"
		case err != nil:
			return acts, fmt.Errorf("read hook %s: %w", p, err)
		case !recognised(name, old):
			a.Result = "kept"
		default:
			a.Result = "removed"
			if err := os.Remove(p); err != nil {
				return acts, fmt.Errorf("remove hook %s: %w", p, err)
			}
			if _, err := os.Stat(p + BackupSuffix); err == nil {
				if err := os.Rename(p+BackupSuffix, p); err != nil {
					return acts, fmt.Errorf("restore hook %s: %w", p, err)
				}
				a.Backup = p + BackupSuffix
			}
		}
		acts = append(acts, a)
	}
	return acts, nil
}
