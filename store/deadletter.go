package store

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// DeadLetter is a batch of ops that failed for good: its attempts ran out,
// or it met a permanent error. It stays until replayed or until River's
// cleaner removes it (Config.DeadLetterRetention).
type DeadLetter struct {
	JobID int64
	// Kind is the op kind ("hr_pull", "hr_deliver", "hr_reconcile").
	Kind string
	// Args is the op as JSON: refs and versions, no patient data.
	Args []byte
	// Error is the last attempt's error.
	Error    string
	Attempts int
	FailedAt time.Time
}

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
		d := DeadLetter{JobID: j.ID, Kind: j.Kind, Args: j.EncodedArgs, Attempts: j.Attempt}
		if n := len(j.Errors); n > 0 {
			d.Error = j.Errors[n-1].Error
		}
		if j.FinalizedAt != nil {
			d.FailedAt = *j.FinalizedAt
		}
		out[i] = d
	}
	return out, nil
}

// Replay runs a dead batch again, its ops not yet done, with as many
// attempts as a new job.
func (s *Store[TTx]) Replay(ctx context.Context, jobID int64) error {
	err := s.backend.InTx(ctx, func(ttx TTx, q Querier) error {
		row, err := s.river.JobRetryTx(ctx, ttx, jobID)
		if err != nil {
			return err
		}
		// River's retry allows one attempt more; grant a full set.
		_, err = q.Exec(ctx, `UPDATE river_job SET max_attempts = $1 WHERE id = $2`, row.Attempt+s.cfg.MaxAttempts, jobID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: replay job %d: %w", jobID, err)
	}
	return nil
}

// Idle reports whether no op is waiting, scheduled or running.
func (s *Store[TTx]) Idle(ctx context.Context) (bool, error) {
	res, err := s.river.JobList(ctx, river.NewJobListParams().States(pendingStates...).First(1))
	if err != nil {
		return false, fmt.Errorf("store: list pending jobs: %w", err)
	}
	return len(res.Jobs) == 0, nil
}
