package paths

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/scopes/scopetest"
)

// failingWriter fails PutFile for one path and counts the calls. Other
// calls wait until the failure has happened, so that no scheduling lets
// them run ahead of it.
type failingWriter struct {
	*scopetest.Store
	failOn string
	failed chan struct{}
	calls  atomic.Int64
}

var errInjected = errors.New("injected")

func (w *failingWriter) PutFile(ctx context.Context, p string, mode fs.FileMode, size int64, r io.Reader) error {
	w.calls.Add(1)
	if p == w.failOn {
		close(w.failed)
		return errInjected
	}
	<-w.failed
	return w.Store.PutFile(ctx, p, mode, size, r)
}

func writeMany(t *testing.T, root string, n int) {
	t.Helper()
	for i := range n {
		scopetest.WriteFile(t, root, fmt.Sprintf("uploads/%02d/f%04d.bin", i%7, i), fmt.Sprintf("content %d\n", i), 0o644)
	}
}

func TestCaptureParallelMatchesSequential(t *testing.T) {
	root := t.TempDir()
	writeMany(t, root, 200)
	scopetest.Symlink(t, root, "uploads/link", "00/f0000.bin")
	env := newEnv(root, "uploads/**")
	m, err := newTestScope().Matcher(env)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := walk(context.Background(), root, m)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		workers int
	}{{"one worker", 1}, {"four workers", 4}, {"more workers than files", 500}}
	var want []gitsnap.Artifact
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := scopetest.NewStore("test")
			if err := putAll(context.Background(), root, st, entries, tt.workers); err != nil {
				t.Fatal(err)
			}
			got := st.Artifacts()
			if len(got) != 201 {
				t.Fatalf("captured %d artifacts, want 201", len(got))
			}
			if want == nil {
				want = got
				return
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("artifacts differ from the one-worker capture (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCaptureParallelStopsOnFirstError(t *testing.T) {
	root := t.TempDir()
	const files = 1000
	writeMany(t, root, files)
	w := &failingWriter{Store: scopetest.NewStore("test"), failOn: "uploads/00/f0000.bin", failed: make(chan struct{})}
	err := newTestScope().Capture(context.Background(), newEnv(root, "uploads/**"), w)
	if !errors.Is(err, errInjected) {
		t.Fatalf("capture: got %v, want the injected error", err)
	}
	// The other workers stop soon after the failure (how soon depends on
	// scheduling: dozens of files under -race on a loaded machine).
	if n := w.calls.Load(); n >= files {
		t.Errorf("all %d files were stored after the first one failed, want the capture to stop", n)
	}
}

func TestCaptureParallelCancelled(t *testing.T) {
	root := t.TempDir()
	writeMany(t, root, 50)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	env := newEnv(root, "uploads/**")
	m, err := newTestScope().Matcher(env)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := walk(context.Background(), root, m)
	if err != nil {
		t.Fatal(err)
	}
	st := scopetest.NewStore("test")
	if err := putAll(ctx, root, st, entries, 4); !errors.Is(err, context.Canceled) {
		t.Fatalf("putAll with a cancelled context: got %v, want context.Canceled", err)
	}
	if n := len(st.Artifacts()); n != 0 {
		t.Errorf("%d artifacts stored after cancellation, want 0", n)
	}
}
