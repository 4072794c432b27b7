package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/store"
)

// The cases here hold the engine to the Source as the truth: what a
// conformant FHIR server may do (opaque versions, unlisted deletions,
// changes of resources that are not documents) must not lose an update,
// and a webhook never deletes what the Source still has.

// enroll makes the patients known and syncs them, waiting until the sink
// holds every document.
func (h *harness) enroll(t *testing.T, patients []connector.Patient) {
	t.Helper()
	ctx := context.Background()
	for _, p := range patients {
		_, err := h.engine.Ingest(ctx, connector.Event{ID: "enroll-" + p.Ref.ID, Source: "php",
			Changes: []connector.Change{{Kind: connector.ChangeUpsert, Ref: h.src.PatientRef(p.Ref.ID)}}})
		require.NoError(t, err)
	}
	WaitIdle(t, h.store, 30*time.Second, nil)
	for _, p := range patients {
		_, err := h.engine.Sync(ctx, "php", p.Ref.ID, connector.ActionManualSync, false)
		require.NoError(t, err)
	}
	WaitIdle(t, h.store, 30*time.Second, h.synced)
}

// change ingests one webhook-style change under its own event id.
func (h *harness) change(t *testing.T, id string, c connector.Change) {
	t.Helper()
	c.Ref.System = "php"
	_, err := h.engine.Ingest(context.Background(), connector.Event{ID: id, Source: "php", Action: connector.ActionWebhook,
		Changes: []connector.Change{c}})
	require.NoError(t, err)
}

func testOpaqueVersions(t *testing.T, open Opener) {
	h := startWith(t, open, connectortest.SourceConfig{OpaqueVersions: true}, nil)
	patients, err := h.src.Fill(2, 3)
	require.NoError(t, err)
	h.enroll(t, patients)

	// Six updates of one document in a row, each id sorting before the
	// last: every one is taken, the last one stays.
	id := h.src.Documents()[0].Ref.ID
	for i := range 6 {
		u, err := h.src.UpdateDocument(id, func(d *connector.Document) { d.Content = fmt.Appendf(d.Content, " amended %d", i) })
		require.NoError(t, err)
		h.change(t, "upd-"+u.Version, connector.Change{Kind: connector.ChangeUpsert, Ref: u.Ref, Version: u.Version})
	}
	WaitIdle(t, h.store, 30*time.Second, h.synced)
	h.assertSynced(t)

	// Another update found by a reconcile alone.
	u, err := h.src.UpdateDocument(h.src.Documents()[1].Ref.ID, func(d *connector.Document) { d.Title += " (corrected)" })
	require.NoError(t, err)
	_, err = h.engine.Sync(context.Background(), "php", u.Patient.ID, connector.ActionManualSync, false)
	require.NoError(t, err)
	WaitIdle(t, h.store, 30*time.Second, h.synced)
	h.assertSynced(t)
}

func testDeleteConfirmed(t *testing.T, open Opener) {
	h := start(t, open)
	patients, err := h.src.Fill(1, 3)
	require.NoError(t, err)
	h.enroll(t, patients)
	doc := h.src.Documents()[0]

	// A delete the Source does not confirm (forged, or replayed) deletes
	// nothing.
	h.change(t, "forged-delete", connector.Change{Kind: connector.ChangeDelete, Ref: doc.Ref})
	WaitIdle(t, h.store, 30*time.Second, nil)
	h.assertSynced(t)
	_, held := h.sink.Document(doc.Ref)
	require.True(t, held, "an unconfirmed delete removed the document from the sink")

	// A genuine delete, a re-creation and a second genuine delete all
	// arrive.
	require.NoError(t, h.src.RemoveDocument(doc.Ref.ID))
	h.change(t, "delete-1", connector.Change{Kind: connector.ChangeDelete, Ref: doc.Ref})
	WaitIdle(t, h.store, 30*time.Second, h.synced)
	h.assertSynced(t)
	again, err := h.src.AddDocument(connector.Document{Ref: doc.Ref, Patient: doc.Patient, Type: doc.Type, Title: doc.Title,
		ContentType: doc.ContentType, Content: []byte("written again")})
	require.NoError(t, err)
	h.change(t, "recreate", connector.Change{Kind: connector.ChangeUpsert, Ref: again.Ref, Version: again.Version})
	WaitIdle(t, h.store, 30*time.Second, h.synced)
	h.assertSynced(t)
	require.NoError(t, h.src.RemoveDocument(doc.Ref.ID))
	h.change(t, "delete-2", connector.Change{Kind: connector.ChangeDelete, Ref: doc.Ref})
	WaitIdle(t, h.store, 30*time.Second, h.synced)
	h.assertSynced(t)
}

