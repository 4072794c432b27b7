package present

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDiff(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		want     []Line
	}{
		{"equal", "a\nb", "a\nb\n", []Line{{OpEqual, "a", 1, 1}, {OpEqual, "b", 2, 2}}},
		{"crlf is no change", "a\r\nb\r\n", "a\nb", []Line{{OpEqual, "a", 1, 1}, {OpEqual, "b", 2, 2}}},
		{"both empty", "", "", nil},
		{"all added", "", "x\ny", []Line{{OpAdded, "x", 0, 1}, {OpAdded, "y", 0, 2}}},
		{"all removed", "x\ny", "", []Line{{OpRemoved, "x", 1, 0}, {OpRemoved, "y", 2, 0}}},
		{"amended value", "Glucose 5.4\nSodium 140\nPotassium 4.1", "Glucose 5.4\nSodium 138\nPotassium 4.1",
			[]Line{{OpEqual, "Glucose 5.4", 1, 1}, {OpRemoved, "Sodium 140", 2, 0}, {OpAdded, "Sodium 138", 0, 2}, {OpEqual, "Potassium 4.1", 3, 3}}},
		{"line inserted", "a\nc", "a\nb\nc", []Line{{OpEqual, "a", 1, 1}, {OpAdded, "b", 0, 2}, {OpEqual, "c", 2, 3}}},
		{"empty lines kept", "a\n\nb", "a\nb", []Line{{OpEqual, "a", 1, 1}, {OpRemoved, "", 2, 0}, {OpEqual, "b", 3, 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Diff(tt.old, tt.new))
		})
	}
}

// TestDiffRebuilds: on random edits, the unchanged and removed lines
// give the old version back and the unchanged and added ones the new,
// with consecutive line numbers.
func TestDiffRebuilds(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		old := make([]string, r.IntN(60))
		for j := range old {
			old[j] = fmt.Sprintf("line %d", r.IntN(15))
		}
		var new []string
		for _, l := range old {
			switch r.IntN(6) {
			case 0: // removed
			case 1:
				new = append(new, l, fmt.Sprintf("new %d", r.IntN(15)))
			default:
				new = append(new, l)
			}
		}
		oldText, newText := strings.Join(old, "\n"), strings.Join(new, "\n")
		var gotOld, gotNew []string
		o, n := 0, 0
		for _, l := range Diff(oldText, newText) {
			if l.Op != OpAdded {
				o++
				require.Equal(t, o, l.Old, "case %d", i)
				gotOld = append(gotOld, l.Text)
			}
			if l.Op != OpRemoved {
				n++
				require.Equal(t, n, l.New, "case %d", i)
				gotNew = append(gotNew, l.Text)
			}
		}
		require.Equal(t, oldText, strings.Join(gotOld, "\n"), "case %d", i)
		require.Equal(t, newText, strings.Join(gotNew, "\n"), "case %d", i)
	}
}

func TestDiffBounded(t *testing.T) {
	var b strings.Builder
	for i := range MaxDiffLines + 500 {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	old := b.String()
	new := strings.Replace(old, "line 7\n", "line seven\n", 1)
	lines := Diff(old, new)
	require.NotEmpty(t, lines)
	last := lines[len(lines)-1]
	assert.Equal(t, OpTruncated, last.Op)
	assert.Contains(t, last.Text, "500 more lines of the old version, 500 of the new")
	assert.Len(t, lines, MaxDiffLines+2, "20,000 compared lines, one of them changed (two), and the marker")

	long := strings.Repeat("x", MaxDiffBytes+1)
	lines = Diff(long, "y")
	assert.Equal(t, []Line{{Op: OpAdded, Text: "y", New: 1}, {Op: OpTruncated, Text: lines[1].Text}}, lines)
	assert.Contains(t, lines[1].Text, "1 more lines of the old version")
}
