package practice

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
)

// LogList selects sync-log entries: of one patient, or of every patient
// the actor may see.
type LogList struct {
	PatientID int64
	Action    connector.Action
	Status    connector.Status
	From, To  time.Time
	Text      string
	Cursor    string
	Limit     int
}

// Logs lists sync-log entries, newest first.
func (s *Service) Logs(ctx context.Context, a Actor, in LogList) (List[connector.LogEntry], error) {
	if err := checkRange("from", in.From, in.To); err != nil {
		return List[connector.LogEntry]{}, err
	}
	if err := checkText("q", in.Text, maxName, true); err != nil {
		return List[connector.LogEntry]{}, err
	}
	c, err := parseCursor(in.Cursor)
	if err != nil {
		return List[connector.LogEntry]{}, err
	}
	limit, err := limitOf(in.Limit)
	if err != nil {
		return List[connector.LogEntry]{}, err
	}
	q := LogQuery{Action: in.Action, Status: in.Status, From: in.From, To: in.To, Text: in.Text, BeforeID: c.ID, Limit: limit + 1}
	var entries []connector.LogEntry
	err = s.cfg.Store.Read(ctx, func(tx Tx) error {
		if err := s.logScope(ctx, tx, a, in.PatientID, &q); err != nil {
			return err
		}
		var err error
		entries, err = tx.Logs(ctx, q)
		return err
	})
	if err != nil {
		return List[connector.LogEntry]{}, fmt.Errorf("list sync log: %w", err)
	}
	s.record(ctx, a, ActionListLogs, OutcomeSuccess, in.PatientID, 0, "", "")
	return keysetPage(entries, limit, func(e connector.LogEntry) int64 { return e.ID }), nil
}

// logScope checks that a may list the log of patient id (or, for 0,
// across a's patients) and narrows q to it.
func (s *Service) logScope(ctx context.Context, tx Tx, a Actor, id int64, q *LogQuery) error {
	if id != 0 {
		r, err := s.patientAccess(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := s.check(ctx, a, ActionListLogs, r, 0); err != nil {
			return err
		}
		q.PatientIDs = []int64{id}
		return nil
	}
	if err := s.check(ctx, a, ActionListAllLogs, Resource{}, 0); err != nil {
		return err
	}
	if a.Role == RoleDietician {
		q.OwnerID = a.UserID
	}
	return nil
}

// Log returns one sync-log entry.
func (s *Service) Log(ctx context.Context, a Actor, id int64) (connector.LogEntry, error) {
	var e connector.LogEntry
	err := s.cfg.Store.Read(ctx, func(tx Tx) error {
		var err error
		if e, err = tx.Log(ctx, id); err != nil {
			return err
		}
		var r Resource
		if e.PatientID != 0 {
			if r, err = s.patientAccess(ctx, tx, a, e.PatientID); err != nil {
				return err
			}
		} else if a.Role != RoleAdmin {
			// An entry of no patient (an ignored event, a source-wide
			// run) is the operators'.
			return ErrNotFound
		}
		return s.check(ctx, a, ActionReadLog, r, e.DocumentID)
	})
	if err != nil {
		return connector.LogEntry{}, fmt.Errorf("sync log entry %d: %w", id, err)
	}
	s.record(ctx, a, ActionReadLog, OutcomeSuccess, e.PatientID, e.DocumentID, "", "")
	return e, nil
}
