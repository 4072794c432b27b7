package practice

import (
	"context"
	"fmt"
	"time"
)

// NotificationKind is what a notification tells of; a user's preferences
// are per kind.
type NotificationKind string

// The kinds (see docs/notifications.md, "Kinds").
const (
	// KindInquiry: a prospective patient wrote.
	KindInquiry NotificationKind = "inquiry"
	// KindSyncFinished: a sync run is done, with what it brought.
	KindSyncFinished NotificationKind = "sync_finished"
	// KindSyncError: syncing a patient failed, coalesced per patient and
	// cause, with troubleshooting steps.
	KindSyncError NotificationKind = "sync_error"
	// KindAlert: a source or sink failed N times running; KindRecovered
	// follows once it works again.
	KindAlert     NotificationKind = "alert"
	KindRecovered NotificationKind = "recovered"
	// KindWriteBack: a patient edit was written back to the provider, or
	// conflicted, or failed.
	KindWriteBack NotificationKind = "write_back"
	// KindRequest: a document request was fulfilled, rejected or failed.
	KindRequest NotificationKind = "document_request"
	// KindShared: a document was shared with the recipient.
	KindShared NotificationKind = "shared"
	// KindChange: a significant change to a patient's record (see
	// docs/notifications.md, "Significant changes").
	KindChange NotificationKind = "significant_change"
	// KindSecurity: something about the user's account; it cannot be
	// turned off.
	KindSecurity NotificationKind = "security"
)

// NotificationKinds lists every kind, in the order they are documented.
var NotificationKinds = []NotificationKind{KindInquiry, KindSyncFinished, KindSyncError, KindAlert, KindRecovered,
	KindWriteBack, KindRequest, KindShared, KindChange, KindSecurity}

// Valid reports whether k is one of the kinds.
func (k NotificationKind) Valid() bool {
	for _, v := range NotificationKinds {
		if k == v {
			return true
		}
	}
	return false
}

// Severity ranks a notification.
type Severity string

// The severities.
const (
	SeverityInfo    Severity = "info"
	SeveritySuccess Severity = "success"
	SeverityWarning Severity = "warning"
	SeverityError   Severity = "error"
)

// Links are what a notification points at; zero fields point at nothing.
type Links struct {
	PatientID  int64  `json:"patient_id,omitempty"`
	DocumentID int64  `json:"document_id,omitempty"`
	Run        string `json:"run,omitempty"`
	InquiryID  int64  `json:"inquiry_id,omitempty"`
	// Retry is the API path (under /api/v1) whose POST retries what
	// failed: a write-back, a dead letter.
	Retry string `json:"retry,omitempty"`
	// Support is the practice's support address (mailto:) or URL.
	Support string `json:"support,omitempty"`
}

// Notification is one thing a user is told, in the app and perhaps by
// email.
type Notification struct {
	ID       int64
	UserID   int64
	Kind     NotificationKind
	Severity Severity
	// Title is a short statement with no patient data: it is the subject
	// of the notification's email.
	Title string
	// Body is the in-app text: it may name the patient and carry clinical
	// detail, which only a signed-in user reads.
	Body  string
	Links Links
	// Key coalesces: a notification added with the Key of one of the
	// user's unread notifications updates that one in place instead (its
	// Count grows). Empty never coalesces.
	Key string
	// Count is how many events the notification stands for (at least 1).
	Count int
	// Delivery is how the notification reaches the user, from their
	// preference when it was added.
	Delivery Delivery
	// EmailDue is when a digest is due to carry it; zero when no digest
	// waits for it. EmailedAt is when its email (or digest) was sent.
	EmailDue, EmailedAt  time.Time
	CreatedAt, UpdatedAt time.Time
	ReadAt               time.Time
}

// Unread reports whether the user has not read n.
func (n Notification) Unread() bool { return n.ReadAt.IsZero() }

// Delivery is how a kind of notification reaches a user.
type Delivery string

// The deliveries.
const (
	DeliverInApp  Delivery = "in_app"
	DeliverEmail  Delivery = "email"
	DeliverHourly Delivery = "digest_hourly"
	DeliverDaily  Delivery = "digest_daily"
	DeliverOff    Delivery = "off"
)

