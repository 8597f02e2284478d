// Package gitsnaptest holds test helpers for code built on gitsnap: an
// in-memory gitsnap.Repo (NewRepo), helpers that run the real git binary in
// a clean environment (NewGitRepo, RunGit, GitEnv), and RepoSuite, the
// conformance tests every gitsnap.Repo implementation must pass.
//
// It is imported by tests only; it must not be imported by production code.
package gitsnaptest
