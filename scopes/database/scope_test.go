package database

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/scopes/scopetest"
)

// fakeDriver dumps a fixed body and reports fixed facts.
type fakeDriver struct {
	live    Info
	liveErr error
	body    string
	dumpErr error // returned after writing body
}

func (f *fakeDriver) Name() string { return "fake" }
func (f *fakeDriver) Inspect(context.Context, Target) (Info, error) {
	return f.live, f.liveErr
}
func (f *fakeDriver) Dump(_ context.Context, t Target, w io.Writer) (Info, error) {
	if _, err := io.WriteString(w, f.body); err != nil {
		return Info{}, err
	}
	if f.dumpErr != nil {
		return Info{}, fmt.Errorf("database %s: %w", t.Config.Name, f.dumpErr)
	}
	info := f.live
	info.Meta = map[string]string{"dump_format": "fake", "leak": "see " + t.URL}
	return info, nil
}
func (f *fakeDriver) Restore(context.Context, Target, io.Reader, Info) error { return nil }

func fakeEnv(names ...string) *gitsnap.ScopeEnv {
	cfg := &gitsnap.Config{}
	for _, n := range names {
		cfg.Database = append(cfg.Database, gitsnap.DatabaseConfig{Name: n, Driver: "fake"})
	}
	return &gitsnap.ScopeEnv{Root: "/nonexistent", Config: cfg}
}

func fakeScope(d *fakeDriver) *Scope {
	return New(WithDrivers(NewDrivers(d)), WithGetenv(func(k string) string {
		if k == "APP_DB" || k == DefaultURLEnv {
			return "fake://admin:s3cret@db/app"
		}
		return ""
	}))
}

func TestCaptureMetaIsRedactedAndComplete(t *testing.T) {
	d := &fakeDriver{body: "dump", live: Info{ServerVersion: "Fake 1.0", SchemaVersion: "42", Size: 123, Tables: []string{"a", "b"}}}
	st := capture(t, fakeScope(d), fakeEnv("main"))
	want := map[string]string{
		"driver": "fake", "dump_format": "fake", "server_version": "Fake 1.0", "schema_version": "42",
		"tables": "2", "size": "123", "leak": "see fake://admin:xxxxx@db/app",
	}
	if diff := cmp.Diff(want, st.Artifacts()[0].Meta); diff != "" {
		t.Errorf("meta (-want +got):\n%s", diff)
	}
}

func TestCaptureDumpFailingMidway(t *testing.T) {
	d := &fakeDriver{body: strings.Repeat("x", 1<<20), dumpErr: errors.New("connection lost")}
	st := scopetest.NewStore("database")
	err := fakeScope(d).Capture(context.Background(), fakeEnv("main"), st)
	if err == nil || !strings.Contains(err.Error(), "database main: connection lost") {
		t.Fatalf("err = %v, want the driver's error", err)
	}
	if len(st.Artifacts()) != 0 {
		t.Errorf("a failed dump left an artifact: %+v", st.Artifacts())
	}
}

