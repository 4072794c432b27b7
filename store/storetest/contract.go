package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
)

func update(t *testing.T, s Store, fn func(connector.Tx) error) {
	t.Helper()
	require.NoError(t, s.Update(context.Background(), fn))
}

func openClosed(t *testing.T, open Opener) Store {
	s := open(t, FastConfig())
	t.Cleanup(func() { s.Close() })
	return s
}

func testEvents(t *testing.T, open Opener) {
	ctx := context.Background()
	s := openClosed(t, open)
	update(t, s, func(tx connector.Tx) error {
		fresh, err := tx.RecordEvent(ctx, "php", "evt-1")
		require.NoError(t, err)
		assert.True(t, fresh, "first sight of an event id")
		fresh, err = tx.RecordEvent(ctx, "php", "evt-1")
		require.NoError(t, err)
		assert.False(t, fresh, "repeated event id")
		fresh, err = tx.RecordEvent(ctx, "other", "evt-1")
		require.NoError(t, err)
		assert.True(t, fresh, "event ids are per source")
		return nil
	})

	// A failed transaction records nothing.
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx connector.Tx) error {
		_, err := tx.RecordEvent(ctx, "php", "evt-2")
		require.NoError(t, err)
		return boom
	})
	require.ErrorIs(t, err, boom)
	update(t, s, func(tx connector.Tx) error {
		fresh, err := tx.RecordEvent(ctx, "php", "evt-2")
		assert.True(t, fresh, "rolled-back event must not count")
		return err
	})

	// Ops with one unique key are enqueued once.
	op := connector.PullOp{Ref: connector.Ref{System: "php", Type: "DocumentReference", ID: "d1"}, Version: "1"}
	update(t, s, func(tx connector.Tx) error {
		skipped, err := tx.Enqueue(ctx, op, op)
		require.NoError(t, err)
		assert.Equal(t, 1, skipped)
		skipped, err = tx.Enqueue(ctx, op)
		assert.Equal(t, 1, skipped)
		return err
	})
}

func testRoundTrip(t *testing.T, open Opener) {
	ctx := context.Background()
	s := openClosed(t, open)
	when := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	p := connector.StoredPatient{Patient: connector.Patient{
		Ref: connector.Ref{System: "php", Type: connector.PatientType, ID: "p1"}, Name: "Ada Example",
		Email: "ada@example.org", ContactDetails: "+1 555 0100", MedicalHistory: "type 2 diabetes",
		DietaryPreferences: "no peanuts", Identifiers: []connector.Identifier{{System: "urn:mrn", Value: "42"}},
		Version: "3", UpdatedAt: when,
	}}
	p.Fingerprint = p.Patient.Fingerprint()
	d := connector.StoredDocument{Document: connector.Document{
		Ref: connector.Ref{System: "php", Type: "DocumentReference", ID: "d1"}, Patient: p.Ref,
		Type: connector.DocumentLabResult, Title: "Lipid panel", Date: when.Add(-time.Hour), Author: "Dr. Who",
		Source: "Clinic", ContentType: "application/pdf", Content: []byte{0, 1, 2, 255}, Version: "7",
		UpdatedAt: when, Raw: []byte(`{"resourceType":"DocumentReference"}`),
	}}
	d.Seal()
	d.Fingerprint = d.Document.Fingerprint()

	update(t, s, func(tx connector.Tx) error {
		_, err := tx.Patient(ctx, p.Ref)
		require.ErrorIs(t, err, connector.ErrNotFound)
		p.ID, err = tx.SavePatient(ctx, p)
		require.NoError(t, err)
		d.PatientID = p.ID
		d.ID, err = tx.SaveDocument(ctx, d)
		return err
	})
	update(t, s, func(tx connector.Tx) error {
		got, err := tx.Patient(ctx, p.Ref)
		require.NoError(t, err)
		assert.Equal(t, p, got)
		got, err = tx.PatientByID(ctx, p.ID)
		require.NoError(t, err)
		assert.Equal(t, p, got)
		refs, err := tx.PatientRefs(ctx, "php")
		require.NoError(t, err)
		assert.Equal(t, []connector.Ref{p.Ref}, refs)

		doc, err := tx.Document(ctx, d.Ref)
		require.NoError(t, err)
		assert.Equal(t, d, doc)
		docs, err := tx.LiveDocuments(ctx, p.Ref)
		require.NoError(t, err)
		if assert.Len(t, docs, 1) {
			assert.Equal(t, connector.Copy{Ref: d.Ref, Version: d.Version, Fingerprint: d.Fingerprint}, withoutSaved(docs[0]))
			assert.False(t, docs[0].Saved.IsZero(), "when the copy was kept")
		}

		// Saving again by ref updates in place.
		d.Version, d.Title, d.Deleted = "8", "Lipid panel (corrected)", true
		id, err := tx.SaveDocument(ctx, d)
		require.NoError(t, err)
		assert.Equal(t, d.ID, id)
		doc, err = tx.Document(ctx, d.Ref)
		require.NoError(t, err)
		assert.Equal(t, d, doc)

		_, err = tx.Document(ctx, connector.Ref{System: "php", Type: "DocumentReference", ID: "nope"})
		assert.ErrorIs(t, err, connector.ErrNotFound)
		// A deleted document is no longer listed.
		docs, err = tx.LiveDocuments(ctx, p.Ref)
		require.NoError(t, err)
		assert.Empty(t, docs)

		c, err := tx.Cursor(ctx, "php", "p1")
		require.NoError(t, err)
		assert.Empty(t, c)
		require.NoError(t, tx.SaveCursor(ctx, "php", "p1", "c1"))
		require.NoError(t, tx.SaveCursor(ctx, "php", "p1", "c2"))
		c, err = tx.Cursor(ctx, "php", "p1")
		require.NoError(t, err)
		assert.Equal(t, "c2", c)

		return tx.AppendLog(ctx, connector.LogEntry{PatientID: p.ID, DocumentID: d.ID, Action: connector.ActionWebhook, Status: connector.StatusSuccess})
	})
}

