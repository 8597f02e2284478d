package scopetest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/git-snap/git-snap/gitsnap"
)

// Case is one fresh scope under test. Run calls its constructor once per
// subtest, so each gets its own live state.
type Case struct {
	Scope gitsnap.Scope
	Env   *gitsnap.ScopeEnv
	// Setup creates the state that is captured.
	Setup func(t *testing.T)
	// Mutate changes the live state so that restoring has work to do,
	// including at least one change that needs an artifact's content.
	Mutate func(t *testing.T)
	// State describes the live state; equal strings mean equal states.
	State func(t *testing.T) string
}

// Run is the conformance suite every gitsnap.Scope passes.
func Run(t *testing.T, newCase func(t *testing.T) *Case) {
	t.Helper()
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, newCase(t)) })
	t.Run("Deterministic", func(t *testing.T) { testDeterministic(t, newCase(t)) })
	t.Run("Cancelled", func(t *testing.T) { testCancelled(t, newCase(t)) })
	t.Run("CancelDuringRestore", func(t *testing.T) { testCancelDuringRestore(t, newCase(t)) })
	t.Run("Integrity", func(t *testing.T) { testIntegrity(t, newCase(t)) })
}

// Capture runs c.Scope.Capture into a new Store.
func Capture(t *testing.T, c *Case) *Store {
	t.Helper()
	st := NewStore(c.Scope.Name())
	if err := c.Scope.Capture(context.Background(), c.Env, st); err != nil {
		t.Fatalf("capture: %v", err)
	}
	return st
}

// Plan runs c.Scope.Plan and checks the plan's scope name.
func Plan(t *testing.T, c *Case, r gitsnap.ArtifactReader) *gitsnap.ScopePlan {
	t.Helper()
	p, err := c.Scope.Plan(context.Background(), c.Env, r)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if p.Scope != c.Scope.Name() {
		t.Errorf("plan scope = %q, want %q", p.Scope, c.Scope.Name())
	}
	return p
}

func testRoundTrip(t *testing.T, c *Case) {
	ctx := context.Background()
	c.Setup(t)
	want := c.State(t)
	st := Capture(t, c)
	if p := Plan(t, c, st); !p.Empty() {
		t.Errorf("plan right after capture is not empty: %+v", p.Changes)
	}
	c.Mutate(t)
	if c.State(t) == want {
		t.Fatal("Mutate changed nothing; the test cannot fail")
	}
	if p := Plan(t, c, st); p.Empty() {
		t.Error("plan after mutation is empty")
	}
	for i := 1; i <= 2; i++ {
		if err := c.Scope.Restore(ctx, c.Env, st); err != nil {
			t.Fatalf("restore #%d: %v", i, err)
		}
		if diff := cmp.Diff(want, c.State(t)); diff != "" {
			t.Fatalf("state after restore #%d differs (-want +got):\n%s", i, diff)
		}
		if p := Plan(t, c, st); !p.Empty() {
			t.Errorf("plan after restore #%d is not empty: %+v", i, p.Changes)
		}
	}
}

func testDeterministic(t *testing.T, c *Case) {
	c.Setup(t)
	a, b := Capture(t, c), Capture(t, c)
	if diff := cmp.Diff(a.Artifacts(), b.Artifacts()); diff != "" {
		t.Fatalf("two captures differ (-first +second):\n%s", diff)
	}
	for _, art := range a.Artifacts() {
		da, _ := a.Data(art.Path)
		db, _ := b.Data(art.Path)
		if string(da) != string(db) {
			t.Errorf("content of %s differs between captures", art.Path)
		}
	}
	ca, oka := a.Code()
	cb, okb := b.Code()
	if oka != okb || ca != cb {
		t.Errorf("code state differs between captures: %+v vs %+v", ca, cb)
	}
}

func testCancelled(t *testing.T, c *Case) {
	c.Setup(t)
	st := Capture(t, c)
	c.Mutate(t)
	before := c.State(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Scope.Capture(ctx, c.Env, NewStore(c.Scope.Name())); !errors.Is(err, context.Canceled) {
		t.Errorf("capture with cancelled context: got %v, want context.Canceled", err)
	}
	if _, err := c.Scope.Plan(ctx, c.Env, st); !errors.Is(err, context.Canceled) {
		t.Errorf("plan with cancelled context: got %v, want context.Canceled", err)
	}
	if err := c.Scope.Restore(ctx, c.Env, st); !errors.Is(err, context.Canceled) {
		t.Errorf("restore with cancelled context: got %v, want context.Canceled", err)
	}
	if diff := cmp.Diff(before, c.State(t)); diff != "" {
		t.Errorf("a cancelled restore changed the state (-before +after):\n%s", diff)
	}
}

func testCancelDuringRestore(t *testing.T, c *Case) {
	c.Setup(t)
	want := c.State(t)
	st := Capture(t, c)
	if len(st.Artifacts()) == 0 {
		t.Skip("the scope stores no artifacts to open")
	}
	c.Mutate(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var opened atomic.Bool // a scope may open artifacts from several goroutines
	st.OnOpen(func(gitsnap.Artifact) { opened.Store(true); cancel() })
	err := c.Scope.Restore(ctx, c.Env, st)
	if !opened.Load() {
		t.Fatal("restore after Mutate opened no artifact")
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("restore cancelled half way: got %v, want context.Canceled", err)
	}
	st.OnOpen(nil)
	if err := c.Scope.Restore(context.Background(), c.Env, st); err != nil {
		t.Fatalf("restore after a cancelled one: %v", err)
	}
	if diff := cmp.Diff(want, c.State(t)); diff != "" {
		t.Errorf("state after cancelled then full restore differs (-want +got):\n%s", diff)
	}
}

func testIntegrity(t *testing.T, c *Case) {
	c.Setup(t)
	want := c.State(t)
	st := Capture(t, c)
	if len(st.Artifacts()) == 0 {
		t.Skip("the scope stores no artifacts to corrupt")
	}
	c.Mutate(t)
	for _, a := range st.Artifacts() {
		st.Corrupt(a.Path)
	}
	if err := c.Scope.Restore(context.Background(), c.Env, st); !errors.Is(err, gitsnap.ErrIntegrity) {
		t.Fatalf("restore from corrupted artifacts: got %v, want ErrIntegrity", err)
	}
	clean := NewStore(c.Scope.Name())
	for _, a := range st.Artifacts() {
		data, _ := st.Data(a.Path)
		clean.Add(a, data)
	}
	if code, ok := st.Code(); ok {
		clean.SetCode(code)
	}
	if err := c.Scope.Restore(context.Background(), c.Env, clean); err != nil {
		t.Fatalf("restore after a failed one: %v", err)
	}
	if diff := cmp.Diff(want, c.State(t)); diff != "" {
		t.Errorf("state after failed then full restore differs (-want +got):\n%s", diff)
	}
}
