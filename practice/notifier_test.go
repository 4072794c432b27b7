package practice_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
	"github.com/healthcare-records/healthcare-records/provider"
	"github.com/healthcare-records/healthcare-records/store"
)

// notifyWorld is a practice with an admin, a dietician and her patient,
// and a Notifier over the harness's store.
type notifyWorld struct {
	*harness
	nf               *practice.Notifier
	admin, dietician practice.User
	patientID        int64
}

func newNotifyWorld(t *testing.T) *notifyWorld {
	h := newHarness(t)
	w := &notifyWorld{harness: h, nf: practice.NewNotifier(practice.NotifierConfig{AlertAfter: 3,
		Support: "mailto:support@practice.example", Logger: quiet, Now: h.clock.Now})}
	w.admin = h.user("admin@practice.example", practice.RoleAdmin)
	w.dietician = h.user("dana@practice.example", practice.RoleDietician)
	w.patientID = h.patient("p1")
	require.NoError(t, h.store.Write(context.Background(), func(tx practice.Tx) error {
		p, err := tx.PracticePatient(context.Background(), w.patientID)
		if err != nil {
			return err
		}
		p.OwnerID = w.dietician.ID
		return tx.SetPatientPractice(context.Background(), p)
	}))
	return w
}

// notify tells the Notifier of each notice, one transaction each, as the
// engine does.
func (w *notifyWorld) notify(notices ...connector.Notice) {
	w.t.Helper()
	for _, n := range notices {
		require.NoError(w.t, w.store.Write(context.Background(), func(tx practice.Tx) error {
			return w.nf.Notify(context.Background(), tx, n)
		}))
	}
}

func (w *notifyWorld) notifications(userID int64) []practice.Notification {
	w.t.Helper()
	var out []practice.Notification
	require.NoError(w.t, w.store.Read(context.Background(), func(tx practice.Tx) (err error) {
		out, err = tx.Notifications(context.Background(), practice.NotificationQuery{UserID: userID})
		return err
	}))
	return out
}

