package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
)

// The cases here hold the engine's calls for the product layer (the
// practice's service): they run in the caller's transaction, and what
// they cause commits with it.
func testProduct(t *testing.T, open Opener) {
	t.Run("Enroll", func(t *testing.T) { testEnroll(t, open) })
	t.Run("WriteBack", func(t *testing.T) { testWriteBack(t, open) })
	t.Run("WriteBackUnsupported", func(t *testing.T) { testWriteBackUnsupported(t, open) })
	t.Run("LocalDocuments", func(t *testing.T) { testLocalDocuments(t, open) })
	t.Run("Requests", func(t *testing.T) { testRequests(t, open) })
	t.Run("RequestsUnsupported", func(t *testing.T) { testRequestsUnsupported(t, open) })
}

func testEnroll(t *testing.T, open Opener) {
	h := start(t, open)
	patients, err := h.src.Fill(2, 9)
	require.NoError(t, err)
	p := patients[0]
	progress, stop := h.engine.Progress().Subscribe(0)
	defer stop()

	// The practice's row comes first, in the same transaction.
	run := enroll(t, h, connector.Patient{Ref: p.Ref, Name: "Entered by hand"})
	last := finished(t, progress, run)
	assert.Equal(t, 10, last.Total, "the patient's pull and its nine documents")
	assert.Equal(t, 10, last.Done)
	assert.Zero(t, last.Errors)
	assert.Equal(t, connector.PhaseDone, last.Phase)

	WaitIdle(t, h.store, 30*time.Second, func() bool { return len(h.sink.Documents()) == 9 })
	for _, d := range h.src.Documents() {
		_, held := h.sink.Document(d.Ref)
		assert.Equal(t, d.Patient == p.Ref, held, "%s of %s in the sink", d.Ref, d.Patient)
	}
	contacts := h.sink.Patients()
	require.Len(t, contacts, 1, "only the enrolled patient")
	assert.Equal(t, p.Name, contacts[0].Patient.Name, "the patient as the source has it")

	// A patient the source does not have ends its run with the error.
	run = enroll(t, h, connector.Patient{Ref: h.src.PatientRef("nobody"), Name: "Nobody"})
	last = finished(t, progress, run)
	assert.Equal(t, 1, last.Total)
	assert.Equal(t, 1, last.Errors)
}

// enroll stores p as the practice would and enrolls it, in one
// transaction, returning the run.
func enroll(t *testing.T, h *harness, p connector.Patient) string {
	t.Helper()
	ctx := context.Background()
	var run string
	update(t, h.store, func(tx connector.Tx) error {
		if _, err := tx.SavePatient(ctx, connector.StoredPatient{Patient: p}); err != nil {
			return err
		}
		var err error
		run, err = h.engine.Enroll(ctx, tx, p.Ref, connector.ActionManualSync)
		return err
	})
	return run
}

// finished returns the first snapshot of run that is Finished.
func finished(t *testing.T, progress <-chan connector.Progress, run string) connector.Progress {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case p := <-progress:
			if p.Run == run && p.Finished() {
				return p
			}
		case <-deadline:
			t.Fatalf("run %s did not finish", run)
		}
	}
}

// editSource is the harness's Source with write-backs a test holds or
// fails.
type editSource struct {
	*connectortest.Source
	mu sync.Mutex
	// hold, while set, keeps WritePatient waiting until it is closed.
	hold chan struct{}
	// fail is what the next failures calls of WritePatient return.
	fail     error
	failures int
	attempts int
}

func (s *editSource) WritePatient(ctx context.Context, p connector.Patient) (string, error) {
	s.mu.Lock()
	hold, fail := s.hold, s.fail
	s.attempts++
	if s.failures > 0 {
		s.failures--
	} else {
		fail = nil
	}
	s.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	if fail != nil {
		return "", fail
	}
	return s.Source.WritePatient(ctx, p)
}

func (s *editSource) set(hold chan struct{}, fail error, failures int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold, s.fail, s.failures, s.attempts = hold, fail, failures, 0
}

func (s *editSource) tries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// plainSource is a Source with no optional ability.
type plainSource struct{ connector.Source }

// local returns the local copy of a patient and its write-back.
func (h *harness) local(t *testing.T, ref connector.Ref) (connector.StoredPatient, connector.WriteBack) {
	t.Helper()
	var (
		p connector.StoredPatient
		w connector.WriteBack
	)
	update(t, h.store, func(tx connector.Tx) (err error) {
		if p, err = tx.Patient(context.Background(), ref); err != nil {
			return err
		}
		w, err = tx.WriteBack(context.Background(), p.ID)
		return err
	})
	return p, w
}

