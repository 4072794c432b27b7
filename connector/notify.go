package connector

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Notifier, when set in Config, is told what the engine records that a
// person may want to know of: each is a Notice, given with the
// transaction that records it, so that whatever the Notifier writes (a
// notification, the job that emails it) commits with the event or not at
// all. An error rolls the transaction back, and the engine treats it as
// the failure of what it was recording: keep Notify to writes in tx.
//
// With no Notifier the engine behaves exactly as without this hook.
type Notifier interface {
	Notify(ctx context.Context, tx Tx, n Notice) error
}

// Notice is one of AttemptNotice, FailedNotice, RunNotice,
// WriteBackNotice, RequestNotice, DocumentNotice, ObservationNotice and
// PatientNotice.
type Notice interface{ notice() }

// AttemptNotice tells the outcome of one attempt of a job, per source or
// sink it worked with: what a streak of failures is counted from. It is
// the one Notice the engine records nothing else for, so it comes in a
// transaction of its own, after the attempt; the engine sends it when an
// op failed, and after a success only for a system this engine saw fail
// (or has not seen since it started), so that a healthy sync costs no
// transaction more.
type AttemptNotice struct {
	Kind string
	// Failed lists the attempt's failures (busy ones left out); OK names
	// the systems whose ops all succeeded.
	Failed []Failure
	OK     []string
	// Attempt counts from 1.
	Attempt int
}

// Failure is one op that failed, with its cause.
type Failure struct {
	Op     Op
	System string
	Err    error
}

// FailedNotice tells of an op that failed for good (a dead letter), in
// the transaction that logs it; PatientID and DocumentID are local ids,
// zero when unknown.
type FailedNotice struct {
	Op                    Op
	System                string
	Err                   error
	Attempts              int
	PatientID, DocumentID int64
}

// RunNotice tells of a sync run that is done, in the transaction that
// marks it so.
type RunNotice struct {
	Progress Progress
}

// WriteBackNotice tells of a new state of a patient edit's write-back, in
// the transaction that saves it.
type WriteBackNotice struct {
	PatientID int64
	WriteBack WriteBack
}

// RequestNotice tells of a new state of a document request, in the
// transaction that saves it.
type RequestNotice struct {
	Key     string
	Outcome RequestOutcome
}

// DocumentNotice tells of a document the pull kept: new (Old.ID is zero),
// changed or deleted at its Source. Old is the copy it replaced, with its
// content.
type DocumentNotice struct {
	Old, New StoredDocument
	Action   Action
	// Run is the sync run the pull belongs to; empty for none.
	Run string
}

// ObservationNotice tells of an observation the pull kept, as
// DocumentNotice does.
type ObservationNotice struct {
	Old, New StoredObservation
	Action   Action
	Run      string
}

// PatientNotice tells of a patient's record the pull kept from its
// Source: new (Old.ID is zero) or changed there.
type PatientNotice struct {
	Old, New StoredPatient
	Action   Action
}

func (AttemptNotice) notice()     {}
func (FailedNotice) notice()      {}
func (RunNotice) notice()         {}
func (WriteBackNotice) notice()   {}
func (RequestNotice) notice()     {}
func (DocumentNotice) notice()    {}
func (ObservationNotice) notice() {}
func (PatientNotice) notice()     {}

// notify tells the Notifier of n in tx, if there is one.
func (e *Engine) notify(ctx context.Context, tx Tx, n Notice) error {
	if e.cfg.Notifier == nil {
		return nil
	}
	if err := e.cfg.Notifier.Notify(ctx, tx, n); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}

// streaks remembers, per system, whether its last attempt seen here
// failed: absent means not seen since the engine started.
type streaks struct{ failing sync.Map }

// notifyAttempt sends the AttemptNotice of an attempt's ops, when it may
// matter (see AttemptNotice). A failure to record it is logged: the
// attempt's own outcome stands.
func (e *Engine) notifyAttempt(ctx context.Context, job Job, ops []Op, failed []failure) {
	if e.cfg.Notifier == nil || len(ops) == 0 {
		return
	}
	n := AttemptNotice{Kind: ops[0].Kind(), Attempt: job.Attempt()}
	bad := map[string]bool{}
	for _, f := range failed {
		if errors.Is(f.err, ErrBusy) {
			continue
		}
		sys := systemOf(f.op)
		bad[sys] = true
		n.Failed = append(n.Failed, Failure{Op: f.op, System: sys, Err: f.err})
	}
	seen := map[string]bool{}
	for _, op := range ops {
		sys := systemOf(op)
		if bad[sys] || seen[sys] {
			continue
		}
		seen[sys] = true
		if was, ok := e.streaks.failing.Load(sys); ok && !was.(bool) {
			continue // healthy before, healthy now: nothing to record
		}
		n.OK = append(n.OK, sys)
	}
	if len(n.Failed) == 0 && len(n.OK) == 0 {
		return
	}
	ctx = context.WithoutCancel(ctx)
	err := e.cfg.Store.Update(ctx, func(tx Tx) error { return e.notify(ctx, tx, n) })
	if err != nil {
		e.log.ErrorContext(ctx, "recording an attempt's outcome for notifications", "job", job.ID(), "err", err)
		return
	}
	for sys := range bad {
		e.streaks.failing.Store(sys, true)
	}
	for _, sys := range n.OK {
		e.streaks.failing.Store(sys, false)
	}
}

// saveWriteBack saves a write-back's state and tells the Notifier.
func (e *Engine) saveWriteBack(ctx context.Context, tx Tx, patientID int64, w WriteBack) error {
	if err := tx.SaveWriteBack(ctx, patientID, w); err != nil {
		return err
	}
	return e.notify(ctx, tx, WriteBackNotice{PatientID: patientID, WriteBack: w})
}

// saveRequestOutcome saves a document request's state and tells the
// Notifier.
func (e *Engine) saveRequestOutcome(ctx context.Context, tx Tx, key string, o RequestOutcome) error {
	if err := tx.SaveRequestOutcome(ctx, key, o); err != nil {
		return err
	}
	return e.notify(ctx, tx, RequestNotice{Key: key, Outcome: o})
}
