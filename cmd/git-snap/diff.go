package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/scopes/database"
)

// maxCodePaths bounds the code paths listed in human output; --json lists all.
const maxCodePaths = 200

func diffCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "show what differs between two snapshots, per scope",
		ArgsUsage: "<a> <b>",
		Description: `Compares snapshot a (old) with snapshot b (new), scope by scope: code
(source commit and changed paths), config, dependencies and files (added,
removed, changed, with a unified diff for small text files and secrets
masked), lockfiles package by package, databases by size and schema version.

EXIT STATUS
   0   success, whether or not the snapshots differ
   2   bad arguments (two snapshot names are needed; unknown --scope)
   6   a snapshot is damaged (content does not match its digest)
   10  no such snapshot, or the name is ambiguous
   128 not a git repository`,
		Flags: append(commonFlags(e),
			&cli.StringSliceFlag{Name: "scope", Aliases: []string{"s"}, Usage: "compare only this scope (repeatable)"},
			&cli.BoolFlag{Name: "no-patch", Usage: "list changed paths only: no text diffs, no package lists"},
			&cli.BoolFlag{Name: "any-branch", Usage: "let known-good name a snapshot of any branch"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return usageError("git snap diff <a> <b>, e.g. git snap diff known-good latest", "diff takes exactly two snapshot names")
			}
			snap, err := e.open(c)
			if err != nil {
				return err
			}
			d, err := snap.Diff(c.Context, c.Args().Get(0), c.Args().Get(1), gitsnap.DiffOptions{
				Scopes: splitList(c.StringSlice("scope")), NoPatch: c.Bool("no-patch"), AnyBranch: c.Bool("any-branch"),
			})
			if err != nil {
				return err
			}
			if e.json {
				return writeJSON(e.stdout, toDiffJSON(d))
			}
			printDiff(e.stdout, d)
			return nil
		},
	}
}

func printDiff(w io.Writer, d *gitsnap.SnapshotDiff) {
	for _, side := range []struct {
		label string
		s     *gitsnap.SnapshotInfo
	}{{"a", d.A}, {"b", d.B}} {
		m := side.s.Manifest
		fmt.Fprintf(w, "%s  %s  %s  %s  %s", side.label, side.s.ID, m.CreatedAt.Local().Format("2006-01-02 15:04"), dash(shortRef(m.Branch)), side.s.Status)
		if m.Message != "" {
			fmt.Fprintf(w, "  %q", m.Message)
		}
		fmt.Fprintln(w)
	}
	if !d.Changed() {
		fmt.Fprintln(w, "\nno differences")
		return
	}
	for _, sd := range d.Scopes {
		if !sd.Changed() {
			continue
		}
		fmt.Fprintf(w, "\n%s\n", sd.Scope)
		switch {
		case !sd.InA:
			fmt.Fprintln(w, "  captured only in b")
		case !sd.InB:
			fmt.Fprintln(w, "  captured only in a")
		case sd.Code != nil:
			printCodeDiff(w, sd.Code, d.GitDiffCommand())
		case sd.Scope == gitsnap.ScopeDatabase:
			for _, db := range sd.Databases {
				fmt.Fprintf(w, "  %s\n", databaseLine(db))
			}
		default:
			for _, f := range sd.Files {
				printFileDiff(w, f)
			}
		}
	}
	var same []string
	for _, sd := range d.Scopes {
		if !sd.Changed() {
			same = append(same, sd.Scope)
		}
	}
	if len(same) > 0 {
		fmt.Fprintf(w, "\nunchanged: %s\n", strings.Join(same, ", "))
	}
}

func printCodeDiff(w io.Writer, c *gitsnap.CodeDiff, hint string) {
	src := func(mc gitsnap.ManifestCode) string {
		s := dash(shortHash(mc.Commit))
		if mc.Dirty {
			s += " (+ uncommitted changes)"
		}
		return s
	}
	fmt.Fprintf(w, "  source %s → %s", src(c.A), src(c.B))
	if c.A.Branch != c.B.Branch {
		fmt.Fprintf(w, "  branch %s → %s", dash(shortRef(c.A.Branch)), dash(shortRef(c.B.Branch)))
	} else if c.B.Branch != "" {
		fmt.Fprintf(w, "  on %s", shortRef(c.B.Branch))
	}
	fmt.Fprintln(w)
	for i, p := range c.Files {
		if i == maxCodePaths {
			fmt.Fprintf(w, "  … and %d more\n", len(c.Files)-maxCodePaths)
			break
		}
		fmt.Fprintf(w, "  %s  %s%s\n", statusLetter(p.Status), p.Path, modeNote(p.Status, fmt.Sprintf("%o", p.OldMode), fmt.Sprintf("%o", p.NewMode)))
	}
	if len(c.Files) > 0 && hint != "" {
		fmt.Fprintf(w, "  full diff: %s\n", hint)
	}
}

