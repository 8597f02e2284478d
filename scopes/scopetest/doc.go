// Package scopetest holds what every scope's tests share: Run, the
// conformance suite each gitsnap.Scope passes (round trip, idempotence,
// plan, determinism, cancellation, integrity); RunPaths, which adds the
// checks for path-pattern scopes (modes, symlinks, removals only inside
// the patterns, unsafe snapshot paths); and Store, an in-memory
// ArtifactWriter and ArtifactReader that can be told to corrupt data.
//
// It is imported by tests only. It imports gitsnap and the standard
// library plus go-cmp, never another scope.
package scopetest