// routingSource places changes of Binary resources on the documents
// that hold them, as the FHIR Source does.
type routingSource struct {
	*connectortest.Source
	routes map[string][]connector.Ref
}

func (s *routingSource) Routed(typ string) bool { return typ == "Binary" }

func (s *routingSource) Route(_ context.Context, ref connector.Ref) ([]connector.Ref, error) {
	return s.routes[ref.ID], nil
}

func testRouting(t *testing.T, open Opener) {
	src := &routingSource{routes: map[string][]connector.Ref{}}
	h := startWith(t, open, connectortest.SourceConfig{}, func(cfg *connector.Config) {
		src.Source = cfg.Sources["php"].(*connectortest.Source)
		cfg.Sources["php"] = src
	})
	patients, err := h.src.Fill(1, 2)
	require.NoError(t, err)
	h.enroll(t, patients)

	// The attachment changes: the change names the Binary only.
	doc := h.src.Documents()[0]
	_, err = h.src.UpdateDocument(doc.Ref.ID, func(d *connector.Document) { d.Content = []byte("new attachment") })
	require.NoError(t, err)
	src.routes["b1"] = []connector.Ref{doc.Ref}
	h.change(t, "binary-b1", connector.Change{Kind: connector.ChangeHint, Ref: connector.Ref{Type: "Binary", ID: "b1"}})
	// A Binary no document holds is recorded and ignored.
	h.change(t, "binary-b2", connector.Change{Kind: connector.ChangeHint, Ref: connector.Ref{Type: "Binary", ID: "b2"}})
	WaitIdle(t, h.store, 30*time.Second, h.synced)
	h.assertSynced(t)
	dead, err := h.store.DeadLetters(context.Background(), 5)
	require.NoError(t, err)
	assert.Empty(t, dead, "a change the source cannot place is no dead letter")
}

func testFirstSight(t *testing.T, open Opener) {
	h := start(t, open)
	_, err := h.src.Fill(1, 4)
	require.NoError(t, err)
	// A webhook names one document of a patient the store has never seen:
	// the patient's other documents follow without waiting for a poll.
	doc := h.src.Documents()[0]
	h.change(t, "first", connector.Change{Kind: connector.ChangeUpsert, Ref: doc.Ref, Version: doc.Version})
	WaitIdle(t, h.store, 30*time.Second, h.synced)
	h.assertSynced(t)
}

func testSweep(t *testing.T, open Opener) {
	ctx := context.Background()
	h := startWith(t, open, connectortest.SourceConfig{UnlistDeleted: true}, nil)
	patients, err := h.src.Fill(1, 3)
	require.NoError(t, err)
	h.enroll(t, patients)

	// A deletion whose webhook was lost: listings no longer name the
	// document, so an incremental reconcile cannot see it.
	gone := h.src.Documents()[1]
	require.NoError(t, h.src.RemoveDocument(gone.Ref.ID))
	_, err = h.engine.Sync(ctx, "php", "", connector.ActionPoll, false)
	require.NoError(t, err)
	WaitIdle(t, h.store, 30*time.Second, nil)
	_, held := h.sink.Document(gone.Ref)
	require.True(t, held, "the incremental reconcile cannot know of the deletion")

	// The deletion check asks the Source about that document only.
	fetches := h.src.Calls().Fetch
	_, err = h.engine.Sweep(ctx, "php")
	require.NoError(t, err)
	WaitIdle(t, h.store, 30*time.Second, h.synced)
	h.assertSynced(t)
	assert.Equal(t, 1, h.src.Calls().Fetch-fetches, "the check fetches only what the listing left out")
}

