package gitsnap

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUnifiedDiff(t *testing.T) {
	lines := func(n int, change map[int]string) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			if s, ok := change[i]; ok {
				b.WriteString(s)
				continue
			}
			b.WriteString("line" + itoa(i) + "\n")
		}
		return b.String()
	}
	tests := []struct {
		name     string
		from, to string
		a, b     string
		want     string
	}{
		{
			name: "equal",
			from: "a/x", to: "b/x",
			a: "same\n", b: "same\n",
			want: "",
		},
		{
			name: "one line changed, three lines of context",
			from: "a/app.toml", to: "b/app.toml",
			a: lines(10, nil), b: lines(10, map[int]string{5: "five\n"}),
			want: `--- a/app.toml
+++ b/app.toml
@@ -2,7 +2,7 @@
 line2
 line3
 line4
-line5
+five
 line6
 line7
 line8
`,
		},
		{
			name: "changes far apart make two hunks",
			from: "a/f", to: "b/f",
			a: lines(20, nil), b: lines(20, map[int]string{2: "two\n", 18: ""}),
			want: `--- a/f
+++ b/f
@@ -1,5 +1,5 @@
 line1
-line2
+two
 line3
 line4
 line5
@@ -15,6 +15,5 @@
 line15
 line16
 line17
-line18
 line19
 line20
`,
		},
		{
			name: "changes six lines apart share one hunk",
			from: "a/f", to: "b/f",
			a: lines(12, nil), b: lines(12, map[int]string{3: "three\n", 10: "ten\n"}),
			want: `--- a/f
+++ b/f
@@ -1,12 +1,12 @@
 line1
 line2
-line3
+three
 line4
 line5
 line6
 line7
 line8
 line9
-line10
+ten
 line11
 line12
`,
		},
		{
			name: "added file",
			from: "/dev/null", to: "b/.env",
			a: "", b: "A=1\nB=2\n",
			want: `--- /dev/null
+++ b/.env
@@ -0,0 +1,2 @@
+A=1
+B=2
`,
		},
		{
			name: "removed file of one line",
			from: "a/x", to: "/dev/null",
			a: "gone\n", b: "",
			want: `--- a/x
+++ /dev/null
@@ -1 +0,0 @@
-gone
`,
		},
		{
			name: "missing newline at end of file",
			from: "a/x", to: "b/x",
			a: "one\ntwo", b: "one\ntwo\nthree\n",
			want: `--- a/x
+++ b/x
@@ -1,2 +1,3 @@
 one
-two
\ No newline at end of file
+two
+three
`,
		},
		{
			name: "insertion at the top",
			from: "a/x", to: "b/x",
			a: lines(6, nil), b: "new\n" + lines(6, nil),
			want: `--- a/x
+++ b/x
@@ -1,3 +1,4 @@
+new
 line1
 line2
 line3
`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := unifiedDiff(tc.from, tc.to, tc.a, tc.b, DefaultDiffContext)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("unified diff (-want +got):\n%s", diff)
			}
		})
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func TestShowableText(t *testing.T) {
	tests := []struct {
		data []byte
		want bool
	}{
		{[]byte("plain\n"), true},
		{[]byte("héllo ✓\n"), true},
		{[]byte{}, true},
		{nil, true},
		{[]byte("a\x00b"), false},
		{[]byte{0xff, 0xfe, 'a'}, false},
	}
	for _, tc := range tests {
		if got := showableText(tc.data); got != tc.want {
			t.Errorf("showableText(%q) = %v, want %v", tc.data, got, tc.want)
		}
	}
}

func TestDiffDatabases(t *testing.T) {
	sum := func(c string) string { return strings.Repeat(c, 64) }
	art := func(s string, size int64, meta map[string]string) Artifact {
		return Artifact{Scope: ScopeDatabase, Path: "main", Kind: KindChunked, Size: size, SHA256: sum(s), Meta: meta}
	}
	full := func(schema, size, tables string) map[string]string {
		return map[string]string{"driver": "postgres", "server_version": "PostgreSQL 16.4", "schema_version": schema, "size": size, "tables": tables}
	}
	tests := []struct {
		name string
		a, b map[string]Artifact
		want []DatabaseDiff
	}{
		{
			name: "schema upgrade and growth",
			a:    map[string]Artifact{"main": art("a", 100, full("12", "8192", "7"))},
			b:    map[string]Artifact{"main": art("b", 120, full("13", "16384", "8"))},
			want: []DatabaseDiff{{Name: "main", Status: DiffChanged, SchemaChange: PkgUpgraded,
				A: &DatabaseState{Driver: "postgres", ServerVersion: "PostgreSQL 16.4", Size: 8192, DumpSize: 100, SchemaVersion: "12", Tables: 7, SHA256: sum("a")},
				B: &DatabaseState{Driver: "postgres", ServerVersion: "PostgreSQL 16.4", Size: 16384, DumpSize: 120, SchemaVersion: "13", Tables: 8, SHA256: sum("b")}}},
		},
		{
			name: "same dump, missing meta keys read as unknown",
			a:    map[string]Artifact{"main": art("a", 100, map[string]string{"driver": "command"})},
			b:    map[string]Artifact{"main": art("a", 100, nil)},
			want: []DatabaseDiff{{Name: "main", Status: DiffUnchanged,
				A: &DatabaseState{Driver: "command", Size: -1, DumpSize: 100, Tables: -1, SHA256: sum("a")},
				B: &DatabaseState{Size: -1, DumpSize: 100, Tables: -1, SHA256: sum("a")}}},
		},
		{
			name: "schema version on one side only is no schema change",
			a:    map[string]Artifact{"main": art("a", 1, map[string]string{"schema_version": "3", "size": "x"})},
			b:    map[string]Artifact{"main": art("b", 1, nil)},
			want: []DatabaseDiff{{Name: "main", Status: DiffChanged,
				A: &DatabaseState{Size: -1, DumpSize: 1, SchemaVersion: "3", Tables: -1, SHA256: sum("a")},
				B: &DatabaseState{Size: -1, DumpSize: 1, Tables: -1, SHA256: sum("b")}}},
		},
		{
			name: "added and removed",
			a:    map[string]Artifact{"old": art("a", 1, nil)},
			b:    map[string]Artifact{"new": art("b", 2, full("1", "10", "1"))},
			want: []DatabaseDiff{
				{Name: "new", Status: DiffAdded, B: &DatabaseState{Driver: "postgres", ServerVersion: "PostgreSQL 16.4", Size: 10, DumpSize: 2, SchemaVersion: "1", Tables: 1, SHA256: sum("b")}},
				{Name: "old", Status: DiffRemoved, A: &DatabaseState{Size: -1, DumpSize: 1, Tables: -1, SHA256: sum("a")}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, diffDatabases(tc.a, tc.b)); diff != "" {
				t.Errorf("databases (-want +got):\n%s", diff)
			}
		})
	}
}
