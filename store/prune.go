package store

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
)

// pruneTask is the name of the store's own periodic task.
const pruneTask = "prune"

// Pruned counts what one Prune deleted.
type Pruned struct {
	// Events is the number of ingested event ids deleted.
	Events int64
	// OpKeys is the number of done op keys deleted.
	OpKeys int64
}

// Prune deletes the bookkeeping that only guards against duplicates and
// has outlived its use: ingested event ids received before before, and the
// unique keys of ops enqueued before before that are done. The key of an
// op not done (queued, running or retrying) is kept whatever its age: it is
// what keeps a second copy of the op from being enqueued, and what a
// retried batch reads to skip the ops it already did.
//
// After pruning, a sender resending an event older than the retention has
// it ingested again, and an op already done may be enqueued again; both
// are idempotent (the engine skips what is not newer), so the cost is the
// work, never a second write.
//
// Rows go in transactions of Config.PruneBatch, so a large backlog never
// holds the database for long; Prune stops between batches when ctx ends,
// having committed the batches before.
func (s *Store[TTx]) Prune(ctx context.Context, before time.Time) (Pruned, error) {
	var p Pruned
	// Both columns hold UTC instants, compared with a parameter of the
	// same type: timestamptz on PostgreSQL; on SQLite, text in one fixed
	// format that sorts as it reads.
	cutoff := before.UTC()
	n, err := s.pruneBatches(ctx, `DELETE FROM ingested_events WHERE (source, event_id) IN
		(SELECT source, event_id FROM ingested_events WHERE received_at < $1 LIMIT $2)`, cutoff)
	p.Events = n
	if err != nil {
		return p, fmt.Errorf("store: prune ingested events: %w", err)
	}
	n, err = s.pruneBatches(ctx, `DELETE FROM op_keys WHERE key IN
		(SELECT key FROM op_keys WHERE done AND created_at < $1 LIMIT $2)`, cutoff)
	p.OpKeys = n
	if err != nil {
		return p, fmt.Errorf("store: prune op keys: %w", err)
	}
	return p, nil
}

// pruneBatches runs a batched delete until a batch deletes less than a
// full batch.
func (s *Store[TTx]) pruneBatches(ctx context.Context, query string, cutoff time.Time) (int64, error) {
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var n int64
		err := s.backend.InTx(ctx, func(_ TTx, q Querier) error {
			var err error
			n, err = q.Exec(ctx, query, cutoff, s.cfg.PruneBatch)
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < int64(s.cfg.PruneBatch) {
			return total, nil
		}
	}
}

// prunePeriodic is the store's periodic task that prunes what is older
// than Config.Retention.
func (s *Store[TTx]) prunePeriodic() Periodic {
	return Periodic{Name: pruneTask, Every: s.cfg.PruneEvery, Run: func(ctx context.Context, _ *connector.Engine) error {
		p, err := s.Prune(ctx, s.cfg.Now().Add(-s.cfg.Retention))
		if err != nil {
			return err
		}
		s.cfg.Logger.InfoContext(ctx, "pruned", "events", p.Events, "op_keys", p.OpKeys, "retention", s.cfg.Retention.String())
		return nil
	}}
}