func testBatchBytes(t *testing.T, open Opener) {
	// A batch keeps what it fetched each time it holds a document's worth
	// of bytes: every document commits on its own, and all arrive.
	h := startWith(t, open, connectortest.SourceConfig{}, func(cfg *connector.Config) { cfg.BatchBytes = 1 })
	patients, err := h.src.Fill(2, 12)
	require.NoError(t, err)
	// Each commit of a pull batch publishes its run's progress once: a
	// document per commit makes Done take each value from 1 up, where a
	// page of seven pulls in one batch would jump by seven. Snapshots are
	// read as they come (batches of one run commit concurrently, so they
	// are counted, not ordered), whatever the run's phase: pulls commit
	// while the listing goes on.
	progress, stop := h.engine.Progress().Subscribe(0)
	seen := map[string]map[int]bool{}
	read := make(chan struct{})
	go func() {
		defer close(read)
		for p := range progress {
			if p.Done == 0 {
				continue
			}
			if seen[p.Run] == nil {
				seen[p.Run] = map[int]bool{}
			}
			seen[p.Run][p.Done] = true
		}
	}()
	h.enroll(t, patients)
	h.assertSynced(t)
	stop()
	<-read

	require.Len(t, seen, len(patients), "a run per patient")
	for run, done := range seen {
		assert.GreaterOrEqual(t, len(done), 12, "run %s kept its 12 documents in fewer commits", run)
	}
}

func testPageLimit(t *testing.T, open Opener) {
	ctx := context.Background()
	h := startWith(t, open, connectortest.SourceConfig{}, func(cfg *connector.Config) { cfg.MaxPages = 2 })
	patients, err := h.src.Fill(1, 30)
	require.NoError(t, err)
	p := patients[0]
	h.change(t, "patient", connector.Change{Kind: connector.ChangeUpsert, Ref: p.Ref})
	WaitIdle(t, h.store, 30*time.Second, nil)
	// Each reconcile lists two pages of seven and stops; the next goes on
	// from there.
	for _, want := range []int{14, 28, 30} {
		_, err := h.engine.Sync(ctx, "php", p.Ref.ID, connector.ActionManualSync, false)
		require.NoError(t, err)
		WaitIdle(t, h.store, 30*time.Second, nil)
		assert.Len(t, h.sink.Documents(), want)
	}
	h.assertSynced(t)
}

func testRedeliver(t *testing.T, open Opener) {
	ctx := context.Background()
	h := start(t, open)
	patients, err := h.src.Fill(2, 3)
	require.NoError(t, err)
	h.enroll(t, patients)

	// The database is reused with a sink that holds nothing: the mapping
	// says otherwise, so only a redelivery writes it all again.
	empty := connectortest.NewSink(connectortest.SinkConfig{})
	h.useSink(t, empty, nil)
	h.sink = empty

	_, err = connector.Redeliver(ctx, h.store, connector.Redelivery{Sink: "cp", Source: "php", Patient: "nobody"})
	assert.ErrorIs(t, err, connector.ErrNotFound)
	n, err := connector.Redeliver(ctx, h.store, connector.Redelivery{Sink: "cp", Source: "php", Patient: patients[0].Ref.ID, ID: "r1"})
	require.NoError(t, err)
	assert.Equal(t, 4, n, "the patient and its three documents")
	WaitIdle(t, h.store, 30*time.Second, nil)
	assert.Len(t, empty.Documents(), 3)
	assert.Len(t, empty.Patients(), 1)

	n, err = connector.Redeliver(ctx, h.store, connector.Redelivery{Sink: "cp", Source: "php", ID: "r1"})
	require.NoError(t, err)
	assert.Equal(t, 4, n, "one redelivery is enqueued once: only the other patient is new")
	WaitIdle(t, h.store, 30*time.Second, h.synced)
	h.assertSynced(t)
	assert.Len(t, empty.Patients(), 2)
}