func printFileDiff(w io.Writer, f gitsnap.FileDiff) {
	line := fmt.Sprintf("  %s  %s", statusLetter(f.Status), f.Path)
	if f.A != nil && f.B != nil && f.A.Mode != f.B.Mode {
		line += modeNote(gitsnap.DiffModeOnly, f.A.Mode.String(), f.B.Mode.String())
	} else if f.A == nil {
		line += fmt.Sprintf("  (%s, %s)", f.B.Mode, database.HumanSize(f.B.Size))
	}
	if f.Note != "" {
		line += "  " + f.Note
	}
	fmt.Fprintln(w, line)
	for _, p := range f.Packages {
		switch p.Change {
		case gitsnap.PkgAdded:
			fmt.Fprintf(w, "      %-10s  %s %s\n", p.Change, p.Name, p.New)
		case gitsnap.PkgRemoved:
			fmt.Fprintf(w, "      %-10s  %s %s\n", p.Change, p.Name, p.Old)
		default:
			fmt.Fprintf(w, "      %-10s  %s %s → %s\n", p.Change, p.Name, p.Old, p.New)
		}
	}
	for _, l := range strings.Split(strings.TrimSuffix(f.Patch, "\n"), "\n") {
		switch l {
		case "":
		case " ": // an empty context line: no trailing blanks
			fmt.Fprintln(w)
		default:
			fmt.Fprintf(w, "      %s\n", l)
		}
	}
}

func databaseLine(db gitsnap.DatabaseDiff) string {
	st := db.B
	if st == nil {
		st = db.A
	}
	s := db.Name
	if st.Driver != "" {
		s += " (" + st.Driver + ")"
	}
	s += "  " + db.Status
	size := func(x *gitsnap.DatabaseState) string {
		if x.Size < 0 { // the driver did not report one: the dump's size
			return database.HumanSize(x.DumpSize) + " (dump)"
		}
		return database.HumanSize(x.Size)
	}
	schema := func(x *gitsnap.DatabaseState) string { return dash(x.SchemaVersion) }
	tables := func(x *gitsnap.DatabaseState) string {
		if x.Tables < 0 {
			return "?"
		}
		return fmt.Sprint(x.Tables)
	}
	if db.A == nil || db.B == nil {
		return s + fmt.Sprintf("  size %s, schema %s, tables %s", size(st), schema(st), tables(st))
	}
	s += fmt.Sprintf("  size %s → %s, schema %s → %s", size(db.A), size(db.B), schema(db.A), schema(db.B))
	if db.SchemaChange != "" {
		s += " (" + db.SchemaChange + ")"
	}
	s += fmt.Sprintf(", tables %s → %s", tables(db.A), tables(db.B))
	if db.A.ServerVersion != db.B.ServerVersion {
		s += fmt.Sprintf(", server %s → %s", dash(db.A.ServerVersion), dash(db.B.ServerVersion))
	}
	return s
}

func statusLetter(st string) string {
	switch st {
	case gitsnap.DiffAdded:
		return "A"
	case gitsnap.DiffRemoved:
		return "D"
	case gitsnap.DiffTypeChg:
		return "T"
	}
	return "M"
}