// edit changes the local patient's name, as a dietician would, over the
// version the local copy has.
func (h *harness) edit(t *testing.T, ref connector.Ref, name string, more ...func(*connector.StoredPatient)) {
	t.Helper()
	p, _ := h.local(t, ref)
	p.Name = name
	for _, f := range more {
		f(&p)
	}
	update(t, h.store, func(tx connector.Tx) error { return h.engine.EditPatient(context.Background(), tx, p) })
}

// contact returns the sink's copy of a patient.
func (h *harness) contact(t *testing.T, ref connector.Ref) connector.Patient {
	t.Helper()
	for _, c := range h.sink.Patients() {
		if c.Patient.Ref == ref {
			return c.Patient
		}
	}
	t.Fatalf("%s is not in the sink", ref)
	return connector.Patient{}
}

func testWriteBack(t *testing.T, open Opener) {
	ctx := context.Background()
	src := &editSource{}
	seen := &outcomes{}
	h := startWith(t, open, connectortest.SourceConfig{}, func(cfg *connector.Config) {
		src.Source = cfg.Sources["php"].(*connectortest.Source)
		cfg.Sources["php"] = src
		cfg.Observer = seen
	})
	patients, err := h.src.Fill(1, 2)
	require.NoError(t, err)
	h.enroll(t, patients)
	ref := patients[0].Ref

	// An edit is delivered and written at the source, whose new version
	// the local copy takes.
	h.edit(t, ref, "Edited Here")
	WaitIdle(t, h.store, 30*time.Second, nil)
	at, ok := h.src.Patient(ref.ID)
	require.True(t, ok)
	assert.Equal(t, "Edited Here", at.Name, "written at the source")
	p, w := h.local(t, ref)
	assert.Equal(t, connector.WriteBackWritten, w.Status)
	assert.Equal(t, at.Version, p.Version, "the local copy takes the source's new version")
	assert.Equal(t, "Edited Here", h.contact(t, ref).Name, "delivered to the sink")

	// Transient failures are retried until the write lands.
	src.set(nil, errors.New("provider unavailable"), 2)
	h.edit(t, ref, "Edited Twice")
	WaitIdle(t, h.store, 30*time.Second, nil)
	_, w = h.local(t, ref)
	assert.Equal(t, connector.WriteBackWritten, w.Status)
	assert.Equal(t, 3, src.tries(), "two failed attempts, then the write")

	// An edit made on a version the source has moved past: the pull of
	// the source's copy, while the write-back is pending, keeps the edit.
	hold := make(chan struct{})
	src.set(hold, nil, 0)
	h.edit(t, ref, "Edited Again")
	at, _ = h.src.Patient(ref.ID)
	at.Name = "Changed At The Provider"
	moved := h.src.PutPatient(at)
	pulls := seen.count(connector.Outcome{Kind: "pull", System: "php"})
	h.change(t, "provider-edit", connector.Change{Kind: connector.ChangeUpsert, Ref: ref})
	require.Eventually(t, func() bool { return seen.count(connector.Outcome{Kind: "pull", System: "php"}) > pulls },
		30*time.Second, 20*time.Millisecond, "the pull ran")
	p, w = h.local(t, ref)
	assert.Equal(t, connector.WriteBackPending, w.Status)
	assert.Equal(t, "Edited Again", p.Name, "a pull while the write-back is pending keeps the edit")

	// The write over the old version is a conflict: no retry, a detail.
	writes := h.src.Calls().Write
	close(hold)
	WaitIdle(t, h.store, 30*time.Second, nil)
	p, w = h.local(t, ref)
	assert.Equal(t, connector.WriteBackConflict, w.Status)
	assert.Contains(t, w.Detail, "changed since")
	assert.Equal(t, 1, h.src.Calls().Write-writes, "a conflict is not retried")
	assert.Equal(t, "Edited Again", p.Name)
	at, _ = h.src.Patient(ref.ID)
	assert.Equal(t, moved.Name, at.Name, "the provider's change stands")
	dead, err := h.store.DeadLetters(ctx, 5)
	require.NoError(t, err)
	assert.Empty(t, dead, "a conflict is an outcome, not a dead letter")

	// Retrying writes the edit over the source's current version.
	require.NoError(t, h.engine.RetryWriteBack(ctx, p.ID))
	WaitIdle(t, h.store, 30*time.Second, nil)
	p, w = h.local(t, ref)
	assert.Equal(t, connector.WriteBackWritten, w.Status)
	assert.Equal(t, moved.Version, w.Base, "written over the version the source had")
	at, _ = h.src.Patient(ref.ID)
	assert.Equal(t, "Edited Again", at.Name)
	assert.Equal(t, at.Version, p.Version)
	assert.Error(t, h.engine.RetryWriteBack(ctx, p.ID), "nothing is left to write back")

	// Once written, pulls take the source's changes as before, but not
	// over what the dietician keeps that the source has no field for.
	h.edit(t, ref, "Edited Again", func(p *connector.StoredPatient) {
		p.MedicalHistory, p.DietaryPreferences = "type 2 diabetes", "vegetarian"
	})
	WaitIdle(t, h.store, 30*time.Second, nil)
	at, _ = h.src.Patient(ref.ID)
	at.Name, at.MedicalHistory, at.DietaryPreferences = "Changed Later", "", ""
	h.src.PutPatient(at)
	h.change(t, "provider-edit-2", connector.Change{Kind: connector.ChangeUpsert, Ref: ref})
	WaitIdle(t, h.store, 30*time.Second, nil)
	p, _ = h.local(t, ref)
	assert.Equal(t, "Changed Later", p.Name)
	assert.Equal(t, "Changed Later", h.contact(t, ref).Name)
	assert.Equal(t, "type 2 diabetes", p.MedicalHistory, "kept: the source holds none")
	assert.Equal(t, "vegetarian", p.DietaryPreferences, "kept: the source holds none")

	// A permanent failure ends the write-back at once, with its detail.
	src.set(nil, fmt.Errorf("%w: the provider refused the record", connector.ErrPermanent), 100)
	h.edit(t, ref, "Refused Edit")
	WaitIdle(t, h.store, 30*time.Second, nil)
	_, w = h.local(t, ref)
	assert.Equal(t, connector.WriteBackFailed, w.Status)
	assert.Contains(t, w.Detail, "refused the record")
	assert.Equal(t, 1, src.tries())
}

