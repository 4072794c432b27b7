package storetest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/store"
)

// harness is one engine over a store, syncing an in-memory Source into an
// in-memory Sink.
type harness struct {
	store  Store
	engine *connector.Engine
	src    *connectortest.Source
	sink   *connectortest.Sink
}

func start(t *testing.T, open Opener) *harness {
	t.Helper()
	return startWith(t, open, connectortest.SourceConfig{}, nil)
}

// startWith starts a harness whose Source is configured by src (its name
// and page size are the harness's) and whose engine config tune changes.
func startWith(t *testing.T, open Opener, src connectortest.SourceConfig, tune func(*connector.Config)) *harness {
	t.Helper()
	return startOn(t, open(t, FastConfig()), src, tune)
}

// startOn is startWith over a store the caller opened with a config of its
// own; the harness stops and closes it.
func startOn(t *testing.T, s Store, src connectortest.SourceConfig, tune func(*connector.Config)) *harness {
	t.Helper()
	src.Name, src.PageSize = "php", 7
	h := &harness{
		store: s,
		src:   connectortest.NewSource(src),
		sink:  connectortest.NewSink(connectortest.SinkConfig{}),
	}
	cfg := connector.Config{
		Store:   h.store,
		Sources: map[string]connector.Source{"php": h.src},
		Sinks:   map[string]connector.Sink{"cp": h.sink},
		Retry:   FastRetry,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if tune != nil {
		tune(&cfg)
	}
	var err error
	h.engine, err = connector.New(cfg)
	require.NoError(t, err)
	require.NoError(t, h.store.Start(context.Background(), h.engine))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, h.store.Stop(ctx))
		assert.NoError(t, h.store.Close())
	})
	return h
}

// useSink restarts the harness's workers with a new engine on the same
// store, delivering to sink (as another process would), tuned by tune.
func (h *harness) useSink(t *testing.T, sink connector.Sink, tune func(*connector.Config)) *connector.Engine {
	t.Helper()
	ctx := context.Background()
	cfg := connector.Config{Store: h.store, Sources: map[string]connector.Source{"php": h.src},
		Sinks: map[string]connector.Sink{"cp": sink}, Retry: FastRetry, Logger: slog.New(slog.DiscardHandler)}
	if tune != nil {
		tune(&cfg)
	}
	e, err := connector.New(cfg)
	require.NoError(t, err)
	require.NoError(t, h.store.Stop(ctx))
	require.NoError(t, h.store.Start(ctx, e))
	h.engine = e
	return e
}

// deadDelivery makes one document whose delivery through sink, which must
// fail it for good, becomes a dead letter; it returns the document and the
// dead letters, of which there is that one.
func (h *harness) deadDelivery(t *testing.T, sink connector.Sink) (connector.Document, []store.DeadLetter) {
	t.Helper()
	ctx := context.Background()
	_, err := h.src.Fill(1, 1)
	require.NoError(t, err)
	doc := h.src.Documents()[0]
	e := h.useSink(t, sink, nil)
	_, err = e.Ingest(ctx, connector.Event{ID: "e1", Source: "php", Changes: []connector.Change{
		{Kind: connector.ChangeUpsert, Ref: h.src.DocumentRef(doc.Ref.ID), Version: doc.Version},
	}})
	require.NoError(t, err)
	WaitIdle(t, h.store, 30*time.Second, nil)
	dead, err := h.store.DeadLetters(ctx, 10)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	return doc, dead
}

// synced reports whether the sink holds every source document at its
// current version, and nothing else.
func (h *harness) synced() bool {
	want := map[connector.Ref]string{}
	for _, d := range h.src.Documents() {
		if !d.Deleted {
			want[d.Ref] = d.Version
		}
	}
	got := h.sink.Documents()
	if len(got) != len(want) {
		return false
	}
	for _, d := range got {
		if want[d.Document.Ref] != d.Document.Version {
			return false
		}
	}
	return true
}

