package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
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

// genfile FILE SIZE [SEED]: writes SIZE bytes (suffixes K, M for KiB, MiB)
// of deterministic pseudo-random data, so scripts can make chunked files.
func cmdGenFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: genfile FILE SIZE [SEED]")
	}
	s, mult := args[1], int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		s, mult = strings.TrimSuffix(s, "K"), 1<<10
	case strings.HasSuffix(s, "M"):
		s, mult = strings.TrimSuffix(s, "M"), 1<<20
	}
	n, err := strconv.ParseInt(s, 10, 64)
	ts.Check(err)
	seed := uint64(1)
	if len(args) == 3 {
		seed, err = strconv.ParseUint(args[2], 10, 64)
		ts.Check(err)
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	buf := make([]byte, n*mult)
	for i := 0; i+8 <= len(buf); i += 8 {
		binary.LittleEndian.PutUint64(buf[i:], rng.Uint64())
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), buf, 0o644))
}

// editfile FILE STEP: flips one byte every STEP bytes of FILE, in place,
// so a script can make a file that differs from its previous version in
// scattered places (every chunk changes; deltas stay small).
func cmdEditFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: editfile FILE STEP")
	}
	step, err := strconv.Atoi(args[1])
	ts.Check(err)
	if step <= 0 {
		ts.Fatalf("editfile: STEP must be positive")
	}
	p := ts.MkAbs(args[0])
	data, err := os.ReadFile(p)
	ts.Check(err)
	for i := step / 2; i < len(data); i += step {
		data[i] ^= 0xff
	}
	ts.Check(os.WriteFile(p, data, 0o644))
}
