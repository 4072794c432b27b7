package mockphp_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/adapters/mockphp"
)

func TestSearchParameters(t *testing.T) {
	srv, ts := start(t, mockphp.Config{Seed: 7, Patients: 6, DocsPerPatient: 6})
	base := ts.URL + "/fhir/R4/"
	pats := srv.Patients()
	require.Len(t, pats, 6)
	p := pats[2]
	docs := srv.Documents(p.ID)
	require.Len(t, docs, 6)
	var lab mockphp.DocumentInfo
	for _, d := range srv.Documents("") {
		if d.Kind == mockphp.KindLabResult {
			lab = d
			break
		}
	}
	require.NotEmpty(t, lab.ID, "seed 7 has a lab report")
	docJSON, ok := srv.Resource("DocumentReference", docs[0].ID)
	require.True(t, ok)
	docIdent := strings.Split(strings.Split(string(docJSON), `"value":"`)[1], `"`)[0]

	tests := []struct {
		name  string
		query string
		want  []string // ids, in order; nil means "check count only"
		count int
	}{
		{"patient by id", "DocumentReference?patient=" + p.ID, docIDs(docs), 6},
		{"patient by reference", "DocumentReference?patient=Patient/" + p.ID, docIDs(docs), 6},
		{"subject", "DocumentReference?subject=Patient/" + p.ID, docIDs(docs), 6},
		{"patient absolute url", "DocumentReference?patient=" + url.QueryEscape(ts.URL+"/fhir/R4/Patient/"+p.ID), docIDs(docs), 6},
		{"two patients ORed", "Patient?_id=" + p.ID + "," + pats[0].ID, []string{pats[0].ID, p.ID}, 2},
		{"identifier system|value", "Patient?identifier=" + url.QueryEscape(mockphp.MRNSystem+"|"+p.MRN), []string{p.ID}, 1},
		{"identifier value only", "Patient?identifier=" + p.MRN, []string{p.ID}, 1},
		{"identifier wrong system", "Patient?identifier=" + url.QueryEscape("urn:other|"+p.MRN), []string{}, 0},
		{"document identifier", "DocumentReference?identifier=" + docIdent, []string{docs[0].ID}, 1},
		{"email", "Patient?email=" + url.QueryEscape(p.Email), []string{p.ID}, 1},
		{"email case-insensitive", "Patient?email=" + url.QueryEscape(strings.ToUpper(p.Email)), []string{p.ID}, 1},
		{"email unknown", "Patient?email=nobody@example.com", []string{}, 0},
		{"name prefix", "Patient?name=" + url.QueryEscape(strings.Fields(p.Name)[1][:3]), nil, -1},
		{"type lab report", "DocumentReference?type=" + url.QueryEscape("http://loinc.org|11502-2"), nil, countKind(srv, mockphp.KindLabResult)},
		{"diagnostic report category", "DiagnosticReport?category=LAB&patient=" + lab.PatientID, nil, countKind(srv.Documents(lab.PatientID), mockphp.KindLabResult)},
		{"observation by patient", "Observation?patient=" + lab.PatientID, nil, -1},
		{"status", "DocumentReference?status=current&patient=" + p.ID, docIDs(docs), 6},
		{"AND of two params", "DocumentReference?patient=" + p.ID + "&_id=" + docs[1].ID, []string{docs[1].ID}, 1},
		{"unknown parameter ignored", "Patient?_id=" + p.ID + "&shoe-size=42", []string{p.ID}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, total := searchAll(t, base+tc.query)
			if tc.want != nil {
				assert.Equal(t, tc.want, ids(got))
			}
			if tc.count >= 0 {
				assert.Equal(t, tc.count, total)
			} else {
				assert.Positive(t, total)
			}
			assert.Len(t, got, total)
		})
	}
}

func docIDs(ds []mockphp.DocumentInfo) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

func countKind(v any, k mockphp.DocumentKind) int {
	var ds []mockphp.DocumentInfo
	switch x := v.(type) {
	case *mockphp.Server:
		ds = x.Documents("")
	case []mockphp.DocumentInfo:
		ds = x
	}
	n := 0
	for _, d := range ds {
		if d.Kind == k && !d.Deleted {
			n++
		}
	}
	return n
}

func TestSearchRejects(t *testing.T) {
	_, ts := start(t, mockphp.Config{Seed: 1, Patients: 2, DocsPerPatient: 1})
	tests := []struct {
		name   string
		query  string
		header []string
	}{
		{"bad date", "Patient?_lastUpdated=gt2024-13-45", nil},
		{"bad prefix", "Patient?_lastUpdated=xx2024-01-01", nil},
		{"bad count", "Patient?_count=-1", nil},
		{"bad sort", "Patient?_sort=birthdate", nil},
		{"unsupported modifier", "Patient?email:contains=a", nil},
		{"bad page token", "Patient?_page=%21%21", nil},
		{"unknown parameter, strict", "Patient?shoe-size=42", []string{"Prefer", "handling=strict"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, http.MethodGet, ts.URL+"/fhir/R4/"+tc.query, nil, tc.header...)
			assert.Equal(t, http.StatusBadRequest, r.status)
			assert.Equal(t, "OperationOutcome", r.json(t)["resourceType"])
		})
	}
}

