package files

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/scopes/scopetest"
)

func testConfig() *gitsnap.Config {
	return &gitsnap.Config{Files: []gitsnap.FilesConfig{
		{Name: "uploads", Paths: []string{"uploads/**"}},
		{Name: "assets", Paths: []string{"public/generated", "media/*.bin"}},
		{Name: "empty"},
	}}
}

func TestConformance(t *testing.T) {
	scopetest.RunPaths(t, func(t *testing.T, root string) *scopetest.PathCase {
		return &scopetest.PathCase{
			Scope:   New(),
			Env:     &gitsnap.ScopeEnv{Root: root, Config: testConfig(), Progress: gitsnap.NoProgress{}},
			Inside:  []string{"uploads/2024/private.key", "public/generated/run.sh", "uploads/latest", "media/a.bin", "uploads/empty.txt"},
			Stray:   []string{"public/generated/new/stray.css", "media/b.bin"},
			Outside: []string{"public/index.html", "media/sub/c.bin", "src/main.go"},
		}
	})
}

func TestPatternsUnion(t *testing.T) {
	want := []string{"uploads/**", "public/generated", "media/*.bin"}
	if diff := cmp.Diff(want, Patterns(testConfig())); diff != "" {
		t.Errorf("patterns (-want +got):\n%s", diff)
	}
	if got := Patterns(&gitsnap.Config{}); len(got) != 0 {
		t.Errorf("no [[files]]: patterns %q", got)
	}
	if got := New().Name(); got != "files" {
		t.Errorf("Name() = %q", got)
	}
}