func testWriteBackUnsupported(t *testing.T, open Opener) {
	h := startWith(t, open, connectortest.SourceConfig{}, func(cfg *connector.Config) {
		cfg.Sources["php"] = plainSource{cfg.Sources["php"]}
	})
	patients, err := h.src.Fill(1, 1)
	require.NoError(t, err)
	h.enroll(t, patients)
	ref := patients[0].Ref

	h.edit(t, ref, "Kept Here")
	WaitIdle(t, h.store, 30*time.Second, nil)
	p, w := h.local(t, ref)
	assert.Equal(t, connector.WriteBackFailed, w.Status)
	assert.Contains(t, w.Detail, "does not accept patient edits")
	assert.Equal(t, "Kept Here", h.contact(t, ref).Name, "delivered to the sink all the same")
	assert.Zero(t, h.src.Calls().Write)

	// The edit stays against the source's copy.
	at, _ := h.src.Patient(ref.ID)
	at.Name = "Changed At The Provider"
	h.src.PutPatient(at)
	h.change(t, "provider-edit", connector.Change{Kind: connector.ChangeUpsert, Ref: ref})
	WaitIdle(t, h.store, 30*time.Second, nil)
	after, _ := h.local(t, ref)
	assert.Equal(t, p.Name, after.Name)
	assert.Error(t, h.engine.RetryWriteBack(context.Background(), p.ID))
}

