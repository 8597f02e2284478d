package gitsnap

// TEMPORARY stubs, owned by the repo helper: delete each as it is implemented.

import (
	"context"
	"errors"
)

var errTODO = errors.New("not implemented yet")

func (r *goGitRepo) NewObjectWriter(ctx context.Context) (ObjectWriter, error) { return nil, errTODO }
func (r *goGitRepo) Ref(ctx context.Context, name string) (Hash, error)        { return ZeroHash, errTODO }
func (r *goGitRepo) Refs(ctx context.Context, prefix string) ([]Ref, error)    { return nil, errTODO }
func (r *goGitRepo) UpdateRef(ctx context.Context, name string, oldHash, newHash Hash) error {
	return errTODO
}
func (r *goGitRepo) DeleteRef(ctx context.Context, name string, oldHash Hash) error { return errTODO }
