package postgres

import (
	"strconv"
	"strings"

	"github.com/healthcare-records/healthcare-records/store"
)

var _ store.Searcher = (*backend)(nil)

// MatchText implements store.Searcher with the tsvector column of
// migration 00002: every term, as a word or a word's prefix, in the title
// or the text. For one patient's documents it matches the words of
// migration 00014's index instead, each prefixed by the patient, which
// finds them without reading every document of the patient.
func (b *backend) MatchText(terms []string, patientID int64, param string) (string, any) {
	q := make([]string, len(terms))
	if patientID != 0 {
		// A tsquery literal, taken as it is: the terms are lower-case
		// letters and digits, as to_tsquery's 'simple' dictionary would
		// make them, and none holds a quote.
		prefix := "'#" + strconv.FormatInt(patientID, 10) + "/"
		for i, t := range terms {
			q[i] = prefix + t + "':*"
		}
		return "hr_patient_search(d.patient_id, d.search) @@ " + param + "::tsquery", strings.Join(q, " & ")
	}
	for i, t := range terms {
		// Terms are letters and digits only, so none is read as a
		// tsquery operator.
		q[i] = t + ":*"
	}
	return "d.search @@ to_tsquery('simple', " + param + ")", strings.Join(q, " & ")
}
