package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"github.com/healthcare-records/healthcare-records/connector"
)

// Job arguments: one River job kind per op type. Key is the op's UniqueKey
// and the only field River's uniqueness looks at.
type (
	pullArgs struct {
		Op  connector.PullOp `json:"op"`
		Key string           `json:"key" river:"unique"`
	}
	deliverArgs struct {
		Op  connector.DeliverOp `json:"op"`
		Key string              `json:"key" river:"unique"`
	}
	reconcileArgs struct {
		Op  connector.ReconcileOp `json:"op"`
		Key string                `json:"key" river:"unique"`
	}
)

func (pullArgs) Kind() string      { return "hr_pull" }
func (deliverArgs) Kind() string   { return "hr_deliver" }
func (reconcileArgs) Kind() string { return "hr_reconcile" }

func (a pullArgs) op() connector.Op      { return a.Op }
func (a deliverArgs) op() connector.Op   { return a.Op }
func (a reconcileArgs) op() connector.Op { return a.Op }

type opArgs interface {
	river.JobArgs
	op() connector.Op
}

// params turns an op into River's insert parameters.
func params(op connector.Op) (river.InsertManyParams, error) {
	opts := &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
	var args river.JobArgs
	switch op := op.(type) {
	case connector.PullOp:
		args, opts.Queue = pullArgs{Op: op, Key: op.UniqueKey()}, QueuePull
	case connector.DeliverOp:
		args, opts.Queue = deliverArgs{Op: op, Key: op.UniqueKey()}, QueueDeliver(op.Sink)
	case connector.ReconcileOp:
		args, opts.Queue = reconcileArgs{Op: op, Key: op.UniqueKey()}, QueueReconcile
	default:
		return river.InsertManyParams{}, fmt.Errorf("%w: unknown op %T", connector.ErrInvalid, op)
	}
	return river.InsertManyParams{Args: args, InsertOpts: opts}, nil
}

func (s *Store[TTx]) insert(ctx context.Context, ttx TTx, ops []connector.Op) (int, error) {
	batch := make([]river.InsertManyParams, 0, len(ops))
	seen := make(map[string]bool, len(ops))
	skipped := 0
	for _, op := range ops {
		if k := op.Kind() + op.UniqueKey(); seen[k] {
			skipped++
			continue
		} else {
			seen[k] = true
		}
		p, err := params(op)
		if err != nil {
			return 0, err
		}
		batch = append(batch, p)
	}
	res, err := s.river.InsertManyTx(ctx, ttx, batch)
	if err != nil {
		return 0, fmt.Errorf("enqueue %d ops: %w", len(ops), err)
	}
	for _, r := range res {
		if r.UniqueSkippedAsDuplicate {
			skipped++
		}
	}
	return skipped, nil
}

// worker runs one kind of op through the engine.
type worker[TTx any, A opArgs] struct {
	river.WorkerDefaults[A]
	s *Store[TTx]
}

func (w *worker[TTx, A]) Work(ctx context.Context, j *river.Job[A]) error {
	e := w.s.currentEngine()
	if e == nil {
		return errors.New("store: no engine")
	}
	err := e.Run(ctx, &job[TTx, A]{s: w.s, j: j}, j.Args.op())
	switch {
	case err == nil:
		return nil
	case errors.Is(err, connector.ErrBusy):
		// Another job holds the resource for a moment; come back soon
		// without spending an attempt.
		return river.JobSnooze(time.Duration(100+rand.IntN(400)) * time.Millisecond)
	case connector.IsPermanent(err):
		return river.JobCancel(err)
	}
	if d, ok := connector.RetryDelay(err); ok {
		w.s.retryAfter.Store(j.ID, d)
	}
	return err
}

// job presents a River job to the engine.
type job[TTx any, A opArgs] struct {
	s *Store[TTx]
	j *river.Job[A]
}

func (j *job[TTx, A]) ID() string   { return strconv.FormatInt(j.j.ID, 10) }
func (j *job[TTx, A]) Attempt() int { return j.j.Attempt }
func (j *job[TTx, A]) Final() bool  { return j.j.Attempt >= j.j.MaxAttempts }

func (j *job[TTx, A]) Complete(ctx context.Context, fn func(connector.Tx) error) error {
	return j.s.backend.InTx(ctx, func(ttx TTx, q Querier) error {
		if err := fn(j.s.tx(ttx, q)); err != nil {
			return err
		}
		_, err := river.JobCompleteTx[riverdriver.Driver[TTx]](ctx, ttx, j.j)
		return err
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