// Valid reports whether d is one of the deliveries.
func (d Delivery) Valid() bool {
	switch d {
	case DeliverInApp, DeliverEmail, DeliverHourly, DeliverDaily, DeliverOff:
		return true
	}
	return false
}

// Digest reports whether d gathers notifications into a periodic email.
func (d Delivery) Digest() bool { return d == DeliverHourly || d == DeliverDaily }

// Emails reports whether d sends email at all.
func (d Delivery) Emails() bool { return d == DeliverEmail || d.Digest() }

// FailureStreak counts the failures running of one source or sink, for
// the alert after Config.AlertAfter of them and the recovered notice
// after.
type FailureStreak struct {
	System string
	// Failures counts the failed attempts since the last success.
	Failures int
	// Alerted is set once the alert went out, until a success.
	Alerted bool
	// Cause is the last failure's cause code (see Cause).
	Cause     string
	Since     time.Time
	UpdatedAt time.Time
}

// NotificationQuery selects a user's notifications, newest first.
type NotificationQuery struct {
	UserID     int64
	UnreadOnly bool
	// BeforeID lists notifications with a smaller id.
	BeforeID int64
	// UpdatedSince keeps notifications added or updated at or after it.
	UpdatedSince time.Time
	Limit        int
}

// Email is one email job of the outbox: the email of one notification,
// or a user's digest of several.
type Email struct {
	// UserID is the recipient.
	UserID int64 `json:"user_id"`
	// NotificationID is the notification emailed; zero for a digest.
	NotificationID int64 `json:"notification_id,omitempty"`
	// Digest lists the notifications of a digest.
	Digest []int64 `json:"digest,omitempty"`
}

// NotificationTx is the notifications' part of Tx.
type NotificationTx interface {
	// AddNotification inserts n, or, when n.Key is set and an unread
	// notification of n.UserID has that key, adds n.Count to it and
	// replaces its severity, title, body and links in place. It returns
	// the notification's id and whether it is new.
	AddNotification(ctx context.Context, n Notification) (id int64, fresh bool, err error)
	// Notification returns one notification; ErrNotFound if it is not
	// userID's.
	Notification(ctx context.Context, userID, id int64) (Notification, error)
	// Notifications lists the notifications q selects, newest first.
	Notifications(ctx context.Context, q NotificationQuery) ([]Notification, error)
	// UnreadNotifications counts a user's unread notifications.
	UnreadNotifications(ctx context.Context, userID int64) (int, error)
	// MarkNotificationRead sets the read time of the user's notification
	// if it is unread; ErrNotFound if it is not userID's.
	MarkNotificationRead(ctx context.Context, userID, id int64, at time.Time) error
	// MarkAllNotificationsRead marks every unread notification of the
	// user read and returns how many it marked.
	MarkAllNotificationsRead(ctx context.Context, userID int64, at time.Time) (int, error)
	// SetNotificationEmailed records that the notifications' email (or
	// digest) was sent at `at`, and that no digest waits for them.
	SetNotificationEmailed(ctx context.Context, ids []int64, at time.Time) error
	// DueDigests lists up to limit notifications whose digest is due at
	// now and not yet sent, by user then id.
	DueDigests(ctx context.Context, now time.Time, limit int) ([]Notification, error)
	// ClearDigest takes the notifications out of the digests to come.
	ClearDigest(ctx context.Context, ids []int64) error

	// NotificationPreferences returns the user's deliveries per kind, for
	// the kinds they chose; the others take DefaultDelivery.
	NotificationPreferences(ctx context.Context, userID int64) (map[NotificationKind]Delivery, error)
	// SetNotificationPreference saves a user's delivery of one kind.
	SetNotificationPreference(ctx context.Context, userID int64, kind NotificationKind, d Delivery) error

	// FailureStreak returns a system's streak; the zero streak (with
	// System set) when it has none.
	FailureStreak(ctx context.Context, system string) (FailureStreak, error)
	// SaveFailureStreak saves s, by its System.
	SaveFailureStreak(ctx context.Context, s FailureStreak) error

	// CountRunChange counts one new or updated record of a sync run for
	// the patient: what (a document type, "updated", "observation").
	CountRunChange(ctx context.Context, run string, patientID int64, what string) error
	// TakeRunChanges returns the counts of a run for the patient and
	// forgets them.
	TakeRunChanges(ctx context.Context, run string, patientID int64) (map[string]int, error)

	// EnqueueEmail inserts the outbox job that sends e, to run once the
	// transaction commits; a job for the same notification (or digest)
	// already queued is not added again.
	EnqueueEmail(ctx context.Context, e Email) error
}

