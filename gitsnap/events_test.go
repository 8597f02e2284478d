package gitsnap

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMergeNoteIsSortedUnion(t *testing.T) {
	a := []byte("{\"ts\":\"2\"}\n{\"ts\":\"1\"}\n")
	b := []byte("{\"ts\":\"3\"}\n{\"ts\":\"1\"}\n")
	got := string(mergeNote(a, b))
	want := "{\"ts\":\"1\"}\n{\"ts\":\"2\"}\n{\"ts\":\"3\"}\n"
	if got != want {
		t.Errorf("merge:\n%s", cmp.Diff(want, got))
	}
	if string(mergeNote(b, a)) != want {
		t.Error("merge is not commutative")
	}
	if mergeNote(nil, nil) != nil {
		t.Error("empty merge should be nil")
	}
}

func TestEventsRoundTripInTimeOrder(t *testing.T) {
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	late := newEvent(base.Add(time.Hour), EventUntagged)
	late.Tags = []string{TagKnownGood}
	early := newEvent(base, EventTagged)
	early.Tags = []string{TagKnownGood, "pinned"}
	v := newEvent(base.Add(time.Minute), EventValidated)
	v.Status = StatusPassed
	v.Checks = []CheckResult{{Name: "unit", Kind: "smoke", Status: StatusPassed, DurationMS: 12}}
	data, err := encodeEvents([]Event{late, early, v})
	if err != nil {
		t.Fatal(err)
	}
	// Lines start with the timestamp, so sorted lines are in time order.
	note := mergeNote(data, []byte("not json, skipped\n"))
	got := parseEvents(note)
	if len(got) != 3 || got[0].Type != EventTagged || got[1].Type != EventValidated || got[2].Type != EventUntagged {
		t.Fatalf("events out of order: %+v", got)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if !strings.HasPrefix(line, `{"ts":"2026-01-02T`) || !strings.Contains(line, `","id":"`) {
			t.Errorf("line does not start with ts then id: %s", line)
		}
	}
	info := &SnapshotInfo{Events: got}
	info.fold()
	if info.Status != StatusPassed || !cmp.Equal(info.Tags, []string{"pinned"}) {
		t.Errorf("fold: status %s tags %v", info.Status, info.Tags)
	}
	if got[0].Time() != base {
		t.Errorf("time: %v", got[0].Time())
	}
}

func TestSnapshotID(t *testing.T) {
	h, _ := ParseHash("3f9a0c1d" + strings.Repeat("0", 32))
	id := SnapshotID(time.Date(2026, 11, 25, 17, 45, 2, 999, time.FixedZone("X", 3600)), h)
	if id != "snap_20261125_164502_3f9a0c1d" || !ValidID(id) {
		t.Errorf("id %q", id)
	}
}

func TestCleanRelPath(t *testing.T) {
	for _, bad := range []string{"", "/etc/passwd", "../x", "a/../../x", "a/./b", ".git/config", "a/.GIT/x", "a\\b", "a\x00b", "a//b"} {
		if _, err := CleanRelPath(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for _, good := range []string{".env", "config/app.toml", "a/b/c", ".gitignore", "x..y"} {
		if _, err := CleanRelPath(good); err != nil {
			t.Errorf("%q refused: %v", good, err)
		}
	}
}
