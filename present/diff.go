package present

import (
	"fmt"
	"strings"
	"time"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// Op is what happened to a line between two versions.
type Op string

// The operations of a diff line.
const (
	OpEqual     Op = "equal"
	OpAdded     Op = "added"
	OpRemoved   Op = "removed"
	OpTruncated Op = "truncated" // the marker that the rest was not compared
)

// Line is one line of a diff. Old and New are its 1-based line numbers in
// each version, 0 where it is absent (an added line has no Old).
type Line struct {
	Op   Op
	Text string // without its line break
	Old  int
	New  int
}

// Bounds of [Diff]: past them, each version is compared up to the bound
// and a last OpTruncated line says so.
const (
	MaxDiffLines = 20_000
	MaxDiffBytes = 2 << 20
)

// diffTimeout bounds the search for a shortest diff; past it the diff is
// still correct, only longer than the shortest.
const diffTimeout = 500 * time.Millisecond

// Diff compares two versions of a text line by line (Myers' algorithm, as
// github.com/sergi/go-diff implements it on lines mapped to runes) and
// returns every line of both, in order: unchanged, removed and added.
// Line breaks are normalised (CRLF, a missing last newline) first, so
// that they are not reported as changes.
func Diff(old, new string) []Line {
	a, ta := diffLines(old)
	b, tb := diffLines(new)
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = diffTimeout
	ra, rb, lines := dmp.DiffLinesToRunes(a, b)
	diffs := dmp.DiffCharsToLines(dmp.DiffMainRunes(ra, rb, false), lines)
	var out []Line
	o, n := 0, 0
	for _, d := range diffs {
		for _, s := range strings.SplitAfter(d.Text, "\n") {
			if s == "" {
				continue
			}
			l := Line{Text: strings.TrimSuffix(s, "\n")}
			switch d.Type {
			case diffmatchpatch.DiffEqual:
				o, n = o+1, n+1
				l.Op, l.Old, l.New = OpEqual, o, n
			case diffmatchpatch.DiffDelete:
				o++
				l.Op, l.Old = OpRemoved, o
			case diffmatchpatch.DiffInsert:
				n++
				l.Op, l.New = OpAdded, n
			}
			out = append(out, l)
		}
	}
	if ta+tb > 0 {
		out = append(out, Line{Op: OpTruncated, Text: fmt.Sprintf(
			"not compared: %d more lines of the old version, %d of the new (over %d lines or %d bytes)",
			ta, tb, MaxDiffLines, MaxDiffBytes)})
	}
	return out
}

// diffLines returns s with LF line breaks and a final one, cut to the
// bounds, and how many lines were cut.
func diffLines(s string) (string, int) {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	lines, size := 0, 0
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '\n') + i + 1
		if lines == MaxDiffLines || size+(j-i) > MaxDiffBytes {
			return s[:i], strings.Count(s[i:], "\n")
		}
		lines, size, i = lines+1, size+(j-i), j
	}
	return s, 0
}
