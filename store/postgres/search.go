package postgres

import (
	"strings"

	"github.com/healthcare-records/healthcare-records/store"
)

var _ store.Searcher = (*backend)(nil)

// MatchText implements store.Searcher with the tsvector column of
// migration 00002: every term, as a word or a word's prefix, in the title
// or the text.
func (b *backend) MatchText(terms []string, param string) (string, any) {
	q := make([]string, len(terms))
	for i, t := range terms {
		// Terms are letters and digits only, so none is read as a
		// tsquery operator.
		q[i] = t + ":*"
	}
	return "d.search @@ to_tsquery('simple', " + param + ")", strings.Join(q, " & ")
}
