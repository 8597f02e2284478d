package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"
)

// chmod MODE FILE...
func cmdChmod(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: chmod MODE FILE...")
	}
	m, err := strconv.ParseUint(args[0], 8, 32)
	ts.Check(err)
	for _, f := range args[1:] {
		ts.Check(os.Chmod(ts.MkAbs(f), os.FileMode(m)))
	}
}

// checkmode MODE FILE: the file's permission bits are MODE (octal).
func cmdCheckMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: checkmode MODE FILE")
	}
	fi, err := os.Lstat(ts.MkAbs(args[1]))
	ts.Check(err)
	got := fmt.Sprintf("%04o", fi.Mode().Perm())
	want := fmt.Sprintf("%04s", args[0])
	if (got == want) == neg {
		ts.Fatalf("%s: mode %s, want %s%s", args[1], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// snapcorrupt is defined in script_corrupt_test.go.
