package sqlite

import (
	"strings"

	"github.com/healthcare-records/healthcare-records/store"
)

var _ store.Searcher = (*backend)(nil)

// MatchText implements store.Searcher with the FTS5 index of migration
// 00002: every term, as a word or a word's prefix, in the title or the text.
// The index is not by patient, so patientID is not needed.
func (b *backend) MatchText(terms []string, _ int64, param string) (string, any) {
	q := make([]string, len(terms))
	for i, t := range terms {
		// Terms are letters and digits only; quoting keeps FTS5 from
		// reading one as an operator (AND, OR, NOT, NEAR).
		q[i] = `"` + t + `"*`
	}
	return "d.id IN (SELECT rowid FROM healthcare_documents_fts WHERE healthcare_documents_fts MATCH " + param + ")",
		strings.Join(q, " ")
}
