package storetest

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
	"github.com/healthcare-records/healthcare-records/store"
)

// saveDocuments saves a document of each name for the patient and returns
// their ids.
func saveDocuments(t *testing.T, s practice.Store, p practice.Patient, names ...string) []int64 {
	t.Helper()
	ctx := context.Background()
	ids := make([]int64, len(names))
	write(t, s, func(tx practice.Tx) error {
		for i, name := range names {
			var err error
			ids[i], err = tx.SaveDocument(ctx, connector.StoredDocument{PatientID: p.ID, Document: connector.Document{
				Ref: connector.Ref{System: p.Ref.System, Type: "DocumentReference", ID: name}, Patient: p.Ref}})
			require.NoError(t, err)
		}
		return nil
	})
	return ids
}

func testShares(t *testing.T, s PracticeStore) {
	ctx := context.Background()
	dee := addUser(t, s, "dee@example.org", practice.RoleDietician)
	dan := addUser(t, s, "dan@example.org", practice.RoleDietician)
	pia := addUser(t, s, "pia@example.org", practice.RolePractitioner)
	pat := addUser(t, s, "pat@example.org", practice.RolePractitioner)
	ps := createPatients(t, s, newPatient("p1", "Pat One", ""), newPatient("p2", "Pat Two", ""))
	d1 := saveDocuments(t, s, ps[0], "d1", "d2")
	d2 := saveDocuments(t, s, ps[1], "d3")
	shares := []practice.Share{
		{DocumentID: d1[0], PatientID: ps[0].ID, SharedBy: dee, SharedWith: pia, Note: "for review", CreatedAt: at(1, 0), ExpiresAt: at(10, 0)},
		{DocumentID: d1[1], PatientID: ps[0].ID, SharedBy: dee, SharedWith: pat, CreatedAt: at(2, 0)},
		{DocumentID: d2[0], PatientID: ps[1].ID, SharedBy: dan, SharedWith: pia, CreatedAt: at(3, 0)},
	}
	names := map[int64]string{}
	write(t, s, func(tx practice.Tx) error {
		for i := range shares {
			var err error
			shares[i].ID, err = tx.CreateShare(ctx, shares[i])
			require.NoError(t, err)
			names[shares[i].ID] = "s" + string(rune('1'+i))
		}
		return nil
	})
	read(t, s, func(tx practice.Tx) error {
		got, err := tx.Share(ctx, shares[0].ID)
		require.NoError(t, err)
		assert.Equal(t, shares[0], got)
		_, err = tx.Share(ctx, shares[2].ID+100)
		assert.ErrorIs(t, err, practice.ErrNotFound)
		return nil
	})
	err := s.Write(ctx, func(tx practice.Tx) error {
		_, err := tx.CreateShare(ctx, practice.Share{DocumentID: d2[0] + 100, PatientID: ps[0].ID, SharedBy: dee,
			SharedWith: pia, CreatedAt: at(1, 0)})
		return err
	})
	assert.Error(t, err, "a share of no document")

	listShares := func(t *testing.T, q practice.ShareQuery) []string {
		var got []practice.Share
		read(t, s, func(tx practice.Tx) error {
			var err error
			got, err = tx.Shares(ctx, q)
			return err
		})
		return namesOf(got, func(s practice.Share) int64 { return s.ID }, names)
	}
	for _, c := range []struct {
		name string
		q    practice.ShareQuery
		want []string
	}{
		{"newest first", practice.ShareQuery{}, []string{"s3", "s2", "s1"}},
		{"shared by", practice.ShareQuery{SharedBy: dee}, []string{"s2", "s1"}},
		{"shared with", practice.ShareQuery{SharedWith: pia}, []string{"s3", "s1"}},
		{"a patient's", practice.ShareQuery{PatientID: ps[0].ID}, []string{"s2", "s1"}},
		{"a document's", practice.ShareQuery{DocumentID: d2[0]}, []string{"s3"}},
		{"live", practice.ShareQuery{LiveAt: at(9, 0)}, []string{"s3", "s2", "s1"}},
		{"live, expired at the time", practice.ShareQuery{LiveAt: at(10, 0)}, []string{"s3", "s2"}},
		{"filters together", practice.ShareQuery{SharedWith: pia, SharedBy: dee, LiveAt: at(9, 0)}, []string{"s1"}},
		{"limit", practice.ShareQuery{Limit: 1}, []string{"s3"}},
	} {
		t.Run(c.name, func(t *testing.T) { assert.Equal(t, c.want, listShares(t, c.q)) })
	}

	write(t, s, func(tx practice.Tx) error { return tx.RevokeShare(ctx, shares[1].ID, dee, at(4, 0)) })
	write(t, s, func(tx practice.Tx) error { return tx.RevokeShare(ctx, shares[1].ID, pat, at(6, 0)) })
	read(t, s, func(tx practice.Tx) error {
		got, err := tx.Share(ctx, shares[1].ID)
		require.NoError(t, err)
		want := shares[1]
		want.RevokedAt, want.RevokedBy = at(4, 0), dee
		assert.Equal(t, want, got, "revoked once, by the first")
		assert.False(t, got.Live(at(3, 0)))
		return nil
	})
	assert.Equal(t, []string{"s3", "s1"}, listShares(t, practice.ShareQuery{LiveAt: at(3, 0)}), "revoked is not live")
	err = s.Write(ctx, func(tx practice.Tx) error { return tx.RevokeShare(ctx, shares[2].ID+100, dee, at(4, 0)) })
	assert.ErrorIs(t, err, practice.ErrNotFound)
}

