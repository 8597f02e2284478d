package scopes

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDefault(t *testing.T) {
	r := Default()
	want := []string{"code", "config", "dependencies", "files", "database"}
	if diff := cmp.Diff(want, r.Names()); diff != "" {
		t.Errorf("scope names (-want +got):\n%s", diff)
	}
	for _, name := range want {
		s, ok := r.Get(name)
		if !ok || s.Name() != name {
			t.Errorf("Get(%q) = %v, %v", name, s, ok)
		}
	}
	if a, b := Default(), Default(); a == b {
		t.Error("Default returned a shared registry")
	}
}
