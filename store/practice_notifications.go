package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

// The practice.NotificationTx methods: notifications (coalesced by the
// partial unique index notifications_coalesce), preferences, failure
// streaks, run counts, and the email outbox's River jobs.

const notificationColumns = `id, user_id, kind, severity, title, body, links, coalesce_key, event_count, delivery,
	email_due_at, emailed_at, created_at, updated_at, read_at`

func scanNotification(r Row) (practice.Notification, error) {
	var (
		n                                      practice.Notification
		kind, severity, links, key, delivery   nullString
		due, emailed, created, updated, readAt nullTime
	)
	err := r.Scan(&n.ID, &n.UserID, &kind, &severity, &n.Title, &n.Body, &links, &key, &n.Count, &delivery,
		&due, &emailed, &created, &updated, &readAt)
	if err != nil {
		return n, err
	}
	if links != "" {
		if err := json.Unmarshal([]byte(links), &n.Links); err != nil {
			return n, fmt.Errorf("notification %d links: %w", n.ID, err)
		}
	}
	n.Kind, n.Severity, n.Key = practice.NotificationKind(kind), practice.Severity(severity), string(key)
	n.Delivery, n.EmailDue, n.EmailedAt = practice.Delivery(delivery), due.Time, emailed.Time
	n.CreatedAt, n.UpdatedAt, n.ReadAt = created.Time, updated.Time, readAt.Time
	return n, nil
}

func (t *tx) AddNotification(ctx context.Context, n practice.Notification) (int64, bool, error) {
	links, err := json.Marshal(n.Links)
	if err != nil {
		return 0, false, err
	}
	if n.Count <= 0 {
		n.Count = 1
	}
	if n.CreatedAt.IsZero() {
		n.CreatedAt = t.now()
	}
	if n.UpdatedAt.IsZero() {
		n.UpdatedAt = n.CreatedAt
	}
	var id int64
	if n.Key != "" {
		err := t.q.QueryRow(ctx, `UPDATE notifications SET event_count = event_count + $3, severity = $4, title = $5,
				body = $6, links = $7, updated_at = $8
			WHERE user_id = $1 AND coalesce_key = $2 AND read_at IS NULL RETURNING id`,
			n.UserID, n.Key, n.Count, string(n.Severity), n.Title, n.Body, string(links), n.UpdatedAt.UTC()).Scan(&id)
		if err == nil {
			return id, false, nil
		}
		if !errors.Is(err, ErrNoRows) {
			return 0, false, err
		}
	}
	err = t.q.QueryRow(ctx, `INSERT INTO notifications (user_id, kind, severity, title, body, links, coalesce_key,
			event_count, delivery, email_due_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
		n.UserID, string(n.Kind), string(n.Severity), n.Title, n.Body, string(links), nullText(n.Key), n.Count,
		string(n.Delivery), timeArg(n.EmailDue), n.CreatedAt.UTC(), n.UpdatedAt.UTC()).Scan(&id)
	if err != nil {
		return 0, false, conflict(err, "notification")
	}
	return id, true, nil
}

func (t *tx) Notification(ctx context.Context, userID, id int64) (practice.Notification, error) {
	n, err := scanNotification(t.q.QueryRow(ctx, `SELECT `+notificationColumns+` FROM notifications
		WHERE id = $1 AND user_id = $2`, id, userID))
	return n, notFound(err, fmt.Sprintf("notification %d", id))
}

func (t *tx) Notifications(ctx context.Context, q practice.NotificationQuery) ([]practice.Notification, error) {
	var p params
	conds := []string{"user_id = " + p.add(q.UserID)}
	if q.UnreadOnly {
		conds = append(conds, "read_at IS NULL")
	}
	if q.BeforeID > 0 {
		conds = append(conds, "id < "+p.add(q.BeforeID))
	}
	if !q.UpdatedSince.IsZero() {
		conds = append(conds, "updated_at >= "+p.add(q.UpdatedSince.UTC()))
	}
	rows, err := t.q.Query(ctx, `SELECT `+notificationColumns+` FROM notifications`+where(conds)+
		` ORDER BY id DESC LIMIT `+p.add(listLimit(q.Limit)), p...)
	out, err := scanAll(rows, err, scanNotification)
	if err != nil {
		return nil, fmt.Errorf("store: list notifications: %w", err)
	}
	return out, nil
}

func (t *tx) UnreadNotifications(ctx context.Context, userID int64) (int, error) {
	var n int
	err := t.q.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL`, userID).Scan(&n)
	return n, err
}

func (t *tx) MarkNotificationRead(ctx context.Context, userID, id int64, at time.Time) error {
	n, err := t.q.Exec(ctx, `UPDATE notifications SET read_at = COALESCE(read_at, $3) WHERE id = $1 AND user_id = $2`,
		id, userID, at.UTC())
	if err == nil && n == 0 {
		err = fmt.Errorf("notification %d: %w", id, practice.ErrNotFound)
	}
	return err
}

func (t *tx) MarkAllNotificationsRead(ctx context.Context, userID int64, at time.Time) (int, error) {
	n, err := t.q.Exec(ctx, `UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL`, userID, at.UTC())
	return int(n), err
}

func (t *tx) SetNotificationEmailed(ctx context.Context, ids []int64, at time.Time) error {
	var p params
	_, err := t.q.Exec(ctx, `UPDATE notifications SET emailed_at = `+p.add(at.UTC())+`, email_due_at = NULL WHERE `+
		p.in("id", ids), p...)
	return err
}