func testDocumentRequests(t *testing.T, s PracticeStore) {
	ctx := context.Background()
	dee := addUser(t, s, "dee@example.org", practice.RoleDietician)
	ps := createPatients(t, s, newPatient("p1", "Pat One", ""), newPatient("p2", "Pat Two", ""))
	task := connector.Ref{System: "php", Type: "Task", ID: "t/2"}
	reqs := []practice.DocumentRequest{
		{PatientID: ps[0].ID, RequestedBy: dee, Key: "k1", What: "recent labs", Reason: "follow-up",
			Types: []connector.DocumentType{connector.DocumentLabResult, connector.DocumentProgressNote},
			From:  at(1, 0), To: at(5, 0), Status: practice.RequestPending, CreatedAt: at(6, 0), UpdatedAt: at(6, 0)},
		{PatientID: ps[0].ID, What: "notes", Status: practice.RequestRequested, Task: task, Detail: "sent",
			CreatedAt: at(6, 1), UpdatedAt: at(6, 2)},
		{PatientID: ps[1].ID, What: "all", Status: practice.RequestCompleted, CreatedAt: at(6, 2), UpdatedAt: at(7, 0),
			CompletedAt: at(7, 0)},
		{PatientID: ps[0].ID, Key: "k4", What: "scans", Status: practice.RequestInProgress, CreatedAt: at(6, 3), UpdatedAt: at(6, 3)},
		{PatientID: ps[1].ID, What: "no", Status: practice.RequestRejected, CreatedAt: at(6, 4), UpdatedAt: at(6, 4)},
		{PatientID: ps[1].ID, What: "stop", Status: practice.RequestCancelled, CreatedAt: at(6, 5), UpdatedAt: at(6, 5)},
		{PatientID: ps[1].ID, What: "oops", Status: practice.RequestFailed, CreatedAt: at(6, 6), UpdatedAt: at(6, 6)},
	}
	names := map[int64]string{}
	write(t, s, func(tx practice.Tx) error {
		for i := range reqs {
			var err error
			reqs[i].ID, err = tx.CreateDocumentRequest(ctx, reqs[i])
			require.NoError(t, err, "requests without a key are many")
			names[reqs[i].ID] = "r" + string(rune('1'+i))
		}
		return nil
	})
	err := s.Write(ctx, func(tx practice.Tx) error {
		_, err := tx.CreateDocumentRequest(ctx, practice.DocumentRequest{PatientID: ps[1].ID, Key: "k1", What: "again",
			Status: practice.RequestPending})
		return err
	})
	assert.ErrorIs(t, err, practice.ErrConflict, "a key already used")

	requestID := func(r practice.DocumentRequest) int64 { return r.ID }
	read(t, s, func(tx practice.Tx) error {
		for _, want := range reqs[:2] {
			got, err := tx.DocumentRequest(ctx, want.ID)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		}
		_, err := tx.DocumentRequest(ctx, reqs[6].ID+100)
		assert.ErrorIs(t, err, practice.ErrNotFound)

		got, err := tx.DocumentRequests(ctx, ps[0].ID)
		require.NoError(t, err)
		assert.Equal(t, []string{"r4", "r2", "r1"}, namesOf(got, requestID, names), "newest first")
		return nil
	})

	// The engine's outcome of a request (connector.Tx) is what the
	// practice reads back.
	done := reqs[0]
	done.Status, done.Task, done.Detail = practice.RequestCompleted, task, "2 documents"
	done.UpdatedAt, done.CompletedAt = at(8, 0), at(8, 0)
	write(t, s, func(tx practice.Tx) error {
		return tx.SaveRequestOutcome(ctx, done.Key, connector.RequestOutcome{Status: done.Status, Task: task,
			Detail: done.Detail, At: at(8, 0)})
	})
	read(t, s, func(tx practice.Tx) error {
		got, err := tx.DocumentRequest(ctx, done.ID)
		require.NoError(t, err)
		assert.Equal(t, done, got, "status, task, detail and times change")
		return nil
	})
}

