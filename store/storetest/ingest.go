package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
)

// RunIngester tests a store's grouped ingest (grouped returns it for a
// store of open and an engine): 64 concurrent callers, whose events are
// committed in shared groups, each get exactly what Engine.Ingest would
// have told them, and the jobs the groups enqueued are worked until every
// document is in the sink.
func RunIngester(t *testing.T, open Opener, grouped func(Store, *connector.Engine) Ingester) {
	ctx := context.Background()
	h := start(t, open)
	patients, err := h.src.Fill(40, 10)
	require.NoError(t, err)
	// Known patients: a first sight would reconcile each, racing the
	// webhooks for their pulls.
	for _, p := range patients {
		h.change(t, "patient-"+p.Ref.ID, connector.Change{Kind: connector.ChangeUpsert, Ref: p.Ref})
	}
	WaitIdle(t, h.store, 30*time.Second, nil)
	g := grouped(h.store, h.engine)

	// An event per document, each sent 3 times, and every tenth change
	// also under a second event id (its op is a duplicate, not its event).
	docs := h.src.Documents()
	var calls []connector.Event
	for i, d := range docs {
		ch := connector.Change{Kind: connector.ChangeUpsert, Ref: d.Ref, Version: d.Version}
		ev := connector.Event{ID: fmt.Sprint("e", i), Source: "php", Changes: []connector.Change{ch}}
		for range 3 {
			calls = append(calls, ev)
		}
		if i%10 == 0 {
			again := ev
			again.ID += "-again"
			calls = append(calls, again)
		}
	}
	var (
		mu       sync.Mutex
		fresh    = map[string]int{}
		enqueued atomic.Int64
		wg       sync.WaitGroup
		work     = make(chan connector.Event)
	)
	for range 64 {
		wg.Go(func() {
			for ev := range work {
				res, err := g.Ingest(ctx, ev)
				if !assert.NoError(t, err) {
					continue
				}
				enqueued.Add(int64(res.Enqueued))
				if res.Duplicate {
					assert.Zero(t, res.Enqueued, "a duplicate enqueues nothing")
					continue
				}
				mu.Lock()
				fresh[ev.ID]++
				mu.Unlock()
			}
		})
	}
	for _, ev := range calls {
		work <- ev
	}
	close(work)
	wg.Wait()

	assert.Len(t, fresh, len(docs)+len(docs)/10, "every event id accepted")
	for id, n := range fresh {
		assert.Equal(t, 1, n, "event %s accepted as new %d times", id, n)
	}
	assert.EqualValues(t, len(docs), enqueued.Load(), "one pull per change")
	WaitIdle(t, h.store, 60*time.Second, h.synced)
	h.assertSynced(t)
	assert.Equal(t, len(docs), h.src.Calls().Fetch, "each document fetched once")

	// Afterwards, each is a duplicate; an invalid event is refused.
	res, err := g.Ingest(ctx, calls[0])
	require.NoError(t, err)
	assert.True(t, res.Duplicate)
	_, err = g.Ingest(ctx, connector.Event{ID: "bad", Source: "nowhere"})
	assert.ErrorIs(t, err, connector.ErrInvalid)

	// Engine.Ingest agrees with what the Ingester recorded.
	plain, err := h.engine.Ingest(ctx, calls[len(calls)-1])
	require.NoError(t, err)
	assert.True(t, plain.Duplicate)
	ev := connector.Event{ID: "new", Source: "php", Changes: []connector.Change{
		calls[0].Changes[0],
		{Kind: connector.ChangeUpsert, Ref: h.src.DocumentRef("fresh"), Version: "1"},
	}}
	res, err = g.Ingest(ctx, ev)
	require.NoError(t, err)
	assert.Equal(t, connector.IngestResult{Enqueued: 1}, res, "an op already queued is not counted")
}
