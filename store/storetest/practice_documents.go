package storetest

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

func documentID(d practice.Document) int64 { return d.ID }

func testPracticeDocuments(t *testing.T, s PracticeStore) {
	ctx := context.Background()
	dee := addUser(t, s, "dee@example.org", practice.RoleDietician)
	mine := newPatient("p1", "Pat One", "")
	mine.OwnerID = dee
	ps := createPatients(t, s, mine, newPatient("p2", "Pat Two", ""))
	type doc struct {
		name, patient string
		typ           connector.DocumentType
		title         string
		day           int
		author, src   string
		contentType   string
		content       string
		deleted       bool
	}
	docs := []doc{
		{"lab1", "p1", connector.DocumentLabResult, "Lipid panel", 3, "Dr. Ann Smith", "City Lab", "application/pdf", "%PDF", false},
		{"lab2", "p1", connector.DocumentLabResult, "HbA1c result", 5, "dr. ann smith", "City Lab", "text/plain", "Glucose control improving", false},
		{"note", "p1", connector.DocumentProgressNote, "Follow-up note", 5, "Dee Dietician", practice.LocalSource, "text/plain", "Less cholesterol", false},
		{"exam", "p1", connector.DocumentPhysicalAssessment, "annual exam", 7, "Dr. Bo", "Clinic", "text/markdown", "Weight 82 kg", false},
		{"undated", "p1", connector.DocumentOther, "Referral", 0, "", "Clinic", "text/html", "<p>Referral</p>", false},
		{"gone", "p1", connector.DocumentProgressNote, "Old note", 4, "Dr. Bo", "Clinic", "text/plain", "cholesterol", true},
		{"other", "p2", connector.DocumentLabResult, "Lipid panel", 4, "Dr. Ann Smith", "City Lab", "text/plain", "lipids", false},
	}
	patients := map[string]int64{"p1": ps[0].ID, "p2": ps[1].ID}
	ids := map[string]int64{}
	names := map[int64]string{}
	write(t, s, func(tx practice.Tx) error {
		for _, d := range docs {
			sd := connector.StoredDocument{PatientID: patients[d.patient], Document: connector.Document{
				Ref:     connector.Ref{System: "php", Type: "DocumentReference", ID: d.name},
				Patient: patientRef(d.patient), Type: d.typ, Title: d.title, Author: d.author, Source: d.src,
				ContentType: d.contentType, Content: []byte(d.content), Version: "1", Deleted: d.deleted,
			}}
			if d.day != 0 {
				sd.Date = at(d.day, 9)
			}
			sd.Seal()
			id, err := tx.SaveDocument(ctx, sd)
			require.NoError(t, err)
			ids[d.name], names[id] = id, d.name
		}
		return tx.SetDocumentUploader(ctx, ids["note"], dee)
	})

	p1 := patients["p1"]
	for _, c := range []struct {
		name string
		q    practice.DocumentQuery
		want []string
	}{
		{"newest first, undated last, ties by id", practice.DocumentQuery{PatientID: p1}, []string{"exam", "note", "lab2", "lab1", "undated"}},
		{"oldest first, undated last", practice.DocumentQuery{PatientID: p1, Asc: true}, []string{"lab1", "note", "lab2", "exam", "undated"}},
		{"title, descending", practice.DocumentQuery{PatientID: p1, Sort: practice.SortTitle}, []string{"undated", "lab1", "lab2", "note", "exam"}},
		{"title, any case", practice.DocumentQuery{PatientID: p1, Sort: practice.SortTitle, Asc: true}, []string{"exam", "note", "lab2", "lab1", "undated"}},
		{"type, descending", practice.DocumentQuery{PatientID: p1, Sort: practice.SortType}, []string{"note", "exam", "undated", "lab2", "lab1"}},
		{"type", practice.DocumentQuery{PatientID: p1, Sort: practice.SortType, Asc: true}, []string{"lab2", "lab1", "undated", "exam", "note"}},
		{"every patient", practice.DocumentQuery{}, []string{"exam", "note", "lab2", "other", "lab1", "undated"}},
		{"one type", practice.DocumentQuery{PatientID: p1, Type: connector.DocumentLabResult}, []string{"lab2", "lab1"}},
		{"date range", practice.DocumentQuery{PatientID: p1, From: at(5, 0), To: at(7, 9)}, []string{"note", "lab2"}},
		{"from is inclusive", practice.DocumentQuery{PatientID: p1, From: at(7, 9)}, []string{"exam"}},
		{"keyword in content", practice.DocumentQuery{PatientID: p1, Text: "CHOLESTEROL"}, []string{"note"}},
		{"keyword in title, every patient", practice.DocumentQuery{Text: "lipid"}, []string{"other", "lab1"}},
		{"a dietician's patients", practice.DocumentQuery{OwnerID: dee, Text: "lipid"}, []string{"lab1"}},
		{"another dietician's patients", practice.DocumentQuery{OwnerID: dee + 1000}, nil},
		{"keywords and a type", practice.DocumentQuery{Text: "lipid", Type: connector.DocumentProgressNote}, nil},
		{"source, exactly", practice.DocumentQuery{PatientID: p1, Source: "City Lab"}, []string{"lab2", "lab1"}},
		{"source, not in another case", practice.DocumentQuery{PatientID: p1, Source: "city lab"}, nil},
		{"author substring, any case", practice.DocumentQuery{PatientID: p1, Author: "ANN SMITH"}, []string{"lab2", "lab1"}},
		{"author substring", practice.DocumentQuery{PatientID: p1, Author: "dr."}, []string{"exam", "lab2", "lab1"}},
		{"author is no pattern", practice.DocumentQuery{PatientID: p1, Author: "dr_"}, nil},
		{"ids", practice.DocumentQuery{PatientID: p1, IDs: []int64{ids["lab1"], ids["exam"], ids["other"], ids["gone"]}}, []string{"exam", "lab1"}},
		{"no ids", practice.DocumentQuery{PatientID: p1, IDs: []int64{}}, nil},
		{"limit", practice.DocumentQuery{PatientID: p1, Page: practice.Page{Limit: 2}}, []string{"exam", "note"}},
		{"offset", practice.DocumentQuery{PatientID: p1, Page: practice.Page{Limit: 2, Offset: 2}}, []string{"lab2", "lab1"}},
		{"filters together", practice.DocumentQuery{PatientID: p1, Source: "City Lab", Author: "smith", From: at(4, 0), Text: "result"}, []string{"lab2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			read(t, s, func(tx practice.Tx) error {
				got, err := tx.Documents(ctx, c.q)
				require.NoError(t, err)
				assert.Equal(t, c.want, namesOf(got, documentID, names))
				counted, _, err := tx.DocumentsCounted(ctx, c.q)
				require.NoError(t, err)
				assert.Equal(t, got, counted, "DocumentsCounted lists what Documents does")
				return nil
			})
		})
	}

	for _, c := range []struct {
		name string
		q    practice.DocumentQuery
		want map[connector.DocumentType]int
	}{
		{"a patient's", practice.DocumentQuery{PatientID: p1}, map[connector.DocumentType]int{
			connector.DocumentLabResult: 2, connector.DocumentProgressNote: 1, connector.DocumentPhysicalAssessment: 1,
			connector.DocumentOther: 1}},
		{"ignoring type and paging", practice.DocumentQuery{PatientID: p1, Type: connector.DocumentOther, Sort: practice.SortTitle,
			Page: practice.Page{Limit: 1, Offset: 3}}, map[connector.DocumentType]int{
			connector.DocumentLabResult: 2, connector.DocumentProgressNote: 1, connector.DocumentPhysicalAssessment: 1,
			connector.DocumentOther: 1}},
		{"keywords", practice.DocumentQuery{Text: "lipid"}, map[connector.DocumentType]int{connector.DocumentLabResult: 2}},
		{"keywords, ignoring type and paging", practice.DocumentQuery{Text: "lipid", Type: connector.DocumentProgressNote,
			Page: practice.Page{Limit: 1, Offset: 1}}, map[connector.DocumentType]int{connector.DocumentLabResult: 2}},
		{"keywords of a dietician's patients", practice.DocumentQuery{OwnerID: dee, Text: "lipid"},
			map[connector.DocumentType]int{connector.DocumentLabResult: 1}},
		{"keywords of a patient, not deleted", practice.DocumentQuery{PatientID: p1, Text: "cholesterol"},
			map[connector.DocumentType]int{connector.DocumentProgressNote: 1}},
		{"filters", practice.DocumentQuery{PatientID: p1, Author: "dr. "}, map[connector.DocumentType]int{
			connector.DocumentLabResult: 2, connector.DocumentPhysicalAssessment: 1}},
		{"no ids", practice.DocumentQuery{IDs: []int64{}}, map[connector.DocumentType]int{}},
	} {
		t.Run("counts "+c.name, func(t *testing.T) {
			read(t, s, func(tx practice.Tx) error {
				_, got, err := tx.DocumentsCounted(ctx, c.q)
				require.NoError(t, err)
				assert.Equal(t, c.want, got)
				return nil
			})
		})
	}

	read(t, s, func(tx practice.Tx) error {
		got, err := tx.PracticeDocument(ctx, ids["note"])
		require.NoError(t, err)
		note := connector.Document{Content: []byte("Less cholesterol")}
		note.Seal()
		assert.Equal(t, practice.Document{
			ID: ids["note"], PatientID: p1, Ref: connector.Ref{System: "php", Type: "DocumentReference", ID: "note"},
			Type: connector.DocumentProgressNote, Title: "Follow-up note", Date: at(5, 9), Author: "Dee Dietician",
			Source: practice.LocalSource, ContentType: "text/plain", Size: note.Size, ContentHash: note.ContentHash,
			Version: "1", UploadedBy: dee,
		}, got)
		listed, err := tx.Documents(ctx, practice.DocumentQuery{IDs: []int64{ids["note"]}})
		require.NoError(t, err)
		assert.Equal(t, []practice.Document{got}, listed, "a listing shows what PracticeDocument does")

		gone, err := tx.PracticeDocument(ctx, ids["gone"])
		require.NoError(t, err)
		assert.True(t, gone.Deleted, "a deleted document is still known")
		assert.Zero(t, gone.UploadedBy)
		_, err = tx.PracticeDocument(ctx, ids["gone"]+100)
		assert.ErrorIs(t, err, practice.ErrNotFound)

		r, err := tx.DocumentContent(ctx, ids["lab2"])
		require.NoError(t, err)
		content, err := io.ReadAll(r)
		require.NoError(t, err)
		assert.Equal(t, "Glucose control improving", string(content))
		_, err = tx.DocumentContent(ctx, ids["gone"]+100)
		assert.ErrorIs(t, err, practice.ErrNotFound)

		_, err = tx.Documents(ctx, practice.DocumentQuery{Text: strings.Repeat("a ", 33)})
		assert.ErrorIs(t, err, connector.ErrInvalid, "too many keywords")
		return nil
	})
	err := s.Write(ctx, func(tx practice.Tx) error { return tx.SetDocumentUploader(ctx, ids["gone"]+100, dee) })
	assert.ErrorIs(t, err, practice.ErrNotFound)
}

