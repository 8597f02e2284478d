package gitsnap

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// FormatVersion is the storage format a snapshot is written in unless it
// needs a newer one (docs/format.md). FormatDeltas, the newest this
// version reads, adds delta chunks; a snapshot is written in it only when
// one of its chunks is a delta, so snapshots without deltas stay readable
// by older versions.
const (
	FormatVersion = 1
	FormatDeltas  = 2
)

// Manifest is snap.json, the first thing read from a snapshot.
type Manifest struct {
	Format       int           `json:"format"`
	CreatedAt    time.Time     `json:"created_at"`
	Host         string        `json:"host"`
	CreatedBy    string        `json:"created_by"`
	Tool         string        `json:"tool"`
	Message      string        `json:"message,omitempty"`
	SourceCommit string        `json:"source_commit,omitempty"`
	Branch       string        `json:"branch,omitempty"`
	Dirty        bool          `json:"dirty"`
	ConfigHash   string        `json:"config_hash,omitempty"`
	Scopes       []string      `json:"scopes"`
	Code         *ManifestCode `json:"code,omitempty"`
	Artifacts    []Artifact    `json:"artifacts"`
	Chunker      ChunkerParams `json:"chunker"`
}

// SchemaVersions maps database name → the schema version recorded at
// capture (artifact meta "schema_version"), for databases that have one.
func (m *Manifest) SchemaVersions() map[string]string {
	out := map[string]string{}
	for _, a := range m.Artifacts {
		if v := a.Meta["schema_version"]; a.Scope == ScopeDatabase && v != "" {
			out[a.Path] = v
		}
	}
	return out
}

// ManifestCode is the code scope's record.
type ManifestCode struct {
	Commit string `json:"commit,omitempty"`
	Tree   string `json:"tree"`
	Branch string `json:"branch,omitempty"`
	Dirty  bool   `json:"dirty"`
}

// ChunkerParams pins content-defined chunking so that every machine cuts
// the same data into the same chunks.
type ChunkerParams struct {
	Algorithm  string `json:"algorithm"`
	Polynomial string `json:"polynomial"`
	MinSize    int    `json:"min_size"`
	AvgSize    int    `json:"avg_size"`
	MaxSize    int    `json:"max_size"`
	// Threshold: files at least this large are chunked, smaller ones are one blob.
	Threshold int64 `json:"threshold"`
}

// Snapshot commit trailers.
const (
	trailerFormat = "Snap-Format"
	trailerSource = "Snap-Source-Commit"
)

// SnapshotRefPrefix is where snapshot refs live.
const SnapshotRefPrefix = "refs/snapshots/"

// NotesRef holds all snapshot metadata events.
const NotesRef = "refs/notes/snap"

var idPattern = regexp.MustCompile(`^snap_\d{8}_\d{6}_[0-9a-f]{8}$`)

// SnapshotID derives the id from the creation time and commit hash.
func SnapshotID(createdAt time.Time, commit Hash) string {
	return "snap_" + createdAt.UTC().Format("20060102_150405") + "_" + commit.String()[:8]
}

// ValidID reports whether s is a well-formed snapshot id.
func ValidID(s string) bool { return idPattern.MatchString(s) }

func encodeManifest(m *Manifest) ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return append(b, '\n'), nil
}

// decodeManifest parses snap.json, checking the format version first.
func decodeManifest(data []byte) (*Manifest, error) {
	var probe struct {
		Format int `json:"format"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("%w: snap.json is not JSON: %v", ErrInvalidFormat, err)
	}
	if probe.Format < FormatVersion || probe.Format > FormatDeltas {
		return nil, WithHint(fmt.Errorf("%w: snapshot format %d, this git-snap reads formats %d to %d", ErrInvalidFormat, probe.Format, FormatVersion, FormatDeltas),
			"upgrade git-snap to read newer snapshots")
	}
	m := &Manifest{}
	if err := json.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("%w: snap.json: %v", ErrInvalidFormat, err)
	}
	for _, a := range m.Artifacts {
		if err := checkArtifact(a); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func checkArtifact(a Artifact) error {
	if !contains(AllScopes, a.Scope) || a.Scope == ScopeCode {
		return fmt.Errorf("%w: artifact %q has unknown scope %q", ErrInvalidFormat, a.Path, a.Scope)
	}
	switch a.Kind {
	case KindBlob, KindChunked, KindSymlink:
	default:
		return fmt.Errorf("%w: artifact %q has unknown kind %q", ErrInvalidFormat, a.Path, a.Kind)
	}
	if a.Size < 0 || len(a.SHA256) != 64 || a.Deltas < 0 || a.Deltas > a.Chunks {
		return fmt.Errorf("%w: artifact %q has a bad size or digest", ErrInvalidFormat, a.Path)
	}
	if a.Scope != ScopeDatabase {
		if _, err := CleanRelPath(a.Path); err != nil {
			return fmt.Errorf("artifact of scope %s: %w", a.Scope, err)
		}
	} else if a.Path == "" || strings.ContainsAny(a.Path, "/\\\x00") || a.Path == ".." || a.Path == "." {
		return fmt.Errorf("%w: database artifact name %q", ErrUnsafePath, a.Path)
	}
	return nil
}

func commitMessage(m *Manifest) string {
	summary := m.Message
	if summary == "" {
		summary = "snapshot of " + strings.Join(m.Scopes, ", ")
	}
	summary = oneLine(summary)
	var b strings.Builder
	fmt.Fprintf(&b, "git-snap: %s\n\n", summary)
	fmt.Fprintf(&b, "%s: %d\n", trailerFormat, max(m.Format, FormatVersion))
	if m.SourceCommit != "" {
		fmt.Fprintf(&b, "%s: %s\n", trailerSource, m.SourceCommit)
	}
	return b.String()
}