func testLeases(t *testing.T, open Opener) {
	ctx := context.Background()
	s := openClosed(t, open)
	ref := connector.Ref{System: "php", Type: "DocumentReference", ID: "d1"}
	now := time.Now()
	update(t, s, func(tx connector.Tx) error {
		m, err := tx.Mapping(ctx, "cp", ref)
		require.NoError(t, err)
		assert.Empty(t, m.SinkID)

		_, ok, err := tx.ClaimMapping(ctx, "cp", ref, "a", now.Add(time.Minute))
		require.NoError(t, err)
		assert.True(t, ok, "free lease")
		_, ok, err = tx.ClaimMapping(ctx, "cp", ref, "b", now.Add(time.Minute))
		require.NoError(t, err)
		assert.False(t, ok, "lease held by a")
		_, ok, err = tx.ClaimMapping(ctx, "cp", ref, "a", now.Add(time.Minute))
		require.NoError(t, err)
		assert.True(t, ok, "holder reclaims its own lease")
		_, ok, err = tx.ClaimMapping(ctx, "other", ref, "b", now.Add(time.Minute))
		require.NoError(t, err)
		assert.True(t, ok, "leases are per sink")

		saved := connector.Mapping{Sink: "cp", Ref: ref, SinkID: "x1", Version: "2", Fingerprint: "f"}
		stale := connector.Mapping{Sink: "cp", Ref: ref, SinkID: "x0", Version: "1", Fingerprint: "e"}
		require.ErrorIs(t, tx.SaveMapping(ctx, stale, "b"), connector.ErrBusy, "a holds the lease")
		require.NoError(t, tx.SaveMapping(ctx, saved, "a"))
		m, ok, err = tx.ClaimMapping(ctx, "cp", ref, "b", now.Add(time.Minute))
		require.NoError(t, err)
		assert.True(t, ok, "saving releases the lease")
		assert.Equal(t, saved, m, "the refused save stored nothing")

		require.NoError(t, tx.ReleaseMapping(ctx, "cp", ref, "someone-else"))
		_, ok, err = tx.ClaimMapping(ctx, "cp", ref, "c", now.Add(time.Minute))
		require.NoError(t, err)
		assert.False(t, ok, "only the holder releases")
		require.NoError(t, tx.ReleaseMapping(ctx, "cp", ref, "b"))
		_, ok, err = tx.ClaimMapping(ctx, "cp", ref, "c", now.Add(-time.Second))
		require.NoError(t, err)
		assert.True(t, ok, "released lease")
		_, ok, err = tx.ClaimMapping(ctx, "cp", ref, "d", now.Add(time.Minute))
		require.NoError(t, err)
		assert.True(t, ok, "expired lease")
		return nil
	})
}

func testRuns(t *testing.T, open Opener) {
	ctx := context.Background()
	s := openClosed(t, open)
	update(t, s, func(tx connector.Tx) error {
		p, err := tx.UpdateRun(ctx, "r1", 5, connector.RunDelta{Total: 10})
		require.NoError(t, err)
		assert.Equal(t, connector.Progress{Run: "r1", PatientID: 5, Phase: connector.PhaseListing, Total: 10}, withoutTime(p))
		p, err = tx.UpdateRun(ctx, "r1", 0, connector.RunDelta{Done: 3, Errors: 1, Phase: connector.PhaseFetching})
		require.NoError(t, err)
		assert.Equal(t, connector.Progress{Run: "r1", PatientID: 5, Phase: connector.PhaseFetching, Total: 10, Done: 3, Errors: 1}, withoutTime(p))
		p, err = tx.UpdateRun(ctx, "r1", 0, connector.RunDelta{Done: 1})
		require.NoError(t, err)
		assert.Equal(t, connector.PhaseFetching, p.Phase, "an empty phase keeps the phase")
		assert.False(t, p.UpdatedAt.IsZero())
		p, err = tx.UpdateRun(ctx, "r1", 0, connector.RunDelta{DeliveryErrors: 2})
		require.NoError(t, err)
		assert.Equal(t, connector.Progress{Run: "r1", PatientID: 5, Phase: connector.PhaseFetching, Total: 10, Done: 4, Errors: 1,
			DeliveryErrors: 2}, withoutTime(p))
		return nil
	})
}

func withoutSaved(c connector.Copy) connector.Copy {
	c.Saved = time.Time{}
	return c
}

func withoutTime(p connector.Progress) connector.Progress {
	p.UpdatedAt = time.Time{}
	return p
}