func modeNote(st, a, b string) string {
	if st != gitsnap.DiffModeOnly && st != gitsnap.DiffTypeChg || a == b {
		return ""
	}
	return fmt.Sprintf("  (mode %s → %s)", a, b)
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// JSON shapes of `git snap diff --json` (docs/git-snap-diff.md): one
// document, snake_case, fields only ever added.

type diffJSON struct {
	A       diffSideJSON    `json:"a"`
	B       diffSideJSON    `json:"b"`
	Changed bool            `json:"changed"`
	GitDiff string          `json:"git_diff,omitempty"`
	Scopes  []diffScopeJSON `json:"scopes"`
}

type diffSideJSON struct {
	ID               string    `json:"id"`
	SnapshotCommit   string    `json:"snapshot_commit"`
	CommitSHA        string    `json:"commit_sha"`
	Branch           string    `json:"branch"`
	Timestamp        time.Time `json:"timestamp"`
	ValidationStatus string    `json:"validation_status"`
}

type diffScopeJSON struct {
	Scope     string         `json:"scope"`
	Status    string         `json:"status"` // changed | unchanged | only_in_a | only_in_b
	Code      *diffCodeJSON  `json:"code,omitempty"`
	Files     []diffFileJSON `json:"files,omitempty"`
	Databases []diffDBJSON   `json:"databases,omitempty"`
}

type diffCodeJSON struct {
	A     diffCodeSideJSON `json:"a"`
	B     diffCodeSideJSON `json:"b"`
	Files []diffPathJSON   `json:"files"`
}

type diffCodeSideJSON struct {
	Commit string `json:"commit"`
	Tree   string `json:"tree"`
	Branch string `json:"branch"`
	Dirty  bool   `json:"dirty"`
}

type diffPathJSON struct {
	Path   string `json:"path"`
	Status string `json:"status"`
	ModeA  string `json:"mode_a,omitempty"`
	ModeB  string `json:"mode_b,omitempty"`
}

type diffFileJSON struct {
	Path     string            `json:"path"`
	Status   string            `json:"status"`
	A        *diffArtifactJSON `json:"a"`
	B        *diffArtifactJSON `json:"b"`
	Patch    string            `json:"patch,omitempty"`
	Note     string            `json:"note,omitempty"`
	Lockfile string            `json:"lockfile,omitempty"`
	Packages []diffPackageJSON `json:"packages,omitempty"`
}

type diffArtifactJSON struct {
	Kind   string `json:"kind"`
	Mode   string `json:"mode"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

type diffPackageJSON struct {
	Name       string `json:"name"`
	Change     string `json:"change"`
	OldVersion string `json:"old_version,omitempty"`
	NewVersion string `json:"new_version,omitempty"`
}

type diffDBJSON struct {
	Name         string       `json:"name"`
	Status       string       `json:"status"`
	SchemaChange string       `json:"schema_change,omitempty"`
	A            *diffDBState `json:"a"`
	B            *diffDBState `json:"b"`
}

type diffDBState struct {
	Driver        string `json:"driver"`
	ServerVersion string `json:"server_version,omitempty"`
	Size          *int64 `json:"size"` // null when the driver did not report it
	DumpSize      int64  `json:"dump_size"`
	SchemaVersion string `json:"schema_version"`
	Tables        *int   `json:"tables"`
	SHA256        string `json:"sha256"`
}

func toDiffJSON(d *gitsnap.SnapshotDiff) diffJSON {
	side := func(s *gitsnap.SnapshotInfo) diffSideJSON {
		m := s.Manifest
		return diffSideJSON{ID: s.ID, SnapshotCommit: s.Commit.String(), CommitSHA: m.SourceCommit, Branch: shortRef(m.Branch),
			Timestamp: m.CreatedAt, ValidationStatus: s.Status}
	}
	out := diffJSON{A: side(d.A), B: side(d.B), Changed: d.Changed(), GitDiff: d.GitDiffCommand(), Scopes: []diffScopeJSON{}}
	for _, sd := range d.Scopes {
		sj := diffScopeJSON{Scope: sd.Scope, Status: "unchanged"}
		switch {
		case !sd.InA:
			sj.Status = "only_in_b"
		case !sd.InB:
			sj.Status = "only_in_a"
		case sd.Changed():
			sj.Status = "changed"
		}
		if c := sd.Code; c != nil {
			cj := &diffCodeJSON{A: codeSideJSON(c.A), B: codeSideJSON(c.B), Files: []diffPathJSON{}}
			for _, p := range c.Files {
				cj.Files = append(cj.Files, diffPathJSON{Path: p.Path, Status: p.Status, ModeA: treeMode(p.OldMode), ModeB: treeMode(p.NewMode)})
			}
			sj.Code = cj
		}
		for _, f := range sd.Files {
			fj := diffFileJSON{Path: f.Path, Status: f.Status, A: artifactSideJSON(f.A), B: artifactSideJSON(f.B),
				Patch: f.Patch, Note: f.Note, Lockfile: f.Lockfile}
			for _, p := range f.Packages {
				fj.Packages = append(fj.Packages, diffPackageJSON{Name: p.Name, Change: p.Change, OldVersion: p.Old, NewVersion: p.New})
			}
			sj.Files = append(sj.Files, fj)
		}
		for _, db := range sd.Databases {
			sj.Databases = append(sj.Databases, diffDBJSON{Name: db.Name, Status: db.Status, SchemaChange: db.SchemaChange,
				A: dbStateJSON(db.A), B: dbStateJSON(db.B)})
		}
		out.Scopes = append(out.Scopes, sj)
	}
	return out
}

func codeSideJSON(c gitsnap.ManifestCode) diffCodeSideJSON {
	return diffCodeSideJSON{Commit: c.Commit, Tree: c.Tree, Branch: shortRef(c.Branch), Dirty: c.Dirty}
}

func treeMode(m uint32) string {
	if m == 0 {
		return ""
	}
	return fmt.Sprintf("%06o", m)
}

func artifactSideJSON(a *gitsnap.Artifact) *diffArtifactJSON {
	if a == nil {
		return nil
	}
	return &diffArtifactJSON{Kind: a.Kind, Mode: a.Mode.String(), Size: a.Size, SHA256: a.SHA256}
}

func dbStateJSON(s *gitsnap.DatabaseState) *diffDBState {
	if s == nil {
		return nil
	}
	out := &diffDBState{Driver: s.Driver, ServerVersion: s.ServerVersion, DumpSize: s.DumpSize, SchemaVersion: s.SchemaVersion, SHA256: s.SHA256}
	if s.Size >= 0 {
		size := s.Size
		out.Size = &size
	}
	if s.Tables >= 0 {
		n := s.Tables
		out.Tables = &n
	}
	return out
}