func testCatchUp(t *testing.T, open Opener) {
	ctx := context.Background()
	h := start(t, open)
	patients, err := h.src.Fill(1, 2)
	require.NoError(t, err)

	// The sink refuses everything for longer than all attempts: every
	// delivery dies.
	seen := &outcomes{}
	down := &refusingSink{Sink: h.sink}
	down.refuse.Store(true)
	e := h.useSink(t, down, func(cfg *connector.Config) { cfg.CatchUpAfter, cfg.Observer = time.Nanosecond, seen })
	h.change(t, "patient", connector.Change{Kind: connector.ChangeUpsert, Ref: patients[0].Ref})
	WaitIdle(t, h.store, 30*time.Second, nil)
	progress, stop := e.Progress().Subscribe(0)
	defer stop()
	run, err := e.Sync(ctx, "php", patients[0].Ref.ID, connector.ActionManualSync, false)
	require.NoError(t, err)
	WaitIdle(t, h.store, 30*time.Second, nil)
	var last connector.Progress
	for drained := false; !drained; {
		select {
		case p := <-progress:
			if p.Run == run {
				last = p
			}
		default:
			drained = true
		}
	}
	assert.Equal(t, 2, last.DeliveryErrors, "the run counts its documents' dead deliveries")
	assert.Zero(t, last.Errors, "and no failed pull")
	dead, err := h.store.DeadLetters(ctx, 10)
	require.NoError(t, err)
	require.NotEmpty(t, dead, "the refused deliveries died")
	require.Empty(t, h.sink.Documents())
	assert.Positive(t, seen.count(connector.Outcome{Kind: "deliver", System: "cp", Class: "permanent", Final: true}),
		"the observer is told of dead deliveries")

	// The sink is back: the next reconcile of the unchanged documents
	// delivers them, with no replay.
	down.refuse.Store(false)
	_, err = e.Sync(ctx, "php", patients[0].Ref.ID, connector.ActionPoll, false)
	require.NoError(t, err)
	WaitIdle(t, h.store, 30*time.Second, h.synced)
	h.assertSynced(t)
	assert.Positive(t, seen.count(connector.Outcome{Kind: "deliver", System: "cp"}), "and of good ones")
	assert.Positive(t, seen.count(connector.Outcome{Kind: "pull", System: "php"}))

	// Once the sink holds everything, a reconcile enqueues no delivery.
	calls := h.sink.Stats().Calls
	_, err = e.Sync(ctx, "php", patients[0].Ref.ID, connector.ActionPoll, true)
	require.NoError(t, err)
	WaitIdle(t, h.store, 30*time.Second, nil)
	assert.Equal(t, calls, h.sink.Stats().Calls)
}

// outcomes is a connector.Observer that counts what it is told.
type outcomes struct {
	mu   sync.Mutex
	seen map[connector.Outcome]int
}

func (o *outcomes) Observe(out connector.Outcome) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen == nil {
		o.seen = map[connector.Outcome]int{}
	}
	o.seen[out]++
}

func (o *outcomes) count(out connector.Outcome) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.seen[out]
}

func testExtractText(t *testing.T, open Opener) {
	// A pull keeps the text Config.ExtractText finds, and the search
	// finds it; a document whose text cannot be found is kept all the
	// same, searchable by its title.
	ctx := context.Background()
	h := startWith(t, open, connectortest.SourceConfig{}, func(cfg *connector.Config) {
		cfg.ExtractText = func(_ context.Context, contentType string, _ []byte) (string, error) {
			if contentType == "application/pdf" {
				return "Ferritin 12 ng/mL, low", nil
			}
			return "", errors.New("no text in this type")
		}
	})
	p := h.src.PutPatient(connector.Patient{Name: "Ira Iron"})
	for _, d := range []connector.Document{
		{Title: "Iron studies", ContentType: "application/pdf", Content: []byte("%PDF-1.7 compressed")},
		{Title: "Scan", ContentType: "application/dicom", Content: []byte("DICM")},
	} {
		d.Patient, d.Type = p.Ref, connector.DocumentLabResult
		_, err := h.src.AddDocument(d)
		require.NoError(t, err)
	}
	h.enroll(t, []connector.Patient{p})
	h.assertSynced(t)

	search := h.store.(Searcher)
	for q, want := range map[string][]string{"ferritin": {"Iron studies"}, "compressed": nil, "scan": {"Scan"}} {
		got, err := search.SearchDocuments(ctx, store.SearchQuery{Text: q})
		require.NoError(t, err)
		var titles []string
		for _, d := range got {
			titles = append(titles, d.Title)
		}
		assert.Equal(t, want, titles, q)
	}
}
