package gitsnap

import (
	"fmt"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// diffLine is one line of a line-level diff.
type diffLine struct {
	op    byte // ' ', '-' or '+'
	text  string
	noEOL bool // the last line of its file, without a newline
}

// lineDiff computes a line-level diff of a and b with diffmatchpatch in
// line mode (each distinct line becomes one rune, the runes are diffed,
// then mapped back to lines).
func lineDiff(a, b string) []diffLine {
	dmp := diffmatchpatch.New()
	ca, cb, lines := dmp.DiffLinesToChars(a, b)
	diffs := dmp.DiffCharsToLines(dmp.DiffMain(ca, cb, false), lines)
	var out []diffLine
	for _, df := range diffs {
		op := byte(' ')
		switch df.Type {
		case diffmatchpatch.DiffDelete:
			op = '-'
		case diffmatchpatch.DiffInsert:
			op = '+'
		}
		text := df.Text
		for text != "" {
			line, rest, found := strings.Cut(text, "\n")
			out = append(out, diffLine{op: op, text: line, noEOL: !found})
			text = rest
		}
	}
	return out
}

// unifiedDiff renders the difference between a and b as a unified diff
// with ctx lines of context and ---/+++/@@ headers, as git does
// (including "\ No newline at end of file"). It returns "" when the texts
// are equal.
func unifiedDiff(from, to, a, b string, ctx int) string {
	if a == b {
		return ""
	}
	lines := lineDiff(a, b)
	// oldNo[i]/newNo[i]: how many old/new lines precede lines[i].
	oldNo := make([]int, len(lines)+1)
	newNo := make([]int, len(lines)+1)
	for i, l := range lines {
		oldNo[i+1], newNo[i+1] = oldNo[i], newNo[i]
		if l.op != '+' {
			oldNo[i+1]++
		}
		if l.op != '-' {
			newNo[i+1]++
		}
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s\n", from, to)
	for i := 0; i < len(lines); {
		if lines[i].op == ' ' {
			i++
			continue
		}
		// A hunk starts ctx lines before the change and grows while the
		// next change is at most 2*ctx equal lines away.
		start := max(0, i-ctx)
		end := i
		for j := i; j < len(lines); j++ {
			if lines[j].op != ' ' {
				end = j + 1
				continue
			}
			if j-end >= 2*ctx {
				break
			}
		}
		end = min(len(lines), end+ctx)
		writeHunk(&sb, lines[start:end], oldNo[start], newNo[start], oldNo[end]-oldNo[start], newNo[end]-newNo[start])
		i = end
	}
	return sb.String()
}

func writeHunk(sb *strings.Builder, lines []diffLine, oldBefore, newBefore, oldCount, newCount int) {
	fmt.Fprintf(sb, "@@ -%s +%s @@\n", hunkRange(oldBefore, oldCount), hunkRange(newBefore, newCount))
	for _, l := range lines {
		sb.WriteByte(l.op)
		sb.WriteString(l.text)
		sb.WriteByte('\n')
		if l.noEOL {
			sb.WriteString("\\ No newline at end of file\n")
		}
	}
}

// hunkRange formats one side of a hunk header as GNU diff does: "start"
// for one line, "start,count" otherwise, and for an empty range the line
// before it.
func hunkRange(before, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", before)
	case 1:
		return fmt.Sprintf("%d", before+1)
	}
	return fmt.Sprintf("%d,%d", before+1, count)
}
