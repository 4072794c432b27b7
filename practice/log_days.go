package practice

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
)

// LogDay counts the sync-log entries of one day (UTC) by status.
type LogDay struct {
	// Day is the day's midnight, UTC.
	Day    time.Time
	Counts map[connector.Status]int
}

// MaxLogDays bounds the range LogsPerDay counts.
const MaxLogDays = 366

// LogsPerDay counts the sync-log entries of each day from in.From's day
// up to in.To's day, excluded, by status, under the filters of Logs
// (in.Cursor and in.Limit do not apply). Both ends are required and at
// most MaxLogDays apart; every day of the range is in the result, oldest
// first, days with no entry with empty counts. The store counts them in
// one query (Tx.CountLogs): no entry is read out.
func (s *Service) LogsPerDay(ctx context.Context, a Actor, in LogList) ([]LogDay, error) {
	from, to := day(in.From), day(in.To)
	switch {
	case in.From.IsZero():
		return nil, invalid("from", "is required")
	case in.To.IsZero():
		return nil, invalid("to", "is required")
	case !to.After(from):
		return nil, invalid("from", "ends before it starts: 'to' must be after 'from'")
	case to.Sub(from) > MaxLogDays*24*time.Hour:
		return nil, invalid("to", "is more than %d days after 'from'", MaxLogDays)
	}
	if err := checkText("q", in.Text, maxName, true); err != nil {
		return nil, err
	}
	var bounds []time.Time
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		bounds = append(bounds, d)
	}
	q := LogQuery{Action: in.Action, Status: in.Status, Text: in.Text}
	var counts []map[connector.Status]int
	err := s.cfg.Store.Read(ctx, func(tx Tx) error {
		if err := s.logScope(ctx, tx, a, in.PatientID, &q); err != nil {
			return err
		}
		var err error
		counts, err = tx.CountLogs(ctx, q, bounds)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("count sync log per day: %w", err)
	}
	days := make([]LogDay, len(counts))
	for i, c := range counts {
		days[i] = LogDay{Day: bounds[i], Counts: c}
	}
	s.record(ctx, a, ActionListLogs, OutcomeSuccess, in.PatientID, 0, "", fmt.Sprintf("per day, %d days", len(days)))
	return days, nil
}

// day is t's day, as midnight UTC.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
