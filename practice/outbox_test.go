package practice_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/mail"
	"github.com/healthcare-records/healthcare-records/practice"
	"github.com/healthcare-records/healthcare-records/provider"
	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
)

// fakeSender records what it sends and fails the first `fail` sends, as
// an SMTP server that is down for a while. It stands in for the real
// SMTP sender only where a test is about the outbox's own logic; the
// SMTP conversation is the mail package's to test.
type fakeSender struct {
	mu     sync.Mutex
	fail   int
	err    error
	calls  int
	sent   []mail.Message
	notify chan struct{}
}

func newFakeSender(fail int) *fakeSender {
	return &fakeSender{fail: fail, err: errors.New("dial tcp 127.0.0.1:25: connection refused"), notify: make(chan struct{}, 100)}
}

func (s *fakeSender) Send(_ context.Context, m mail.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.calls <= s.fail {
		return s.err
	}
	s.sent = append(s.sent, m)
	s.notify <- struct{}{}
	return nil
}

func (s *fakeSender) messages() []mail.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mail.Message(nil), s.sent...)
}

// waitSent waits until n messages were sent.
func (s *fakeSender) waitSent(t *testing.T, n int) []mail.Message {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for len(s.messages()) < n {
		select {
		case <-s.notify:
		case <-deadline:
			t.Fatalf("%d of %d messages sent", len(s.messages()), n)
		}
	}
	return s.messages()
}

// outboxWorld is a started store whose email jobs the Outbox sends
// through sender, with a Notifier, an admin and a dietician's patient.
type outboxWorld struct {
	st        *sqlite.Store
	nf        *practice.Notifier
	ob        *practice.Outbox
	clock     *clock
	sender    *fakeSender
	admin     practice.User
	dietician practice.User
	patientID int64
}

func newOutboxWorld(t *testing.T, sender *fakeSender, names bool) *outboxWorld {
	t.Helper()
	ctx := context.Background()
	w := &outboxWorld{clock: &clock{t: start}, sender: sender}
	var err error
	w.st, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "hr.db"), store.Config{Logger: quiet,
		FetchPollInterval: 20 * time.Millisecond,
		Email:             func(ctx context.Context, e practice.Email) error { return w.ob.Send(ctx, e) }})
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

// TestOutboxRetriesUntilSent: while the mail server refuses, the email job
// is retried; once it takes the message, it is sent once, and a job run
// again sends nothing more.
func TestOutboxRetriesUntilSent(t *testing.T) {
	sender := newFakeSender(3)
	w := newOutboxWorld(t, sender, false)
	// Write-back failures are in-app by default: ask for email.
	_, err := w.writeBackPref(t, practice.DeliverEmail)
	require.NoError(t, err)
	n := w.writeBackFailed(t)
	got := sender.waitSent(t, 1)
	m := got[0]
	assert.Equal(t, fmt.Sprintf("notification-%d@records.practice.example", n.ID), m.MessageID, "stable per notification")
	assert.Equal(t, "dietician@practice.example", m.To)
	assert.Equal(t, "[Green Clinic] Edit not written to the provider", m.Subject)
	link := fmt.Sprintf("https://records.practice.example/console/notifications/%d", n.ID)
	assert.Contains(t, m.Text, link)
	assert.Contains(t, m.HTML, `href="`+link+`"`)
	for _, part := range []string{m.Subject, m.Text, m.HTML} {
		assert.NotContains(t, part, "Zelda", "no patient name by default")
		assert.NotContains(t, part, "500", "no detail of the record")
	}
	sender.mu.Lock()
	assert.Equal(t, 4, sender.calls, "three refusals, then sent")
	sender.mu.Unlock()

	// Once the send is recorded, the same job run again sends nothing.
	require.Eventually(t, func() bool {
		var got practice.Notification
		require.NoError(t, w.st.Read(context.Background(), func(tx practice.Tx) (err error) {
			got, err = tx.Notification(context.Background(), w.dietician.ID, n.ID)
			return err
		}))
		return !got.EmailedAt.IsZero()
	}, 10*time.Second, 10*time.Millisecond, "the send is recorded")
	require.NoError(t, w.ob.Send(context.Background(), practice.Email{UserID: w.dietician.ID, NotificationID: n.ID}))
	time.Sleep(300 * time.Millisecond)
	assert.Len(t, sender.messages(), 1, "exactly one email per notification")
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
	sender := newFakeSender(0)
	w := newOutboxWorld(t, sender, true)
	_, err := w.writeBackPref(t, practice.DeliverEmail)
	require.NoError(t, err)
	w.writeBackFailed(t)
	m := sender.waitSent(t, 1)[0]
	assert.Contains(t, m.Text, "Patient: Zelda Quince", "opted in: the name in the body")
	assert.Contains(t, m.HTML, "Patient: Zelda Quince")
	assert.NotContains(t, m.Subject, "Zelda", "never in the subject")
}