func TestPagingToTheEnd(t *testing.T) {
	srv, ts := start(t, mockphp.Config{Seed: 3, Patients: 23, DocsPerPatient: 3})
	for _, tc := range []struct {
		query string
		total int
	}{
		{"Patient?_count=5", 23},
		{"Patient?_count=1", 23},
		{"Patient?_count=23", 23},
		{"DocumentReference?_count=7&_sort=_lastUpdated", 69},
		{"DocumentReference?_count=10&_sort=-_lastUpdated", 69},
	} {
		t.Run(tc.query, func(t *testing.T) {
			got, total := searchAll(t, ts.URL+"/fhir/R4/"+tc.query)
			assert.Equal(t, tc.total, total)
			assert.Len(t, got, tc.total)
			seen := map[string]bool{}
			for _, id := range ids(got) {
				assert.False(t, seen[id], "duplicate %s", id)
				seen[id] = true
			}
			if strings.Contains(tc.query, "_sort=") {
				times := make([]string, len(got))
				for i, r := range got {
					times[i] = meta(r, "lastUpdated")
				}
				if strings.Contains(tc.query, "-_lastUpdated") {
					slices.Reverse(times)
				}
				assert.True(t, slices.IsSorted(times), "sorted by lastUpdated")
			}
		})
	}

	t.Run("count zero answers the total only", func(t *testing.T) {
		r := do(t, http.MethodGet, ts.URL+"/fhir/R4/Patient?_count=0", nil)
		b := r.json(t)
		assert.EqualValues(t, 23, b["total"])
		assert.Nil(t, b["entry"])
	})

	t.Run("pages stay stable when resources change between pages", func(t *testing.T) {
		r := do(t, http.MethodGet, ts.URL+"/fhir/R4/Patient?_count=10", nil)
		first := r.json(t)
		_, err := srv.Touch(5)
		require.NoError(t, err)
		rest, _ := searchAll(t, nextLink(first))
		all := append(entries(t, first), rest...)
		assert.Len(t, all, 23)
	})
}

func TestLastUpdatedBoundaries(t *testing.T) {
	clock := newClock()
	srv, ts := start(t, mockphp.Config{Seed: 5, Patients: 4, DocsPerPatient: 2, Clock: clock.Now})
	// Three documents written at known instants, one millisecond apart and
	// a day apart.
	p := srv.Patients()[0].ID
	t0 := clock.Now()
	a, err := srv.CreateDocument(p, mockphp.KindProgressNote)
	require.NoError(t, err)
	clock.Add(time.Millisecond)
	b, err := srv.CreateDocument(p, mockphp.KindProgressNote)
	require.NoError(t, err)
	clock.Add(24 * time.Hour)
	c, err := srv.CreateDocument(p, mockphp.KindProgressNote)
	require.NoError(t, err)
	ms := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	day := t0.Format("2006-01-02")

	tests := []struct {
		param string
		want  []string
	}{
		{"gt" + ms(t0), []string{b.ID, c.ID}},
		{"ge" + ms(t0), []string{a.ID, b.ID, c.ID}},
		{"lt" + ms(t0.Add(time.Millisecond)), []string{a.ID}},
		{"le" + ms(t0.Add(time.Millisecond)), []string{a.ID, b.ID}},
		{"eq" + ms(t0), []string{a.ID}},
		{ms(t0), []string{a.ID}},
		{"eq" + day, []string{a.ID, b.ID}},
		{"gt" + day, []string{c.ID}},
		{"ge" + day, []string{a.ID, b.ID, c.ID}},
		{"gt" + t0.Format("2006-01-02T15:04:05Z"), []string{c.ID}}, // second precision covers a and b
		{"gt" + t0.Format("2006-01-02T15:04:05+00:00"), []string{c.ID}},
		{"gt" + t0.Add(-time.Hour).In(time.FixedZone("", -5*3600)).Format("2006-01-02T15:04:05-07:00"), []string{a.ID, b.ID, c.ID}},
	}
	for _, tc := range tests {
		t.Run(tc.param, func(t *testing.T) {
			got, _ := searchAll(t, ts.URL+"/fhir/R4/DocumentReference?_sort=_lastUpdated&_lastUpdated="+url.QueryEscape(tc.param)+"&_lastUpdated=ge"+day[:4])
			assert.Equal(t, tc.want, ids(got))
		})
	}

	t.Run("range with two bounds", func(t *testing.T) {
		got, _ := searchAll(t, ts.URL+"/fhir/R4/DocumentReference?_lastUpdated=ge"+ms(t0)+"&_lastUpdated=lt"+ms(t0.Add(time.Hour)))
		assert.Equal(t, []string{a.ID, b.ID}, ids(got))
	})
	t.Run("generated data spreads over years", func(t *testing.T) {
		years := map[string]bool{}
		for _, d := range srv.Documents("") {
			years[d.LastUpdated.Format("2006")] = true
		}
		assert.GreaterOrEqual(t, len(years), 2)
	})
}