func testPracticeLogs(t *testing.T, s PracticeStore) {
	ctx := context.Background()
	dee := addUser(t, s, "dee@example.org", practice.RoleDietician)
	dan := addUser(t, s, "dan@example.org", practice.RoleDietician)
	p1, p2 := newPatient("p1", "Pat One", ""), newPatient("p2", "Pat Two", "")
	p1.OwnerID, p2.OwnerID = dee, dan
	ps := createPatients(t, s, p1, p2)
	entries := []connector.LogEntry{
		{PatientID: ps[0].ID, Action: connector.ActionWebhook, Status: connector.StatusSuccess, Timestamp: at(1, 0), Details: "event evt-1 accepted"},
		{PatientID: ps[0].ID, Action: connector.ActionDelivery, Status: connector.StatusError, Timestamp: at(2, 0), Details: "put failed: 503"},
		{PatientID: ps[1].ID, Action: connector.ActionDelivery, Status: connector.StatusSuccess, Timestamp: at(3, 0), Details: "version 2 in cp"},
		{Action: connector.ActionPoll, Status: connector.StatusSuccess, Timestamp: at(4, 0), Details: "3 changes"},
		{PatientID: ps[1].ID, Action: connector.ActionManualSync, Status: connector.StatusError, Timestamp: at(5, 0), Details: "FETCH FAILED"},
	}
	write(t, s, func(tx practice.Tx) error {
		for _, e := range entries {
			require.NoError(t, tx.AppendLog(ctx, e))
		}
		return nil
	})
	var all []connector.LogEntry
	read(t, s, func(tx practice.Tx) error {
		var err error
		all, err = tx.Logs(ctx, practice.LogQuery{})
		return err
	})
	require.Len(t, all, len(entries))
	names := map[int64]string{}
	for i, e := range all {
		want := entries[len(entries)-1-i]
		want.ID = e.ID
		assert.Equal(t, want, e, "newest first")
		names[e.ID] = "e" + string(rune('1'+len(entries)-1-i))
	}

	for _, c := range []struct {
		name string
		q    practice.LogQuery
		want []string
	}{
		{"every entry", practice.LogQuery{}, []string{"e5", "e4", "e3", "e2", "e1"}},
		{"a patient's", practice.LogQuery{PatientIDs: []int64{ps[0].ID}}, []string{"e2", "e1"}},
		{"patients'", practice.LogQuery{PatientIDs: []int64{ps[0].ID, ps[1].ID}}, []string{"e5", "e3", "e2", "e1"}},
		{"no patients", practice.LogQuery{PatientIDs: []int64{}}, nil},
		{"an owner's patients", practice.LogQuery{OwnerID: dan}, []string{"e5", "e3"}},
		{"action", practice.LogQuery{Action: connector.ActionDelivery}, []string{"e3", "e2"}},
		{"status", practice.LogQuery{Status: connector.StatusError}, []string{"e5", "e2"}},
		{"time range", practice.LogQuery{From: at(2, 0), To: at(4, 0)}, []string{"e3", "e2"}},
		{"details substring, any case", practice.LogQuery{Text: "Failed"}, []string{"e5", "e2"}},
		{"details substring", practice.LogQuery{Text: "503"}, []string{"e2"}},
		{"before an id", practice.LogQuery{BeforeID: all[2].ID}, []string{"e2", "e1"}},
		{"limit", practice.LogQuery{Limit: 2}, []string{"e5", "e4"}},
		{"filters together", practice.LogQuery{OwnerID: dee, Status: connector.StatusError, Text: "put"}, []string{"e2"}},
		{"each patient's newest", practice.LogQuery{Latest: true}, []string{"e5", "e4", "e2"}},
		{"these patients' newest", practice.LogQuery{Latest: true, PatientIDs: []int64{ps[0].ID, ps[1].ID}}, []string{"e5", "e2"}},
		{"each patient's newest success", practice.LogQuery{Latest: true, Status: connector.StatusSuccess}, []string{"e4", "e3", "e1"}},
		{"an owner's patients' newest", practice.LogQuery{Latest: true, OwnerID: dee}, []string{"e2"}},
		{"no patients' newest", practice.LogQuery{Latest: true, PatientIDs: []int64{}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			read(t, s, func(tx practice.Tx) error {
				got, err := tx.Logs(ctx, c.q)
				require.NoError(t, err)
				assert.Equal(t, c.want, namesOf(got, func(e connector.LogEntry) int64 { return e.ID }, names))
				return nil
			})
		})
	}

	type counts = map[connector.Status]int
	ok, failed := connector.StatusSuccess, connector.StatusError
	spans := []time.Time{at(1, 0), at(3, 0), at(6, 0)}
	for _, c := range []struct {
		name   string
		q      practice.LogQuery
		bounds []time.Time
		want   []counts
	}{
		{"per span, a bound in the span it starts", practice.LogQuery{}, spans, []counts{{ok: 1, failed: 1}, {ok: 2, failed: 1}}},
		{"an owner's patients", practice.LogQuery{OwnerID: dee}, spans, []counts{{ok: 1, failed: 1}, {}}},
		{"a patient's, one status", practice.LogQuery{PatientIDs: []int64{ps[1].ID}, Status: failed}, spans, []counts{{}, {failed: 1}}},
		{"text", practice.LogQuery{Text: "failed"}, spans, []counts{{failed: 1}, {failed: 1}}},
		{"outside the bounds", practice.LogQuery{}, []time.Time{at(2, 1), at(3, 0)}, []counts{{}}},
		{"no span", practice.LogQuery{}, spans[:1], nil},
	} {
		t.Run("count "+c.name, func(t *testing.T) {
			read(t, s, func(tx practice.Tx) error {
				got, err := tx.CountLogs(ctx, c.q, c.bounds)
				require.NoError(t, err)
				assert.Equal(t, c.want, got)
				return nil
			})
		})
	}

	var run connector.Progress
	write(t, s, func(tx practice.Tx) error {
		var err error
		run, err = tx.UpdateRun(ctx, "run-1", ps[0].ID, connector.RunDelta{Total: 5, Done: 2, Errors: 1,
			DeliveryErrors: 1, Phase: connector.PhaseFetching})
		return err
	})
	read(t, s, func(tx practice.Tx) error {
		got, err := tx.Log(ctx, all[3].ID)
		require.NoError(t, err)
		assert.Equal(t, all[3], got)
		_, err = tx.Log(ctx, all[0].ID+100)
		assert.ErrorIs(t, err, practice.ErrNotFound)

		p, err := tx.Run(ctx, "run-1")
		require.NoError(t, err)
		assert.Equal(t, run, p)
		assert.Equal(t, connector.Progress{Run: "run-1", PatientID: ps[0].ID, Phase: connector.PhaseFetching, Total: 5,
			Done: 2, Errors: 1, DeliveryErrors: 1}, withoutTime(p))
		_, err = tx.Run(ctx, "run-2")
		assert.ErrorIs(t, err, practice.ErrNotFound)
		return nil
	})
}
