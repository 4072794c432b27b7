package console_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/console"
	"github.com/healthcare-records/healthcare-records/mail"
	"github.com/healthcare-records/healthcare-records/mail/mailtest"
	"github.com/healthcare-records/healthcare-records/practice"
	"github.com/healthcare-records/healthcare-records/present"
	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
)

// world is the console on loopback over a real practice service: a
// SQLite store in a temporary directory, an engine syncing an in-memory
// provider ("php") into an in-memory Carepatron, notifications whose
// email goes over SMTP to an in-process server, and one user of each
// role.
type world struct {
	srv *httptest.Server
	svc *practice.Service
	php *connectortest.Source
	// mail receives the outbox's email.
	mail *mailtest.Server
	// notify delivers a notification as the practice's Notifier does.
	notify func(n practice.Notification)
	// url is the console's: srv.URL + "/console".
	url   string
	users map[practice.Role]practice.User
	// pdf is the provider's PDF document's content.
	pdf []byte
}

const password = "correct horse battery staple"

func newWorld(t testing.TB, cfg console.Config, adjust ...func(*practice.Config)) *world {
	t.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	mails, err := mailtest.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = mails.Close() })
	// The outbox needs the console's address, known once it listens.
	var outbox atomic.Pointer[practice.Outbox]
	email := func(ctx context.Context, e practice.Email) error {
		if ob := outbox.Load(); ob != nil {
			return ob.Send(ctx, e)
		}
		return errors.New("the outbox is not ready")
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hr.db"), store.Config{FetchPollInterval: 20 * time.Millisecond, Logger: quiet,
		Email: email})
	require.NoError(t, err)
	nf := practice.NewNotifier(practice.NotifierConfig{Support: "support@practice.example", Logger: quiet})
	t.Cleanup(func() { st.Close() })
	php := connectortest.NewSource(connectortest.SourceConfig{Name: "php"})
	engine, err := connector.New(connector.Config{
		Store:       st,
		Sources:     map[string]connector.Source{"php": php.Observing()},
		Sinks:       map[string]connector.Sink{"carepatron": connectortest.NewSink(connectortest.SinkConfig{})},
		Logger:      quiet,
		ExtractText: present.Extractor(present.Limits{}),
		Notifier:    nf,
	})
	require.NoError(t, err)
	require.NoError(t, st.Start(ctx, engine))
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = st.Stop(stop)
	})
	pc := practice.Config{Store: st, Engine: engine, Provider: "php", ProviderSource: php, Logger: quiet, Notifier: nf, Inquiries: nf}
	for _, a := range adjust {
		a(&pc)
	}
	svc, err := practice.New(pc)
	require.NoError(t, err)
	t.Cleanup(func() { _ = svc.Close() })

	cfg.Service, cfg.Logger = svc, quiet
	c, err := console.New(cfg)
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/console/", c)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	sender, err := mail.NewSMTP(mail.SMTPConfig{URL: mails.URL(), From: "notifications@practice.example", FromName: "Test practice",
		Timeout: 5 * time.Second, Logger: quiet})
	require.NoError(t, err)
	ob, err := practice.NewOutbox(practice.OutboxConfig{Store: st, Sender: sender, BaseURL: srv.URL, PracticeName: "Test practice", Logger: quiet})
	require.NoError(t, err)
	outbox.Store(ob)

	w := &world{srv: srv, svc: svc, php: php, mail: mails, url: srv.URL + "/console", users: map[practice.Role]practice.User{}}
	w.notify = func(n practice.Notification) {
		require.NoError(t, st.Write(ctx, func(tx practice.Tx) error { return nf.Deliver(ctx, tx, n) }))
	}
	for _, role := range []practice.Role{practice.RoleAdmin, practice.RoleDietician, practice.RolePractitioner} {
		u, err := practice.Bootstrap(ctx, st, practice.NewUser{Email: string(role) + "@example.com", Name: "Test " + string(role),
			Role: role, Password: password}, time.Now())
		require.NoError(t, err)
		w.users[role] = u
	}
	w.pdf, err = os.ReadFile(filepath.Join("testdata", "lab.pdf"))
	require.NoError(t, err)
	return w
}

// providerPatient puts a patient with three documents at the provider:
// a PDF lab result, a progress note and a physical assessment.
func (w *world) providerPatient(t testing.TB, name, email string) connector.Patient {
	t.Helper()
	p := w.php.PutPatient(connector.Patient{Name: name, Email: email})
	date := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, d := range []connector.Document{
		{Type: connector.DocumentLabResult, Title: "Lipid panel", ContentType: "application/pdf", Content: w.pdf, Source: "Primary care"},
		{Type: connector.DocumentProgressNote, Title: "First visit", ContentType: "text/plain", Content: []byte("Weight stable."), Source: "Primary care"},
		{Type: connector.DocumentPhysicalAssessment, Title: "Assessment", ContentType: "text/plain", Content: []byte("BMI 24."), Source: "Clinic"},
	} {
		d.Patient, d.Date = p.Ref, date
		_, err := w.php.AddDocument(d)
		require.NoError(t, err)
		date = date.AddDate(0, 1, 0)
	}
	return p
}

// actor signs the role's user in and returns the practice's actor.
func (w *world) actor(t testing.TB, role practice.Role) practice.Actor {
	t.Helper()
	ctx := context.Background()
	tok, err := w.svc.Login(ctx, practice.Client{Addr: "127.0.0.1"}, w.users[role].Email, password)
	require.NoError(t, err)
	a, err := w.svc.Authenticate(ctx, practice.Client{Addr: "127.0.0.1"}, tok.Access)
	require.NoError(t, err)
	return a
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
