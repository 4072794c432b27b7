package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/healthcare-records/healthcare-records/connector"
)

// Ops run in batches: one River job carries up to maxBatch ops of one kind
// for one queue, enqueued in one transaction. River's cost per job, not the
// work of an op, bounded throughput when every op was a job of its own.
// Each op's unique key is recorded in op_keys when it is enqueued, which is
// how a duplicate op is skipped, and marked done when its effects commit,
// which is how a retried batch skips the ops already done.
const maxBatch = 50

// batch is a River job of ops of one kind.
type batch[T connector.Op] struct {
	Ops []T `json:"ops"`
}

// Kind implements river.JobArgs: hr_pull, hr_deliver, hr_reconcile,
// hr_write_back, hr_request.
func (batch[T]) Kind() string {
	var op T
	return jobKind(op)
}

// jobKind is the River job kind of a batch of op's kind.
func jobKind(op connector.Op) string { return "hr_" + op.Kind() }

func queueOf(op connector.Op) (string, error) {
	switch op := op.(type) {
	case connector.PullOp:
		return QueuePull, nil
	case connector.DeliverOp:
		return QueueDeliver(op.Sink), nil
	case connector.ReconcileOp:
		return QueueReconcile, nil
	case connector.WriteBackOp, connector.RequestOp:
		return QueueProvider, nil
	}
	return "", fmt.Errorf("%w: unknown op %T", connector.ErrInvalid, op)
}

// priorityOf is the River priority of op's job (River runs 1 before 2):
// an observation's pull waits behind the documents' pulls, so that a
// backfill of years of lab values does not hold up the documents a
// dietician reads and the sinks receive.
func priorityOf(op connector.Op) int {
	if p, ok := op.(connector.PullOp); ok && p.Ref.Type == connector.ObservationType {
		return 2
	}
	return 1
}

// flush inserts the ops a transaction enqueued as River jobs of up to
// maxBatch ops each, one queue and kind at a time (a queue may run ops of
// several kinds).
func (s *Store[TTx]) flush(ctx context.Context, ttx TTx, ops []connector.Op) error {
	if len(ops) == 0 {
		return nil
	}
	type group struct {
		queue, kind string
		priority    int
	}
	byGroup := map[group][]connector.Op{}
	var groups []group
	for _, op := range ops {
		q, err := queueOf(op)
		if err != nil {
			return err
		}
		g := group{q, op.Kind(), priorityOf(op)}
		if _, ok := byGroup[g]; !ok {
			groups = append(groups, g)
		}
		byGroup[g] = append(byGroup[g], op)
	}
	var params []river.InsertManyParams
	for _, g := range groups {
		ops := byGroup[g]
		for len(ops) > 0 {
			n := min(len(ops), maxBatch)
			args, err := batchArgs(ops[:n])
			if err != nil {
				return err
			}
			params = append(params, river.InsertManyParams{Args: args,
				InsertOpts: &river.InsertOpts{Queue: g.queue, Priority: g.priority}})
			ops = ops[n:]
		}
	}
	if _, err := s.river.InsertManyTx(ctx, ttx, params); err != nil {
		return fmt.Errorf("enqueue %d ops: %w", len(ops), err)
	}
	return nil
}

// batchArgs packs ops of one kind into their job's arguments.
func batchArgs(ops []connector.Op) (river.JobArgs, error) {
	switch ops[0].(type) {
	case connector.PullOp:
		return pack[connector.PullOp](ops)
	case connector.DeliverOp:
		return pack[connector.DeliverOp](ops)
	case connector.ReconcileOp:
		return pack[connector.ReconcileOp](ops)
	case connector.WriteBackOp:
		return pack[connector.WriteBackOp](ops)
	case connector.RequestOp:
		return pack[connector.RequestOp](ops)
	}
	return nil, fmt.Errorf("%w: unknown op %T", connector.ErrInvalid, ops[0])
}

func pack[T connector.Op](ops []connector.Op) (river.JobArgs, error) {
	b := batch[T]{Ops: make([]T, len(ops))}
	for i, op := range ops {
		t, ok := op.(T)
		if !ok {
			return nil, fmt.Errorf("%w: op %T in a batch of %T", connector.ErrInvalid, op, t)
		}
		b.Ops[i] = t
	}
	return b, nil
}

// worker runs batches of one kind of op through the engine.
type worker[TTx any, T connector.Op] struct {
	river.WorkerDefaults[batch[T]]
	s *Store[TTx]
}

