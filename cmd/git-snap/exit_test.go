package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/git-snap/git-snap/gitsnap"
)

// TestExitCode: every error class maps to its documented code, wrapped or
// not, and the most specific outcome wins.
func TestExitCode(t *testing.T) {
	wrap := func(err error) error {
		return fmt.Errorf("outer: %w", gitsnap.WithHint(fmt.Errorf("inner: %w", err), "hint"))
	}
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"plain", errors.New("disk full"), 1},
		{"usage", gitsnap.ErrUsage, 2},
		{"cli usage", usageError("h", "bad flag"), 2},
		{"config", wrap(gitsnap.ErrConfig), 2},
		{"needs confirmation", wrap(gitsnap.ErrNeedsConfirmation), 2},
		{"partial", wrap(&gitsnap.PartialError{}), 3},
		{"validation", wrap(&gitsnap.ValidationError{}), 4},
		{"rolled back", wrap(&gitsnap.RestoreFailedError{Cause: errors.New("x"), RolledBack: true}), 5},
		{"rolled back after validation", &gitsnap.RestoreFailedError{Cause: &gitsnap.ValidationError{}, RolledBack: true}, 5},
		{"rolled back after damage", &gitsnap.RestoreFailedError{Cause: gitsnap.ErrIntegrity, RolledBack: true}, 5},
		{"integrity", wrap(gitsnap.ErrIntegrity), 6},
		{"format", wrap(gitsnap.ErrInvalidFormat), 6},
		{"unsafe path", wrap(gitsnap.ErrUnsafePath), 6},
		{"not found", wrap(gitsnap.ErrSnapshotNotFound), 10},
		{"ambiguous", wrap(&gitsnap.AmbiguousIDError{Prefix: "snap_"}), 10},
		{"ref changed", wrap(gitsnap.ErrRefChanged), 11},
		{"locked", wrap(gitsnap.ErrLocked), 11},
		{"not a repo", wrap(gitsnap.ErrNotARepo), 128},
		{"interrupted", wrap(context.Canceled), 130},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitCode(tc.err); got != tc.want {
				t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

// TestExitCodesDocumented: docs/exit-codes.md lists exactly the exit*
// constants the command defines (in any of its files).
func TestExitCodesDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "exit-codes.md"))
	if err != nil {
		t.Fatal(err)
	}
	var documented []int
	for _, m := range regexp.MustCompile(`(?m)^\| (\d+) \|`).FindAllStringSubmatch(string(doc), -1) {
		n, _ := strconv.Atoi(m[1])
		documented = append(documented, n)
	}
	defined := definedExitCodes(t)
	sort.Ints(documented)
	sort.Ints(defined)
	defined = slices.Compact(defined) // two names may share a code
	if diff := cmp.Diff(defined, documented); diff != "" {
		t.Errorf("docs/exit-codes.md and the exit* constants disagree (-code +docs):\n%s", diff)
	}
}

// definedExitCodes parses the package's non-test files for integer
// constants named exit*.
func definedExitCodes(t *testing.T) []int {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var codes []int
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if !strings.HasPrefix(id.Name, "exit") || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.INT {
						continue
					}
					n, err := strconv.Atoi(lit.Value)
					if err != nil {
						t.Fatalf("%s: %s = %s: %v", name, id.Name, lit.Value, err)
					}
					codes = append(codes, n)
				}
			}
		}
	}
	return codes
}

// TestPrintError: one error line and one hint line, or one JSON object.
func TestPrintError(t *testing.T) {
	err := gitsnap.WithHint(fmt.Errorf("resolve: %w", gitsnap.ErrSnapshotNotFound), "git snap list shows them")
	var buf bytes.Buffer
	if code := printError(&buf, err, false); code != exitNotFound {
		t.Errorf("code = %d, want %d", code, exitNotFound)
	}
	if want := "error: resolve: snapshot not found\nhint: git snap list shows them\n"; buf.String() != want {
		t.Errorf("text =\n%q\nwant\n%q", buf.String(), want)
	}

	buf.Reset()
	printError(&buf, err, true)
	if strings.Count(buf.String(), "\n") != 1 {
		t.Errorf("JSON error is not one line: %q", buf.String())
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"message_type": "exit_error", "code": float64(exitNotFound), "message": "resolve: snapshot not found", "hint": "git snap list shows them"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSON error (-want +got):\n%s", diff)
	}

	// Every error gets a hint, and a multi-line message stays on one line.
	for _, e := range []error{errors.New("a\nb"), gitsnap.ErrIntegrity, gitsnap.ErrUnsafePath, gitsnap.ErrNotARepo, context.Canceled} {
		buf.Reset()
		printError(&buf, e, false)
		lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "error: ") || !strings.HasPrefix(lines[1], "hint: ") {
			t.Errorf("printError(%q) = %q, want an error: line and a hint: line", e, buf.String())
		}
	}
}
