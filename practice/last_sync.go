package practice

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/healthcare-records/healthcare-records/connector"
)

// LastSyncs returns the newest sync-log entry of each of the patients, by
// patient id, in one read: what a list of patients shows beside each. A
// patient without entries, or whose log the actor may not read, is left
// out rather than failing the whole list. At most MaxLimit ids.
func (s *Service) LastSyncs(ctx context.Context, a Actor, patientIDs []int64) (map[int64]connector.LogEntry, error) {
	if len(patientIDs) > MaxLimit {
		return nil, invalid("patients", "at most %d at once", MaxLimit)
	}
	out := make(map[int64]connector.LogEntry, len(patientIDs))
	err := s.cfg.Store.Read(ctx, func(tx Tx) error {
		for _, id := range patientIDs {
			r, err := s.patientAccess(ctx, tx, a, id)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if Can(a, ActionListLogs, r) != nil {
				continue
			}
			entries, err := tx.Logs(ctx, LogQuery{PatientIDs: []int64{id}, Limit: 1})
			if err != nil {
				return err
			}
			if len(entries) > 0 {
				out[id] = entries[0]
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("last syncs: %w", err)
	}
	s.record(ctx, a, ActionListLogs, OutcomeSuccess, 0, 0, "", "last entry of "+strconv.Itoa(len(out))+" patients")
	return out, nil
}