func TestOutboxRejected(t *testing.T) {
	sender := newFakeSender(1000)
	sender.err = fmt.Errorf("550 no such user: %w", mail.ErrRejected)
	w := newOutboxWorld(t, sender, false)
	_, err := w.writeBackPref(t, practice.DeliverInApp)
	require.NoError(t, err)
	n := w.writeBackFailed(t)
	err = w.ob.Send(context.Background(), practice.Email{UserID: w.dietician.ID, NotificationID: n.ID})
	assert.True(t, connector.IsPermanent(err), "a rejected message is not retried: %v", err)
}

func TestOutboxDigest(t *testing.T) {
	sender := newFakeSender(0)
	w := newOutboxWorld(t, sender, false)
	_, err := w.writeBackPref(t, practice.DeliverHourly)
	require.NoError(t, err)
	w.writeBackFailed(t)
	w.notify(t, connector.WriteBackNotice{PatientID: w.patientID, WriteBack: connector.WriteBack{Status: connector.WriteBackWritten}})
	require.NoError(t, w.ob.Digests(context.Background()))
	time.Sleep(200 * time.Millisecond)
	assert.Empty(t, sender.messages(), "nothing is due before the hour")

	w.clock.Advance(time.Hour)
	require.NoError(t, w.ob.Digests(context.Background()))
	m := sender.waitSent(t, 1)[0]
	assert.Equal(t, "[Green Clinic] 1 new notification", m.Subject, "the write-back's notice is coalesced in place")
	assert.Contains(t, m.MessageID, fmt.Sprintf("digest-%d-", w.dietician.ID))
	require.NoError(t, w.ob.Digests(context.Background()))
	time.Sleep(300 * time.Millisecond)
	assert.Len(t, sender.messages(), 1, "a digest is sent once")
}

// TestOutboxAlertEmailed: an alert is emailed to the admins by default,
// without the technical detail that is in the app.
func TestOutboxAlertEmailed(t *testing.T) {
	sender := newFakeSender(0)
	w := newOutboxWorld(t, sender, false)
	down := connector.AttemptNotice{Kind: "pull", Attempt: 1, Failed: []connector.Failure{
		{Op: connector.PullOp{Ref: connector.Ref{System: "php", Type: "DocumentReference", ID: "d1"}}, System: "php",
			Err: &provider.StatusError{StatusCode: 401}}}}
	for range 3 {
		w.notify(t, down)
	}
	m := sender.waitSent(t, 1)[0]
	assert.Equal(t, "admin@practice.example", m.To)
	assert.Equal(t, "[Green Clinic] Sync error: the provider refused our credentials", m.Subject)
	assert.NotContains(t, m.Text, "SMART", "the steps are in the app, behind sign-in")
}

// TestOutboxInquiryLink: an inquiry's email leads to the new-patient page
// prefilled from it.
func TestOutboxInquiryLink(t *testing.T) {
	sender := newFakeSender(0)
	w := newOutboxWorld(t, sender, false)
	require.NoError(t, w.st.Write(context.Background(), func(tx practice.Tx) error {
		return w.nf.Deliver(context.Background(), tx, practice.Notification{UserID: w.dietician.ID, Kind: practice.KindInquiry,
			Severity: practice.SeverityInfo, Title: "A prospective patient wrote", Links: practice.Links{InquiryID: 12}})
	}))
	m := sender.waitSent(t, 1)[0]
	assert.Contains(t, m.Text, "https://records.practice.example/console/patients/new?inquiry=12")
	assert.Contains(t, m.HTML, `href="https://records.practice.example/console/patients/new?inquiry=12"`)
}
