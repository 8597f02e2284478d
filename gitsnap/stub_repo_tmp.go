package gitsnap

// TEMPORARY stubs, owned by the repo helper: delete each as it is implemented.

import (
	"context"
	"errors"
	"io"
)

var errTODO = errors.New("not implemented yet")

func (r *goGitRepo) HasObject(ctx context.Context, h Hash) (bool, error) { return false, errTODO }
func (r *goGitRepo) OpenBlob(ctx context.Context, h Hash) (io.ReadCloser, int64, error) {
	return nil, 0, errTODO
}
func (r *goGitRepo) ReadTree(ctx context.Context, h Hash) ([]TreeEntry, error) { return nil, errTODO }
func (r *goGitRepo) ReadCommit(ctx context.Context, h Hash) (*Commit, error)   { return nil, errTODO }
func (r *goGitRepo) NewObjectWriter(ctx context.Context) (ObjectWriter, error) { return nil, errTODO }
func (r *goGitRepo) Ref(ctx context.Context, name string) (Hash, error)        { return ZeroHash, errTODO }
func (r *goGitRepo) Refs(ctx context.Context, prefix string) ([]Ref, error)    { return nil, errTODO }
func (r *goGitRepo) UpdateRef(ctx context.Context, name string, oldHash, newHash Hash) error {
	return errTODO
}
func (r *goGitRepo) DeleteRef(ctx context.Context, name string, oldHash Hash) error { return errTODO }
func (r *goGitRepo) ConfigValue(key string) (string, bool)                          { return "", false }
func (r *goGitRepo) GitDir() string                                                 { return r.gitDir }
func (r *goGitRepo) CommonDir() string                                              { return r.commonDir }
