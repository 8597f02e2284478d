//go:build unix

package paths

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/git-snap/git-snap/scopes/scopetest"
)

func TestCaptureSkipsSpecialFiles(t *testing.T) {
	root := t.TempDir()
	scopetest.WriteFile(t, root, "config/app.toml", "x = 1\n", 0o644)
	if err := syscall.Mkfifo(filepath.Join(root, "config", "fifo"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	st := scopetest.NewStore("test")
	if err := newTestScope().Capture(context.Background(), newEnv(root, "config/**"), st); err != nil {
		t.Fatal(err)
	}
	arts := st.Artifacts()
	if len(arts) != 1 || arts[0].Path != "config/app.toml" {
		t.Errorf("artifacts = %+v, want only config/app.toml", arts)
	}
}
