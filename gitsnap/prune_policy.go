package gitsnap

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultKeepKnownGood is how many of the newest known-good snapshots
// prune always keeps.
const DefaultKeepKnownGood = 3

// TagPinned marks a snapshot prune never removes.
const TagPinned = "pinned"

// RetentionPolicy says which snapshots prune keeps; everything else goes.
// A snapshot is kept when any rule keeps it.
type RetentionPolicy struct {
	Last    int // the N newest
	Hourly  int // the newest of each of the last N hours that have snapshots
	Daily   int // … days
	Weekly  int // … ISO weeks
	Monthly int // … months
	Yearly  int // … years
	// Within keeps everything created within this long before the newest
	// snapshot (not before now: a repository nobody snapshots any more is
	// not emptied by the calendar).
	Within time.Duration
	// KnownGood: the N newest known-good snapshots are always kept
	// (0: DefaultKeepKnownGood).
	KnownGood int
	// Tags: snapshots carrying any of them are kept; pinned always is.
	Tags []string
}

// Empty reports whether the policy has no rule besides the ones that
// always apply (known-good, pinned): pruning with it would remove almost
// everything, so prune refuses it.
func (p RetentionPolicy) Empty() bool {
	return p.Last == 0 && p.Hourly == 0 && p.Daily == 0 && p.Weekly == 0 && p.Monthly == 0 && p.Yearly == 0 &&
		p.Within == 0 && len(p.Tags) == 0
}

// PolicyFromConfig reads [retention].
func PolicyFromConfig(c RetentionConfig) (RetentionPolicy, error) {
	p := RetentionPolicy{Last: c.KeepLast, Hourly: c.KeepHourly, Daily: c.KeepDaily, Weekly: c.KeepWeekly,
		Monthly: c.KeepMonthly, Yearly: c.KeepYearly, KnownGood: c.KeepKnownGood, Tags: c.KeepTags}
	if c.KeepWithin != "" {
		d, err := ParseKeepWithin(c.KeepWithin)
		if err != nil {
			return p, WithHint(fmt.Errorf("%w: [retention] keep_within: %v", ErrConfig, err), "write it like 30d, 2w, 1y or 36h")
		}
		p.Within = d
	}
	for _, n := range []int{c.KeepLast, c.KeepHourly, c.KeepDaily, c.KeepWeekly, c.KeepMonthly, c.KeepYearly, c.KeepKnownGood} {
		if n < 0 {
			return p, fmt.Errorf("%w: [retention] counts must not be negative", ErrConfig)
		}
	}
	return p, nil
}

// ParseKeepWithin parses "30d", "2w", "1y" (365 days) or a Go duration ("36h").
func ParseKeepWithin(s string) (time.Duration, error) {
	day := 24 * time.Hour
	units := map[string]time.Duration{"d": day, "w": 7 * day, "y": 365 * day}
	if u, ok := units[s[max(0, len(s)-1):]]; ok && len(s) > 1 {
		n, err := strconv.Atoi(s[:len(s)-1])
		if err != nil || n < 0 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return time.Duration(n) * u, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	return d, nil
}

// PruneDecision is what prune does with one snapshot and why.
type PruneDecision struct {
	Snapshot *SnapshotInfo
	Keep     bool
	Reasons  []string // the rules that keep it ("last", "daily", "known-good", "tag pinned", …)
}

// planPrune applies the policy to snapshots sorted newest first. Time
// buckets are computed in loc.
func planPrune(snaps []*SnapshotInfo, p RetentionPolicy, loc *time.Location) []PruneDecision {
	out := make([]PruneDecision, len(snaps))
	keep := func(i int, why string) {
		out[i].Keep = true
		out[i].Reasons = append(out[i].Reasons, why)
	}
	for i, sn := range snaps {
		out[i].Snapshot = sn
	}
	for i := 0; i < len(snaps) && i < p.Last; i++ {
		keep(i, "last")
	}
	buckets := []struct {
		name string
		n    int
		key  func(time.Time) string
	}{
		{"hourly", p.Hourly, func(t time.Time) string { return t.Format("2006-01-02 15") }},
		{"daily", p.Daily, func(t time.Time) string { return t.Format("2006-01-02") }},
		{"weekly", p.Weekly, func(t time.Time) string { y, w := t.ISOWeek(); return fmt.Sprintf("%d-W%02d", y, w) }},
		{"monthly", p.Monthly, func(t time.Time) string { return t.Format("2006-01") }},
		{"yearly", p.Yearly, func(t time.Time) string { return t.Format("2006") }},
	}
	for _, b := range buckets {
		seen := map[string]bool{}
		for i, sn := range snaps {
			if len(seen) >= b.n {
				break
			}
			k := b.key(sn.CreatedAt().In(loc))
			if !seen[k] {
				seen[k] = true
				keep(i, b.name)
			}
		}
	}
	if p.Within > 0 && len(snaps) > 0 {
		newest := snaps[0].CreatedAt()
		for i, sn := range snaps {
			if newest.Sub(sn.CreatedAt()) <= p.Within {
				keep(i, "within")
			}
		}
	}
	kg := p.KnownGood
	if kg <= 0 {
		kg = DefaultKeepKnownGood
	}
	for i, sn := range snaps {
		if kg == 0 {
			break
		}
		if sn.KnownGood() {
			keep(i, "known-good")
			kg--
		}
	}
	tags := append([]string{TagPinned}, p.Tags...)
	for i, sn := range snaps {
		for _, t := range tags {
			if sn.HasTag(t) && !contains(out[i].Reasons, "tag "+t) {
				keep(i, "tag "+t)
			}
		}
	}
	return out
}

// String renders a policy for messages.
func (p RetentionPolicy) String() string {
	var parts []string
	add := func(name string, n int) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", name, n))
		}
	}
	add("last", p.Last)
	add("hourly", p.Hourly)
	add("daily", p.Daily)
	add("weekly", p.Weekly)
	add("monthly", p.Monthly)
	add("yearly", p.Yearly)
	if p.Within > 0 {
		parts = append(parts, "within "+p.Within.String())
	}
	kg := p.KnownGood
	if kg <= 0 {
		kg = DefaultKeepKnownGood
	}
	add("known-good", kg)
	parts = append(parts, "tags "+strings.Join(append([]string{TagPinned}, p.Tags...), ","))
	return strings.Join(parts, ", ")
}
