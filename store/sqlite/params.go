package sqlite

import (
	"strconv"
	"strings"
)

// manyParams is the number of arguments above which a statement's
// numbered parameters are bound as anonymous ones (see positional).
const manyParams = 32

// positional returns query with its numbered parameters $1, $2, … $n
// written as anonymous ones (?) when they appear exactly in that order,
// each once, outside literals, quoted names and comments, and nothing
// else marks a parameter; otherwise it returns query unchanged.
//
// The store writes PostgreSQL's numbered parameters, which SQLite
// accepts too, but as named ones: to bind parameter i, modernc asks
// SQLite its name, which SQLite finds by walking the statement's list of
// names, so binding n numbered parameters costs n²/2 steps. A 256-entry
// audit batch (2,816 parameters) spent more time there than inserting.
// Anonymous parameters have no name to look up. Parameters that repeat
// or come out of order cannot be written anonymously and are kept.
func positional(query string, args int) string {
	if args <= manyParams {
		return query
	}
	var (
		b    strings.Builder
		next = 1 // the number the next parameter must have
		from = 0 // query[from:] is not yet copied to b
	)
	b.Grow(len(query))
	for i := 0; i < len(query); i++ {
		switch c := query[i]; c {
		case '\'', '"', '`', '[':
			end := c
			if c == '[' {
				end = ']'
			}
			j := strings.IndexByte(query[i+1:], end)
			if j < 0 {
				return query
			}
			i += j + 1 // a doubled quote is two literals side by side: the same
		case '-':
			if strings.HasPrefix(query[i:], "--") {
				j := strings.IndexByte(query[i:], '\n')
				if j < 0 {
					j = len(query) - i // the comment runs to the end
				}
				i += j
			}
		case '/':
			if strings.HasPrefix(query[i:], "/*") {
				j := strings.Index(query[i+2:], "*/")
				if j < 0 {
					return query
				}
				i += j + 3
			}
		case '?', ':', '@':
			return query
		case '$':
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			if n, err := strconv.Atoi(query[i+1 : j]); err != nil || n != next || query[i+1] == '0' {
				return query
			}
			b.WriteString(query[from:i])
			b.WriteByte('?')
			from, next, i = j, next+1, j-1
		}
	}
	if next-1 != args {
		return query
	}
	b.WriteString(query[from:])
	return b.String()
}
