package postgres

import (
	"context"
	"fmt"

	"github.com/healthcare-records/healthcare-records/store"
)

var _ store.GroupWriter = (*backend)(nil)

// writeGroupSQL commits an IngestGroup in one statement, and so in one
// round trip: the events, the op keys of the new events, and River jobs
// for the new keys. River has no call that enqueues jobs depending on
// rows of the same statement, so the jobs go into its table directly,
// with the four columns River's own batch insert sets and its defaults
// for the rest (state available, priority 1, scheduled now). When the
// group asks to (IngestGroup.Notify), it also tells the workers of every
// process as River's own insert does: a notification on the schema's
// river_insert channel naming each queue, sent at commit. Without it the
// jobs wait for the next poll (store.Config.FetchPollInterval).
const writeGroupSQL = `
WITH ev AS (
	INSERT INTO ingested_events (source, event_id, received_at)
	SELECT source, event_id, $1 FROM unnest($2::text[], $3::text[]) AS e(source, event_id)
	ON CONFLICT (source, event_id) DO NOTHING
	RETURNING source, event_id
), ops AS (
	SELECT DISTINCT ON (o.key) o.ord, o.key, o.queue, o.kind, o.args
	FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) WITH ORDINALITY
		AS o(source, event_id, key, queue, kind, args, ord)
	JOIN ev ON ev.source = o.source AND ev.event_id = o.event_id
	ORDER BY o.key, o.ord
), added AS (
	INSERT INTO op_keys (key, done, created_at)
	SELECT key, FALSE, $1 FROM ops ORDER BY key
	ON CONFLICT (key) DO NOTHING
	RETURNING key
), jobs AS (
	INSERT INTO river_job (args, kind, max_attempts, queue)
	SELECT jsonb_build_object('ops', jsonb_agg(args::jsonb ORDER BY ord)), kind, $10, queue
	FROM (
		SELECT ops.*, (row_number() OVER (PARTITION BY queue ORDER BY ord) - 1) / $11 AS chunk
		FROM ops JOIN added USING (key)
	) numbered
	GROUP BY queue, kind, chunk
)
SELECT 'event', source, event_id FROM ev
UNION ALL
SELECT 'key', key, '' FROM added
UNION ALL
SELECT 'notified', queue, pg_notify(current_schema() || '.river_insert', json_build_object('queue', queue)::text)::text
FROM (SELECT DISTINCT queue FROM ops JOIN added USING (key)) q
WHERE $12`

// WriteGroup implements store.GroupWriter.
func (b *backend) WriteGroup(ctx context.Context, g store.IngestGroup) (map[store.GroupEvent]bool, map[string]bool, error) {
	evSource, evID := make([]string, len(g.Events)), make([]string, len(g.Events))
	for i, e := range g.Events {
		evSource[i], evID[i] = e.Source, e.ID
	}
	n := len(g.Ops)
	opSource, opEvent, key, queue, kind, args := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n)
	for i, o := range g.Ops {
		opSource[i], opEvent[i], key[i], queue[i], kind[i], args[i] = o.Event.Source, o.Event.ID, o.Key, o.Queue, o.Kind, string(o.Args)
	}
	rows, err := b.pool.Query(ctx, writeGroupSQL, g.Now, evSource, evID,
		opSource, opEvent, key, queue, kind, args, g.MaxAttempts, g.MaxBatch, g.Notify)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: ingest %d events: %w", len(g.Events), err)
	}
	defer rows.Close()
	fresh, added := make(map[store.GroupEvent]bool, len(g.Events)), make(map[string]bool)
	var what, v1, v2 string // event: source and id; key: the key
	for rows.Next() {
		if err := rows.Scan(&what, &v1, &v2); err != nil {
			return nil, nil, err
		}
		switch what {
		case "event":
			fresh[store.GroupEvent{Source: v1, ID: v2}] = true
		case "key":
			added[v1] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("postgres: ingest %d events: %w", len(g.Events), err)
	}
	return fresh, added, nil
}
