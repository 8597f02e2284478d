package database

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/git-snap/git-snap/gitsnap"
)

// Plan implements gitsnap.Scope: per database of the snapshot, a "replace"
// change (or "add" when the live database does not exist) whose detail
// reads "size 1.2 MiB → 1.0 MiB, schema 12 → 10, tables 7 → 6". A database
// whose driver can digest it (Digester) and whose digest equals the
// artifact's is unchanged and left out. A schema version going backwards
// gets a loud warning; configured databases the snapshot lacks get a
// warning that they are left alone.
func (s *Scope) Plan(ctx context.Context, env *gitsnap.ScopeEnv, r gitsnap.ArtifactReader) (*gitsnap.ScopePlan, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("plan databases: %w", err)
	}
	p := &gitsnap.ScopePlan{Scope: s.Name(), Changes: []gitsnap.Change{}}
	pairs, absent, err := match(env, r)
	if err != nil {
		return nil, err
	}
	for _, name := range absent {
		p.Warnings = append(p.Warnings, fmt.Sprintf("database %s is configured but not in the snapshot: it is left as it is", name))
	}
	for _, pr := range pairs {
		ch, warn, err := s.planOne(ctx, env, pr)
		if err != nil {
			return nil, err
		}
		if ch != nil {
			p.Changes = append(p.Changes, *ch)
		}
		if warn != "" {
			p.Warnings = append(p.Warnings, warn)
		}
	}
	p.Sort()
	return p, nil
}

func (s *Scope) planOne(ctx context.Context, env *gitsnap.ScopeEnv, pr pair) (*gitsnap.Change, string, error) {
	t, drv, err := s.target(env, pr.cfg)
	if err != nil {
		return nil, "", err
	}
	live, err := drv.Inspect(ctx, t)
	missing := errors.Is(err, ErrNotExist)
	if err != nil && !missing {
		if ctx.Err() != nil {
			return nil, "", fmt.Errorf("plan database %s: %w", pr.cfg.Name, ctx.Err())
		}
		return nil, "", err
	}
	if !missing && !env.QuickPlan {
		if dg, ok := drv.(Digester); ok {
			size, sum, err := dg.Digest(ctx, t)
			if err != nil {
				if ctx.Err() != nil {
					return nil, "", fmt.Errorf("plan database %s: %w", pr.cfg.Name, ctx.Err())
				}
				return nil, "", err
			}
			if size == pr.art.Size && sum == pr.art.SHA256 {
				return nil, "", nil
			}
		}
	}
	snap := recordedInfo(pr.art)
	snapTables := pr.art.Meta[MetaTables]
	if snapTables == "" {
		snapTables = "?"
	}
	ch := &gitsnap.Change{Op: gitsnap.OpReplace, Path: pr.cfg.Name}
	var parts []string
	if missing {
		ch.Op = gitsnap.OpAdd
		parts = append(parts, "size "+HumanSize(snap.Size))
		if snap.SchemaVersion != "" {
			parts = append(parts, "schema "+snap.SchemaVersion)
		}
		if snapTables != "?" {
			parts = append(parts, "tables "+snapTables)
		}
	} else {
		parts = append(parts, fmt.Sprintf("size %s → %s", sizeOrUnknown(live.Size), sizeOrUnknown(snap.Size)))
		if live.SchemaVersion != "" || snap.SchemaVersion != "" {
			parts = append(parts, fmt.Sprintf("schema %s → %s", orNone(live.SchemaVersion), orNone(snap.SchemaVersion)))
		}
		liveTables := "?"
		if live.Tables != nil {
			liveTables = strconv.Itoa(len(live.Tables))
		}
		if liveTables != "?" || snapTables != "?" {
			parts = append(parts, fmt.Sprintf("tables %s → %s", liveTables, snapTables))
		}
	}
	ch.Detail = strings.Join(parts, ", ")
	warn := ""
	if !missing && live.SchemaVersion != "" && snap.SchemaVersion != "" && CompareVersions(snap.SchemaVersion, live.SchemaVersion) < 0 {
		warn = fmt.Sprintf("database %s: schema version goes BACKWARDS from %s to %s; code expecting the newer schema may fail against the restored data",
			pr.cfg.Name, live.SchemaVersion, snap.SchemaVersion)
	}
	return ch, warn, nil
}

// sizeOrUnknown formats a size; drivers report 0 when they do not know it.
func sizeOrUnknown(n int64) string {
	if n == 0 {
		return "?"
	}
	return HumanSize(n)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// CompareVersions compares two schema versions: numerically when both are
// numbers or dotted numbers ("20240501120000", "1.10" > "1.9"), of any
// length, otherwise lexically. It returns -1, 0 or +1.
func CompareVersions(a, b string) int {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if !dottedNumber.MatchString(a) || !dottedNumber.MatchString(b) {
		return strings.Compare(a, b)
	}
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		x, y := "0", "0"
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		if c := compareDigits(x, y); c != 0 {
			return c
		}
	}
	return 0
}

var dottedNumber = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)

// compareDigits compares two decimal digit strings as numbers.
func compareDigits(x, y string) int {
	x, y = strings.TrimLeft(x, "0"), strings.TrimLeft(y, "0")
	if len(x) != len(y) {
		if len(x) < len(y) {
			return -1
		}
		return 1
	}
	return strings.Compare(x, y)
}

// HumanSize formats a byte count with binary units ("1.5 MiB").
func HumanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
