package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

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

// grab VAR REGEXP: sets $VAR to the first submatch of REGEXP (multiline
// mode) in the stdout of the previous command, so later commands can name
// a snapshot id that depends on the real clock.
func cmdGrab(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: grab VAR REGEXP")
	}
	re, err := regexp.Compile("(?m)" + args[1])
	ts.Check(err)
	m := re.FindStringSubmatch(ts.ReadFile("stdout"))
	if len(m) < 2 {
		ts.Fatalf("grab: no match for %q in stdout", args[1])
	}
	ts.Setenv(args[0], m[1])
}

// jsonvalid FILE: FILE (stdout, stderr or a path) holds exactly one JSON
// value; with ! it does not.
func cmdJSONValid(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: jsonvalid FILE")
	}
	_, err := decodeOneJSON(ts.ReadFile(args[0]))
	if (err == nil) == neg {
		ts.Fatalf("%s: valid JSON = %v, want %v (%v)", args[0], err == nil, !neg, err)
	}
}

// jsonkeys FILE KEY...: FILE holds a JSON object, or a non-empty array of
// objects, and every object has every KEY (a.b names a nested key).
func cmdJSONKeys(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: jsonkeys FILE KEY...")
	}
	v, err := decodeOneJSON(ts.ReadFile(args[0]))
	ts.Check(err)
	objs, ok := v.([]any)
	if !ok {
		objs = []any{v}
	}
	if len(objs) == 0 {
		ts.Fatalf("%s: empty array", args[0])
	}
	for i, o := range objs {
		for _, k := range args[1:] {
			cur := o
			for _, part := range strings.Split(k, ".") {
				m, ok := cur.(map[string]any)
				if !ok {
					ts.Fatalf("%s: element %d: %q: not an object at %q", args[0], i, k, part)
				}
				if cur, ok = m[part]; !ok {
					ts.Fatalf("%s: element %d has no key %q", args[0], i, k)
				}
			}
		}
	}
}

func decodeOneJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one JSON value")
	}
	return v, nil
}
