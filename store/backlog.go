package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Backlog is the work waiting in one job queue.
type Backlog struct {
	Queue string
	// Pending counts the queue's jobs not yet finished: available,
	// scheduled, retrying or running. Dead letters are not pending.
	Pending int
	// Oldest is when the oldest pending job was inserted: a queue whose
	// Oldest keeps falling behind is stuck, however short it is.
	Oldest time.Time
}

// Backlog reports every queue that holds pending jobs, in queue order.
// It is one aggregate query over River's job table, cheap enough for
// every metrics scrape; bound it with ctx.
func (s *Store[TTx]) Backlog(ctx context.Context) ([]Backlog, error) {
	var out []Backlog
	err := s.backend.InTx(ctx, func(_ TTx, q Querier) error {
		out = out[:0]
		rows, err := q.Query(ctx, backlogQuery)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				b      Backlog
				oldest nullTime
			)
			if err := rows.Scan(&b.Queue, &b.Pending, &oldest); err != nil {
				return err
			}
			b.Oldest = oldest.Time
			out = append(out, b)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: backlog: %w", err)
	}
	return out, nil
}

// backlogQuery is Backlog's query, its pending states spelled out once.
var backlogQuery = func() string {
	states := make([]string, len(pendingStates))
	for i, st := range pendingStates {
		states[i] = "'" + string(st) + "'"
	}
	return `SELECT queue, count(*), min(created_at) FROM river_job
		WHERE state IN (` + strings.Join(states, ", ") + `) GROUP BY queue ORDER BY queue`
}()