func testLocalDocuments(t *testing.T, open Opener) {
	ctx := context.Background()
	h := startWith(t, open, connectortest.SourceConfig{UnlistDeleted: true}, nil)
	patients, err := h.src.Fill(1, 2)
	require.NoError(t, err)
	h.enroll(t, patients)

	up := connector.StoredDocument{Document: connector.Document{
		Ref:     connector.Ref{System: "practice", Type: "DocumentReference", ID: "upload-1"},
		Patient: patients[0].Ref, Type: connector.DocumentProgressNote, Title: "Meal plan",
		ContentType: "text/plain", Content: []byte("week one"),
	}}
	save := func(d connector.StoredDocument) {
		t.Helper()
		update(t, h.store, func(tx connector.Tx) error {
			_, err := h.engine.SaveLocal(ctx, tx, d)
			return err
		})
		WaitIdle(t, h.store, 30*time.Second, nil)
	}
	update(t, h.store, func(tx connector.Tx) error {
		bad := up
		bad.Ref.System = "php"
		_, err := h.engine.SaveLocal(ctx, tx, bad)
		assert.ErrorIs(t, err, connector.ErrInvalid, "a document of a source is the source's")
		return nil
	})
	save(up)
	got, ok := h.sink.Document(up.Ref)
	require.True(t, ok, "the upload is delivered")
	assert.Equal(t, "week one", string(got.Document.Content))

	// Reconciles and deletion checks of the source leave it alone.
	fetches := h.src.Calls().Fetch
	_, err = h.engine.Sweep(ctx, "php")
	require.NoError(t, err)
	_, err = h.engine.Sync(ctx, "php", patients[0].Ref.ID, connector.ActionManualSync, true)
	require.NoError(t, err)
	WaitIdle(t, h.store, 30*time.Second, nil)
	assert.Equal(t, fetches, h.src.Calls().Fetch, "nothing to ask the source about")
	_, ok = h.sink.Document(up.Ref)
	assert.True(t, ok, "the sweep left the upload in the sink")
	update(t, h.store, func(tx connector.Tx) error {
		d, err := tx.Document(ctx, up.Ref)
		require.NoError(t, err)
		assert.False(t, d.Deleted, "nor deleted it here")
		assert.Equal(t, patients[0].Ref, d.Patient, "its patient is the source's")
		return nil
	})
	dead, err := h.store.DeadLetters(ctx, 5)
	require.NoError(t, err)
	assert.Empty(t, dead)
	h.assertSynced(t)

	// A redelivery of the patient writes the upload too.
	n, err := connector.Redeliver(ctx, h.store, connector.Redelivery{Sink: "cp", Source: "php", Patient: patients[0].Ref.ID})
	require.NoError(t, err)
	assert.Equal(t, 4, n, "the patient, its two documents and the upload")
	WaitIdle(t, h.store, 30*time.Second, nil)

	// A new version, then the deletion, reach the sink.
	up.Content = []byte("week two")
	save(up)
	got, _ = h.sink.Document(up.Ref)
	assert.Equal(t, "week two", string(got.Document.Content))
	assert.Equal(t, "2", got.Document.Version)
	save(connector.StoredDocument{Document: connector.Document{Ref: up.Ref, Deleted: true}})
	_, ok = h.sink.Document(up.Ref)
	assert.False(t, ok, "the deletion reached the sink")
}

