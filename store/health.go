package store

import (
	"context"
	"fmt"
)

// healthEvent is the row CheckWritable writes: an ingested event of no
// source, which no sender can name (the engine refuses events without
// one), so it never hides a real event.
const healthEvent = "hr-health-check"

// CheckWritable proves the database accepts writes: it commits a one-row
// upsert. A read, or a write rolled back, would not do: a database
// that is read-only (a replica promoted the wrong way round, a role or
// database set read-only) refuses the statement, but one whose disk is
// full often fails only when the commit reaches the disk. The row is
// overwritten in place each time, so repeated checks leave one row.
//
// The error is the database's own, such as "cannot execute INSERT in a
// read-only transaction" or "database or disk is full".
func (s *Store[TTx]) CheckWritable(ctx context.Context) error {
	err := s.backend.InTx(ctx, func(_ TTx, q Querier) error {
		_, err := q.Exec(ctx, `INSERT INTO ingested_events (source, event_id, received_at) VALUES ('', $1, $2)
			ON CONFLICT (source, event_id) DO UPDATE SET received_at = excluded.received_at`,
			healthEvent, s.cfg.Now().UTC())
		return err
	})
	if err != nil {
		return fmt.Errorf("store: database refuses writes: %w", err)
	}
	return nil
}
