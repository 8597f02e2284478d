package gitsnap

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strings"
	"time"
)

// Event types written to a snapshot's note (docs/format.md).
const (
	EventCreated     = "created"     // the snapshot was written (who, where, scopes)
	EventValidated   = "validated"   // checks ran at capture; Status passed|failed
	EventUnvalidated = "unvalidated" // created with --no-validate: never known-good
	EventTagged      = "tagged"
	EventUntagged    = "untagged"
	EventRestored    = "restored" // a restore to this snapshot; Result ok|rolled_back|failed
	EventDrill       = "drill"    // a restore drill in a sandbox (verify)
	EventSettled     = "settled"  // a safety snapshot's held copies were copied in; From: the id it replaces
)

// Tag names with meaning.
const (
	TagKnownGood  = "known-good"
	TagPreRestore = "pre-restore"
)

// Event is one line of a note. Field order is the canonical key order:
// the timestamp first (fixed width, so sorting lines sorts by time) and a
// unique id on every line, which keeps git's cat_sort_uniq merge lossless.
type Event struct {
	TS      string             `json:"ts"`
	ID      string             `json:"id"`
	Type    string             `json:"type"`
	By      string             `json:"by,omitempty"`
	Host    string             `json:"host,omitempty"`
	Status  string             `json:"status,omitempty"` // validated/drill: passed|failed
	Level   string             `json:"level,omitempty"`  // validation depth: health|smoke|full|perf
	Tags    []string           `json:"tags,omitempty"`
	Forced  bool               `json:"forced,omitempty"`
	Scopes  []string           `json:"scopes,omitempty"`
	Message string             `json:"message,omitempty"`
	Checks  []CheckResult      `json:"checks,omitempty"`
	Metrics map[string]float64 `json:"metrics,omitempty"`
	// Restore and drill records.
	Result     string           `json:"result,omitempty"` // ok | rolled_back | failed
	DurationMS int64            `json:"duration_ms,omitempty"`
	ScopeMS    map[string]int64 `json:"scope_ms,omitempty"`
	Safety     string           `json:"safety,omitempty"` // id of the pre-restore safety snapshot
	From       string           `json:"from,omitempty"`   // settled: the id of the held safety snapshot this one replaces
	Error      string           `json:"error,omitempty"`
}

// CheckResult is one check's outcome, recorded in validated/drill events.
type CheckResult struct {
	Name         string             `json:"name"`
	Kind         string             `json:"kind"`
	Status       string             `json:"status"` // passed | failed
	ExitCode     int                `json:"exit_code"`
	DurationMS   int64              `json:"duration_ms"`
	OutputSHA256 string             `json:"output_sha256,omitempty"`
	Tail         string             `json:"tail,omitempty"`
	HTTPStatus   int                `json:"http_status,omitempty"`
	Attempts     int                `json:"attempts,omitempty"`
	Error        string             `json:"error,omitempty"`
	Metrics      map[string]float64 `json:"metrics,omitempty"`
}

const tsLayout = "2006-01-02T15:04:05.000000000Z"

// newEvent stamps an event with time and a random id.
func newEvent(now time.Time, typ string) Event {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return Event{TS: now.UTC().Format(tsLayout), ID: hex.EncodeToString(b[:]), Type: typ}
}

// Time parses the event timestamp.
func (e Event) Time() time.Time {
	t, _ := time.Parse(tsLayout, e.TS)
	return t
}

// parseEvents reads a note: JSON Lines, non-JSON lines skipped.
func parseEvents(note []byte) []Event {
	var out []Event
	for len(note) > 0 {
		line := note
		if i := bytes.IndexByte(note, '\n'); i >= 0 {
			line, note = note[:i], note[i+1:]
		} else {
			note = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var e Event
		if json.Unmarshal(line, &e) == nil && e.Type != "" {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].TS != out[j].TS {
			return out[i].TS < out[j].TS
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// mergeNote returns the union of note lines, sorted and de-duplicated:
// exactly what git's cat_sort_uniq strategy produces.
func mergeNote(parts ...[]byte) []byte {
	seen := map[string]bool{}
	var lines []string
	for _, p := range parts {
		for _, l := range strings.Split(string(p), "\n") {
			if l == "" || seen[l] {
				continue
			}
			seen[l] = true
			lines = append(lines, l)
		}
	}
	sort.Strings(lines)
	if len(lines) == 0 {
		return nil
	}
	return []byte(strings.Join(lines, "\n") + "\n")
}

func encodeEvents(es []Event) ([]byte, error) {
	var b bytes.Buffer
	for _, e := range es {
		line, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}
