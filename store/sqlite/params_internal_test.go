package sqlite

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPositional(t *testing.T) {
	many := func(sep string, nums ...string) string {
		var b strings.Builder
		for i, n := range nums {
			if i > 0 {
				b.WriteString(sep)
			}
			b.WriteString(n)
		}
		return b.String()
	}
	dollars := make([]string, manyParams+1)
	marks := make([]string, manyParams+1)
	for i := range dollars {
		dollars[i] = "$" + strconv.Itoa(i+1)
		marks[i] = "?"
	}
	values := "INSERT INTO t VALUES (" + many(", ", dollars...) + ")"
	n := len(dollars)
	for _, c := range []struct {
		name, query string
		args        int
		want        string
	}{
		{"in order", values, n, "INSERT INTO t VALUES (" + many(", ", marks...) + ")"},
		{"few arguments", "SELECT $1", 1, "SELECT $1"},
		{"fewer arguments than parameters", values, n + 1, values},
		{"a parameter repeated", values + " RETURNING $1", n, values + " RETURNING $1"},
		{"out of order", strings.Replace(values, "$1,", "$2,", 1), n, strings.Replace(values, "$1,", "$2,", 1)},
		{"a leading zero", strings.Replace(values, "$1,", "$01,", 1), n, strings.Replace(values, "$1,", "$01,", 1)},
		{"a named parameter", values + " AND :x", n, values + " AND :x"},
		{"an anonymous one already", values + " AND ?", n, values + " AND ?"},
		{"dollars in literals, names and comments", "SELECT '$9', \"$9\", [$9], `$9` -- $9\n /* $9 */ " + many(", ", dollars...), n,
			"SELECT '$9', \"$9\", [$9], `$9` -- $9\n /* $9 */ " + many(", ", marks...)},
		{"a doubled quote", "SELECT 'it''s $9', " + many(", ", dollars...), n, "SELECT 'it''s $9', " + many(", ", marks...)},
		{"a comment to the end", many(", ", dollars...) + " -- $99", n, many(", ", marks...) + " -- $99"},
		{"an open literal", many(", ", dollars...) + " '$", n, many(", ", dollars...) + " '$"},
		{"an open comment", many(", ", dollars...) + " /* $", n, many(", ", dollars...) + " /* $"},
	} {
		assert.Equal(t, c.want, positional(c.query, c.args), c.name)
	}
}
