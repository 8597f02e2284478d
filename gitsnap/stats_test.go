package gitsnap

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func restoredEv(result string, ms int64, scopes map[string]int64) Event {
	return ev(EventRestored, time.Time{}, func(e *Event) { e.Result, e.DurationMS, e.ScopeMS = result, ms, scopes })
}

func drillEv(status string, at time.Time) Event {
	return ev(EventDrill, at, func(e *Event) { e.Status, e.DurationMS, e.ScopeMS = status, 500, map[string]int64{"code": 100} })
}

func TestStatsCountsRatesAndPercentiles(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	var restores []Event
	for i := int64(1); i <= 20; i++ {
		restores = append(restores, restoredEv("ok", i*100, map[string]int64{"config": i, "database": i * 10}))
	}
	restores = append(restores, restoredEv("rolled_back", 99999, nil), restoredEv("failed", 99999, nil))
	s, ids := synthRepo(t, now, []synthSnap{
		{At: now.Add(-10 * day), Status: StatusPassed, Tags: []string{TagKnownGood}, Events: restores},
		{At: now.Add(-5 * day), Status: StatusPassed, Tags: []string{TagKnownGood}, Events: []Event{
			drillEv(StatusPassed, now.Add(-4*day)), drillEv(StatusFailed, now.Add(-3*day)), drillEv(StatusPassed, now.Add(-2*day)),
		}},
	})
	st, err := s.Stats(context.Background(), StatsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Snapshots != 2 || st.LatestKnownGood == nil || st.LatestKnownGood.ID != ids[1] {
		t.Fatalf("stats: %+v", st)
	}
	wantRestores := OutcomeStats{Count: 22, Succeeded: 20, RolledBack: 1, Failed: 1, SuccessRate: 20.0 / 22,
		Duration: DurationStats{Count: 20, MedianMS: 1000, P95MS: 1900, MaxMS: 2000},
		Scopes: map[string]DurationStats{
			"config":   {Count: 20, MedianMS: 10, P95MS: 19, MaxMS: 20},
			"database": {Count: 20, MedianMS: 100, P95MS: 190, MaxMS: 200},
		}}
	if diff := cmp.Diff(wantRestores, st.Restores, cmpIgnoreLast); diff != "" {
		t.Errorf("restores (-want +got):\n%s", diff)
	}
	wantDrills := OutcomeStats{Count: 3, Succeeded: 2, Failed: 1, SuccessRate: 2.0 / 3,
		Duration: DurationStats{Count: 2, MedianMS: 500, P95MS: 500, MaxMS: 500},
		Scopes:   map[string]DurationStats{"code": {Count: 2, MedianMS: 100, P95MS: 100, MaxMS: 100}}}
	if diff := cmp.Diff(wantDrills, st.Drills, cmpIgnoreLast); diff != "" {
		t.Errorf("drills (-want +got):\n%s", diff)
	}
	if len(st.Warnings) != 0 || st.LastDrill == nil || st.LastDrill.Status != StatusPassed {
		t.Errorf("a recent passing drill should not warn: %v %+v", st.Warnings, st.LastDrill)
	}
	// --since drops the older events.
	st, err = s.Stats(context.Background(), StatsOptions{Since: now.Add(-2*day - time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if st.Restores.Count != 0 || st.Drills.Count != 1 {
		t.Errorf("since: restores %d drills %d", st.Restores.Count, st.Drills.Count)
	}
}

var cmpIgnoreLast = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Last" }, cmp.Ignore())

func TestStatsDrillWarnings(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		name  string
		snaps []synthSnap
		want  string
	}{
		{"no known-good", []synthSnap{{At: now.Add(-day), Status: StatusFailed}}, "there is no known-good snapshot"},
		{"never drilled", []synthSnap{
			{At: now.Add(-9 * day), Status: StatusPassed, Tags: []string{TagKnownGood}, Events: []Event{drillEv(StatusPassed, now.Add(-8*day))}},
			{At: now.Add(-day), Status: StatusPassed, Tags: []string{TagKnownGood}},
		}, "has never been drilled; run git snap verify"},
		{"stale drill", []synthSnap{
			{At: now.Add(-60 * day), Status: StatusPassed, Tags: []string{TagKnownGood}, Events: []Event{drillEv(StatusPassed, now.Add(-31*day))}},
		}, "was 31 days ago"},
		{"failed drill", []synthSnap{
			{At: now.Add(-6 * day), Status: StatusPassed, Tags: []string{TagKnownGood}, Events: []Event{drillEv(StatusFailed, now.Add(-day))}},
		}, "failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := synthRepo(t, now, tc.snaps)
			st, err := s.Stats(context.Background(), StatsOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], tc.want) {
				t.Errorf("warnings %q, want one containing %q", st.Warnings, tc.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		in   []int64
		want DurationStats
	}{
		{nil, DurationStats{}},
		{[]int64{7}, DurationStats{Count: 1, MedianMS: 7, P95MS: 7, MaxMS: 7}},
		{[]int64{4, 1, 3, 2}, DurationStats{Count: 4, MedianMS: 2, P95MS: 4, MaxMS: 4}},
	}
	for _, tc := range tests {
		if got := summarize(tc.in); got != tc.want {
			t.Errorf("summarize(%v) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}
