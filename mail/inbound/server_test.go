package inbound_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/mail/inbound"
	"github.com/healthcare-records/healthcare-records/practice"
	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
)

// flakyStore is the practice's store with a switch that takes the
// database away: while down, every transaction fails as a database
// that does not answer would.
type flakyStore struct {
	practice.Store
	down atomic.Bool
}

var errDown = errors.New("database unreachable")

func (f *flakyStore) Write(ctx context.Context, fn func(practice.Tx) error) error {
	if f.down.Load() {
		return errDown
	}
	return f.Store.Write(ctx, fn)
}

func (f *flakyStore) Read(ctx context.Context, fn func(practice.Tx) error) error {
	if f.down.Load() {
		return errDown
	}
	return f.Store.Read(ctx, fn)
}

type fixture struct {
	addr  string
	st    *sqlite.Store
	db    *flakyStore
	svc   *practice.Service
	admin practice.Actor
	dee   int64
}

func start(t *testing.T, opts ...func(*inbound.Config)) *fixture {
	t.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hr.db"), store.Config{Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	php := connectortest.NewSource(connectortest.SourceConfig{Name: "php"})
	engine, err := connector.New(connector.Config{Store: st, Sources: map[string]connector.Source{"php": php},
		Sinks: map[string]connector.Sink{"carepatron": connectortest.NewSink(connectortest.SinkConfig{})}, Logger: quiet})
	require.NoError(t, err)
	db := &flakyStore{Store: st}
	svc, err := practice.New(practice.Config{Store: db, Engine: engine, Provider: "php", ProviderSource: php, Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(func() { _ = svc.Close() })
	admin, err := practice.Bootstrap(ctx, st, practice.NewUser{Email: "admin@practice.example", Name: "Admin",
		Role: practice.RoleAdmin, Password: "a long enough password"}, time.Now())
	require.NoError(t, err)
	dee, err := practice.Bootstrap(ctx, st, practice.NewUser{Email: "dee@practice.example", Name: "Dee",
		Role: practice.RoleDietician, Password: "a long enough password"}, time.Now())
	require.NoError(t, err)

	cfg := inbound.Config{Recipients: []string{"Inquiries@practice.example", "dee@practice.example"}, Receiver: svc,
		Logger: quiet, Timeout: 5 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := inbound.New(cfg)
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		assert.NoError(t, srv.Shutdown(stop))
		assert.NoError(t, <-done)
	})
	return &fixture{addr: l.Addr().String(), st: st, db: db, svc: svc,
		admin: practice.Actor{UserID: admin.ID, Role: practice.RoleAdmin}, dee: dee.ID}
}

// send holds one SMTP conversation on loopback and returns the server's
// refusal, if any, as *smtp.SMTPError.
func (f *fixture) send(t *testing.T, rcpt, msg string) error {
	t.Helper()
	c, err := smtp.Dial(f.addr)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Hello("sender.example"))
	if err := c.Mail("ann@example.org", nil); err != nil {
		return err
	}
	if err := c.Rcpt(rcpt, nil); err != nil {
		return err
	}
	w, err := c.Data()
	require.NoError(t, err)
	if _, err := w.Write([]byte(strings.ReplaceAll(msg, "\n", "\r\n"))); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func (f *fixture) inquiries(t *testing.T) []practice.Inquiry {
	t.Helper()
	l, err := f.svc.Inquiries(context.Background(), f.admin, practice.InquiryList{})
	require.NoError(t, err)
	return l.Items
}

func code(t *testing.T, err error) int {
	t.Helper()
	var se *smtp.SMTPError
	require.ErrorAs(t, err, &se)
	return se.Code
}

const textMessage = `From: "Ann Lee" <ann@example.org>
To: inquiries@practice.example
Subject: An appointment
Message-ID: <first@example.org>
Content-Type: text/plain; charset=utf-8

Hello, I would like to see a dietician about my diabetes.
Thank you.
`

func TestTextInquiry(t *testing.T) {
	f := start(t)
	require.NoError(t, f.send(t, "inquiries@practice.example", textMessage))
	got := f.inquiries(t)
	require.Len(t, got, 1)
	q, err := f.svc.Inquiry(context.Background(), f.admin, got[0].ID)
	require.NoError(t, err)
	assert.Equal(t, "Ann Lee", q.Name)
	assert.Equal(t, "ann@example.org", q.Email)
	assert.Equal(t, "An appointment", q.Subject)
	assert.Equal(t, "Hello, I would like to see a dietician about my diabetes.\nThank you.", q.Message)
	assert.Equal(t, practice.InquiryEmail, q.Channel)
	assert.Equal(t, "first@example.org", q.MessageID)
	assert.Zero(t, q.DieticianID, "sent to the practice's address")

	t.Run("duplicate Message-ID", func(t *testing.T) {
		require.NoError(t, f.send(t, "inquiries@practice.example", textMessage), "accepted, as a duplicate")
		assert.Len(t, f.inquiries(t), 1, "one inquiry")
	})
	t.Run("to a dietician's own address", func(t *testing.T) {
		msg := strings.Replace(textMessage, "<first@example.org>", "<second@example.org>", 1)
		require.NoError(t, f.send(t, "DEE@practice.example", msg))
		got := f.inquiries(t)
		require.Len(t, got, 2)
		assert.Equal(t, f.dee, got[0].DieticianID)
	})
	t.Run("another recipient", func(t *testing.T) {
		err := f.send(t, "someone@elsewhere.example", textMessage)
		assert.Equal(t, 550, code(t, err), "the listener relays nothing")
	})
}

func TestHTMLOnlyInquiry(t *testing.T) {
	f := start(t)
	msg := `From: Bo Chan <bo@example.org>
Subject: =?utf-8?q?Rendez-vous?=
Message-ID: <html@example.org>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<html><head><style>p{color:red}</style><script>alert("x")</script></head>
<body><p>Hello &amp; welcome,</p><p>I&#39;d like <b>an appointment</b>.<br>Bo</p>
<img src="http://tracker.example/pixel.gif" onerror="alert(1)"></body></html>
`
	require.NoError(t, f.send(t, "inquiries@practice.example", msg))
	got := f.inquiries(t)
	require.Len(t, got, 1)
	assert.Equal(t, "Hello & welcome,\nI'd like an appointment.\nBo", got[0].Message)
	assert.NotContains(t, got[0].Message, "alert")
	assert.NotContains(t, got[0].Message, "color")
	assert.Equal(t, "Rendez-vous", got[0].Subject)
}

func TestAttachmentsKept(t *testing.T) {
	f := start(t)
	msg := `From: Cy <cy@example.org>
Subject: My labs
Message-ID: <att@example.org>
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

My lab results are attached.
--b
Content-Type: application/x-msdownload; name="run-me.exe"
Content-Disposition: attachment; filename="run-me.exe"
Content-Transfer-Encoding: base64

TVqQAAMAAAAEAAAA
--b--
`
	require.NoError(t, f.send(t, "inquiries@practice.example", msg))
	got := f.inquiries(t)
	require.Len(t, got, 1)
	q, err := f.svc.Inquiry(context.Background(), f.admin, got[0].ID)
	require.NoError(t, err)
	require.Len(t, q.Attachments, 1)
	assert.Equal(t, "run-me.exe", q.Attachments[0].Name)
	assert.Equal(t, "application/x-msdownload", q.Attachments[0].ContentType)
	att, err := f.svc.InquiryAttachment(context.Background(), f.admin, q.ID, q.Attachments[0].ID)
	require.NoError(t, err)
	assert.Equal(t, []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00"), att.Data, "kept as bytes")
}

func TestRefusedMessages(t *testing.T) {
	f := start(t, func(c *inbound.Config) { c.MaxBytes = 4096 })
	for _, c := range []struct {
		name string
		msg  string
		code int
		says string
	}{
		{"malformed MIME", "From: ann@example.org\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\ncut short\n", 554, "not MIME"},
		{"a multipart without its boundary", "From: ann@example.org\nContent-Type: multipart/mixed\n\nx\n", 554, "no boundary"},
		{"oversized", "From: ann@example.org\nSubject: big\n\n" + strings.Repeat(strings.Repeat("a", 70)+"\n", 120), 552, "size"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := f.send(t, "inquiries@practice.example", c.msg)
			assert.Equal(t, c.code, code(t, err), "%v", err)
			assert.Contains(t, err.Error(), c.says)
		})
	}
	assert.Empty(t, f.inquiries(t), "nothing refused was stored")
}

func TestDatabaseBrieflyDown(t *testing.T) {
	f := start(t)
	f.db.down.Store(true)
	err := f.send(t, "inquiries@practice.example", textMessage)
	assert.Equal(t, 451, code(t, err), "the sender is asked to retry: %v", err)
	f.db.down.Store(false)
	require.NoError(t, f.send(t, "inquiries@practice.example", textMessage), "the retry is accepted")
	assert.Len(t, f.inquiries(t), 1)
}

func TestSenderFlood(t *testing.T) {
	f := start(t)
	for i := range practice.InquiriesPerEmail {
		msg := strings.Replace(textMessage, "<first@example.org>", "<flood-"+string(rune('a'+i))+"@example.org>", 1)
		require.NoError(t, f.send(t, "inquiries@practice.example", msg))
	}
	err := f.send(t, "inquiries@practice.example", strings.Replace(textMessage, "<first@example.org>", "<flood-z@example.org>", 1))
	assert.Equal(t, 450, code(t, err), "%v", err)
	assert.Len(t, f.inquiries(t), practice.InquiriesPerEmail)
}
