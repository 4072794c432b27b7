package practice_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/mail"
	"github.com/healthcare-records/healthcare-records/mail/mailtest"
	"github.com/healthcare-records/healthcare-records/practice"
	"github.com/healthcare-records/healthcare-records/provider"
	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
)

// outboxWorld is a started store whose email jobs the Outbox sends
// through mail.SMTP to an SMTP server on loopback (mail/mailtest), with a
// Notifier, an admin and a dietician's patient. No sender is faked: each
// test reads what the server received, parsed from the MIME it was sent.
type outboxWorld struct {
	st        *sqlite.Store
	nf        *practice.Notifier
	ob        *practice.Outbox
	clock     *clock
	smtp      *mailtest.Server
	admin     practice.User
	dietician practice.User
	patientID int64
	// failed counts the email jobs' runs that failed.
	failed atomic.Int64
}

func newOutboxWorld(t *testing.T, names bool) *outboxWorld {
	t.Helper()
	ctx := context.Background()
	w := &outboxWorld{clock: &clock{t: start}}
	var err error
	w.smtp, err = mailtest.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = w.smtp.Close() })
	sender, err := mail.NewSMTP(mail.SMTPConfig{URL: w.smtp.URL(), From: "notifications@practice.example",
		FromName: "Green Clinic", Timeout: 5 * time.Second, Logger: quiet})
	require.NoError(t, err)
	w.st, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "hr.db"), store.Config{Logger: quiet,
		FetchPollInterval: 20 * time.Millisecond,
		Email: func(ctx context.Context, e practice.Email) error {
			err := w.ob.Send(ctx, e)
			if err != nil {
				w.failed.Add(1)
			}
			return err
		}})
	require.NoError(t, err)
	t.Cleanup(func() { w.st.Close() })
	w.ob, err = practice.NewOutbox(practice.OutboxConfig{Store: w.st, Sender: sender, BaseURL: "https://records.practice.example/",
		PracticeName: "Green Clinic", NamesInEmail: names, Logger: quiet, Now: w.clock.Now})
	require.NoError(t, err)
	w.nf = practice.NewNotifier(practice.NotifierConfig{Logger: quiet, Now: w.clock.Now})
	src := connectortest.NewSource(connectortest.SourceConfig{Name: "php"})
	eng, err := connector.New(connector.Config{Store: w.st, Sources: map[string]connector.Source{"php": src}, Logger: quiet,
		Retry: connector.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond}})
	require.NoError(t, err)
	require.NoError(t, w.st.Start(ctx, eng))
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = w.st.Stop(stop)
	})
	for _, u := range []*practice.User{&w.admin, &w.dietician} {
		role := practice.RoleAdmin
		if u == &w.dietician {
			role = practice.RoleDietician
		}
		*u, err = practice.Bootstrap(ctx, w.st, practice.NewUser{Email: string(role) + "@practice.example", Name: "Pat " + string(role),
			Role: role, Password: password}, w.clock.Now())
		require.NoError(t, err)
	}
	require.NoError(t, w.st.Write(ctx, func(tx practice.Tx) error {
		id, err := tx.SavePatient(ctx, connector.StoredPatient{Patient: connector.Patient{Name: "Zelda Quince",
			Ref: connector.Ref{System: "php", Type: connector.PatientType, ID: "p1"}}})
		if err != nil {
			return err
		}
		w.patientID = id
		p, err := tx.PracticePatient(ctx, id)
		if err != nil {
			return err
		}
		p.OwnerID = w.dietician.ID
		return tx.SetPatientPractice(ctx, p)
	}))
	return w
}

func (w *outboxWorld) notify(t *testing.T, n connector.Notice) {
	t.Helper()
	require.NoError(t, w.st.Write(context.Background(), func(tx practice.Tx) error { return w.nf.Notify(context.Background(), tx, n) }))
}

func (w *outboxWorld) writeBackFailed(t *testing.T) practice.Notification {
	t.Helper()
	w.notify(t, connector.WriteBackNotice{PatientID: w.patientID, WriteBack: connector.WriteBack{Status: connector.WriteBackFailed,
		Detail: "writing the edit to php failed: 500"}})
	var ns []practice.Notification
	require.NoError(t, w.st.Read(context.Background(), func(tx practice.Tx) (err error) {
		ns, err = tx.Notifications(context.Background(), practice.NotificationQuery{UserID: w.dietician.ID})
		return err
	}))
	require.NotEmpty(t, ns)
	return ns[0]
}

// received waits until the SMTP server received n messages.
func (w *outboxWorld) received(t *testing.T, n int) []mailtest.Received {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got, err := w.smtp.Wait(ctx, n)
	require.NoError(t, err)
	return got
}

