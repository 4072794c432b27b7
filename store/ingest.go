package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
)

// Ingester ingests events with the semantics of connector.Engine.Ingest,
// but commits the events of concurrent callers together: the calls that
// arrive while a transaction commits wait for the next, which records all
// their event ids and enqueues all their ops at once. A database commits
// about as many such transactions per second as single-row ones, so the
// rate of events grows with the number of concurrent callers instead of
// being capped by the commits a second.
//
// What a caller is told holds as for Engine.Ingest: a nil error means its
// event and ops are committed; a repeated event id (within one group too)
// enqueues nothing and reports Duplicate; an invalid event is refused with
// connector.ErrInvalid before it joins a group. A group that fails is
// retried one event per transaction, so that one event's failure never
// fails the others. An Ingester is safe for concurrent use.
type Ingester[TTx any] struct {
	s        *Store[TTx]
	e        *connector.Engine
	parallel int

	mu       sync.Mutex
	pending  []*ingestCall
	flushers int
}

// Group bounds: events per transaction, and transactions committing at
// once (more than one lets the database's own group commit help, and keeps
// a group forming while another commits).
const (
	maxIngestGroup    = 256
	maxIngestFlushers = 4
	ingestTimeout     = 30 * time.Second
	// maxRowsPerInsert keeps a multi-row insert's parameters under
	// SQLite's limit of 32,766.
	maxRowsPerInsert = 1000
)

// TxConcurrency is implemented by a Backend that runs fewer transactions
// at once than the Ingester would commit (SQLite's one connection runs
// one): groups beyond that would only wait, and be smaller.
type TxConcurrency interface {
	TxConcurrency() int
}

// Ingester returns an Ingester that validates events and turns them into
// ops with e (connector.Engine.Ops).
func (s *Store[TTx]) Ingester(e *connector.Engine) *Ingester[TTx] {
	g := &Ingester[TTx]{s: s, e: e, parallel: maxIngestFlushers}
	if c, ok := s.backend.(TxConcurrency); ok {
		g.parallel = max(1, min(g.parallel, c.TxConcurrency()))
	}
	return g
}

type ingestCall struct {
	ctx  context.Context
	ev   connector.Event
	ops  []connector.Op
	res  connector.IngestResult
	err  error
	done chan struct{}
}

// Ingest records ev and enqueues its ops, together with the events of
// concurrent callers; once it returns nil, the work is durable.
func (g *Ingester[TTx]) Ingest(ctx context.Context, ev connector.Event) (connector.IngestResult, error) {
	ops, err := g.e.Ops(ev)
	if err != nil {
		return connector.IngestResult{}, err
	}
	c := &ingestCall{ctx: ctx, ev: ev, ops: ops, done: make(chan struct{})}
	g.mu.Lock()
	g.pending = append(g.pending, c)
	if g.flushers < g.parallel {
		g.flushers++
		// The flusher ends when nothing is pending, and each of its
		// transactions is bounded by ingestTimeout.
		go g.flush(context.WithoutCancel(ctx))
	}
	g.mu.Unlock()
	select {
	case <-c.done:
		if c.err != nil {
			return connector.IngestResult{}, fmt.Errorf("ingest event %s: %w", ev.ID, c.err)
		}
		return c.res, nil
	case <-ctx.Done():
		// The event may still commit; a sender that retries finds it a
		// duplicate.
		return connector.IngestResult{}, fmt.Errorf("ingest event %s: %w", ev.ID, ctx.Err())
	}
}

// flush commits groups of pending calls until none is left.
func (g *Ingester[TTx]) flush(ctx context.Context) {
	for {
		g.mu.Lock()
		n := min(len(g.pending), maxIngestGroup)
		if n == 0 {
			g.flushers--
			g.mu.Unlock()
			return
		}
		group := slices.Clone(g.pending[:n])
		g.pending = slices.Delete(g.pending, 0, n)
		g.mu.Unlock()

		// Callers that gave up before their group formed are dropped.
		group = slices.DeleteFunc(group, func(c *ingestCall) bool {
			if err := c.ctx.Err(); err != nil {
				c.err = err
				close(c.done)
				return true
			}
			return false
		})
		if len(group) == 0 {
			continue
		}
		if err := g.commit(ctx, group); err != nil {
			if len(group) == 1 {
				group[0].err = err
			} else {
				// One event's trouble must not fail the others: each
				// tries again alone.
				for _, c := range group {
					if err := g.commit(ctx, []*ingestCall{c}); err != nil {
						c.err = err
					}
				}
			}
		}
		for _, c := range group {
			close(c.done)
		}
	}
}