// NotificationList selects the actor's notifications.
type NotificationList struct {
	UnreadOnly bool
	Cursor     string
	Limit      int
}

// Notifications lists the actor's own notifications, newest first, with
// how many are unread.
func (s *Service) Notifications(ctx context.Context, a Actor, in NotificationList) (List[Notification], int, error) {
	if err := s.check(ctx, a, ActionListNotifications, Resource{UserID: a.UserID}, 0); err != nil {
		return List[Notification]{}, 0, err
	}
	c, err := parseCursor(in.Cursor)
	if err != nil {
		return List[Notification]{}, 0, err
	}
	limit, err := limitOf(in.Limit)
	if err != nil {
		return List[Notification]{}, 0, err
	}
	var (
		found  []Notification
		unread int
	)
	err = s.cfg.Store.Read(ctx, func(tx Tx) (err error) {
		found, err = tx.Notifications(ctx, NotificationQuery{UserID: a.UserID, UnreadOnly: in.UnreadOnly, BeforeID: c.ID, Limit: limit + 1})
		if err != nil {
			return err
		}
		unread, err = tx.UnreadNotifications(ctx, a.UserID)
		return err
	})
	if err != nil {
		return List[Notification]{}, 0, fmt.Errorf("list notifications: %w", err)
	}
	return keysetPage(found, limit, func(n Notification) int64 { return n.ID }), unread, nil
}

// MarkNotificationRead marks one of the actor's notifications read. A
// notification of another user is not found.
func (s *Service) MarkNotificationRead(ctx context.Context, a Actor, id int64) error {
	if err := s.check(ctx, a, ActionReadNotification, Resource{UserID: a.UserID}, 0); err != nil {
		return err
	}
	err := s.cfg.Store.Write(ctx, func(tx Tx) error { return tx.MarkNotificationRead(ctx, a.UserID, id, s.now()) })
	if err != nil {
		return fmt.Errorf("mark notification %d read: %w", id, err)
	}
	return nil
}

