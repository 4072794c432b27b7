package store_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

// TestIngester: concurrent callers grouped into shared transactions get
// exactly what Engine.Ingest would have told each of them.
func TestIngester(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hr.db"), storetest.FastConfig())
	require.NoError(t, err)
	defer s.Close()
	src := connectortest.NewSource(connectortest.SourceConfig{Name: "php"})
	e, err := connector.New(connector.Config{Store: s, Sources: map[string]connector.Source{"php": src},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	g := s.Ingester(e)

	// 400 distinct events; each sent 3 times, and every tenth change also
	// under a second event id (its op is a duplicate, not its event).
	const distinct = 400
	type call struct {
		ev  connector.Event
		key string
	}
	var calls []call
	for i := range distinct {
		ch := connector.Change{Kind: connector.ChangeUpsert, Ref: src.DocumentRef(fmt.Sprint("d", i)), Version: "1"}
		ev := connector.Event{ID: fmt.Sprint("e", i), Source: "php", Changes: []connector.Change{ch}}
		for range 3 {
			calls = append(calls, call{ev, ev.ID})
		}
		if i%10 == 0 {
			again := ev
			again.ID += "-again"
			calls = append(calls, call{again, again.ID})
		}
	}
	var (
		mu       sync.Mutex
		fresh    = map[string]int{}
		enqueued atomic.Int64
		wg       sync.WaitGroup
		work     = make(chan call)
	)
	for range 64 {
		wg.Go(func() {
			for c := range work {
				res, err := g.Ingest(ctx, c.ev)
				if !assert.NoError(t, err) {
					continue
				}
				enqueued.Add(int64(res.Enqueued))
				if !res.Duplicate {
					mu.Lock()
					fresh[c.key]++
					mu.Unlock()
				} else {
					assert.Zero(t, res.Enqueued, "a duplicate enqueues nothing")
				}
			}
		})
	}
	for _, c := range calls {
		work <- c
	}
	close(work)
	wg.Wait()

	assert.Len(t, fresh, distinct+distinct/10, "every event id accepted")
	for id, n := range fresh {
		assert.Equal(t, 1, n, "event %s accepted as new %d times", id, n)
	}
	assert.EqualValues(t, distinct, enqueued.Load(), "one pull per change")

	// Afterwards, each is a duplicate; an invalid event is refused.
	res, err := g.Ingest(ctx, calls[0].ev)
	require.NoError(t, err)
	assert.True(t, res.Duplicate)
	_, err = g.Ingest(ctx, connector.Event{ID: "bad", Source: "nowhere"})
	assert.ErrorIs(t, err, connector.ErrInvalid)

	// Engine.Ingest agrees with what the Ingester recorded.
	plain, err := e.Ingest(ctx, calls[len(calls)-1].ev)
	require.NoError(t, err)
	assert.True(t, plain.Duplicate)
	ev := connector.Event{ID: "new", Source: "php", Changes: []connector.Change{
		{Kind: connector.ChangeUpsert, Ref: src.DocumentRef("d1"), Version: "1"},
		{Kind: connector.ChangeUpsert, Ref: src.DocumentRef("fresh"), Version: "1"},
	}}
	res, err = g.Ingest(ctx, ev)
	require.NoError(t, err)
	assert.Equal(t, connector.IngestResult{Enqueued: 1}, res, "an op already queued is not counted")
}

// TestIngesterCanceled: a caller that gives up gets its context's error.
func TestIngesterCanceled(t *testing.T) {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hr.db"), storetest.FastConfig())
	require.NoError(t, err)
	defer s.Close()
	src := connectortest.NewSource(connectortest.SourceConfig{Name: "php"})
	e, err := connector.New(connector.Config{Store: s, Sources: map[string]connector.Source{"php": src}})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.Ingester(e).Ingest(ctx, connector.Event{ID: "e", Source: "php",
		Changes: []connector.Change{{Kind: connector.ChangeUpsert, Ref: src.DocumentRef("d"), Version: "1"}}})
	assert.ErrorIs(t, err, context.Canceled)
}
