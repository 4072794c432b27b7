package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

	lastNotify atomic.Int64 // unix nanoseconds of the last IngestGroup.Notify
}

// Group bounds: events per transaction, and transactions committing at
// once. Two keep a group forming while another commits; more split the
// callers into smaller groups, and a group's cost is mostly per group
// (measured on PostgreSQL at 64 callers: 4 at once made groups of 8 events
// and 0.7-0.8x the database's ceiling, 2 made groups of 14 and 0.9-1.0x,
// 1 made groups of 30 but waited on each commit, 0.88x).
const (
	maxIngestGroup    = 256
	maxIngestFlushers = 2
	ingestTimeout     = 30 * time.Second
	// A flusher that finds fewer than lingerBelow callers waiting while
	// the other commits waits ingestLinger for more: at 64 callers on
	// PostgreSQL, groups of 18 instead of 13, and 0.94-0.96x the
	// ceiling instead of 0.79-0.87x in the same runs.
	lingerBelow  = 24
	ingestLinger = 500 * time.Microsecond
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
		if n := len(g.pending); n > 0 && n < lingerBelow && g.flushers > 1 {
			// Another group is committing, so this one would only be
			// small: let more callers join it. Alone, a flusher never
			// waits, so a quiet receiver answers at once.
			g.mu.Unlock()
			time.Sleep(ingestLinger)
			g.mu.Lock()
		}
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

// IngestGroup is what an Ingester commits at once: the distinct events of
// concurrent callers and the ops of their changes.
type IngestGroup struct {
	Now time.Time
	// Events are distinct, in (source, id) order, so that concurrent
	// groups lock their rows in one order and never deadlock.
	Events []GroupEvent
	// Ops are in the callers' order; one unique key may come from several
	// events.
	Ops []GroupOp
	// MaxBatch is the most ops one job carries; MaxAttempts is each job's.
	MaxBatch, MaxAttempts int
	// Notify asks a GroupWriter to wake the workers of the jobs' queues,
	// as River's insert does; the Ingester asks at most once per
	// FetchCooldown, as River does.
	Notify bool
}

// GroupEvent is an event of an IngestGroup.
type GroupEvent struct{ Source, ID string }

// GroupOp is an op of an IngestGroup.
type GroupOp struct {
	Event GroupEvent // the event whose change it comes from
	Key   string     // its unique key
	Queue string     // the queue of its job
	Kind  string     // the River job kind of its batch
	Args  []byte     // the op as JSON, as it goes into its batch's "ops"
	op    connector.Op
}

// GroupWriter is implemented by a Backend that commits an IngestGroup in
// one statement, which saves the round trips of a transaction of several:
// at high concurrency each round trip waits for the scheduler, and those
// waits, not the rows, bound a group's commit. It records the events that
// are new, and the unique keys of their ops that are new; the op of each
// recorded key, taken from the first new event (in IngestGroup.Ops order)
// that has it, goes into River jobs (table river_job) of up to MaxBatch
// ops of one queue each, in Ops order, with the batch's args
// {"ops": [...]} — the jobs Store would enqueue. It reports which events
// and which keys it recorded.
type GroupWriter interface {
	WriteGroup(ctx context.Context, g IngestGroup) (freshEvents map[GroupEvent]bool, addedKeys map[string]bool, err error)
}

// commit records a group's events and enqueues the ops of the new ones in
// one transaction, filling in each call's result.
func (g *Ingester[TTx]) commit(ctx context.Context, group []*ingestCall) error {
	ctx, cancel := context.WithTimeout(ctx, ingestTimeout)
	defer cancel()
	w, direct := g.s.backend.(GroupWriter)
	ig := IngestGroup{Now: g.s.cfg.Now().UTC(), MaxBatch: maxBatch, MaxAttempts: g.s.cfg.MaxAttempts,
		Notify: direct && g.notifyDue()}
	// The first call of an event id in the group speaks for it.
	seen := make(map[GroupEvent]bool, len(group))
	for _, c := range group {
		c.res = connector.IngestResult{}
		k := GroupEvent{c.ev.Source, c.ev.ID}
		if seen[k] {
			c.res.Duplicate = true
			continue
		}
		seen[k] = true
		ig.Events = append(ig.Events, k)
	}
	slices.SortFunc(ig.Events, func(a, b GroupEvent) int {
		return cmp.Or(strings.Compare(a.Source, b.Source), strings.Compare(a.ID, b.ID))
	})
	var caller []*ingestCall // of each op
	for _, c := range group {
		if c.res.Duplicate {
			continue
		}
		for _, op := range c.ops {
			q, err := queueOf(op)
			if err != nil {
				return err
			}
			o := GroupOp{Event: GroupEvent{c.ev.Source, c.ev.ID}, Key: op.UniqueKey(), Queue: q,
				Kind: jobKind(op), op: op}
			if direct {
				if o.Args, err = json.Marshal(op); err != nil {
					return fmt.Errorf("encode op %s: %w", o.Key, err)
				}
			}
			ig.Ops = append(ig.Ops, o)
			caller = append(caller, c)
		}
	}

	write := g.s.writeGroup
	if direct {
		write = w.WriteGroup
	}
	fresh, added, err := write(ctx, ig)
	if err != nil {
		return err
	}
	for _, c := range group {
		if !c.res.Duplicate && !fresh[GroupEvent{c.ev.Source, c.ev.ID}] {
			c.res.Duplicate = true
		}
	}
	for _, i := range ig.owners(fresh) {
		if added[ig.Ops[i].Key] {
			caller[i].res.Enqueued++
		}
	}
	return nil
}

// notifyDue reports whether a group should wake the workers: at most once
// per fetch cooldown, whichever flusher asks first.
func (g *Ingester[TTx]) notifyDue() bool {
	now := time.Now().UnixNano()
	last := g.lastNotify.Load()
	return now-last >= int64(fetchCooldown(g.s.cfg)) && g.lastNotify.CompareAndSwap(last, now)
}

// owners returns, in order, the index of each unique key's op among the
// ops of new events: the first.
func (g IngestGroup) owners(fresh map[GroupEvent]bool) []int {
	seen := make(map[string]bool, len(g.Ops))
	var own []int
	for i, o := range g.Ops {
		if fresh[o.Event] && !seen[o.Key] {
			seen[o.Key] = true
			own = append(own, i)
		}
	}
	return own
}

// writeGroup is what a GroupWriter does, in a transaction of several
// statements, for backends without one.
func (s *Store[TTx]) writeGroup(ctx context.Context, g IngestGroup) (map[GroupEvent]bool, map[string]bool, error) {
	var fresh map[GroupEvent]bool
	var added map[string]bool
	err := s.inTx(ctx, func(t *tx) error {
		fresh, added = make(map[GroupEvent]bool, len(g.Events)), make(map[string]bool)
		for chunk := range slices.Chunk(g.Events, maxRowsPerInsert) {
			args := make([]any, 0, 3*len(chunk))
			values := make([]string, len(chunk))
			for i, e := range chunk {
				values[i] = placeholders(len(args)+1, 3)
				args = append(args, e.Source, e.ID, g.Now)
			}
			err := queryStrings(ctx, t.q, `INSERT INTO ingested_events (source, event_id, received_at) VALUES `+
				strings.Join(values, ", ")+` ON CONFLICT (source, event_id) DO NOTHING RETURNING source, event_id`,
				args, func(v []string) { fresh[GroupEvent{v[0], v[1]}] = true }, 2)
			if err != nil {
				return err
			}
		}
		own := g.owners(fresh)
		keys := make([]string, len(own))
		for i, o := range own {
			keys[i] = g.Ops[o].Key
		}
		slices.Sort(keys) // rows in key order, as for the events
		for chunk := range slices.Chunk(keys, maxRowsPerInsert) {
			args := make([]any, 0, 2*len(chunk))
			values := make([]string, len(chunk))
			for i, k := range chunk {
				values[i] = "(" + "$" + strconv.Itoa(len(args)+1) + ", FALSE, $" + strconv.Itoa(len(args)+2) + ")"
				args = append(args, k, g.Now)
			}
			err := queryStrings(ctx, t.q, `INSERT INTO op_keys (key, done, created_at) VALUES `+
				strings.Join(values, ", ")+` ON CONFLICT (key) DO NOTHING RETURNING key`,
				args, func(v []string) { added[v[0]] = true }, 1)
			if err != nil {
				return err
			}
		}
		for _, o := range own {
			if added[g.Ops[o].Key] {
				t.enqueued = append(t.enqueued, g.Ops[o].op)
			}
		}
		return nil
	})
	return fresh, added, err
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
