package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// snapcorrupt SNAPSHOT-REF NEWID KIND [ARG]: crafts a damaged copy of a
// snapshot with real git plumbing and stores it as refs/snapshots/NEWID.
// KIND is one of:
//
//	path PATH      add a config artifact with this path (e.g. ../escape, /abs)
//	format N       set "format" to N
//	digest         change the sha256 of the first artifact
//	drop           drop the tree entry of the first artifact (missing object)
func cmdSnapCorrupt(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: snapcorrupt REF NEWID KIND [ARG]")
	}
	git := func(stdin []byte, a ...string) string {
		cmd := exec.Command("git", a...)
		cmd.Dir = ts.Getenv("WORK")
		if d := ts.Getenv("SNAPDIR"); d != "" {
			cmd.Dir = ts.MkAbs(d)
		}
		cmd.Env = os.Environ()
		for _, k := range []string{"HOME", "PATH", "GIT_CONFIG_NOSYSTEM", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"} {
			cmd.Env = append(cmd.Env, k+"="+ts.Getenv(k))
		}
		if stdin != nil {
			cmd.Stdin = bytes.NewReader(stdin)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			ts.Fatalf("git %s: %v\n%s", strings.Join(a, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	ref, newID, kind := args[0], args[1], args[2]
	var m map[string]any
	ts.Check(json.Unmarshal([]byte(git(nil, "show", ref+":snap.json")), &m))
	arts, _ := m["artifacts"].([]any)
	tree := git(nil, "ls-tree", ref)
	switch kind {
	case "path":
		arts = append(arts, map[string]any{"scope": "config", "path": args[3], "kind": "blob", "mode": "0644", "size": 4, "sha256": strings.Repeat("a", 64)})
	case "format":
		var n int
		fmt.Sscan(args[3], &n)
		m["format"] = n
	case "digest":
		arts[0].(map[string]any)["sha256"] = strings.Repeat("b", 64)
	case "drop":
		// Replace files/ with an empty tree: the artifacts' objects are gone.
		empty := git([]byte{}, "mktree")
		var lines []string
		for _, l := range strings.Split(tree, "\n") {
			if strings.HasSuffix(l, "\tfiles") {
				l = "040000 tree " + empty + "\tfiles"
			}
			lines = append(lines, l)
		}
		tree = strings.Join(lines, "\n")
	default:
		ts.Fatalf("unknown corruption %q", kind)
	}
	m["artifacts"] = arts
	data, err := json.MarshalIndent(m, "", "  ")
	ts.Check(err)
	blob := git(data, "hash-object", "-w", "--stdin")
	var lines []string
	for _, l := range strings.Split(tree, "\n") {
		if strings.HasSuffix(l, "\tsnap.json") {
			l = "100644 blob " + blob + "\tsnap.json"
		}
		lines = append(lines, l)
	}
	newTree := git([]byte(strings.Join(lines, "\n")+"\n"), "mktree")
	commit := git([]byte("crafted\n"), "commit-tree", newTree)
	git(nil, "update-ref", "refs/snapshots/"+newID, commit)
}