// commit records a group's events and enqueues the ops of the new ones in
// one transaction, filling in each call's result.
func (g *Ingester[TTx]) commit(ctx context.Context, group []*ingestCall) error {
	ctx, cancel := context.WithTimeout(ctx, ingestTimeout)
	defer cancel()
	return g.s.inTx(ctx, func(t *tx) error {
		for _, c := range group {
			c.res = connector.IngestResult{}
		}
		// The first call of an event id in the group speaks for it.
		type eventKey struct{ source, id string }
		first := make(map[eventKey]*ingestCall, len(group))
		var keys []eventKey
		for _, c := range group {
			k := eventKey{c.ev.Source, c.ev.ID}
			if _, ok := first[k]; ok {
				c.res.Duplicate = true
				continue
			}
			first[k] = c
			keys = append(keys, k)
		}
		// Rows go in key order, so that concurrent groups lock them in
		// one order and never deadlock.
		slices.SortFunc(keys, func(a, b eventKey) int {
			return cmp.Or(strings.Compare(a.source, b.source), strings.Compare(a.id, b.id))
		})
		now := t.now().UTC()
		fresh := make(map[eventKey]bool, len(keys))
		for chunk := range slices.Chunk(keys, maxRowsPerInsert) {
			args := make([]any, 0, 3*len(chunk))
			values := make([]string, len(chunk))
			for i, k := range chunk {
				values[i] = placeholders(len(args)+1, 3)
				args = append(args, k.source, k.id, now)
			}
			err := queryStrings(ctx, t.q, `INSERT INTO ingested_events (source, event_id, received_at) VALUES `+
				strings.Join(values, ", ")+` ON CONFLICT (source, event_id) DO NOTHING RETURNING source, event_id`,
				args, func(v []string) { fresh[eventKey{v[0], v[1]}] = true }, 2)
			if err != nil {
				return err
			}
		}

		// Ops of the new events, each unique key owned by its first
		// event in the group.
		owner := map[string]*ingestCall{}
		ops := map[string]connector.Op{}
		var opKeys []string
		for _, c := range group {
			if c.res.Duplicate {
				continue
			}
			if !fresh[eventKey{c.ev.Source, c.ev.ID}] {
				c.res.Duplicate = true
				continue
			}
			for _, op := range c.ops {
				if _, err := queueOf(op); err != nil {
					return err
				}
				k := op.UniqueKey()
				if _, ok := owner[k]; !ok {
					owner[k], ops[k] = c, op
					opKeys = append(opKeys, k)
				}
			}
		}
		sorted := slices.Sorted(slices.Values(opKeys))
		added := make(map[string]bool, len(sorted))
		for chunk := range slices.Chunk(sorted, maxRowsPerInsert) {
			args := make([]any, 0, 2*len(chunk))
			values := make([]string, len(chunk))
			for i, k := range chunk {
				values[i] = "(" + "$" + strconv.Itoa(len(args)+1) + ", FALSE, $" + strconv.Itoa(len(args)+2) + ")"
				args = append(args, k, now)
			}
			err := queryStrings(ctx, t.q, `INSERT INTO op_keys (key, done, created_at) VALUES `+
				strings.Join(values, ", ")+` ON CONFLICT (key) DO NOTHING RETURNING key`,
				args, func(v []string) { added[v[0]] = true }, 1)
			if err != nil {
				return err
			}
		}
		// Jobs go in in the callers' order.
		for _, k := range opKeys {
			if added[k] {
				t.enqueued = append(t.enqueued, ops[k])
				owner[k].res.Enqueued++
			}
		}
		return nil
	})
}

// placeholders renders ($from, $from+1, ...) of n parameters.
func placeholders(from, n int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(from + i))
	}
	b.WriteByte(')')
	return b.String()
}

// queryStrings runs a query whose rows are n text columns, handing each
// row to fn.
func queryStrings(ctx context.Context, q Querier, query string, args []any, fn func([]string), n int) error {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	v := make([]string, n)
	dest := make([]any, n)
	for i := range v {
		dest[i] = &v[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		fn(v)
	}
	return rows.Err()
}