// MarkAllNotificationsRead marks every notification of the actor read and
// returns how many were unread.
func (s *Service) MarkAllNotificationsRead(ctx context.Context, a Actor) (int, error) {
	if err := s.check(ctx, a, ActionReadNotification, Resource{UserID: a.UserID}, 0); err != nil {
		return 0, err
	}
	var n int
	err := s.cfg.Store.Write(ctx, func(tx Tx) (err error) {
		n, err = tx.MarkAllNotificationsRead(ctx, a.UserID, s.now())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("mark notifications read: %w", err)
	}
	return n, nil
}

// Preference is a user's delivery of one kind.
type Preference struct {
	Kind     NotificationKind
	Delivery Delivery
	// Fixed marks a kind that cannot be turned off.
	Fixed bool
}

// NotificationPreferences returns the actor's delivery of every kind.
func (s *Service) NotificationPreferences(ctx context.Context, a Actor) ([]Preference, error) {
	if err := s.check(ctx, a, ActionReadPreferences, Resource{UserID: a.UserID}, 0); err != nil {
		return nil, err
	}
	var chosen map[NotificationKind]Delivery
	err := s.cfg.Store.Read(ctx, func(tx Tx) (err error) {
		chosen, err = tx.NotificationPreferences(ctx, a.UserID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("notification preferences: %w", err)
	}
	return preferencesOf(chosen), nil
}

// SetNotificationPreferences saves the actor's deliveries of the kinds
// given and returns every kind's. Security notices cannot be turned off.
func (s *Service) SetNotificationPreferences(ctx context.Context, a Actor, in []Preference) ([]Preference, error) {
	if err := s.check(ctx, a, ActionUpdatePreferences, Resource{UserID: a.UserID}, 0); err != nil {
		return nil, err
	}
	for i, p := range in {
		field := fmt.Sprintf("preferences[%d]", i)
		switch {
		case !p.Kind.Valid():
			return nil, invalid(field+".kind", "is not a kind of notification")
		case !p.Delivery.Valid():
			return nil, invalid(field+".delivery", "must be one of in_app, email, digest_hourly, digest_daily, off")
		case p.Kind == KindSecurity && p.Delivery == DeliverOff:
			return nil, invalid(field+".delivery", "security notices cannot be turned off")
		}
	}
	var chosen map[NotificationKind]Delivery
	err := s.cfg.Store.Write(ctx, func(tx Tx) (err error) {
		for _, p := range in {
			if err := tx.SetNotificationPreference(ctx, a.UserID, p.Kind, p.Delivery); err != nil {
				return err
			}
		}
		chosen, err = tx.NotificationPreferences(ctx, a.UserID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("set notification preferences: %w", err)
	}
	return preferencesOf(chosen), nil
}

func preferencesOf(chosen map[NotificationKind]Delivery) []Preference {
	out := make([]Preference, 0, len(NotificationKinds))
	for _, k := range NotificationKinds {
		d, ok := chosen[k]
		if !ok {
			d = DefaultDelivery(k)
		}
		out = append(out, Preference{Kind: k, Delivery: d, Fixed: k == KindSecurity})
	}
	return out
}

// DefaultDelivery is a kind's delivery for a user who did not choose:
// what needs acting on is emailed, the rest stays in the app.
func DefaultDelivery(k NotificationKind) Delivery {
	switch k {
	case KindInquiry, KindAlert, KindSecurity, KindSyncError:
		return DeliverEmail
	case KindChange:
		return DeliverDaily
	}
	return DeliverInApp
}

// NotificationEvent is one event of a user's notification stream: a
// notification added or updated in place, or only the unread count.
type NotificationEvent struct {
	// Notification is nil for an event that tells the count only.
	Notification *Notification
	Unread       int
}

// notificationPoll is how often a stream looks for new notifications:
// they are read from the store, so that a stream sees what every server
// process added.
const notificationPoll = time.Second

// WatchNotifications streams the actor's notifications as they are added
// or updated, after an event with the unread count, until ctx ends; the
// channel closes then.
func (s *Service) WatchNotifications(ctx context.Context, a Actor) (<-chan NotificationEvent, error) {
	if err := s.check(ctx, a, ActionListNotifications, Resource{UserID: a.UserID}, 0); err != nil {
		return nil, err
	}
	since := s.now()
	unread := -1
	seen := map[int64]time.Time{} // what was sent of the notifications updated at since
	poll := func() ([]NotificationEvent, error) {
		var (
			found []Notification
			count int
		)
		err := s.cfg.Store.Read(ctx, func(tx Tx) (err error) {
			found, err = tx.Notifications(ctx, NotificationQuery{UserID: a.UserID, UpdatedSince: since, Limit: MaxLimit})
			if err != nil {
				return err
			}
			count, err = tx.UnreadNotifications(ctx, a.UserID)
			return err
		})
		if err != nil {
			return nil, err
		}
		var out []NotificationEvent
		for i := len(found) - 1; i >= 0; i-- { // oldest first
			n := found[i]
			if at, ok := seen[n.ID]; ok && !n.UpdatedAt.After(at) {
				continue
			}
			if n.UpdatedAt.After(since) {
				since, seen = n.UpdatedAt, map[int64]time.Time{}
			}
			seen[n.ID] = n.UpdatedAt
			out = append(out, NotificationEvent{Notification: &n, Unread: count})
		}
		if len(out) == 0 && count != unread {
			out = append(out, NotificationEvent{Unread: count})
		}
		unread = count
		return out, nil
	}
	ch := make(chan NotificationEvent, 16)
	go func() {
		defer close(ch)
		tick := time.NewTicker(notificationPoll)
		defer tick.Stop()
		for {
			events, err := poll()
			if err != nil {
				if ctx.Err() == nil {
					s.log.WarnContext(ctx, "notification stream", "user", a.UserID, "err", err)
				}
				return
			}
			for _, ev := range events {
				select {
				case ch <- ev:
				case <-ctx.Done():
					return
				}
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}