// emailed reports whether the outbox recorded notification id as sent.
func (w *outboxWorld) emailed(t *testing.T, id int64) bool {
	var n practice.Notification
	require.NoError(t, w.st.Read(context.Background(), func(tx practice.Tx) (err error) {
		n, err = tx.Notification(context.Background(), w.dietician.ID, id)
		return err
	}))
	return !n.EmailedAt.IsZero()
}

// TestOutboxRetriesUntilSent: while the mail server is down, the email job
// is retried; once it is back, the message arrives once, as MIME with a
// text and an HTML alternative that link to the notification and name no
// patient, and a job run again sends nothing more.
func TestOutboxRetriesUntilSent(t *testing.T) {
	w := newOutboxWorld(t, false)
	require.NoError(t, w.smtp.Down())
	// Write-back failures are in-app by default: ask for email.
	_, err := w.writeBackPref(t, practice.DeliverEmail)
	require.NoError(t, err)
	n := w.writeBackFailed(t)
	require.Eventually(t, func() bool { return w.failed.Load() >= 3 }, 20*time.Second, 10*time.Millisecond,
		"the job is retried while the server is down")
	assert.Empty(t, w.smtp.Messages())

	require.NoError(t, w.smtp.Up())
	m := w.received(t, 1)[0]
	id := fmt.Sprintf("notification-%d@records.practice.example", n.ID)
	assert.Equal(t, id, m.MessageID, "stable per notification")
	assert.Equal(t, []string{"dietician@practice.example"}, m.To, "the envelope's recipient")
	require.Len(t, m.Parsed.To, 1)
	assert.Equal(t, "dietician@practice.example", m.Parsed.To[0].Address)
	require.NotNil(t, m.Parsed.From)
	assert.Equal(t, "Green Clinic", m.Parsed.From.Name, "the practice's name as From's display name")
	assert.Equal(t, "notifications@practice.example", m.Parsed.From.Address)
	assert.Equal(t, "[Green Clinic] Edit not written to the provider", m.Subject)
	assert.True(t, strings.HasPrefix(m.Header.Get("Content-Type"), "multipart/alternative"), m.Header.Get("Content-Type"))
	link := fmt.Sprintf("https://records.practice.example/console/notifications/%d", n.ID)
	assert.Contains(t, m.Text, link)
	assert.Contains(t, m.Text, "Hello Pat dietician,")
	assert.Contains(t, m.HTML, `href="`+link+`"`)
	for _, part := range []string{m.Subject, m.Text, m.HTML} {
		assert.NotContains(t, part, "Zelda", "no patient name by default")
		assert.NotContains(t, part, "500", "no detail of the record")
	}
	assert.NotContains(t, string(m.Raw), "Zelda")

	// Once the send is recorded, the same job run again sends nothing.
	require.Eventually(t, func() bool { return w.emailed(t, n.ID) }, 10*time.Second, 10*time.Millisecond, "the send is recorded")
	require.NoError(t, w.ob.Send(context.Background(), practice.Email{UserID: w.dietician.ID, NotificationID: n.ID}))
	time.Sleep(300 * time.Millisecond)
	assert.Len(t, w.smtp.WithMessageID(id), 1, "exactly one email per notification")
	assert.Len(t, w.smtp.Messages(), 1)
}

func (w *outboxWorld) writeBackPref(t *testing.T, d practice.Delivery) ([]practice.Preference, error) {
	t.Helper()
	svc, err := practice.New(practice.Config{Store: w.st, Engine: mustEngine(t, w.st), Provider: "php",
		ProviderSource: connectortest.NewSource(connectortest.SourceConfig{Name: "php"}), Logger: quiet, Now: w.clock.Now})
	require.NoError(t, err)
	t.Cleanup(func() { svc.Close() })
	return svc.SetNotificationPreferences(context.Background(), practice.Actor{UserID: w.dietician.ID, Role: practice.RoleDietician},
		[]practice.Preference{{Kind: practice.KindWriteBack, Delivery: d}})
}

func mustEngine(t *testing.T, st connector.Store) *connector.Engine {
	t.Helper()
	e, err := connector.New(connector.Config{Store: st, Sources: map[string]connector.Source{
		"php": connectortest.NewSource(connectortest.SourceConfig{Name: "php"})}, Logger: quiet})
	require.NoError(t, err)
	return e
}

func TestOutboxNamesOptIn(t *testing.T) {
	w := newOutboxWorld(t, true)
	_, err := w.writeBackPref(t, practice.DeliverEmail)
	require.NoError(t, err)
	w.writeBackFailed(t)
	m := w.received(t, 1)[0]
	assert.Contains(t, m.Text, "Patient: Zelda Quince", "opted in: the name in the body")
	assert.Contains(t, m.HTML, "Patient: Zelda Quince")
	assert.NotContains(t, m.Subject, "Zelda", "never in the subject")
	assert.NotContains(t, m.Header.Get("Subject"), "Zelda")
}