func testAudit(t *testing.T, s PracticeStore) {
	ctx := context.Background()
	base := at(1, 0)
	first := practice.AuditEntry{At: base, ActorID: 7, ActorRole: practice.RoleDietician, Action: practice.ActionDownload,
		Outcome: practice.OutcomeSuccess, PatientID: 3, DocumentID: 9, Target: "share:3", ClientAddr: "192.0.2.1",
		RequestID: "req-1", Detail: "why"}
	// More than one statement's worth, appended in one call.
	entries := []practice.AuditEntry{first}
	for i := 1; i < 1201; i++ {
		e := practice.AuditEntry{At: base.Add(time.Duration(i) * time.Second), ActorID: int64(1 + i%3),
			ActorRole: practice.RolePractitioner, Action: practice.ActionReadDocument, Outcome: practice.OutcomeSuccess,
			PatientID: int64(i % 5)}
		if i%2 == 0 {
			e.Action = practice.ActionListPatients
		}
		if i%10 == 0 {
			e.Outcome = practice.OutcomeDenied
		}
		if i%7 == 0 {
			e.DocumentID = int64(100 + i)
		}
		entries = append(entries, e)
	}
	write(t, s, func(tx practice.Tx) error {
		require.NoError(t, tx.AppendAudit(ctx))
		return tx.AppendAudit(ctx, entries...)
	})

	var ids []int64 // of entries, in order
	read(t, s, func(tx practice.Tx) error {
		for before := int64(0); ; {
			page, err := tx.Audit(ctx, practice.AuditQuery{BeforeID: before, Limit: 500})
			require.NoError(t, err)
			if len(page) == 0 {
				return nil
			}
			for _, e := range page {
				ids = append(ids, e.ID)
			}
			before = page[len(page)-1].ID
		}
	})
	require.Len(t, ids, len(entries), "paged by BeforeID")
	slices.Reverse(ids)
	require.True(t, slices.IsSorted(ids), "newest (highest id) first")
	for i, id := range ids {
		entries[i].ID = id
	}

	// want lists the entries keep selects, newest first, at most limit.
	want := func(keep func(practice.AuditEntry) bool, limit int) []int64 {
		var out []int64
		for i := len(entries) - 1; i >= 0 && len(out) < limit; i-- {
			if keep(entries[i]) {
				out = append(out, entries[i].ID)
			}
		}
		return out
	}
	all := func(practice.AuditEntry) bool { return true }
	for _, c := range []struct {
		name string
		q    practice.AuditQuery
		want []int64
	}{
		{"default limit", practice.AuditQuery{}, want(all, store.DefaultSearchLimit)},
		{"largest limit", practice.AuditQuery{Limit: 1000}, want(all, store.MaxSearchLimit)},
		{"actor", practice.AuditQuery{ActorID: 2, Limit: 20}, want(func(e practice.AuditEntry) bool { return e.ActorID == 2 }, 20)},
		{"patient", practice.AuditQuery{PatientID: 4, Limit: 20}, want(func(e practice.AuditEntry) bool { return e.PatientID == 4 }, 20)},
		{"document", practice.AuditQuery{DocumentID: 107}, want(func(e practice.AuditEntry) bool { return e.DocumentID == 107 }, 50)},
		{"action", practice.AuditQuery{Action: practice.ActionDownload}, []int64{entries[0].ID}},
		{"outcome", practice.AuditQuery{Outcome: practice.OutcomeDenied, Limit: 500},
			want(func(e practice.AuditEntry) bool { return e.Outcome == practice.OutcomeDenied }, 500)},
		{"time range", practice.AuditQuery{From: base.Add(10 * time.Second), To: base.Add(20 * time.Second)},
			want(func(e practice.AuditEntry) bool {
				return !e.At.Before(base.Add(10*time.Second)) && e.At.Before(base.Add(20*time.Second))
			}, 50)},
		{"before an id", practice.AuditQuery{BeforeID: entries[3].ID}, []int64{entries[2].ID, entries[1].ID, entries[0].ID}},
		{"filters together", practice.AuditQuery{ActorID: 1, Outcome: practice.OutcomeDenied,
			Action: practice.ActionListPatients, BeforeID: entries[600].ID, Limit: 5},
			want(func(e practice.AuditEntry) bool {
				return e.ActorID == 1 && e.Outcome == practice.OutcomeDenied && e.Action == practice.ActionListPatients &&
					e.ID < entries[600].ID
			}, 5)},
	} {
		t.Run(c.name, func(t *testing.T) {
			read(t, s, func(tx practice.Tx) error {
				got, err := tx.Audit(ctx, c.q)
				require.NoError(t, err)
				require.NotEmpty(t, c.want, "the case selects something")
				gotIDs := make([]int64, len(got))
				for i, e := range got {
					gotIDs[i] = e.ID
				}
				assert.Equal(t, c.want, gotIDs)
				return nil
			})
		})
	}

	read(t, s, func(tx practice.Tx) error {
		got, err := tx.Audit(ctx, practice.AuditQuery{Action: practice.ActionDownload})
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, entries[0], got[0], "every field")
		return nil
	})
	var stamped practice.AuditEntry
	write(t, s, func(tx practice.Tx) error {
		require.NoError(t, tx.AppendAudit(ctx, practice.AuditEntry{Action: practice.ActionLogin, Outcome: practice.OutcomeFailure}))
		got, err := tx.Audit(ctx, practice.AuditQuery{Limit: 1})
		require.NoError(t, err)
		require.Len(t, got, 1)
		stamped = got[0]
		return nil
	})
	assert.WithinDuration(t, time.Now(), stamped.At, time.Minute, "an entry without a time is stamped")
	assert.Equal(t, practice.AuditEntry{ID: stamped.ID, At: stamped.At, Action: practice.ActionLogin,
		Outcome: practice.OutcomeFailure}, stamped, "no actor, patient or document")

	// Append-only, whatever the statement.
	for _, stmt := range []string{
		`UPDATE audit_log SET detail = 'changed'`,
		`UPDATE audit_log SET outcome = 'success' WHERE id = ` + strconv.FormatInt(entries[10].ID, 10),
		`DELETE FROM audit_log WHERE id = ` + strconv.FormatInt(entries[0].ID, 10),
		`DELETE FROM audit_log`,
	} {
		err := s.SQL(ctx, func(q store.Querier) error {
			_, err := q.Exec(ctx, stmt)
			return err
		})
		if assert.Error(t, err, stmt) {
			assert.Contains(t, err.Error(), "append-only", stmt)
		}
	}
	read(t, s, func(tx practice.Tx) error {
		got, err := tx.Audit(ctx, practice.AuditQuery{BeforeID: entries[11].ID, Limit: 500})
		require.NoError(t, err)
		assert.Len(t, got, 11, "nothing deleted")
		assert.Equal(t, entries[10], got[0], "nothing changed")
		assert.Equal(t, entries[0], got[10])
		return nil
	})
}
