package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/healthcare-records/healthcare-records/connector"
)

// DeadLetter is a batch of ops that failed for good: its attempts ran out,
// or it met a permanent error. It stays until replayed or until River's
// cleaner removes it (Config.DeadLetterRetention).
type DeadLetter struct {
	JobID int64
	// Kind is the River job kind ("hr_pull", "hr_deliver", "hr_reconcile").
	Kind string
	// Op is the kind of the batch's ops, as connector.Op.Kind names it
	// ("pull", "deliver", "reconcile"): the name to show an operator.
	Op string
	// Queue is the job's queue: QueuePull, QueueReconcile or a sink's
	// QueueDeliver.
	Queue string
	// State is "discarded" (attempts ran out) or "cancelled" (a permanent
	// error).
	State string
	// Args is the op as JSON: refs and versions, no patient data.
	Args []byte
	// Ops is how many ops the batch holds.
	Ops int
	// Error is the last attempt's error.
	Error string
	// Errors is every attempt's error, oldest first.
	Errors   []AttemptError
	Attempts int
	FailedAt time.Time
}

// AttemptError is the error of one attempt of a job.
type AttemptError struct {
	Attempt int
	At      time.Time
	Error   string
	// Trace is the stack of an attempt that panicked; empty otherwise.
	Trace string
}

// ErrNotDeadLetter means a job asked for as a dead letter is not one: it is
// waiting, running or completed. Replay refuses it, so that work done is
// never done again by mistake.
var ErrNotDeadLetter = errors.New("not a dead letter")

var (
	deadStates    = []rivertype.JobState{rivertype.JobStateDiscarded, rivertype.JobStateCancelled}
	pendingStates = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
		rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled}
)

// DeadLetters lists up to limit dead ops, newest first.
func (s *Store[TTx]) DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	res, err := s.river.JobList(ctx, river.NewJobListParams().States(deadStates...).
		OrderBy(river.JobListOrderByFinalizedAt, river.SortOrderDesc).First(limit))
	if err != nil {
		return nil, fmt.Errorf("store: list dead letters: %w", err)
	}
	out := make([]DeadLetter, len(res.Jobs))
	for i, j := range res.Jobs {
		out[i] = deadLetter(j)
	}
	return out, nil
}

// DeadLetter returns the dead letter of job jobID. A job that does not
// exist (or was cleaned away) is an error wrapping connector.ErrNotFound;
// one that is not dead wraps ErrNotDeadLetter and names its state.
func (s *Store[TTx]) DeadLetter(ctx context.Context, jobID int64) (DeadLetter, error) {
	j, err := s.river.JobGet(ctx, jobID)
	if err == nil {
		err = checkDead(j)
	}
	if err != nil {
		return DeadLetter{}, fmt.Errorf("store: %w", jobErr(jobID, err))
	}
	return deadLetter(j), nil
}

// Replay runs a dead batch again, its ops not yet done, with as many
// attempts as a new job. It refuses a job that is not dead (an error
// wrapping ErrNotDeadLetter): a completed batch is never run again.
func (s *Store[TTx]) Replay(ctx context.Context, jobID int64) error {
	err := s.backend.InTx(ctx, func(ttx TTx, q Querier) error {
		j, err := s.river.JobGetTx(ctx, ttx, jobID)
		if err != nil {
			return err
		}
		if err := checkDead(j); err != nil {
			return err
		}
		row, err := s.river.JobRetryTx(ctx, ttx, jobID)
		if err != nil {
			return err
		}
		// River's retry allows one attempt more; grant a full set.
		_, err = q.Exec(ctx, `UPDATE river_job SET max_attempts = $1 WHERE id = $2`, row.Attempt+s.cfg.MaxAttempts, jobID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: replay: %w", jobErr(jobID, err))
	}
	return nil
}

func checkDead(j *rivertype.JobRow) error {
	if !slices.Contains(deadStates, j.State) {
		return fmt.Errorf("%w (state %s)", ErrNotDeadLetter, j.State)
	}
	return nil
}

// jobErr names the job in err, and gives a missing job the class
// connector.ErrNotFound rather than River's own.
func jobErr(jobID int64, err error) error {
	switch {
	case errors.Is(err, rivertype.ErrNotFound):
		return fmt.Errorf("job %d: %w", jobID, connector.ErrNotFound)
	case errors.Is(err, ErrNotDeadLetter):
		return fmt.Errorf("job %d is %w", jobID, err)
	}
	return fmt.Errorf("job %d: %w", jobID, err)
}

func deadLetter(j *rivertype.JobRow) DeadLetter {
	d := DeadLetter{JobID: j.ID, Kind: j.Kind, Op: strings.TrimPrefix(j.Kind, "hr_"), Queue: j.Queue,
		State: string(j.State), Args: j.EncodedArgs, Attempts: j.Attempt}
	var args struct {
		Ops []json.RawMessage `json:"ops"`
	}
	if json.Unmarshal(j.EncodedArgs, &args) == nil {
		d.Ops = len(args.Ops)
	}
	for _, e := range j.Errors {
		// A permanent error reaches River as a JobCancelError, whose
		// message is ours behind River's type name.
		msg := strings.TrimPrefix(e.Error, "JobCancelError: ")
		d.Errors = append(d.Errors, AttemptError{Attempt: e.Attempt, At: e.At, Error: msg, Trace: e.Trace})
	}
	if n := len(d.Errors); n > 0 {
		d.Error = d.Errors[n-1].Error
	}
	if j.FinalizedAt != nil {
		d.FailedAt = *j.FinalizedAt
	}
	return d
}

// Idle reports whether no op is waiting, scheduled or running.
func (s *Store[TTx]) Idle(ctx context.Context) (bool, error) {
	res, err := s.river.JobList(ctx, river.NewJobListParams().States(pendingStates...).First(1))
	if err != nil {
		return false, fmt.Errorf("store: list pending jobs: %w", err)
	}
	return len(res.Jobs) == 0, nil
}
