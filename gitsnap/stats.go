package gitsnap

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"
)

// DefaultDrillMaxAge is how old the last drill of the latest known-good
// snapshot may be before stats warns.
const DefaultDrillMaxAge = 30 * 24 * time.Hour

// StatsOptions control Stats.
type StatsOptions struct {
	Since       time.Time     // only events at or after this time (zero: all)
	DrillMaxAge time.Duration // 0: DefaultDrillMaxAge
	AnyBranch   bool          // the latest known-good may come from any branch
}

// DurationStats summarises durations in milliseconds (nearest-rank
// percentiles).
type DurationStats struct {
	Count    int
	MedianMS int64
	P95MS    int64
	MaxMS    int64
}

// OutcomeStats counts restores or drills.
type OutcomeStats struct {
	Count       int     // all recorded
	Succeeded   int     // restores: result ok; drills: status passed
	RolledBack  int     // restores only: failed and rolled back
	Failed      int     // restores: failed without rollback; drills: failed
	SuccessRate float64 // Succeeded / Count (0 when Count is 0)
	// Duration covers the successful ones: for restores this is the time
	// to recover (MTTR).
	Duration DurationStats
	Scopes   map[string]DurationStats // time per scope, successful ones
	Last     *time.Time
}

// Stats is what the recorded restore and drill events say.
type Stats struct {
	Snapshots       int
	Restores        OutcomeStats
	Drills          OutcomeStats
	LatestKnownGood *SnapshotInfo // nil when there is none
	LastDrill       *Event        // the latest drill of LatestKnownGood
	Warnings        []string
}

// Stats folds every snapshot's restored and drill events into counts,
// success rates and duration percentiles, overall and per scope, and warns
// when the latest known-good snapshot was never drilled, its last drill
// failed or is older than DrillMaxAge.
func (s *Snap) Stats(ctx context.Context, o StatsOptions) (*Stats, error) {
	cat, err := s.loadCatalog(ctx)
	if err != nil {
		return nil, err
	}
	st := &Stats{Snapshots: len(cat.snaps)}
	var restores, drills []Event
	for _, sn := range cat.snaps {
		for _, e := range sn.Restores {
			if o.Since.IsZero() || !e.Time().Before(o.Since) {
				restores = append(restores, e)
			}
		}
		for _, e := range sn.Drills {
			if o.Since.IsZero() || !e.Time().Before(o.Since) {
				drills = append(drills, e)
			}
		}
	}
	st.Restores = foldOutcomes(restores, func(e Event) string {
		switch e.Result {
		case "ok":
			return "ok"
		case "rolled_back":
			return "rolled_back"
		}
		return "failed"
	})
	st.Drills = foldOutcomes(drills, func(e Event) string {
		if e.Status == StatusPassed {
			return "ok"
		}
		return "failed"
	})
	st.Warnings = s.drillWarnings(ctx, cat, o, st)
	return st, nil
}

func foldOutcomes(events []Event, outcome func(Event) string) OutcomeStats {
	st := OutcomeStats{Count: len(events), Scopes: map[string]DurationStats{}}
	var total []int64
	perScope := map[string][]int64{}
	for _, e := range events {
		t := e.Time()
		if st.Last == nil || t.After(*st.Last) {
			st.Last = &t
		}
		switch outcome(e) {
		case "ok":
			st.Succeeded++
			total = append(total, e.DurationMS)
			for sc, ms := range e.ScopeMS {
				perScope[sc] = append(perScope[sc], ms)
			}
		case "rolled_back":
			st.RolledBack++
		default:
			st.Failed++
		}
	}
	if st.Count > 0 {
		st.SuccessRate = float64(st.Succeeded) / float64(st.Count)
	}
	st.Duration = summarize(total)
	for sc, ms := range perScope {
		st.Scopes[sc] = summarize(ms)
	}
	return st
}

// summarize computes nearest-rank percentiles.
func summarize(ms []int64) DurationStats {
	if len(ms) == 0 {
		return DurationStats{}
	}
	sorted := append([]int64(nil), ms...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	rank := func(p float64) int64 {
		i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
		return sorted[max(0, min(i, len(sorted)-1))]
	}
	return DurationStats{Count: len(sorted), MedianMS: rank(50), P95MS: rank(95), MaxMS: sorted[len(sorted)-1]}
}

// drillWarnings checks that the snapshot a restore would pick has proof
// that it restores.
func (s *Snap) drillWarnings(ctx context.Context, cat *catalog, o StatsOptions, st *Stats) []string {
	maxAge := o.DrillMaxAge
	if maxAge <= 0 {
		maxAge = DefaultDrillMaxAge
	}
	kg, err := s.resolve(ctx, cat, TagKnownGood, ResolveOptions{AnyBranch: o.AnyBranch})
	if err != nil {
		return []string{"there is no known-good snapshot to recover to; create one with git snap create"}
	}
	st.LatestKnownGood = kg
	if len(kg.Drills) == 0 {
		return []string{fmt.Sprintf("the latest known-good snapshot %s has never been drilled; run git snap verify", kg.ID)}
	}
	last := kg.Drills[len(kg.Drills)-1]
	st.LastDrill = &last
	var w []string
	if age := s.now().Sub(last.Time()); age > maxAge {
		w = append(w, fmt.Sprintf("the last drill of the latest known-good snapshot %s was %d days ago; run git snap verify", kg.ID, int(age.Hours()/24)))
	}
	if last.Status != StatusPassed {
		w = append(w, fmt.Sprintf("the last drill of the latest known-good snapshot %s failed: %s", kg.ID, last.Error))
	}
	return w
}
