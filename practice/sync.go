package practice

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
)

// StartSync starts a sync of the patient with the provider and returns
// its run id. One patient syncs at most once per Config.SyncEvery.
func (s *Service) StartSync(ctx context.Context, a Actor, patientID int64) (string, error) {
	var run string
	err := s.cfg.Store.Write(ctx, func(tx Tx) error {
		p, r, err := s.patientFacts(ctx, tx, a, patientID)
		if err != nil {
			return err
		}
		if err := s.check(ctx, a, ActionStartSync, r, 0); err != nil {
			return err
		}
		switch {
		case p.Link != Linked:
			return refuse(ErrConflict, "the patient is not linked to the provider; link it by an identifier first")
		case p.Archived():
			return refuse(ErrConflict, "the patient is archived and no longer syncs")
		}
		if wait := s.syncs.take(patientID, s.now()); wait > 0 {
			return &RateLimitError{RetryAfter: wait, What: "syncs of this patient"}
		}
		run, err = s.cfg.Engine.Enroll(ctx, tx, p.Ref, connector.ActionManualSync)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("sync patient %d: %w", patientID, err)
	}
	s.record(ctx, a, ActionStartSync, OutcomeSuccess, patientID, 0, "run:"+run, "")
	return run, nil
}

// Run returns a sync run's progress.
func (s *Service) Run(ctx context.Context, a Actor, run string) (connector.Progress, error) {
	var p connector.Progress
	err := s.cfg.Store.Read(ctx, func(tx Tx) (err error) {
		p, err = s.readRun(ctx, tx, a, run)
		return err
	})
	if err != nil {
		return connector.Progress{}, fmt.Errorf("sync run %s: %w", run, err)
	}
	return p, nil
}

func (s *Service) readRun(ctx context.Context, tx Tx, a Actor, run string) (connector.Progress, error) {
	p, err := tx.Run(ctx, run)
	if err != nil {
		return connector.Progress{}, err
	}
	r, err := s.patientAccess(ctx, tx, a, p.PatientID)
	if err != nil {
		return connector.Progress{}, err
	}
	return p, s.check(ctx, a, ActionReadSync, r, 0)
}

// runPoll is how often WatchRun reads the run's state besides listening
// to the progress bus, which may not reach across processes.
const runPoll = time.Second

// WatchRun streams a run's progress until it finishes or ctx ends; the
// channel closes then. The first snapshot is the run's current state;
// after that, a snapshot is sent whenever the run changes.
func (s *Service) WatchRun(ctx context.Context, a Actor, run string) (<-chan connector.Progress, error) {
	first, err := s.Run(ctx, a, run)
	if err != nil {
		return nil, err
	}
	events, cancel := s.cfg.Engine.Progress().Subscribe(first.PatientID)
	// Read again after subscribing, so that nothing falls between.
	if first, err = s.Run(ctx, a, run); err != nil {
		cancel()
		return nil, err
	}
	out := make(chan connector.Progress, 1)
	go func() {
		defer close(out)
		defer cancel()
		last := first
		send := func(p connector.Progress) bool {
			select {
			case out <- p:
				last = p
				return true
			case <-ctx.Done():
				return false
			}
		}
		if !send(first) || first.Finished() {
			return
		}
		tick := time.NewTicker(runPoll)
		defer tick.Stop()
		for {
			var next connector.Progress
			select {
			case <-ctx.Done():
				return
			case p, ok := <-events:
				if !ok {
					return
				}
				if p.Run != run {
					continue
				}
				next = p
			case <-tick.C:
				var err error
				if next, err = s.Run(ctx, a, run); err != nil {
					return
				}
			}
			if next == last {
				continue
			}
			if !send(next) || next.Finished() {
				return
			}
		}
	}()
	return out, nil
}

// syncLimiter spaces the manual syncs of each patient.
type syncLimiter struct {
	every time.Duration
	mu    sync.Mutex
	last  map[int64]time.Time
}

func newSyncLimiter(every time.Duration) *syncLimiter {
	return &syncLimiter{every: every, last: map[int64]time.Time{}}
}

// take reports how long to wait before the patient may sync again, or
// zero and records a sync now.
func (l *syncLimiter) take(patientID int64, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if wait := l.last[patientID].Add(l.every).Sub(now); wait > 0 {
		return wait
	}
	l.last[patientID] = now
	if len(l.last) > 10000 {
		for id, t := range l.last {
			if now.Sub(t) > l.every {
				delete(l.last, id)
			}
		}
	}
	return 0
}
