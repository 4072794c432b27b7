package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/store"
)

// Searcher is what the search contract needs of a store, besides Store.
type Searcher interface {
	SearchDocuments(ctx context.Context, q store.SearchQuery) ([]store.DocumentSummary, error)
}

// testSearch holds every store to the same results for the same data:
// each case lists the documents it must find, in order.
func testSearch(t *testing.T, open Opener) {
	ctx := context.Background()
	s := openClosed(t, open)
	search, ok := s.(Searcher)
	require.True(t, ok, "%T has no SearchDocuments", s)

	day := func(d int) time.Time { return time.Date(2025, 1, d, 9, 30, 0, 0, time.UTC) }
	type doc struct {
		id, patient string
		typ         connector.DocumentType
		title       string
		date        time.Time
		contentType string
		content     string
		deleted     bool
		// text is what Engine.ExtractText found in the content.
		text string
	}
	docs := []doc{
		{"lipids", "p1", connector.DocumentLabResult, "Lipid panel", day(3), "application/pdf", "cholesterol", false, ""},
		{"a1c", "p1", connector.DocumentLabResult, "HbA1c result", day(5), "text/plain", "Glucose control improving; HbA1c 6.1%.", false, ""},
		{"note", "p1", connector.DocumentProgressNote, "Dietitian follow-up", day(7), "text/plain; charset=utf-8", "Discussed CHOLESTEROL and fibre. Café visits reduced.", false, ""},
		{"exam", "p2", connector.DocumentPhysicalAssessment, "Physical assessment", day(4), "text/markdown", "Weight 82 kg, blood pressure normal.", false, ""},
		{"undated", "p2", connector.DocumentOther, "Referral letter", time.Time{}, "text/html", "<p>Referral for dietary advice</p>", false, ""},
		{"gone", "p2", connector.DocumentProgressNote, "Cholesterol note", day(6), "text/plain", "cholesterol", true, ""},
		{"iron", "p2", connector.DocumentLabResult, "Iron studies", day(2), "application/pdf", "%PDF-1.4 compressed", false,
			"Ferritin 12 ng/mL (L); transferrin saturation 9 %"},
	}
	ids := map[string]int64{}
	patients := map[string]int64{}
	update(t, s, func(tx connector.Tx) error {
		for _, p := range []string{"p1", "p2"} {
			id, err := tx.SavePatient(ctx, connector.StoredPatient{Patient: connector.Patient{
				Ref: connector.Ref{System: "php", Type: connector.PatientType, ID: p}, Name: "Patient " + p}})
			require.NoError(t, err)
			patients[p] = id
		}
		for _, d := range docs {
			sd := connector.StoredDocument{PatientID: patients[d.patient], Document: connector.Document{
				Ref:     connector.Ref{System: "php", Type: "DocumentReference", ID: d.id},
				Patient: connector.Ref{System: "php", Type: connector.PatientType, ID: d.patient},
				Type:    d.typ, Title: d.title, Date: d.date, ContentType: d.contentType,
				Content: []byte(d.content), Text: d.text, Version: "1", Deleted: d.deleted,
			}}
			sd.Seal()
			id, err := tx.SaveDocument(ctx, sd)
			require.NoError(t, err)
			ids[d.id] = id
		}
		// A corrected title replaces the old one in the index.
		sd := connector.StoredDocument{PatientID: patients["p2"], Document: connector.Document{
			Ref:     connector.Ref{System: "php", Type: "DocumentReference", ID: "exam"},
			Patient: connector.Ref{System: "php", Type: connector.PatientType, ID: "p2"},
			Type:    connector.DocumentPhysicalAssessment, Title: "Annual examination", Date: day(4),
			ContentType: "text/markdown", Content: []byte("Weight 82 kg, blood pressure normal."), Version: "2",
		}}
		sd.Seal()
		_, err := tx.SaveDocument(ctx, sd)
		return err
	})

	for _, c := range []struct {
		name string
		q    store.SearchQuery
		want []string
	}{
		{"everything, newest first, undated last", store.SearchQuery{}, []string{"note", "a1c", "exam", "lipids", "iron", "undated"}},
		{"one patient", store.SearchQuery{PatientID: patients["p2"]}, []string{"exam", "iron", "undated"}},
		{"one type", store.SearchQuery{Type: connector.DocumentLabResult}, []string{"a1c", "lipids", "iron"}},
		{"a word only in a PDF's extracted text", store.SearchQuery{Text: "ferritin"}, []string{"iron"}},
		{"extracted text, not the PDF's bytes", store.SearchQuery{Text: "compressed"}, nil},
		{"date range", store.SearchQuery{From: day(4), To: day(7)}, []string{"a1c", "exam"}},
		{"from is inclusive", store.SearchQuery{From: day(7)}, []string{"note"}},
		{"title word, any case", store.SearchQuery{Text: "LIPID"}, []string{"lipids"}},
		{"text content word", store.SearchQuery{Text: "cholesterol"}, []string{"note"}},
		{"binary content is not indexed", store.SearchQuery{Text: "cholesterol", PatientID: patients["p1"], Type: connector.DocumentLabResult}, nil},
		{"prefix", store.SearchQuery{Text: "gluc"}, []string{"a1c"}},
		{"every keyword", store.SearchQuery{Text: "blood normal"}, []string{"exam"}},
		{"every keyword, one missing", store.SearchQuery{Text: "blood sugar"}, nil},
		{"punctuation separates", store.SearchQuery{Text: "follow-up!"}, []string{"note"}},
		{"letters and digits", store.SearchQuery{Text: "hba1c"}, []string{"a1c"}},
		{"non-ASCII", store.SearchQuery{Text: "café"}, []string{"note"}},
		{"markup", store.SearchQuery{Text: "dietary"}, []string{"undated"}},
		{"renamed title", store.SearchQuery{Text: "examination"}, []string{"exam"}},
		{"old title forgotten", store.SearchQuery{Text: "physical"}, nil},
		{"keyword and filters", store.SearchQuery{Text: "result", From: day(1), To: day(30)}, []string{"a1c"}},
		{"operators are words", store.SearchQuery{Text: "NOT OR"}, nil},
		{"limit", store.SearchQuery{Limit: 2}, []string{"note", "a1c"}},
		{"offset", store.SearchQuery{Limit: 2, Offset: 2}, []string{"exam", "lipids"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := search.SearchDocuments(ctx, c.q)
			require.NoError(t, err)
			var names []string
			for _, d := range got {
				for name, id := range ids {
					if id == d.ID {
						names = append(names, name)
						assert.Equal(t, name, d.Ref.ID)
					}
				}
			}
			assert.Equal(t, c.want, names)
			if c.q.Text == "" || c.q.PatientID != 0 {
				return
			}
			// One patient's matches are the store's matches of that
			// patient, however the database finds them.
			for _, patient := range patients {
				q := c.q
				q.PatientID, q.Limit, q.Offset = patient, store.MaxSearchLimit, 0
				mine, err := search.SearchDocuments(ctx, q)
				require.NoError(t, err)
				q.PatientID = 0
				all, err := search.SearchDocuments(ctx, q)
				require.NoError(t, err)
				want := []store.DocumentSummary{}
				for _, d := range all {
					if d.PatientID == patient {
						want = append(want, d)
					}
				}
				assert.Equal(t, want, mine, "patient %d", patient)
			}
		})
	}

	got, err := search.SearchDocuments(ctx, store.SearchQuery{Text: "hba1c"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, store.DocumentSummary{
		ID: ids["a1c"], PatientID: patients["p1"], Ref: connector.Ref{System: "php", Type: "DocumentReference", ID: "a1c"},
		Type: connector.DocumentLabResult, Title: "HbA1c result", Date: day(5), ContentType: "text/plain",
		Size: int64(len("Glucose control improving; HbA1c 6.1%.")), Version: "1",
	}, got[0])

	// The extracted text comes back with the document, so that a new
	// version made from it (an upload's new title) keeps it.
	update(t, s, func(tx connector.Tx) error {
		got, err := tx.Document(ctx, connector.Ref{System: "php", Type: "DocumentReference", ID: "iron"})
		require.NoError(t, err)
		assert.Equal(t, "Ferritin 12 ng/mL (L); transferrin saturation 9 %", got.Text)
		return nil
	})

	_, err = search.SearchDocuments(ctx, store.SearchQuery{Text: "a b c d e f g h i j k l m n o p q r s t u v w x y z 1 2 3 4 5 6 7"})
	assert.ErrorIs(t, err, connector.ErrInvalid, "too many terms")
}
