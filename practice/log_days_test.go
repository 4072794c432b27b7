package practice_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

func TestLogsPerDay(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.user("admin@example.com", practice.RoleAdmin)
	admin, err := h.svc.Authenticate(ctx, practice.Client{Addr: "192.0.2.1"}, h.login("admin@example.com").Access)
	require.NoError(t, err)
	mine, other := h.patient("p-1"), h.patient("p-2")
	day1 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var entries []connector.LogEntry
	// Many entries on the first day: more than any page of Logs holds.
	for i := range 600 {
		entries = append(entries, connector.LogEntry{PatientID: mine, Action: connector.ActionPoll, Status: connector.StatusSuccess,
			Timestamp: day1.Add(time.Duration(i) * time.Second)})
	}
	entries = append(entries,
		connector.LogEntry{PatientID: mine, Action: connector.ActionWebhook, Status: connector.StatusError, Timestamp: day1.Add(25 * time.Hour)},
		connector.LogEntry{PatientID: other, Action: connector.ActionWebhook, Status: connector.StatusSkipped, Timestamp: day1.Add(49 * time.Hour)},
		// Outside the range.
		connector.LogEntry{PatientID: mine, Action: connector.ActionPoll, Status: connector.StatusSuccess, Timestamp: day1.Add(-time.Minute)},
		connector.LogEntry{PatientID: mine, Action: connector.ActionPoll, Status: connector.StatusSuccess, Timestamp: day1.Add(96 * time.Hour)},
	)
	require.NoError(t, h.store.Write(ctx, func(tx practice.Tx) error {
		for _, e := range entries {
			if err := tx.AppendLog(ctx, e); err != nil {
				return err
			}
		}
		return nil
	}))
	counts := func(days []practice.LogDay) []map[connector.Status]int {
		var out []map[connector.Status]int
		for _, d := range days {
			out = append(out, d.Counts)
		}
		return out
	}

	to := day1.AddDate(0, 0, 4)
	days, err := h.svc.LogsPerDay(ctx, admin, practice.LogList{From: day1.Add(3 * time.Hour), To: to})
	require.NoError(t, err)
	require.Len(t, days, 4, "every day of the range, the empty ones too")
	assert.Equal(t, day1, days[0].Day)
	assert.Equal(t, day1.AddDate(0, 0, 3), days[3].Day)
	assert.Equal(t, []map[connector.Status]int{
		{connector.StatusSuccess: 600}, {connector.StatusError: 1}, {connector.StatusSkipped: 1}, {},
	}, counts(days))

	days, err = h.svc.LogsPerDay(ctx, admin, practice.LogList{PatientID: mine, Action: connector.ActionWebhook, From: day1, To: to})
	require.NoError(t, err)
	assert.Equal(t, []map[connector.Status]int{{}, {connector.StatusError: 1}, {}, {}}, counts(days), "the filters of Logs apply")

	for _, tc := range []struct {
		name string
		in   practice.LogList
	}{
		{"no from", practice.LogList{To: to}},
		{"no to", practice.LogList{From: day1}},
		{"backwards", practice.LogList{From: to, To: day1}},
		{"too long", practice.LogList{From: day1, To: day1.AddDate(2, 0, 0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.svc.LogsPerDay(ctx, admin, tc.in)
			assert.ErrorIs(t, err, practice.ErrInvalid)
		})
	}

	h.user("pat@example.com", practice.RolePractitioner)
	pr, err := h.svc.Authenticate(ctx, practice.Client{Addr: "192.0.2.1"}, h.login("pat@example.com").Access)
	require.NoError(t, err)
	_, err = h.svc.LogsPerDay(ctx, pr, practice.LogList{From: day1, To: to})
	assert.True(t, errors.Is(err, practice.ErrForbidden) || errors.Is(err, practice.ErrNotFound), "a practitioner has no sync log: %v", err)
}