func testRequests(t *testing.T, open Opener) {
	ctx := context.Background()
	h := start(t, open)
	patients, err := h.src.Fill(1, 2)
	require.NoError(t, err)
	h.enroll(t, patients)
	ref := patients[0].Ref

	request := func(key string, patient connector.Ref) {
		t.Helper()
		insertRequest(t, h.store, key, patient, "Recent lab results")
		update(t, h.store, func(tx connector.Tx) error {
			return h.engine.RequestDocuments(ctx, tx, connector.DocumentRequest{Patient: patient, Key: key,
				Types: []connector.DocumentType{connector.DocumentLabResult}})
		})
		WaitIdle(t, h.store, 30*time.Second, nil)
	}
	stored := func(key string) connector.StoredRequest {
		t.Helper()
		var r connector.StoredRequest
		update(t, h.store, func(tx connector.Tx) (err error) {
			r, err = tx.Request(ctx, key)
			return err
		})
		return r
	}

	request("req-1", ref)
	r := stored("req-1")
	require.Equal(t, connector.RequestRequested, r.Status, r.Detail)
	at := h.src.Requests()
	require.Len(t, at, 1)
	assert.Equal(t, at[0].Task, r.Task, "the provider's task is recorded")
	assert.Equal(t, "Recent lab results", at[0].What, "the description comes from the stored request")
	assert.Equal(t, []connector.DocumentType{connector.DocumentLabResult}, at[0].Types)

	// The same key asks once.
	calls := h.src.Calls().Request
	update(t, h.store, func(tx connector.Tx) error {
		return h.engine.RequestDocuments(ctx, tx, connector.DocumentRequest{Patient: ref, Key: "req-1"})
	})
	WaitIdle(t, h.store, 30*time.Second, nil)
	assert.Equal(t, calls, h.src.Calls().Request)

	// Nothing changed at the provider: nothing to record.
	require.NoError(t, h.engine.RefreshRequests(ctx))
	assert.Equal(t, connector.RequestRequested, stored("req-1").Status)

	// The provider completes it with new documents: the refresh records
	// it and the reconcile it enqueues brings them to the sink.
	added, err := h.src.CompleteRequest(r.Task.ID,
		connector.Document{Type: connector.DocumentLabResult, Title: "Lipid panel", ContentType: "text/plain", Content: []byte("LDL 2.1")},
		connector.Document{Type: connector.DocumentLabResult, Title: "HbA1c", ContentType: "text/plain", Content: []byte("5.4%")})
	require.NoError(t, err)
	require.NoError(t, h.engine.RefreshRequests(ctx))
	assert.Equal(t, connector.RequestCompleted, stored("req-1").Status)
	WaitIdle(t, h.store, 30*time.Second, h.synced)
	h.assertSynced(t)
	for _, d := range added {
		_, ok := h.sink.Document(d.Ref)
		assert.True(t, ok, "%s requested and delivered", d.Ref)
	}
	statuses := h.src.Calls().Status
	require.NoError(t, h.engine.RefreshRequests(ctx))
	assert.Equal(t, statuses, h.src.Calls().Status, "a completed request is not asked about again")

	// A rejection is recorded with the provider's reason.
	request("req-2", ref)
	require.NoError(t, h.src.SetRequestStatus(stored("req-2").Task.ID, connector.RequestRejected, "no such records"))
	require.NoError(t, h.engine.RefreshRequests(ctx))
	r = stored("req-2")
	assert.Equal(t, connector.RequestRejected, r.Status)
	assert.Equal(t, "no such records", r.Detail)

	// A request the provider refuses fails, with the reason.
	ghost := h.src.PatientRef("ghost")
	update(t, h.store, func(tx connector.Tx) error {
		_, err := tx.SavePatient(ctx, connector.StoredPatient{Patient: connector.Patient{Ref: ghost, Name: "Ghost"}})
		return err
	})
	request("req-3", ghost)
	r = stored("req-3")
	assert.Equal(t, connector.RequestFailed, r.Status)
	assert.Contains(t, r.Detail, "no patient")
}

func testRequestsUnsupported(t *testing.T, open Opener) {
	ctx := context.Background()
	h := startWith(t, open, connectortest.SourceConfig{}, func(cfg *connector.Config) {
		cfg.Sources["php"] = plainSource{cfg.Sources["php"]}
	})
	patients, err := h.src.Fill(1, 1)
	require.NoError(t, err)
	h.enroll(t, patients)
	insertRequest(t, h.store, "req-1", patients[0].Ref, "Anything")
	update(t, h.store, func(tx connector.Tx) error {
		return h.engine.RequestDocuments(ctx, tx, connector.DocumentRequest{Patient: patients[0].Ref, Key: "req-1"})
	})
	WaitIdle(t, h.store, 30*time.Second, nil)
	var r connector.StoredRequest
	update(t, h.store, func(tx connector.Tx) (err error) {
		r, err = tx.Request(ctx, "req-1")
		return err
	})
	assert.Equal(t, connector.RequestFailed, r.Status)
	assert.Contains(t, r.Detail, "does not accept document requests")
	assert.Zero(t, h.src.Calls().Request)
}

// insertRequest stores a pending document request as the practice does
// before it asks the engine to send it.
func insertRequest(t *testing.T, s Store, key string, patient connector.Ref, what string) {
	t.Helper()
	execSQL(t, s, `INSERT INTO document_requests (patient_id, idempotency_key, what, status, created_at, updated_at)
		SELECT id, $1, $2, $3, $4, $4 FROM patients WHERE source = $5 AND source_id = $6`,
		key, what, string(connector.RequestPending), time.Now().UTC(), patient.System, patient.ID)
}

// execSQL runs a statement on the store's database, standing in for the
// practice's own writes, through River's driver: the cases need no more
// of a store than the suite's interface, and skip a store that has no
// River of these drivers.
func execSQL(t *testing.T, s Store, query string, args ...any) {
	t.Helper()
	ctx := context.Background()
	var err error
	switch s := s.(type) {
	case interface{ River() *river.Client[*sql.Tx] }:
		err = s.River().Driver().GetExecutor().Exec(ctx, query, args...)
	case interface{ River() *river.Client[pgx.Tx] }:
		err = s.River().Driver().GetExecutor().Exec(ctx, query, args...)
	default:
		t.Skipf("store %T runs no SQL the suite knows", s)
	}
	require.NoError(t, err)
}
