package gitsnap

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseWhere(t *testing.T) {
	got, err := ParseWhere("p95_ms<100 AND error_rate <= 0.01 and rps>=1e3 && x=2 AND y!=-1.5")
	if err != nil {
		t.Fatal(err)
	}
	want := []Condition{{"p95_ms", "<", 100}, {"error_rate", "<=", 0.01}, {"rps", ">=", 1000}, {"x", "==", 2}, {"y", "!=", -1.5}}
	if !cmp.Equal(got, want) {
		t.Error(cmp.Diff(want, got))
	}
	for _, bad := range []string{"", "p95", "p95 < fast", "p95 <> 3", "a<1 OR b<2", "a<1 AND"} {
		if _, err := ParseWhere(bad); !errors.Is(err, ErrUsage) || HintOf(err) == "" {
			t.Errorf("ParseWhere(%q): %v", bad, err)
		}
	}
}

func TestConditionMatch(t *testing.T) {
	m := map[string]float64{"p95_ms": 80}
	tests := []struct {
		c    Condition
		want bool
	}{
		{Condition{"p95_ms", "<", 100}, true},
		{Condition{"p95_ms", "<", 80}, false},
		{Condition{"p95_ms", "<=", 80}, true},
		{Condition{"p95_ms", ">", 80}, false},
		{Condition{"p95_ms", ">=", 80}, true},
		{Condition{"p95_ms", "==", 80}, true},
		{Condition{"p95_ms", "!=", 80}, false},
		{Condition{"missing", "<", 1e9}, false},
	}
	for _, tc := range tests {
		if got := tc.c.Match(m); got != tc.want {
			t.Errorf("%+v: got %v", tc.c, got)
		}
	}
}

func TestParseTimeBound(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tests := map[string]time.Time{
		"7d":                        now.Add(-7 * 24 * time.Hour),
		"36h":                       now.Add(-36 * time.Hour),
		"30m":                       now.Add(-30 * time.Minute),
		"2w":                        now.Add(-14 * 24 * time.Hour),
		"2026-11-01T10:00:00Z":      time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC),
		"2026-11-01":                time.Date(2026, 11, 1, 0, 0, 0, 0, time.Local),
		"2026-11-01T14:30":          time.Date(2026, 11, 1, 14, 30, 0, 0, time.Local),
		"2026-11-01 14:30:05":       time.Date(2026, 11, 1, 14, 30, 5, 0, time.Local),
		"2026-11-01T14:30:00+02:00": time.Date(2026, 11, 1, 12, 30, 0, 0, time.UTC),
	}
	for in, want := range tests {
		got, err := ParseTimeBound(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTimeBound(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"yesterday", "7", "7y", "2026-13-01", ""} {
		if _, err := ParseTimeBound(bad, now); !errors.Is(err, ErrUsage) {
			t.Errorf("ParseTimeBound(%q): %v", bad, err)
		}
	}
}

func TestListOptionsMatch(t *testing.T) {
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	sn := &SnapshotInfo{Manifest: &Manifest{CreatedAt: at, Branch: "refs/heads/main", CreatedBy: "ci:bot@example.com"},
		Status: StatusPassed, Tags: []string{"known-good"}, Metrics: map[string]float64{"p95_ms": 90}}
	tests := []struct {
		name string
		o    ListOptions
		want bool
	}{
		{"all", ListOptions{}, true},
		{"tag", ListOptions{Tag: "known-good"}, true},
		{"other tag", ListOptions{Tag: "pinned"}, false},
		{"branch short", ListOptions{Branch: "main"}, true},
		{"branch full", ListOptions{Branch: "refs/heads/main"}, true},
		{"other branch", ListOptions{Branch: "dev"}, false},
		{"status", ListOptions{Status: StatusFailed}, false},
		{"created by", ListOptions{CreatedBy: "ci:"}, true},
		{"created by other", ListOptions{CreatedBy: "agent"}, false},
		{"since before", ListOptions{Since: at.Add(-time.Hour)}, true},
		{"since after", ListOptions{Since: at.Add(time.Hour)}, false},
		{"until after", ListOptions{Until: at.Add(time.Hour)}, true},
		{"until before", ListOptions{Until: at.Add(-time.Hour)}, false},
		{"where", ListOptions{Where: []Condition{{"p95_ms", "<", 100}}}, true},
		{"where fails", ListOptions{Where: []Condition{{"p95_ms", "<", 100}, {"p95_ms", ">", 95}}}, false},
	}
	for _, tc := range tests {
		if got := tc.o.match(sn, tc.o.Until); got != tc.want {
			t.Errorf("%s: got %v", tc.name, got)
		}
	}
}
