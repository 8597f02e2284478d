// Package scopes wires the built-in scopes together: Default returns the
// registry the command layer hands to gitsnap. Each scope lives in its own
// package (code, config, deps, files) and implements gitsnap.Scope; the
// path-pattern scopes share scopes/paths, and every scope is tested with
// scopes/scopetest.
//
// scopes and its subpackages import gitsnap, never cmd or hooks; gitsnap
// never imports them. Nothing registers itself: a new scope is added to
// Default explicitly.
package scopes
