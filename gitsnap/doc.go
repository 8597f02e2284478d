// Package gitsnap is the core of git-snap: the snapshot model, the storage
// format (docs/format.md), the Repo seam over Git, config, validation, notes
// events and the create / list / show / restore orchestration.
//
// gitsnap must not import scopes, hooks, cmd/git-snap or urfave/cli: scopes
// are wired in by the command layer through a Registry. Library code never
// prints and never exits; it returns wrapped errors (errors.go) and reports
// progress through Progress.
package gitsnap