// emailJobs counts the outbox's email jobs, by their River rows.
func (w *notifyWorld) emailJobs() int {
	w.t.Helper()
	db, ok := w.store.Store.(interface {
		SQL(ctx context.Context, fn func(store.Querier) error) error
	})
	require.True(w.t, ok)
	var n int
	require.NoError(w.t, db.SQL(context.Background(), func(q store.Querier) error {
		return q.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'hr_email'`).Scan(&n)
	}))
	return n
}

func TestNotifierCoalescesFailures(t *testing.T) {
	w := newNotifyWorld(t)
	unreachable := fmt.Errorf("fetch: %w", &provider.StatusError{StatusCode: 503})
	for i := range 100 {
		w.notify(connector.FailedNotice{Op: docPull(fmt.Sprint("d", i)), System: "php", Err: unreachable, Attempts: 12,
			PatientID: w.patientID, DocumentID: int64(i + 1)})
	}
	got := w.notifications(w.dietician.ID)
	require.Len(t, got, 1, "100 failures of one patient and cause are one notification")
	n := got[0]
	assert.Equal(t, 100, n.Count)
	assert.Equal(t, practice.KindSyncError, n.Kind)
	assert.Contains(t, n.Body, "Delivery gave up after 12 attempts")
	assert.NotContains(t, n.Body, "DNS", "the dietician gets the plain steps")
	assert.Equal(t, fmt.Sprintf("/patients/%d/sync", w.patientID), n.Links.Retry)
	assert.Equal(t, "mailto:support@practice.example", n.Links.Support)
	assert.Empty(t, w.notifications(w.admin.ID), "a patient's failures are its dietician's")
	assert.Equal(t, 1, w.emailJobs(), "one email for the coalesced notification, in its transaction")

	// Another cause is another notification.
	w.notify(connector.FailedNotice{Op: docPull("x"), System: "php", Err: &provider.StatusError{StatusCode: 403},
		Attempts: 1, PatientID: w.patientID})
	assert.Len(t, w.notifications(w.dietician.ID), 2)

	// Once read, the next failure starts a new one.
	require.NoError(t, w.svc.MarkNotificationRead(context.Background(), actorOf(w.dietician), n.ID))
	w.notify(connector.FailedNotice{Op: docPull("d1"), System: "php", Err: unreachable, Attempts: 12, PatientID: w.patientID})
	assert.Len(t, w.notifications(w.dietician.ID), 3)
}

func actorOf(u practice.User) practice.Actor {
	return practice.Actor{UserID: u.ID, Role: u.Role, PatientID: u.PatientID}
}

func TestNotifierAlertsAndRecovers(t *testing.T) {
	w := newNotifyWorld(t)
	down := connector.AttemptNotice{Kind: "pull", Attempt: 1, Failed: []connector.Failure{
		{Op: docPull("d1"), System: "php", Err: &provider.StatusError{StatusCode: 401}},
		{Op: docPull("d2"), System: "php", Err: &provider.StatusError{StatusCode: 401}},
	}}
	up := connector.AttemptNotice{Kind: "pull", Attempt: 1, OK: []string{"php"}}
	w.notify(down, down)
	assert.Empty(t, w.notifications(w.admin.ID), "two failures running are no alert yet")
	w.notify(down)
	got := w.notifications(w.admin.ID)
	require.Len(t, got, 1, "the third failure alerts")
	assert.Equal(t, practice.KindAlert, got[0].Kind)
	assert.Contains(t, got[0].Body, "SMART client id", "an admin gets the technical steps")
	assert.Contains(t, got[0].Body, "failed 3 times running")
	w.notify(down, down)
	assert.Len(t, w.notifications(w.admin.ID), 1, "one alert per streak")
	w.notify(up)
	got = w.notifications(w.admin.ID)
	require.Len(t, got, 2)
	assert.Equal(t, practice.KindRecovered, got[0].Kind)
	assert.Contains(t, got[0].Body, "after 5 failures")
	w.notify(up, up)
	assert.Len(t, w.notifications(w.admin.ID), 2, "recovered once")
	assert.Empty(t, w.notifications(w.dietician.ID), "alerts are the admins'")
}

func TestNotifierPreferences(t *testing.T) {
	w := newNotifyWorld(t)
	ctx := context.Background()
	dana := actorOf(w.dietician)
	_, err := w.svc.SetNotificationPreferences(ctx, dana, []practice.Preference{{Kind: practice.KindSecurity, Delivery: practice.DeliverOff}})
	assert.ErrorIs(t, err, practice.ErrInvalid, "security notices cannot be turned off")
	_, err = w.svc.SetNotificationPreferences(ctx, dana, []practice.Preference{{Kind: "gossip", Delivery: practice.DeliverOff}})
	assert.ErrorIs(t, err, practice.ErrInvalid, "an unknown kind")
	prefs, err := w.svc.SetNotificationPreferences(ctx, dana, []practice.Preference{
		{Kind: practice.KindWriteBack, Delivery: practice.DeliverOff},
		{Kind: practice.KindChange, Delivery: practice.DeliverHourly},
	})
	require.NoError(t, err)
	require.Len(t, prefs, len(practice.NotificationKinds))
	for _, p := range prefs {
		switch p.Kind {
		case practice.KindWriteBack:
			assert.Equal(t, practice.DeliverOff, p.Delivery)
		case practice.KindChange:
			assert.Equal(t, practice.DeliverHourly, p.Delivery)
		case practice.KindSecurity:
			assert.True(t, p.Fixed)
		default:
			assert.Equal(t, practice.DefaultDelivery(p.Kind), p.Delivery)
		}
	}
	w.notify(connector.WriteBackNotice{PatientID: w.patientID, WriteBack: connector.WriteBack{Status: connector.WriteBackConflict}})
	assert.Empty(t, w.notifications(w.dietician.ID), "a kind turned off tells nothing")

	lab := connector.StoredDocument{ID: 9, PatientID: w.patientID, Document: connector.Document{Type: connector.DocumentLabResult,
		Title: "CBC", ContentHash: "a"}}
	w.notify(connector.DocumentNotice{New: lab})
	got := w.notifications(w.dietician.ID)
	require.Len(t, got, 1)
	assert.Equal(t, practice.DeliverHourly, got[0].Delivery)
	assert.Equal(t, practice.DigestDue(practice.DeliverHourly, w.clock.Now()), got[0].EmailDue, "waits for the digest")
}

func TestNotifierWriteBack(t *testing.T) {
	w := newNotifyWorld(t)
	for _, c := range []struct {
		status   connector.WriteBackStatus
		severity practice.Severity
		retry    bool
	}{
		{connector.WriteBackWritten, practice.SeveritySuccess, false},
		{connector.WriteBackConflict, practice.SeverityWarning, true},
		{connector.WriteBackFailed, practice.SeverityError, true},
	} {
		t.Run(string(c.status), func(t *testing.T) {
			w.notify(connector.WriteBackNotice{PatientID: w.patientID, WriteBack: connector.WriteBack{Status: c.status}})
			n := w.notifications(w.dietician.ID)[0]
			assert.Equal(t, practice.KindWriteBack, n.Kind)
			assert.Equal(t, c.severity, n.Severity)
			if c.retry {
				assert.Equal(t, fmt.Sprintf("/patients/%d/write-back", w.patientID), n.Links.Retry)
				assert.Equal(t, "mailto:support@practice.example", n.Links.Support)
			} else {
				assert.Empty(t, n.Links.Retry)
			}
			require.NoError(t, w.svc.MarkNotificationRead(context.Background(), actorOf(w.dietician), n.ID))
		})
	}
	w.notify(connector.WriteBackNotice{PatientID: w.patientID, WriteBack: connector.WriteBack{Status: connector.WriteBackPending}})
	assert.Len(t, w.notifications(w.dietician.ID), 3, "a pending write-back tells nothing")
}

func TestNotifierSyncFinished(t *testing.T) {
	w := newNotifyWorld(t)
	doc := func(id int64, typ connector.DocumentType) connector.StoredDocument {
		return connector.StoredDocument{ID: id, PatientID: w.patientID, Document: connector.Document{Type: typ, ContentHash: "h"}}
	}
	w.notify(
		connector.DocumentNotice{New: doc(1, connector.DocumentLabResult), Run: "run-1"},
		connector.DocumentNotice{New: doc(2, connector.DocumentLabResult), Run: "run-1"},
		connector.DocumentNotice{New: doc(3, connector.DocumentProgressNote), Run: "run-1"},
		connector.RunNotice{Progress: connector.Progress{Run: "run-1", PatientID: w.patientID, Phase: connector.PhaseDone, Total: 3, Done: 3}},
	)
	var finished []practice.Notification
	for _, n := range w.notifications(w.dietician.ID) {
		if n.Kind == practice.KindSyncFinished {
			finished = append(finished, n)
		}
	}
	require.Len(t, finished, 1)
	assert.Equal(t, "The sync brought 2 new lab results, 1 new note.", finished[0].Body)
	assert.Equal(t, "run-1", finished[0].Links.Run)

	// A routine re-sync that brought nothing tells nothing.
	before := len(w.notifications(w.dietician.ID))
	w.notify(connector.RunNotice{Progress: connector.Progress{Run: "run-2", PatientID: w.patientID, Phase: connector.PhaseDone, Total: 5, Done: 5}})
	assert.Len(t, w.notifications(w.dietician.ID), before)
}

func TestNotifierSignificantChanges(t *testing.T) {
	w := newNotifyWorld(t)
	v := 240.0
	high := connector.StoredObservation{ID: 4, PatientID: w.patientID, Observation: connector.Observation{
		Code: connector.Coding{Code: "2093-3", Display: "Cholesterol"}, Status: connector.ObservationFinal, Value: &v, Unit: "mg/dL",
		Interpretation: "H", Report: connector.Ref{System: "php", Type: "DiagnosticReport", ID: "r1"}}}
	other := high
	other.ID = 5
	w.notify(connector.ObservationNotice{New: high}, connector.ObservationNotice{New: other})
	got := w.notifications(w.dietician.ID)
	require.Len(t, got, 1, "the abnormal values of one report are one notification")
	assert.Equal(t, 2, got[0].Count)
	assert.Equal(t, "Abnormal lab result", got[0].Title)

	old := connector.StoredDocument{ID: 8, PatientID: w.patientID, Document: connector.Document{Type: connector.DocumentLabResult,
		Title: "Lipids", ContentHash: "a", Text: "LDL 130\nHDL 40\n"}}
	amended := old
	amended.ContentHash, amended.Text = "b", "LDL 160\nHDL 40\n"
	w.notify(connector.DocumentNotice{Old: old, New: amended})
	got = w.notifications(w.dietician.ID)
	require.Len(t, got, 2)
	assert.Equal(t, "Document amended", got[0].Title)
	assert.Contains(t, got[0].Body, "1 line added, 1 line removed")
	assert.Equal(t, int64(8), got[0].Links.DocumentID)

	same := amended
	same.Version = "3"
	w.notify(connector.DocumentNotice{Old: amended, New: same})
	assert.Len(t, w.notifications(w.dietician.ID), 2, "a version with the same content tells nothing")

	// A backfill of new results is one notification per type, counting.
	for i := range 50 {
		w.notify(connector.DocumentNotice{New: connector.StoredDocument{ID: int64(100 + i), PatientID: w.patientID,
			Document: connector.Document{Type: connector.DocumentLabResult, Title: "CBC", ContentHash: "h"}}})
	}
	got = w.notifications(w.dietician.ID)
	require.Len(t, got, 3)
	assert.Equal(t, "New lab result", got[0].Title)
	assert.Equal(t, 50, got[0].Count)
}

func TestNotificationsAreTheirUsers(t *testing.T) {
	w := newNotifyWorld(t)
	ctx := context.Background()
	w.notify(connector.WriteBackNotice{PatientID: w.patientID, WriteBack: connector.WriteBack{Status: connector.WriteBackFailed}})
	n := w.notifications(w.dietician.ID)[0]
	err := w.svc.MarkNotificationRead(ctx, actorOf(w.admin), n.ID)
	assert.ErrorIs(t, err, practice.ErrNotFound, "not even an admin marks another's notification")
	list, unread, err := w.svc.Notifications(ctx, actorOf(w.admin), practice.NotificationList{})
	require.NoError(t, err)
	assert.Empty(t, list.Items)
	assert.Zero(t, unread)
	list, unread, err = w.svc.Notifications(ctx, actorOf(w.dietician), practice.NotificationList{UnreadOnly: true})
	require.NoError(t, err)
	assert.Len(t, list.Items, 1)
	assert.Equal(t, 1, unread)
	_, _, err = w.svc.Notifications(ctx, practice.Actor{}, practice.NotificationList{})
	assert.True(t, errors.Is(err, practice.ErrForbidden) || errors.Is(err, practice.ErrUnauthenticated), "anonymous: %v", err)
	n2, err := w.svc.MarkAllNotificationsRead(ctx, actorOf(w.dietician))
	require.NoError(t, err)
	assert.Equal(t, 1, n2)
}

func TestOpenNotification(t *testing.T) {
	w := newNotifyWorld(t)
	ctx := context.Background()
	w.notify(connector.WriteBackNotice{PatientID: w.patientID, WriteBack: connector.WriteBack{Status: connector.WriteBackFailed}})
	n := w.notifications(w.dietician.ID)[0]
	require.True(t, n.Unread())
	_, err := w.svc.OpenNotification(ctx, actorOf(w.admin), n.ID)
	assert.ErrorIs(t, err, practice.ErrNotFound, "another user's notification")
	assert.True(t, w.notifications(w.dietician.ID)[0].Unread(), "left unread by the refused open")
	got, err := w.svc.OpenNotification(ctx, actorOf(w.dietician), n.ID)
	require.NoError(t, err)
	assert.Equal(t, n.ID, got.ID)
	assert.Equal(t, n.Title, got.Title)
	assert.False(t, got.Unread(), "opened is read")
	_, unread, err := w.svc.Notifications(ctx, actorOf(w.dietician), practice.NotificationList{})
	require.NoError(t, err)
	assert.Zero(t, unread)
}
