package main

import (
	"encoding/json"
	"io"
	"sort"
	"time"

	"github.com/git-snap/git-snap/gitsnap"
)

// JSON shapes are a public contract (docs/json.md): snake_case, separate
// from gitsnap types, fields only ever added.

type snapshotJSON struct {
	ID                    string             `json:"id"`
	Timestamp             time.Time          `json:"timestamp"`
	CommitSHA             string             `json:"commit_sha"`
	SnapshotCommit        string             `json:"snapshot_commit"`
	Branch                string             `json:"branch"`
	Message               string             `json:"message"`
	Dirty                 bool               `json:"dirty"`
	ValidationStatus      string             `json:"validation_status"`
	ValidationLevel       string             `json:"validation_level,omitempty"`
	TestResults           []checkJSON        `json:"test_results"`
	PerformanceMetrics    map[string]float64 `json:"performance_metrics"`
	ConfigHash            string             `json:"config_hash"`
	DatabaseSchemaVersion map[string]string  `json:"database_schema_version"`
	Tags                  []string           `json:"tags"`
	CreatedBy             string             `json:"created_by"`
	Host                  string             `json:"host"`
	Artifacts             []string           `json:"artifacts"`
	RestoreCount          int                `json:"restore_count"`
	LastRestored          *time.Time         `json:"last_restored"`
	RestoreDurationsMS    []int64            `json:"restore_durations_ms"`
	// Held: a safety snapshot whose databases are still on their servers
	// (git snap settle copies them into Git).
	Held bool `json:"held"`
	// show only
	Files   []artifactJSON `json:"files,omitempty"`
	History []eventJSON    `json:"history,omitempty"`
}

type checkJSON struct {
	Name         string             `json:"name"`
	Kind         string             `json:"kind"`
	Status       string             `json:"status"`
	ExitCode     int                `json:"exit_code"`
	DurationMS   int64              `json:"duration_ms"`
	OutputSHA256 string             `json:"output_sha256,omitempty"`
	Tail         string             `json:"tail,omitempty"`
	Error        string             `json:"error,omitempty"`
	Metrics      map[string]float64 `json:"metrics,omitempty"`
}

type artifactJSON struct {
	Scope  string `json:"scope"`
	Path   string `json:"path"`
	Kind   string `json:"kind"`
	Mode   string `json:"mode"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

type eventJSON struct {
	Time       time.Time `json:"time"`
	Type       string    `json:"type"`
	By         string    `json:"by,omitempty"`
	Tags       []string  `json:"tags,omitempty"`
	Status     string    `json:"status,omitempty"`
	Result     string    `json:"result,omitempty"`
	DurationMS int64     `json:"duration_ms,omitempty"`
	Safety     string    `json:"safety,omitempty"`
	Error      string    `json:"error,omitempty"`
	Forced     bool      `json:"forced,omitempty"`
}

func toJSON(s *gitsnap.SnapshotInfo, detail bool) snapshotJSON {
	m := s.Manifest
	out := snapshotJSON{
		ID: s.ID, Timestamp: m.CreatedAt, CommitSHA: m.SourceCommit, SnapshotCommit: s.Commit.String(),
		Branch: shortRef(m.Branch), Message: m.Message, Dirty: m.Dirty,
		ValidationStatus: s.Status, ValidationLevel: s.Level, TestResults: []checkJSON{},
		PerformanceMetrics: s.Metrics, ConfigHash: m.ConfigHash, DatabaseSchemaVersion: m.SchemaVersions(),
		Tags: append([]string{}, s.Tags...), CreatedBy: m.CreatedBy, Host: m.Host,
		Artifacts: append([]string{}, m.Scopes...), RestoreCount: s.RestoreCount, LastRestored: s.LastRestored,
		RestoreDurationsMS: []int64{},
	}
	if out.PerformanceMetrics == nil {
		out.PerformanceMetrics = map[string]float64{}
	}
	for _, c := range s.Checks {
		out.TestResults = append(out.TestResults, checkJSON{Name: c.Name, Kind: c.Kind, Status: c.Status, ExitCode: c.ExitCode,
			DurationMS: c.DurationMS, OutputSHA256: c.OutputSHA256, Tail: c.Tail, Error: c.Error, Metrics: c.Metrics})
	}
	for _, r := range s.Restores {
		out.RestoreDurationsMS = append(out.RestoreDurationsMS, r.DurationMS)
	}
	if detail {
		for _, a := range m.Artifacts {
			out.Files = append(out.Files, artifactJSON{Scope: a.Scope, Path: a.Path, Kind: a.Kind, Mode: a.Mode.String(), Size: a.Size, SHA256: a.SHA256})
		}
		for _, e := range s.Events {
			out.History = append(out.History, eventJSON{Time: e.Time(), Type: e.Type, By: e.By, Tags: e.Tags, Status: e.Status,
				Result: e.Result, DurationMS: e.DurationMS, Safety: e.Safety, Error: e.Error, Forced: e.Forced})
		}
	}
	sort.Strings(out.Tags)
	return out
}

type planJSON struct {
	MessageType string               `json:"message_type"`
	Snapshot    string               `json:"snapshot"`
	DryRun      bool                 `json:"dry_run"`
	Validate    bool                 `json:"validate"`
	Scopes      []*gitsnap.ScopePlan `json:"scopes"`
}

type restoreJSON struct {
	MessageType string           `json:"message_type"`
	Snapshot    string           `json:"snapshot"`
	Safety      string           `json:"safety_snapshot"`
	DurationMS  int64            `json:"duration_ms"`
	ScopeMS     map[string]int64 `json:"scope_ms"`
	Validated   bool             `json:"validated"`
	Changes     int              `json:"changes"`
	Settle      string           `json:"settle,omitempty"` // held copies: background, manual or failed
}

type createJSON struct {
	MessageType string       `json:"message_type"`
	DurationMS  int64        `json:"duration_ms"`
	Snapshot    snapshotJSON `json:"snapshot"`
	Warnings    []string     `json:"warnings,omitempty"`
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func writeJSONLine(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(v)
}

func shortRef(r string) string {
	const p = "refs/heads/"
	if len(r) > len(p) && r[:len(p)] == p {
		return r[len(p):]
	}
	return r
}