func TestPlan(t *testing.T) {
	snap := func(names ...string) *scopetest.Store {
		st := scopetest.NewStore("database")
		for _, n := range names {
			st.Add(gitsnap.Artifact{Path: n, Kind: gitsnap.KindChunked, Meta: map[string]string{
				"driver": "fake", "schema_version": "20240101", "tables": "3", "size": "2048"}}, []byte("dump"))
		}
		return st
	}
	tests := []struct {
		name      string
		driver    *fakeDriver
		env       *gitsnap.ScopeEnv
		snap      *scopetest.Store
		changes   []gitsnap.Change
		warnings  []string
		wantError string
	}{
		{
			name:    "replace with upgrade",
			driver:  &fakeDriver{live: Info{SchemaVersion: "20231201", Size: 1 << 20, Tables: []string{"a", "b"}}},
			env:     fakeEnv("main"),
			snap:    snap("main"),
			changes: []gitsnap.Change{{Op: gitsnap.OpReplace, Path: "main", Detail: "size 1.0 MiB → 2.0 KiB, schema 20231201 → 20240101, tables 2 → 3"}},
		},
		{
			name:     "schema downgrade warns",
			driver:   &fakeDriver{live: Info{SchemaVersion: "20240501", Size: 10, Tables: []string{"a"}}},
			env:      fakeEnv("main"),
			snap:     snap("main"),
			changes:  []gitsnap.Change{{Op: gitsnap.OpReplace, Path: "main", Detail: "size 10 B → 2.0 KiB, schema 20240501 → 20240101, tables 1 → 3"}},
			warnings: []string{"database main: schema version goes BACKWARDS from 20240501 to 20240101; code expecting the newer schema may fail against the restored data"},
		},
		{
			name:    "missing database is created",
			driver:  &fakeDriver{liveErr: fmt.Errorf("database main: %w", ErrNotExist)},
			env:     fakeEnv("main"),
			snap:    snap("main"),
			changes: []gitsnap.Change{{Op: gitsnap.OpAdd, Path: "main", Detail: "size 2.0 KiB, schema 20240101, tables 3"}},
		},
		{
			name:     "configured but not in the snapshot",
			driver:   &fakeDriver{live: Info{SchemaVersion: "20240101", Tables: []string{"a", "b", "c"}, Size: 2048}},
			env:      fakeEnv("main", "extra"),
			snap:     snap("main"),
			changes:  []gitsnap.Change{{Op: gitsnap.OpReplace, Path: "main", Detail: "size 2.0 KiB → 2.0 KiB, schema 20240101 → 20240101, tables 3 → 3"}},
			warnings: []string{"database extra is configured but not in the snapshot: it is left as it is"},
		},
		{
			name:      "in the snapshot but not configured",
			driver:    &fakeDriver{},
			env:       fakeEnv("main"),
			snap:      snap("main", "gone"),
			wantError: "database gone is in the snapshot but not configured",
		},
		{
			name:      "unreachable server",
			driver:    &fakeDriver{liveErr: errors.New("database main: connection refused")},
			env:       fakeEnv("main"),
			snap:      snap("main"),
			wantError: "database main: connection refused",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := fakeScope(tc.driver)
			p, err := s.Plan(context.Background(), tc.env, tc.snap)
			if tc.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantError) {
					t.Fatalf("err = %v, want %q", err, tc.wantError)
				}
				if rerr := s.Restore(context.Background(), tc.env, tc.snap); strings.Contains(tc.wantError, "not configured") && (rerr == nil || gitsnap.HintOf(rerr) == "") {
					t.Errorf("restore: err = %v, want the same error with a hint", rerr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.changes, p.Changes); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.warnings, p.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanDriverMismatch(t *testing.T) {
	root := t.TempDir()
	seedDB(t, filepath.Join(root, "app.db"), false)
	st := capture(t, sqliteScope(), sqliteEnv(root, gitsnap.DatabaseConfig{Name: "main", Driver: "sqlite", Path: "app.db"}))
	env := fakeEnv("main")
	_, err := fakeScope(&fakeDriver{}).Plan(context.Background(), env, st)
	if err == nil || !strings.Contains(err.Error(), "captured with driver sqlite but is configured with driver fake") || gitsnap.HintOf(err) == "" {
		t.Errorf("err = %v, want a driver mismatch with a hint", err)
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"9", "10", -1},
		{"20240101120000", "20231231235959", 1},
		{"0042", "42", 0},
		{"1.10", "1.9", 1},
		{"1.2", "1.2.0", 0},
		{"2.0.1", "10", -1},
		{"123456789012345678901234567890", "123456789012345678901234567891", -1},
		{"v2", "v10", 1}, // not numbers: lexical
		{"abc", "abc", 0},
	}
	for _, tc := range tests {
		if got := CompareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestHumanSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536 << 10: "1.5 MiB", 3 << 30: "3.0 GiB"} {
		if got := HumanSize(n); got != want {
			t.Errorf("HumanSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestDefaultDrivers(t *testing.T) {
	got := DefaultDrivers(ExecRunner{}).Names()
	for _, want := range []string{"command", "mysql", "postgres", "sqlite"} {
		found := false
		for _, g := range got {
			found = found || g == want
		}
		if !found {
			t.Errorf("default drivers %q lack %q", got, want)
		}
	}
	if New().Name() != "database" {
		t.Error("scope name is not database")
	}
}
