package gitsnap_test

import (
	"testing"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/gitsnap/gitsnaptest"
)

func TestRepoSuiteMemory(t *testing.T) {
	t.Parallel()
	gitsnaptest.RepoSuite(t, func(t *testing.T) gitsnap.Repo { return gitsnaptest.NewRepo(t) })
}

func TestRepoSuiteGoGit(t *testing.T) {
	t.Parallel()
	gitsnaptest.RepoSuite(t, func(t *testing.T) gitsnap.Repo {
		return gitsnaptest.OpenGitRepo(t, gitsnaptest.NewGitRepo(t))
	})
}
