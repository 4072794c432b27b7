package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/store"
)

// deadLetterReader is the store's read of one dead letter.
type deadLetterReader interface {
	DeadLetter(ctx context.Context, jobID int64) (store.DeadLetter, error)
}

// failingSink fails each document write: transiently the first transient
// times, then for good while permanent is set.
type failingSink struct {
	*connectortest.Sink
	transient int64
	calls     atomic.Int64
	permanent atomic.Bool
}

func (s *failingSink) PutDocument(ctx context.Context, w connector.DocumentWrite) (string, error) {
	switch n := s.calls.Add(1); {
	case n <= s.transient:
		return "", fmt.Errorf("sink unavailable, attempt %d", n)
	case s.permanent.Load():
		return "", fmt.Errorf("%w: sink refused the document\nsecond line of detail", connector.ErrPermanent)
	}
	return s.Sink.PutDocument(ctx, w)
}

// testDeadLetterDetail: a dead letter tells its op kind, every attempt's
// error and its ops; only a dead job can be replayed, so a completed one
// is never run again.
func testDeadLetterDetail(t *testing.T, open Opener) {
	ctx := context.Background()
	h := start(t, open)
	dl, ok := h.store.(deadLetterReader)
	require.True(t, ok, "%T has no DeadLetter method", h.store)
	broken := &failingSink{Sink: h.sink, transient: 2}
	broken.permanent.Store(true)
	doc, dead := h.deadDelivery(t, broken)
	d, err := dl.DeadLetter(ctx, dead[0].JobID)
	require.NoError(t, err)
	assert.Equal(t, dead[0], d, "one dead letter reads as the listing shows it")
	assert.Equal(t, "deliver", d.Op)
	assert.Equal(t, store.QueueDeliver("cp"), d.Queue)
	assert.Equal(t, "cancelled", d.State, "a permanent error cancels")
	assert.Equal(t, 2, d.Ops, "the patient and its document: %s", d.Args)
	assert.Equal(t, 3, d.Attempts)
	require.Len(t, d.Errors, 3, "every attempt's error")
	for i, a := range d.Errors {
		assert.Equal(t, i+1, a.Attempt)
		assert.False(t, a.At.IsZero())
		assert.WithinDuration(t, d.FailedAt, a.At, time.Minute)
	}
	assert.Contains(t, d.Errors[0].Error, "sink unavailable, attempt 1")
	assert.Contains(t, d.Errors[1].Error, "sink unavailable, attempt 2")
	assert.Contains(t, d.Error, "sink refused the document\nsecond line of detail", "the whole last error")
	assert.Equal(t, d.Errors[2].Error, d.Error)
	assert.NotContains(t, d.Error, "JobCancelError", "our error, not River's type name")
	assert.NotContains(t, string(d.Args), doc.Title, "dead letters hold ids, not patient data")

	// Replayed with the cause fixed, the job completes: it is no dead
	// letter any more, and a second replay is refused.
	broken.permanent.Store(false)
	require.NoError(t, h.store.Replay(ctx, d.JobID))
	WaitIdle(t, h.store, 30*time.Second, h.synced)
	writes := broken.calls.Load()

	err = h.store.Replay(ctx, d.JobID)
	require.ErrorIs(t, err, store.ErrNotDeadLetter)
	assert.Contains(t, err.Error(), fmt.Sprintf("job %d is not a dead letter (state completed)", d.JobID))
	_, err = dl.DeadLetter(ctx, d.JobID)
	assert.ErrorIs(t, err, store.ErrNotDeadLetter)
	time.Sleep(100 * time.Millisecond) // a wrongly replayed job would run by now
	WaitIdle(t, h.store, 30*time.Second, nil)
	assert.Equal(t, writes, broken.calls.Load(), "a completed job is not run again")

	const missing = 1 << 40
	err = h.store.Replay(ctx, missing)
	assert.True(t, errors.Is(err, connector.ErrNotFound), "replay of a missing job: %v", err)
	_, err = dl.DeadLetter(ctx, missing)
	assert.ErrorIs(t, err, connector.ErrNotFound)
}