func (h *harness) assertSynced(t *testing.T) {
	t.Helper()
	require.NoError(t, h.sink.Check())
	for _, d := range h.src.Documents() {
		got, ok := h.sink.Document(d.Ref)
		if d.Deleted {
			assert.False(t, ok, "%s deleted at the source is still in the sink", d.Ref)
			continue
		}
		if assert.True(t, ok, "%s missing from the sink", d.Ref) {
			assert.Equal(t, d.Version, got.Document.Version, "%s version in the sink", d.Ref)
			assert.Equal(t, d.Content, got.Document.Content, "%s content in the sink", d.Ref)
		}
	}
}

func testSync(t *testing.T, open Opener) {
	ctx := context.Background()
	h := start(t, open)
	patients, err := h.src.Fill(3, 5)
	require.NoError(t, err)

	// Malformed input is refused and enqueues nothing. (The store's own
	// periodic jobs run once at start: let them finish first.)
	WaitIdle(t, h.store, 30*time.Second, nil)
	for _, ev := range []connector.Event{
		{ID: "bad-1", Source: "php", Changes: []connector.Change{{Kind: connector.ChangeUpsert}}},
		{ID: "bad-2", Source: "php", Changes: []connector.Change{{Kind: "explode", Ref: h.src.DocumentRef("x")}}},
		{ID: "bad-3", Source: "nowhere", Changes: []connector.Change{{Kind: connector.ChangeHint, Ref: connector.Ref{System: "nowhere", Type: "X", ID: "1"}}}},
		{ID: "", Source: "php"},
	} {
		_, err := h.engine.Ingest(ctx, ev)
		assert.ErrorIs(t, err, connector.ErrInvalid, "event %q", ev.ID)
	}
	idle, err := h.store.Idle(ctx)
	require.NoError(t, err)
	assert.True(t, idle, "a refused event must enqueue nothing")

	// A patient's first sync lists everything through the saved cursor
	// and reports progress to the end.
	for _, p := range patients {
		ev := connector.Event{ID: "new-" + p.Ref.ID, Source: "php", Action: connector.ActionWebhook,
			Changes: []connector.Change{{Kind: connector.ChangeUpsert, Ref: h.src.PatientRef(p.Ref.ID)}}}
		_, err := h.engine.Ingest(ctx, ev)
		require.NoError(t, err)
	}
	WaitIdle(t, h.store, 30*time.Second, nil)
	progress, stop := h.engine.Progress().Subscribe(0)
	defer stop()
	runs := map[string]bool{}
	for _, p := range patients {
		run, err := h.engine.Sync(ctx, "php", p.Ref.ID, connector.ActionManualSync, false)
		require.NoError(t, err)
		runs[run] = true
	}
	WaitIdle(t, h.store, 30*time.Second, h.synced)
	h.assertSynced(t)
	assert.Len(t, h.sink.Patients(), len(patients))
	finished := map[string]bool{}
	for len(finished) < len(runs) {
		select {
		case p := <-progress:
			if p.Phase == connector.PhaseDone {
				assert.Equal(t, 5, p.Total, "run %s", p.Run)
				assert.Equal(t, 5, p.Done, "run %s", p.Run)
				finished[p.Run] = true
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("progress: %d of %d runs reported done", len(finished), len(runs))
		}
	}

	// A re-sync of unchanged documents makes zero sink calls, even when
	// listing everything again.
	calls := h.sink.Stats().Calls
	for _, p := range patients {
		_, err := h.engine.Sync(ctx, "php", p.Ref.ID, connector.ActionManualSync, true)
		require.NoError(t, err)
	}
	WaitIdle(t, h.store, 30*time.Second, nil)
	assert.Equal(t, calls, h.sink.Stats().Calls, "re-sync of unchanged documents called the sink")

	// Gap reports within a minute reconcile the source once.
	minute := time.Now().Unix() / 60
	first, err := h.engine.Ingest(ctx, connector.Event{ID: "gap-1", Source: "php", Reconcile: true})
	require.NoError(t, err)
	second, err := h.engine.Ingest(ctx, connector.Event{ID: "gap-2", Source: "php", Reconcile: true})
	require.NoError(t, err)
	assert.Equal(t, 1, first.Enqueued)
	if time.Now().Unix()/60 == minute {
		assert.Zero(t, second.Enqueued, "reconcile requests within a minute merge")
	}
	WaitIdle(t, h.store, 30*time.Second, nil)
	assert.Equal(t, calls, h.sink.Stats().Calls, "reconciling unchanged documents called the sink")

	// Periodic reconciles of a patient coalesce while one is pending, and
	// the next may come once it ran.
	auto := connector.ReconcileOp{Source: "php", Patient: patients[0].Ref.ID, Action: connector.ActionPoll, Coalesce: true}
	update(t, h.store, func(tx connector.Tx) error {
		a, b := auto, auto
		a.Run, b.Run = "tick-1", "tick-2"
		skipped, err := tx.Enqueue(ctx, a, b)
		assert.Equal(t, 1, skipped, "the second tick's reconcile waits for the first")
		return err
	})
	WaitIdle(t, h.store, 30*time.Second, nil)
	update(t, h.store, func(tx connector.Tx) error {
		auto.Run = "tick-3"
		skipped, err := tx.Enqueue(ctx, auto)
		assert.Zero(t, skipped, "a done coalescing reconcile lets the next one in")
		return err
	})
	WaitIdle(t, h.store, 30*time.Second, nil)

	// Changes flow through: an update, a delete.
	docs := h.src.Documents()
	upd, err := h.src.UpdateDocument(docs[0].Ref.ID, func(d *connector.Document) { d.Content = []byte("amended") })
	require.NoError(t, err)
	require.NoError(t, h.src.RemoveDocument(docs[1].Ref.ID))
	_, err = h.engine.Ingest(ctx, connector.Event{ID: "chg-1", Source: "php", Changes: []connector.Change{
		{Kind: connector.ChangeUpsert, Ref: h.src.DocumentRef(upd.Ref.ID), Version: upd.Version},
		{Kind: connector.ChangeDelete, Ref: h.src.DocumentRef(docs[1].Ref.ID)},
	}})
	require.NoError(t, err)
	res, err := h.engine.Ingest(ctx, connector.Event{ID: "chg-1", Source: "php", Changes: []connector.Change{
		{Kind: connector.ChangeUpsert, Ref: h.src.DocumentRef(upd.Ref.ID), Version: upd.Version},
	}})
	require.NoError(t, err)
	assert.True(t, res.Duplicate)
	assert.Zero(t, res.Enqueued)
	WaitIdle(t, h.store, 30*time.Second, h.synced)
	h.assertSynced(t)
}

func testDeadLetters(t *testing.T, open Opener) {
	ctx := context.Background()
	h := start(t, open)
	broken := &refusingSink{Sink: h.sink}
	broken.refuse.Store(true)
	doc, dead := h.deadDelivery(t, broken)
	assert.Equal(t, "hr_deliver", dead[0].Kind)
	assert.Contains(t, dead[0].Error, "refused")
	assert.NotContains(t, string(dead[0].Args), doc.Title, "dead letters hold ids, not patient data")

	broken.refuse.Store(false)
	require.NoError(t, h.store.Replay(ctx, dead[0].JobID))
	WaitIdle(t, h.store, 30*time.Second, h.synced)
	h.assertSynced(t)
	dead, err := h.store.DeadLetters(ctx, 10)
	require.NoError(t, err)
	assert.Empty(t, dead)
}

func testExactlyOnce(t *testing.T, open Opener) {
	exactlyOnce(t, start(t, open), documentChanges{}, 100)
}

// changing is what exactlyOnce changes at the Source and checks in the
// store or sink: documents, or observations (observations.go).
type changing interface {
	// fill adds patients each with resources.
	fill(t *testing.T, h *harness, patients, each int)
	// current lists every resource with its version at the Source.
	current(h *harness) []connector.Item
	// amend makes the next version of a resource at the Source.
	amend(t *testing.T, h *harness, id string) connector.Item
	// synced reports whether every resource arrived as the Source has it.
	synced(h *harness) bool
	assertSynced(t *testing.T, h *harness)
	// delivered: the resources go to the sink, whose faults count.
	delivered() bool
}

// documentChanges changes documents, which the sink receives.
type documentChanges struct{}

func (documentChanges) fill(t *testing.T, h *harness, patients, each int) {
	_, err := h.src.Fill(patients, each)
	require.NoError(t, err)
}

func (documentChanges) current(h *harness) []connector.Item {
	var out []connector.Item
	for _, d := range h.src.Documents() {
		out = append(out, connector.Item{Ref: d.Ref, Version: d.Version})
	}
	return out
}

func (documentChanges) amend(t *testing.T, h *harness, id string) connector.Item {
	u, err := h.src.UpdateDocument(id, func(d *connector.Document) { d.Content = append(d.Content, " (amended)"...) })
	require.NoError(t, err)
	return connector.Item{Ref: u.Ref, Version: u.Version}
}

func (documentChanges) synced(h *harness) bool                { return h.synced() }
func (documentChanges) assertSynced(t *testing.T, h *harness) { h.assertSynced(t) }
func (documentChanges) delivered() bool                       { return true }

// exactlyOnce syncs what c changes under transient faults of the Source
// and sink, every change duplicated and the whole reordered, a third
// amended while the first half syncs: patients × 10 resources, enough at
// 100 patients for hundreds of faults on each side.
func exactlyOnce(t *testing.T, h *harness, c changing, patients int) {
	each := 10
	if testing.Short() {
		patients, each = min(patients, 40), 5
	}
	ctx := context.Background()
	c.fill(t, h, patients, each)
	faults := connectortest.Faults{ErrorRate: 0.2, RetryAfterRate: 0.05, RetryAfter: 30 * time.Millisecond, LostResponseRate: 0.05, Seed: 7}
	h.sink.SetFaults(faults)
	h.src.SetFaults(connectortest.Faults{ErrorRate: 0.2, RetryAfterRate: 0.05, RetryAfter: 30 * time.Millisecond, Seed: 8})

	rng := rand.New(rand.NewPCG(1, 2))
	changes := func(items []connector.Item) []connector.Event {
		var evs []connector.Event
		for _, it := range items {
			ev := connector.Event{ID: fmt.Sprintf("%s@%s", it.Ref.ID, it.Version), Source: "php", Action: connector.ActionWebhook,
				Changes: []connector.Change{{Kind: connector.ChangeUpsert, Ref: it.Ref, Version: it.Version}}}
			// Every change arrives twice: once resent under its id,
			// once more under another id, as a second sender would.
			again := ev
			again.ID += "-again"
			evs = append(evs, ev, ev, again)
		}
		rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		return evs
	}
	ingest := func(evs []connector.Event) {
		var wg sync.WaitGroup
		work := make(chan connector.Event)
		for range 8 {
			wg.Go(func() {
				for ev := range work {
					_, err := h.engine.Ingest(ctx, ev)
					assert.NoError(t, err)
				}
			})
		}
		for _, ev := range evs {
			work <- ev
		}
		close(work)
		wg.Wait()
	}

	first := changes(c.current(h))
	ingest(first[:len(first)/2])
	// While the first half syncs, a third of the resources change again;
	// their new versions arrive mixed with the rest of the first ones.
	var updated []connector.Item
	for i, it := range c.current(h) {
		if i%3 == 0 {
			updated = append(updated, c.amend(t, h, it.Ref.ID))
		}
	}
	rest := append(first[len(first)/2:], changes(updated)...)
	rng.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
	ingest(rest)

	WaitIdle(t, h.store, 8*time.Minute, func() bool { return c.synced(h) })
	c.assertSynced(t, h)
	dead, err := h.store.DeadLetters(ctx, 5)
	require.NoError(t, err)
	assert.Empty(t, dead, "no op may die under transient faults")
	st := h.sink.Stats()
	t.Logf("%d resources (%d updated): sink calls %d, applied %d, replays %d, injected faults %d at the sink, %d at the source",
		len(c.current(h)), len(updated), st.Calls, st.Applied, st.Replays, st.Injected, h.src.Calls().Injected)
	assert.Positive(t, h.src.Calls().Injected, "faults were injected at the source")
	if c.delivered() {
		assert.Positive(t, st.Injected, "faults were injected")
		assert.Positive(t, st.Replays, "lost responses were retried with their key")
	}
}

// refusingSink fails every write permanently while refuse is set.
type refusingSink struct {
	*connectortest.Sink
	refuse atomic.Bool
}

func (s *refusingSink) PutDocument(ctx context.Context, w connector.DocumentWrite) (string, error) {
	if s.refuse.Load() {
		return "", fmt.Errorf("%w: sink refused the document", connector.ErrPermanent)
	}
	return s.Sink.PutDocument(ctx, w)
}
