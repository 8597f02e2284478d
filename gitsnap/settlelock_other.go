//go:build !unix

package gitsnap

import "context"

// lockSettle is a no-op where flock is not available: settle steps are
// idempotent, so two settles at once cost work, not data.
func lockSettle(ctx context.Context, commonDir string) (func(), error) { return func() {}, nil }

// tryLock always succeeds where flock is not available.
func tryLock(path string) (release func(), ok bool, err error) { return func() {}, true, nil }
