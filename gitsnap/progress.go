package gitsnap

// Progress receives events from long operations. cmd/git-snap renders them
// (a bar on a terminal, JSON lines with --json); library code never prints.
// Implementations must be safe for concurrent use.
type Progress interface {
	Event(e ProgressEvent)
}

// ProgressEvent is one progress report.
type ProgressEvent struct {
	Kind    string // "scope_start", "scope_done", "bytes", "check_start", "check_done", "step", "warning"
	Scope   string
	Name    string // check name, artifact path, restore step
	Bytes   int64  // "bytes" events: bytes just processed (an increment, not a total)
	Total   int64  // expected bytes, 0 if unknown
	Message string
}

// NoProgress discards events.
type NoProgress struct{}

// Event implements Progress.
func (NoProgress) Event(ProgressEvent) {}

func progressOrNoop(p Progress) Progress {
	if p == nil {
		return NoProgress{}
	}
	return p
}
