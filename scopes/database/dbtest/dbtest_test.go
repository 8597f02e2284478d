package dbtest

import (
	"context"
	"errors"
	"os/exec"
	"regexp"
	"testing"
)

func TestUniqueName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z0-9_]{1,40}$`)
	seen := map[string]bool{}
	for _, prefix := range []string{"Round Trip/pg", "", "a-very-long-prefix-that-goes-on-and-on"} {
		n := UniqueName(t, prefix)
		if !valid.MatchString(n) {
			t.Errorf("UniqueName(%q) = %q, not a safe identifier", prefix, n)
		}
		if seen[n] {
			t.Errorf("UniqueName repeated %q", n)
		}
		seen[n] = true
	}
}

func TestFakeRunner(t *testing.T) {
	f := &FakeRunner{Scripts: map[string]string{"pg_dump": `echo "dump of $1"; cat >&2; exit 4`}}
	cmd := f.Command(context.Background(), "pg_dump", "appdb")
	out, err := cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 4 {
		t.Fatalf("err = %v, want exit status 4", err)
	}
	if string(out) != "dump of appdb\n" {
		t.Errorf("stdout = %q", out)
	}
	if err := f.Command(context.Background(), "mysqldump").Run(); !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("unscripted tool: err = %v, want exec.ErrNotFound", err)
	}
	if got := f.Calls(); len(got) != 2 || got[0] != "pg_dump appdb" || got[1] != "mysqldump" {
		t.Errorf("calls = %q", got)
	}
}