// TestOutboxRejected: a message the server refuses for good (550) makes
// the email job a dead letter at once, listed like any other.
func TestOutboxRejected(t *testing.T) {
	w := newOutboxWorld(t, false)
	w.smtp.Refuse(550, "5.1.1 no such user")
	_, err := w.writeBackPref(t, practice.DeliverEmail)
	require.NoError(t, err)
	n := w.writeBackFailed(t)
	var dead []store.DeadLetter
	require.Eventually(t, func() bool {
		dead, err = w.st.DeadLetters(context.Background(), 10)
		require.NoError(t, err)
		return len(dead) > 0
	}, 20*time.Second, 20*time.Millisecond, "the refused email is a dead letter")
	require.Len(t, dead, 1)
	assert.Equal(t, "hr_email", dead[0].Kind)
	assert.Equal(t, store.QueueEmail, dead[0].Queue)
	assert.Equal(t, "cancelled", dead[0].State, "not retried")
	assert.Equal(t, 1, dead[0].Attempts)
	assert.Contains(t, dead[0].Error, "reply 550")
	assert.False(t, w.emailed(t, n.ID))
	err = w.ob.Send(context.Background(), practice.Email{UserID: w.dietician.ID, NotificationID: n.ID})
	assert.True(t, connector.IsPermanent(err), "a rejected message is not retried: %v", err)
	assert.ErrorIs(t, err, mail.ErrRejected)
	assert.Empty(t, w.smtp.Messages())
}

func TestOutboxDigest(t *testing.T) {
	w := newOutboxWorld(t, false)
	_, err := w.writeBackPref(t, practice.DeliverHourly)
	require.NoError(t, err)
	w.writeBackFailed(t)
	w.notify(t, connector.WriteBackNotice{PatientID: w.patientID, WriteBack: connector.WriteBack{Status: connector.WriteBackWritten}})
	require.NoError(t, w.ob.Digests(context.Background()))
	time.Sleep(200 * time.Millisecond)
	assert.Empty(t, w.smtp.Messages(), "nothing is due before the hour")

	w.clock.Advance(time.Hour)
	require.NoError(t, w.ob.Digests(context.Background()))
	m := w.received(t, 1)[0]
	assert.Equal(t, "[Green Clinic] 1 new notification", m.Subject, "the write-back's notice is coalesced in place")
	assert.Contains(t, m.MessageID, fmt.Sprintf("digest-%d-", w.dietician.ID))
	assert.Contains(t, m.Text, "Here is your digest of notifications.")
	assert.Contains(t, m.HTML, "Here is your digest of notifications.")
	require.NoError(t, w.ob.Digests(context.Background()))
	time.Sleep(300 * time.Millisecond)
	assert.Len(t, w.smtp.Messages(), 1, "a digest is sent once")
}

// TestOutboxAlertEmailed: an alert is emailed to the admins by default,
// without the technical detail that is in the app.
func TestOutboxAlertEmailed(t *testing.T) {
	w := newOutboxWorld(t, false)
	down := connector.AttemptNotice{Kind: "pull", Attempt: 1, Failed: []connector.Failure{
		{Op: connector.PullOp{Ref: connector.Ref{System: "php", Type: "DocumentReference", ID: "d1"}}, System: "php",
			Err: &provider.StatusError{StatusCode: 401}}}}
	for range 3 {
		w.notify(t, down)
	}
	m := w.received(t, 1)[0]
	assert.Equal(t, []string{"admin@practice.example"}, m.To)
	assert.Equal(t, "[Green Clinic] Sync error: the provider refused our credentials", m.Subject)
	assert.NotContains(t, m.Text, "SMART", "the steps are in the app, behind sign-in")
	assert.NotContains(t, m.HTML, "SMART")
}

// TestOutboxInquiryLink: an inquiry's email leads to the new-patient page
// prefilled from it.
func TestOutboxInquiryLink(t *testing.T) {
	w := newOutboxWorld(t, false)
	require.NoError(t, w.st.Write(context.Background(), func(tx practice.Tx) error {
		return w.nf.Deliver(context.Background(), tx, practice.Notification{UserID: w.dietician.ID, Kind: practice.KindInquiry,
			Severity: practice.SeverityInfo, Title: "A prospective patient wrote", Links: practice.Links{InquiryID: 12}})
	}))
	m := w.received(t, 1)[0]
	assert.Equal(t, "[Green Clinic] A prospective patient wrote", m.Subject)
	assert.Contains(t, m.Text, "https://records.practice.example/console/patients/new?inquiry=12")
	assert.Contains(t, m.HTML, `href="https://records.practice.example/console/patients/new?inquiry=12"`)
}
