package practice

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// auditLog appends audit entries in batches: a request hands its entry
// over and goes on, and one transaction writes what accumulated, so that
// auditing every read costs a request no commit of its own. An entry is
// kept until written: a failed batch is tried again, and a full queue
// makes callers wait rather than drop. Flush waits for what was handed
// over; Close writes the rest and stops.
type auditLog struct {
	s       *Service
	queue   chan AuditEntry
	mu      sync.Mutex
	cond    *sync.Cond
	handed  uint64
	written uint64
	stop    chan struct{}
	done    chan struct{}
}

const (
	auditQueue = 4096
	auditBatch = 256
	// auditLinger is how long a batch waits for company.
	auditLinger = 20 * time.Millisecond
)

func newAuditLog(s *Service) *auditLog {
	l := &auditLog{s: s, queue: make(chan AuditEntry, auditQueue), stop: make(chan struct{}), done: make(chan struct{})}
	l.cond = sync.NewCond(&l.mu)
	go l.run()
	return l
}

// audit hands e to the audit log.
func (s *Service) audit(ctx context.Context, e AuditEntry) {
	if e.At.IsZero() {
		e.At = s.cfg.Now().UTC()
	}
	l := s.auditLog
	l.mu.Lock()
	l.handed++
	l.mu.Unlock()
	select {
	case l.queue <- e:
	case <-l.done:
		// Closed: write it at once rather than lose it.
		l.write(context.WithoutCancel(ctx), []AuditEntry{e})
	}
}

// FlushAudit waits until every audit entry handed over so far is written,
// or ctx ends.
func (s *Service) FlushAudit(ctx context.Context) error {
	l := s.auditLog
	l.mu.Lock()
	target := l.handed
	l.mu.Unlock()
	stop := context.AfterFunc(ctx, func() {
		l.mu.Lock()
		l.cond.Broadcast()
		l.mu.Unlock()
	})
	defer stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.written < target && ctx.Err() == nil {
		l.cond.Wait()
	}
	return ctx.Err()
}

// close writes the entries still queued and stops the writer.
func (l *auditLog) close() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	<-l.done
}

func (l *auditLog) run() {
	defer close(l.done)
	batch := make([]AuditEntry, 0, auditBatch)
	for {
		select {
		case e := <-l.queue:
			batch = append(batch, e)
		case <-l.stop:
			l.write(context.Background(), l.drain(batch))
			return
		}
		linger := time.NewTimer(auditLinger)
	fill:
		for len(batch) < auditBatch {
			select {
			case e := <-l.queue:
				batch = append(batch, e)
			case <-linger.C:
				break fill
			case <-l.stop:
				break fill
			}
		}
		linger.Stop()
		l.write(context.Background(), batch)
		batch = batch[:0]
	}
}

// drain adds what is queued to batch, without waiting.
func (l *auditLog) drain(batch []AuditEntry) []AuditEntry {
	for {
		select {
		case e := <-l.queue:
			batch = append(batch, e)
		default:
			return batch
		}
	}
}

// write appends entries, trying again until it succeeds or the writer is
// stopping and has tried for a while: the audit log is never dropped
// silently.
func (l *auditLog) write(ctx context.Context, entries []AuditEntry) {
	if len(entries) == 0 {
		return
	}
	delay := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := l.s.cfg.Store.Write(ctx, func(tx Tx) error { return tx.AppendAudit(ctx, entries...) })
		if err == nil {
			break
		}
		l.s.log.ErrorContext(ctx, "audit append failed; retrying", "entries", len(entries), "attempt", attempt, "err", err)
		stopping := false
		select {
		case <-l.stop:
			stopping = true
		default:
		}
		if stopping && attempt >= 5 {
			l.s.log.ErrorContext(ctx, "audit entries lost at shutdown", "entries", len(entries), "err", err)
			break
		}
		time.Sleep(delay)
		delay = min(2*delay, 5*time.Second)
	}
	l.mu.Lock()
	l.written += uint64(len(entries))
	l.cond.Broadcast()
	l.mu.Unlock()
}

// record audits an action of a on a record.
func (s *Service) record(ctx context.Context, a Actor, act Action, out Outcome, patientID, documentID int64, target, detail string) {
	s.audit(ctx, AuditEntry{
		ActorID: a.UserID, ActorRole: a.Role, Action: act, Outcome: out,
		PatientID: patientID, DocumentID: documentID, Target: target,
		ClientAddr: a.ClientAddr, RequestID: a.RequestID, Detail: detail,
	})
}

// AuditList selects audit entries.
type AuditList struct {
	ActorID    int64
	PatientID  int64
	DocumentID int64
	Action     Action
	Outcome    Outcome
	From, To   time.Time
	Cursor     string
	Limit      int
}

// Audit lists the audit log, newest first (admins only). Reading it is
// audited too.
func (s *Service) Audit(ctx context.Context, a Actor, in AuditList) (List[AuditEntry], error) {
	if err := s.check(ctx, a, ActionReadAudit, Resource{}, 0); err != nil {
		return List[AuditEntry]{}, err
	}
	if err := checkRange("from", in.From, in.To); err != nil {
		return List[AuditEntry]{}, err
	}
	c, err := parseCursor(in.Cursor)
	if err != nil {
		return List[AuditEntry]{}, err
	}
	limit, err := limitOf(in.Limit)
	if err != nil {
		return List[AuditEntry]{}, err
	}
	var entries []AuditEntry
	err = s.cfg.Store.Read(ctx, func(tx Tx) (err error) {
		entries, err = tx.Audit(ctx, AuditQuery{ActorID: in.ActorID, PatientID: in.PatientID, DocumentID: in.DocumentID,
			Action: in.Action, Outcome: in.Outcome, From: in.From, To: in.To, BeforeID: c.ID, Limit: limit + 1})
		return err
	})
	if err != nil {
		return List[AuditEntry]{}, fmt.Errorf("read audit log: %w", err)
	}
	s.record(ctx, a, ActionReadAudit, OutcomeSuccess, in.PatientID, in.DocumentID, "", "")
	return keysetPage(entries, limit, func(e AuditEntry) int64 { return e.ID }), nil
}
