package gitsnap

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMerge3(t *testing.T) {
	a, b, c := "{\"ts\":\"1\"}\n", "{\"ts\":\"2\"}\n", "{\"ts\":\"3\"}\n"
	tests := []struct {
		name               string
		base, ours, theirs string
		want               string
	}{
		{"unchanged", a, a, a, a},
		{"only ours added", a, a + b, a, a + b},
		{"only theirs added", a, a, a + c, a + c},
		{"both added", a, a + b, a + c, a + b + c},
		{"both added the same", a, a + b, a + b, a + b},
		{"new on both sides", "", b, c, b + c},
		{"new on one side", "", "", c, c},
		{"deleted by theirs, unchanged here", a, a, "", ""},
		{"deleted by theirs, changed here", a, a + b, "", a + b},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := string(merge3(bytesOrNil(tc.base), bytesOrNil(tc.ours), bytesOrNil(tc.theirs)))
			if got != tc.want {
				t.Errorf("merge3 = %q, want %q", got, tc.want)
			}
		})
	}
}

func bytesOrNil(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

func TestParsePorcelain(t *testing.T) {
	out := "To /tmp/snaps.git\n" +
		"*\trefs/snapshots/snap_20260102_030405_0123abcd:refs/snapshots/snap_20260102_030405_0123abcd\t[new reference]\n" +
		"!\trefs/notes/snap:refs/notes/snap\t[rejected] (fetch first)\n" +
		"Done\n"
	got := parsePorcelain(out)
	want := []refStatus{
		{flag: '*', dst: "refs/snapshots/snap_20260102_030405_0123abcd", reason: "[new reference]"},
		{flag: '!', dst: "refs/notes/snap", reason: "[rejected] (fetch first)"},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(refStatus{})); diff != "" {
		t.Fatalf("parsePorcelain (-want +got):\n%s", diff)
	}
	pending := map[string]bool{"snap_20260102_030405_0123abcd": true}
	res := &PushResult{}
	retry, err := applyPushStatus(Remote{Name: "r"}, got, pending, res, NoProgress{})
	if err != nil || !retry || len(pending) != 0 || len(res.Pushed) != 1 {
		t.Errorf("applyPushStatus: retry %v, err %v, pending %v, pushed %v", retry, err, pending, res.Pushed)
	}
	_, err = applyPushStatus(Remote{Name: "r"}, []refStatus{{flag: '!', dst: NotesRef, reason: "[remote rejected] (pre-receive hook declined)"}}, pending, res, NoProgress{})
	var re *RemoteError
	if !errors.As(err, &re) || !re.Permanent {
		t.Errorf("a hook rejection: %v, want a permanent RemoteError", err)
	}
}

func TestClassifyTransport(t *testing.T) {
	tests := []struct {
		stderr    string
		permanent bool
		hint      string // what the hint starts with
	}{
		{"fatal: 'nope' does not appear to be a git repository\nfatal: Could not read from remote repository.", true, "check the URL"},
		// A path that holds an HTTP status or "not found" does not decide the kind.
		{"fatal: '/tmp/testscript-2140132/403/401/missing.git' does not appear to be a git repository\nfatal: Could not read from remote repository.", true, "check the URL"},
		{"fatal: unable to access 'https://example.com/not found/r.git/': Could not resolve host: example.com", false, "the remote did not answer"},
		{"remote: Repository not found.\nfatal: repository 'https://github.com/x/y/' not found", true, "check the URL"},
		{"git@github.com: Permission denied (publickey).\nfatal: Could not read from remote repository.", true, "check your credentials"},
		{"fatal: Authentication failed for 'https://example.com/r.git/'", true, "check your credentials"},
		{"fatal: unable to access 'https://example.com/r.git/': The requested URL returned error: 403", true, "check your credentials"},
		{"fatal: unable to access 'https://example.com/r.git/': Could not resolve host: example.com", false, "the remote did not answer"},
		{"ssh: connect to host example.com port 22: Connection timed out\nfatal: Could not read from remote repository.", false, "the remote did not answer"},
		{"error: RPC failed; curl 56 GnuTLS recv error (-9)\nfatal: the remote end hung up unexpectedly", false, "the remote did not answer"},
	}
	for _, tc := range tests {
		re := classifyTransport("r", "push", errors.New("exit status 128"), tc.stderr)
		if re.Permanent != tc.permanent {
			t.Errorf("%q: permanent = %v, want %v", tc.stderr, re.Permanent, tc.permanent)
		}
		if re.Detail == "" || !strings.HasPrefix(re.Hint(), tc.hint) {
			t.Errorf("%q: hint %q, want it to start with %q (detail %q)", tc.stderr, re.Hint(), tc.hint, re.Detail)
		}
	}
}

func TestTransferStats(t *testing.T) {
	stderr := "Enumerating objects: 12, done.\nCounting objects:  50% (6/12)\rCounting objects: 100% (12/12), done.\n" +
		"Writing objects:  40% (5/12), 2.00 MiB | 1.00 MiB/s\rWriting objects: 100% (12/12), 5.01 MiB | 2.50 MiB/s, done.\n" +
		"Total 12 (delta 0), reused 0 (delta 0), pack-reused 0\n"
	objs, n := transferStats(stderr)
	if objs != 12 || n != parseSize("5.01", "MiB") {
		t.Errorf("transferStats = %d objects, %d bytes", objs, n)
	}
	if objs, n := transferStats("remote: Total 3 (delta 0), reused 0 (delta 0)\nUnpacking objects: 100% (3/3), 1.50 KiB | 1.50 MiB/s, done.\n"); objs != 3 || n != 1536 {
		t.Errorf("fetch stats = %d objects, %d bytes", objs, n)
	}
	var events []ProgressEvent
	g := gitTransport{progress: progressRecorder(func(e ProgressEvent) { events = append(events, e) })}
	st := &transferState{}
	for _, l := range splitProgressLines(stderr) {
		g.parseProgress(st, l)
	}
	var sum int64
	for _, e := range events {
		if e.Name == "Writing objects" {
			sum += e.Bytes
		}
	}
	if sum != n {
		t.Errorf("transfer events add up to %d bytes, want %d", sum, n)
	}
}

type progressRecorder func(ProgressEvent)

func (p progressRecorder) Event(e ProgressEvent) { p(e) }

func TestWithRetryStopsOnPermanent(t *testing.T) {
	ctx := context.Background()
	calls := 0
	n, err := withRetry(ctx, NoProgress{}, func() error {
		calls++
		return &RemoteError{Remote: "r", Op: "push", Permanent: true, Detail: "Authentication failed"}
	})
	if n != 1 || calls != 1 || HintOf(err) == "" {
		t.Errorf("permanent: %d attempts, err %v", n, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err = withRetry(ctx, NoProgress{}, func() error {
		return &RemoteError{Remote: "r", Op: "push", Detail: "Connection reset"}
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled retry: %v", err)
	}
}
