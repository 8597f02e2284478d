package main

import (
	"regexp"

	"github.com/rogpeppe/go-internal/testscript"
)

// volatile matches the fields of JSON output that change from run to run
// (ids, hashes, clocks, durations, host); jsonnorm replaces them so that
// the rest can be compared with a golden file.
var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`snap_\d{8}_\d{6}_[0-9a-f]{8}`), "snap_<ID>"},
	{regexp.MustCompile(`\b[0-9a-f]{64}\b`), "<SHA256>"},
	{regexp.MustCompile(`\b[0-9a-f]{40}\b`), "<SHA1>"},
	{regexp.MustCompile(`"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)"`), `"<TIME>"`},
	{regexp.MustCompile(`"(duration_ms|[a-z_]+_ms)": \d+`), `"$1": 0`},
	{regexp.MustCompile(`"host": "[^"]*"`), `"host": "<HOST>"`},
	{regexp.MustCompile(`"restore_durations_ms": \[[^\]]*\]`), `"restore_durations_ms": [<MS>]`},
}

// jsonnorm FILE: prints FILE (usually stdout) with volatile values
// replaced, for `cmp stdout golden.json`.
func cmdJSONNorm(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: jsonnorm FILE")
	}
	out := ts.ReadFile(args[0])
	for _, v := range volatile {
		out = v.re.ReplaceAllString(out, v.with)
	}
	_, err := ts.Stdout().Write([]byte(out))
	ts.Check(err)
}