func (t *tx) DueDigests(ctx context.Context, now time.Time, limit int) ([]practice.Notification, error) {
	rows, err := t.q.Query(ctx, `SELECT `+notificationColumns+` FROM notifications
		WHERE email_due_at IS NOT NULL AND email_due_at <= $1 AND emailed_at IS NULL ORDER BY user_id, id LIMIT $2`,
		now.UTC(), listLimit(limit))
	return scanAll(rows, err, scanNotification)
}

func (t *tx) ClearDigest(ctx context.Context, ids []int64) error {
	var p params
	_, err := t.q.Exec(ctx, `UPDATE notifications SET email_due_at = NULL WHERE `+p.in("id", ids), p...)
	return err
}

func (t *tx) NotificationPreferences(ctx context.Context, userID int64) (map[practice.NotificationKind]practice.Delivery, error) {
	rows, err := t.q.Query(ctx, `SELECT kind, delivery FROM notification_preferences WHERE user_id = $1`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[practice.NotificationKind]practice.Delivery{}
	for rows.Next() {
		var k, d string
		if err := rows.Scan(&k, &d); err != nil {
			return nil, err
		}
		out[practice.NotificationKind(k)] = practice.Delivery(d)
	}
	return out, rows.Err()
}

func (t *tx) SetNotificationPreference(ctx context.Context, userID int64, kind practice.NotificationKind, d practice.Delivery) error {
	_, err := t.q.Exec(ctx, `INSERT INTO notification_preferences (user_id, kind, delivery) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, kind) DO UPDATE SET delivery = excluded.delivery`, userID, string(kind), string(d))
	return err
}

func (t *tx) FailureStreak(ctx context.Context, system string) (practice.FailureStreak, error) {
	s := practice.FailureStreak{System: system}
	var (
		cause          nullString
		since, updated nullTime
	)
	err := t.q.QueryRow(ctx, `SELECT failures, alerted, cause, since, updated_at FROM failure_streaks WHERE system = $1`,
		system).Scan(&s.Failures, &s.Alerted, &cause, &since, &updated)
	if errors.Is(err, ErrNoRows) {
		return s, nil
	}
	s.Cause, s.Since, s.UpdatedAt = string(cause), since.Time, updated.Time
	return s, err
}

func (t *tx) SaveFailureStreak(ctx context.Context, s practice.FailureStreak) error {
	at := s.UpdatedAt
	if at.IsZero() {
		at = t.now()
	}
	_, err := t.q.Exec(ctx, `INSERT INTO failure_streaks (system, failures, alerted, cause, since, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (system) DO UPDATE SET failures = excluded.failures, alerted = excluded.alerted,
			cause = excluded.cause, since = excluded.since, updated_at = excluded.updated_at`,
		s.System, s.Failures, s.Alerted, nullText(s.Cause), timeArg(s.Since), at.UTC())
	return err
}

func (t *tx) CountRunChange(ctx context.Context, run string, patientID int64, what string) error {
	_, err := t.q.Exec(ctx, `INSERT INTO notification_run_changes (run, patient_id, what, n) VALUES ($1, $2, $3, 1)
		ON CONFLICT (run, patient_id, what) DO UPDATE SET n = notification_run_changes.n + 1`, run, patientID, what)
	return err
}

func (t *tx) TakeRunChanges(ctx context.Context, run string, patientID int64) (map[string]int, error) {
	rows, err := t.q.Query(ctx, `SELECT what, n FROM notification_run_changes WHERE run = $1 AND patient_id = $2`, run, patientID)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for rows.Next() {
		var (
			what string
			n    int
		)
		if err := rows.Scan(&what, &n); err != nil {
			rows.Close()
			return nil, err
		}
		out[what] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) > 0 {
		_, err = t.q.Exec(ctx, `DELETE FROM notification_run_changes WHERE run = $1 AND patient_id = $2`, run, patientID)
	}
	return out, err
}

func (t *tx) EnqueueEmail(_ context.Context, e practice.Email) error {
	if e.UserID == 0 || (e.NotificationID == 0) == (len(e.Digest) == 0) {
		return fmt.Errorf("%w: an email names no notification", practice.ErrInvalid)
	}
	if t.readOnly {
		return errors.New("store: an email enqueued in a read-only transaction")
	}
	t.emails = append(t.emails, e)
	return nil
}

// QueueEmail is the queue of the notifications' email jobs: a mail server
// that is down holds up nothing else.
const QueueEmail = "hr_email"

// emailAttempts spans about a day of backoff at the engine's default
// (up to ten minutes between attempts), so that a mail server down for
// hours still gets each email once it is back.
const emailAttempts = 150

// emailArgs is the River job of one email of the outbox.
type emailArgs struct {
	practice.Email
}

// Kind implements river.JobArgs.
func (emailArgs) Kind() string { return "hr_email" }

// emailParams are the River insert of the emails a transaction queued,
// each unique by its arguments: a notification is emailed by one job.
func emailParams(emails []practice.Email) []river.InsertManyParams {
	out := make([]river.InsertManyParams, 0, len(emails))
	for _, e := range emails {
		out = append(out, river.InsertManyParams{Args: emailArgs{e}, InsertOpts: &river.InsertOpts{
			Queue: QueueEmail, MaxAttempts: emailAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}})
	}
	return out
}

// emailWorker sends an email of the outbox through Config.Email.
type emailWorker[TTx any] struct {
	river.WorkerDefaults[emailArgs]
	s *Store[TTx]
}

func (w *emailWorker[TTx]) Work(ctx context.Context, j *river.Job[emailArgs]) error {
	send := w.s.cfg.Email
	if send == nil {
		return errors.New("store: no email sender configured (Config.Email)")
	}
	err := send(ctx, j.Args.Email)
	if err != nil && connector.IsPermanent(err) {
		return river.JobCancel(err)
	}
	return err
}
