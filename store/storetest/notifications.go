package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/practice"
)

// testNotifications: notifications coalesce while unread, list newest
// first by user, are read only by their user; preferences, failure
// streaks, run counts and digests round-trip.
func testNotifications(t *testing.T, s PracticeStore) {
	ctx := context.Background()
	alice := addUser(t, s, "alice@example.org", practice.RoleDietician)
	bob := addUser(t, s, "bob@example.org", practice.RoleDietician)
	failure := practice.Notification{UserID: alice, Kind: practice.KindSyncError, Severity: practice.SeverityError,
		Title: "Sync error", Body: "first", Key: "sync_error:patient:1:php:unreachable", Delivery: practice.DeliverEmail,
		Links: practice.Links{PatientID: 1, Retry: "/patients/1/sync"}, CreatedAt: atMinute(1)}

	var first, again, other int64
	write(t, s, func(tx practice.Tx) error {
		var fresh bool
		var err error
		first, fresh, err = tx.AddNotification(ctx, failure)
		require.NoError(t, err)
		assert.True(t, fresh)
		next := failure
		next.Body, next.UpdatedAt = "second", atMinute(2)
		again, fresh, err = tx.AddNotification(ctx, next)
		require.NoError(t, err)
		assert.False(t, fresh, "an unread notification of the key counts the next")
		assert.Equal(t, first, again)
		bobs := failure
		bobs.UserID = bob
		other, fresh, err = tx.AddNotification(ctx, bobs)
		require.NoError(t, err)
		assert.True(t, fresh, "keys coalesce per user")
		return nil
	})
	read(t, s, func(tx practice.Tx) error {
		n, err := tx.Notification(ctx, alice, first)
		require.NoError(t, err)
		assert.Equal(t, 2, n.Count)
		assert.Equal(t, "second", n.Body, "updated in place")
		assert.Equal(t, failure.Links, n.Links)
		assert.Equal(t, practice.DeliverEmail, n.Delivery)
		assert.Equal(t, atMinute(1), n.CreatedAt)
		assert.Equal(t, atMinute(2), n.UpdatedAt)
		assert.True(t, n.Unread())
		_, err = tx.Notification(ctx, bob, first)
		assert.ErrorIs(t, err, practice.ErrNotFound, "another user's notification is not found")
		return nil
	})

	// Once read, the key starts a new notification.
	write(t, s, func(tx practice.Tx) error {
		assert.ErrorIs(t, tx.MarkNotificationRead(ctx, bob, first, atMinute(3)), practice.ErrNotFound,
			"nobody marks another's notification")
		require.NoError(t, tx.MarkNotificationRead(ctx, alice, first, atMinute(3)))
		id, fresh, err := tx.AddNotification(ctx, failure)
		require.NoError(t, err)
		assert.True(t, fresh)
		assert.Greater(t, id, first)
		_, _, err = tx.AddNotification(ctx, practice.Notification{UserID: alice, Kind: practice.KindShared,
			Severity: practice.SeverityInfo, Title: "shared", Delivery: practice.DeliverInApp})
		return err
	})
	read(t, s, func(tx practice.Tx) error {
		all, err := tx.Notifications(ctx, practice.NotificationQuery{UserID: alice})
		require.NoError(t, err)
		require.Len(t, all, 3)
		assert.Greater(t, all[0].ID, all[1].ID, "newest first")
		unread, err := tx.Notifications(ctx, practice.NotificationQuery{UserID: alice, UnreadOnly: true})
		require.NoError(t, err)
		assert.Len(t, unread, 2)
		page, err := tx.Notifications(ctx, practice.NotificationQuery{UserID: alice, BeforeID: all[0].ID, Limit: 1})
		require.NoError(t, err)
		require.Len(t, page, 1)
		assert.Equal(t, all[1].ID, page[0].ID)
		n, err := tx.UnreadNotifications(ctx, alice)
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		return nil
	})
	write(t, s, func(tx practice.Tx) error {
		n, err := tx.MarkAllNotificationsRead(ctx, alice, atMinute(4))
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		left, err := tx.UnreadNotifications(ctx, bob)
		require.NoError(t, err)
		assert.Equal(t, 1, left, "marking all read is the user's own")
		_ = other
		return nil
	})

	// Preferences.
	write(t, s, func(tx practice.Tx) error {
		require.NoError(t, tx.SetNotificationPreference(ctx, alice, practice.KindChange, practice.DeliverHourly))
		require.NoError(t, tx.SetNotificationPreference(ctx, alice, practice.KindChange, practice.DeliverOff))
		require.NoError(t, tx.SetNotificationPreference(ctx, alice, practice.KindSyncFinished, practice.DeliverEmail))
		p, err := tx.NotificationPreferences(ctx, alice)
		require.NoError(t, err)
		assert.Equal(t, map[practice.NotificationKind]practice.Delivery{
			practice.KindChange: practice.DeliverOff, practice.KindSyncFinished: practice.DeliverEmail}, p)
		p, err = tx.NotificationPreferences(ctx, bob)
		require.NoError(t, err)
		assert.Empty(t, p)
		return nil
	})

	// Failure streaks.
	write(t, s, func(tx practice.Tx) error {
		st, err := tx.FailureStreak(ctx, "php")
		require.NoError(t, err)
		assert.Equal(t, practice.FailureStreak{System: "php"}, st, "no streak yet")
		want := practice.FailureStreak{System: "php", Failures: 3, Alerted: true, Cause: "unreachable",
			Since: atMinute(1), UpdatedAt: atMinute(5)}
		require.NoError(t, tx.SaveFailureStreak(ctx, want))
		got, err := tx.FailureStreak(ctx, "php")
		require.NoError(t, err)
		assert.Equal(t, want, got)
		require.NoError(t, tx.SaveFailureStreak(ctx, practice.FailureStreak{System: "php", UpdatedAt: atMinute(6)}))
		got, err = tx.FailureStreak(ctx, "php")
		require.NoError(t, err)
		assert.Equal(t, practice.FailureStreak{System: "php", UpdatedAt: atMinute(6)}, got)
		return nil
	})

	// Run counts are taken once.
	write(t, s, func(tx practice.Tx) error {
		for _, what := range []string{"lab_result", "lab_result", "updated"} {
			require.NoError(t, tx.CountRunChange(ctx, "run-1", 7, what))
		}
		require.NoError(t, tx.CountRunChange(ctx, "run-1", 8, "lab_result"))
		got, err := tx.TakeRunChanges(ctx, "run-1", 7)
		require.NoError(t, err)
		assert.Equal(t, map[string]int{"lab_result": 2, "updated": 1}, got)
		got, err = tx.TakeRunChanges(ctx, "run-1", 7)
		require.NoError(t, err)
		assert.Empty(t, got)
		got, err = tx.TakeRunChanges(ctx, "run-1", 8)
		require.NoError(t, err)
		assert.Equal(t, map[string]int{"lab_result": 1}, got)
		return nil
	})

	// Digests: due ones by user, sent once.
	write(t, s, func(tx practice.Tx) error {
		var ids []int64
		for i, due := range []time.Time{at(10, 9), at(10, 10), at(11, 0)} {
			id, _, err := tx.AddNotification(ctx, practice.Notification{UserID: bob, Kind: practice.KindChange,
				Severity: practice.SeverityInfo, Title: "change", Body: string(rune('a' + i)),
				Delivery: practice.DeliverHourly, EmailDue: due})
			require.NoError(t, err)
			ids = append(ids, id)
		}
		due, err := tx.DueDigests(ctx, at(10, 10), 100)
		require.NoError(t, err)
		require.Len(t, due, 2, "due at or before now")
		assert.Equal(t, ids[:2], []int64{due[0].ID, due[1].ID})
		require.NoError(t, tx.ClearDigest(ctx, ids[:1]))
		require.NoError(t, tx.SetNotificationEmailed(ctx, ids[1:2], at(10, 10)))
		due, err = tx.DueDigests(ctx, at(12, 0), 100)
		require.NoError(t, err)
		require.Len(t, due, 1)
		assert.Equal(t, ids[2], due[0].ID)
		n, err := tx.Notification(ctx, bob, ids[1])
		require.NoError(t, err)
		assert.Equal(t, at(10, 10), n.EmailedAt)
		assert.True(t, n.EmailDue.IsZero())
		return nil
	})

	// An email cannot be enqueued in a read.
	err := s.Read(ctx, func(tx practice.Tx) error {
		return tx.EnqueueEmail(ctx, practice.Email{UserID: alice, NotificationID: first})
	})
	assert.Error(t, err, "a read inserts no job")
}

