package paths

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/git-snap/git-snap/gitsnap"
)

func TestMatcherMatch(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		path     string
		want     bool
	}{
		{"literal", []string{".env"}, ".env", true},
		{"literal elsewhere", []string{".env"}, "a/.env", false},
		{"star anchored", []string{"*.pem"}, "key.pem", true},
		{"star not recursive", []string{"*.pem"}, "certs/key.pem", false},
		{"doublestar anywhere", []string{"**/*.pem"}, "certs/a/key.pem", true},
		{"dir glob", []string{"config/**"}, "config/a/b.toml", true},
		{"dir glob other dir", []string{"config/**"}, "configs/a", false},
		{"bare dir covers content", []string{"uploads"}, "uploads/x/y.png", true},
		{"trailing slash", []string{"uploads/"}, "uploads/y.png", true},
		{"dot slash", []string{"./config/*.toml"}, "config/app.toml", true},
		{"dir match covers content", []string{"config/*"}, "config/sub/x", true},
		{"braces", []string{"{a,b}/x"}, "b/x", true},
		{"braces across dirs", []string{"{a,b/c}/x"}, "b/c/x", true},
		{"git never", []string{"**"}, ".git/config", false},
		{"nested git never", []string{"**"}, "sub/.git/HEAD", false},
		{"requirements", []string{"requirements*.txt"}, "requirements-dev.txt", true},
		{"no patterns", nil, "a", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewMatcher(tc.patterns)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Match(tc.path); got != tc.want {
				t.Errorf("Match(%q) with %q = %v, want %v", tc.path, tc.patterns, got, tc.want)
			}
		})
	}
}

func TestMatcherCouldContain(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		dir      string
		want     bool
	}{
		{"literal file at root", []string{".env"}, "src", false},
		{"prefix", []string{"config/app/*.toml"}, "config", true},
		{"prefix deeper", []string{"config/app/*.toml"}, "config/app", true},
		{"wrong prefix", []string{"config/app/*.toml"}, "config/other", false},
		{"pattern too short", []string{"*/go.sum"}, "web/node_modules", false},
		{"one level", []string{"*/go.sum"}, "web", true},
		{"doublestar", []string{"a/**/x"}, "a/b/c/d", true},
		{"leading doublestar", []string{"**/*.pem"}, "deep/down", true},
		{"matched dir", []string{"uploads"}, "uploads/2024", true},
		{"braces across dirs fallback", []string{"conf/{a,b/c}/x"}, "conf/z", true},
		{"braces across dirs elsewhere", []string{"conf/{a,b/c}/x"}, "src", false},
		{"git", []string{"**"}, ".git", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewMatcher(tc.patterns)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.CouldContain(tc.dir); got != tc.want {
				t.Errorf("CouldContain(%q) with %q = %v, want %v", tc.dir, tc.patterns, got, tc.want)
			}
		})
	}
}

func TestNewMatcherRejects(t *testing.T) {
	for _, p := range []string{"/etc/passwd", "../x", "a/../b", "a/./b", "config/[", "a\x00b"} {
		t.Run(p, func(t *testing.T) {
			if _, err := NewMatcher([]string{p}); !errors.Is(err, gitsnap.ErrConfig) {
				t.Errorf("NewMatcher(%q) = %v, want ErrConfig", p, err)
			}
		})
	}
}

func TestNewMatcherNormalises(t *testing.T) {
	m, err := NewMatcher([]string{"./config/**", "", "uploads/", "config/**", " .env "})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"config/**", "uploads", ".env"}, m.Patterns()); diff != "" {
		t.Errorf("patterns (-want +got):\n%s", diff)
	}
}
