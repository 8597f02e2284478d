package gitsnap

// TEMPORARY stubs, owned by the repo helper: delete each as it is implemented.

import (
	"context"
	"errors"
)

var errTODO = errors.New("not implemented yet")

func (r *goGitRepo) NewObjectWriter(ctx context.Context) (ObjectWriter, error) { return nil, errTODO }