// hookNotifier records what the engine tells it and writes a row in the
// transaction it is given, failing the first document notice: what the
// suite needs to see that a notice rides its event's transaction.
type hookNotifier struct {
	mu      sync.Mutex
	user    int64
	failed  bool
	notices []connector.Notice
}

func (n *hookNotifier) Notify(ctx context.Context, tx connector.Tx, notice connector.Notice) error {
	ptx, ok := tx.(practice.Tx)
	if !ok {
		return fmt.Errorf("the engine's transaction %T is no practice.Tx", tx)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	d, isDoc := notice.(connector.DocumentNotice)
	if isDoc && !n.failed {
		n.failed = true
		return errors.New("notifier down for a moment")
	}
	if isDoc {
		_, _, err := ptx.AddNotification(ctx, practice.Notification{UserID: n.user, Kind: practice.KindChange,
			Severity: practice.SeverityInfo, Title: "kept", Key: "doc:" + d.New.Ref.String(), Delivery: practice.DeliverInApp})
		if err != nil {
			return err
		}
	}
	n.notices = append(n.notices, notice)
	return nil
}

func (n *hookNotifier) count(match func(connector.Notice) bool) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := 0
	for _, x := range n.notices {
		if match(x) {
			c++
		}
	}
	return c
}

// testNotifierHook: the engine's Notifier is called with the store's
// transaction, as a practice.Tx, inside the transactions that record
// what it tells; its error rolls the event back, and the retry tells it
// again. A re-sync of unchanged documents tells nothing.
func testNotifierHook(t *testing.T, open Opener) {
	ctx := context.Background()
	rec := &hookNotifier{}
	h := startWith(t, open, connectortest.SourceConfig{}, func(c *connector.Config) { c.Notifier = rec })
	s, ok := h.store.(PracticeStore)
	require.True(t, ok, "%T is not a PracticeStore", h.store)
	rec.user = addUser(t, s, "hook@example.org", practice.RoleDietician)
	patients, err := h.src.Fill(1, 3)
	require.NoError(t, err)
	h.enroll(t, patients)

	isDoc := func(n connector.Notice) bool { _, ok := n.(connector.DocumentNotice); return ok }
	assert.Equal(t, 3, rec.count(isDoc), "each document kept once, its failed notice rolled back and told again")
	var kept []practice.Notification
	read(t, s, func(tx practice.Tx) (err error) {
		kept, err = tx.Notifications(ctx, practice.NotificationQuery{UserID: rec.user})
		return err
	})
	assert.Len(t, kept, 3, "what the notifier wrote committed with each document")
	assert.GreaterOrEqual(t, rec.count(func(n connector.Notice) bool { _, ok := n.(connector.RunNotice); return ok }), 1,
		"the run done is told")
	assert.GreaterOrEqual(t, rec.count(func(n connector.Notice) bool {
		a, ok := n.(connector.AttemptNotice)
		return ok && len(a.Failed) > 0
	}), 1, "the failed attempt is told")

	// A re-sync of unchanged documents keeps nothing and tells of no document.
	_, err = h.engine.Sync(ctx, "php", patients[0].Ref.ID, connector.ActionManualSync, true)
	require.NoError(t, err)
	WaitIdle(t, h.store, 30*time.Second, nil)
	assert.Equal(t, 3, rec.count(isDoc))
}