func (w *worker[TTx, T]) Work(ctx context.Context, j *river.Job[batch[T]]) error {
	e := w.s.currentEngine()
	if e == nil {
		return errors.New("store: no engine")
	}
	ops, err := w.pending(ctx, j)
	if err != nil || len(ops) == 0 {
		return err
	}
	err = e.Run(ctx, &job[TTx, T]{s: w.s, j: j}, ops)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, connector.ErrBusy):
		// Another job holds a resource for a moment; come back soon
		// without spending an attempt.
		return river.JobSnooze(time.Duration(100+rand.IntN(400)) * time.Millisecond)
	case connector.IsPermanent(err):
		w.s.forget(ctx, j.Args.Ops)
		return river.JobCancel(err)
	}
	if j.Attempt >= j.MaxAttempts {
		w.s.forget(ctx, j.Args.Ops)
	} else if d, ok := connector.RetryDelay(err); ok {
		w.s.retryAfter.Store(j.ID, d)
	}
	return err
}

// pending returns the batch's ops not done yet. A first attempt that was
// never snoozed has none done.
func (w *worker[TTx, T]) pending(ctx context.Context, j *river.Job[batch[T]]) ([]connector.Op, error) {
	ops := make([]connector.Op, 0, len(j.Args.Ops))
	for _, op := range j.Args.Ops {
		ops = append(ops, op)
	}
	if j.Attempt <= 1 && !bytes.Contains(j.Metadata, []byte(`"snoozes"`)) {
		return ops, nil
	}
	var out []connector.Op
	err := w.s.backend.InTx(ctx, func(_ TTx, q Querier) error {
		out = out[:0]
		for _, op := range ops {
			var done bool
			err := q.QueryRow(ctx, `SELECT done FROM op_keys WHERE key = $1`, op.UniqueKey()).Scan(&done)
			if err != nil && !errors.Is(err, ErrNoRows) {
				return err
			}
			if !done {
				out = append(out, op)
			}
		}
		return nil
	})
	return out, err
}

// forget drops the unique keys of a dead batch's unfinished ops, so that
// the same ops can be enqueued again (by the next reconcile, say).
func (s *Store[TTx]) forget(ctx context.Context, ops any) {
	ctx = context.WithoutCancel(ctx)
	err := s.backend.InTx(ctx, func(_ TTx, q Querier) error {
		for _, op := range opsOf(ops) {
			if _, err := q.Exec(ctx, `DELETE FROM op_keys WHERE key = $1 AND NOT done`, op.UniqueKey()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "forgetting dead ops", "err", err)
	}
}

func opsOf(ops any) []connector.Op {
	var out []connector.Op
	switch ops := ops.(type) {
	case []connector.PullOp:
		for _, op := range ops {
			out = append(out, op)
		}
	case []connector.DeliverOp:
		for _, op := range ops {
			out = append(out, op)
		}
	case []connector.ReconcileOp:
		for _, op := range ops {
			out = append(out, op)
		}
	case []connector.WriteBackOp:
		for _, op := range ops {
			out = append(out, op)
		}
	case []connector.RequestOp:
		for _, op := range ops {
			out = append(out, op)
		}
	}
	return out
}

// job presents a River job to the engine.
type job[TTx any, T connector.Op] struct {
	s *Store[TTx]
	j *river.Job[batch[T]]
}

func (j *job[TTx, T]) ID() string   { return strconv.FormatInt(j.j.ID, 10) }
func (j *job[TTx, T]) Attempt() int { return j.j.Attempt }
func (j *job[TTx, T]) Final() bool  { return j.j.Attempt >= j.j.MaxAttempts }

func (j *job[TTx, T]) Complete(ctx context.Context, done []connector.Op, fn func(connector.Tx) error) error {
	return j.s.inTx(ctx, func(t *tx) error {
		if err := fn(t); err != nil {
			return err
		}
		for _, op := range done {
			query := `UPDATE op_keys SET done = TRUE WHERE key = $1`
			if tk, ok := op.(connector.TransientKey); ok && tk.Transient() {
				query = `DELETE FROM op_keys WHERE key = $1`
			}
			if _, err := t.q.Exec(ctx, query, op.UniqueKey()); err != nil {
				return err
			}
		}
		return nil
	})
}

// retryPolicy spaces attempts by the engine's backoff, and by at least the
// delay a server asked for.
type retryPolicy[TTx any] struct{ s *Store[TTx] }

func (p retryPolicy[TTx]) NextRetry(row *rivertype.JobRow) time.Time {
	var err error
	if d, ok := p.s.retryAfter.LoadAndDelete(row.ID); ok {
		err = connector.RetryAfter(d.(time.Duration), nil)
	}
	var b connector.Backoff
	if e := p.s.currentEngine(); e != nil {
		b = e.Backoff()
	}
	return p.s.cfg.Now().Add(b.Delay(row.Attempt, err))
}
