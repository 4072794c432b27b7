package mail_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/mail"
	"github.com/healthcare-records/healthcare-records/mail/mailtest"
)

func startServer(t *testing.T) (*mailtest.Server, *mail.SMTP) {
	t.Helper()
	srv, err := mailtest.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	sender, err := mail.NewSMTP(mail.SMTPConfig{URL: srv.URL(), From: "notifications@practice.example",
		FromName: "Green Leaf Nutrition", Timeout: 5 * time.Second})
	require.NoError(t, err)
	return srv, sender
}

func message() mail.Message {
	return mail.Message{
		To:        "dee@practice.example",
		Subject:   "A new inquiry",
		Text:      "Someone wrote to the practice.\n\nOpen it: http://127.0.0.1:8080/console/patients/new?inquiry=7\n",
		HTML:      `<p>Someone wrote to the practice.</p><p><a href="http://127.0.0.1:8080/console/patients/new?inquiry=7">Open it</a></p>`,
		MessageID: "notification-7.1@practice.example",
	}
}

func TestSendBothAlternatives(t *testing.T) {
	srv, sender := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, sender.Send(ctx, message()))

	got, err := srv.Wait(ctx, 1)
	require.NoError(t, err)
	require.Len(t, got, 1)
	m := got[0]
	assert.Equal(t, "notifications@practice.example", m.From, "envelope")
	assert.Equal(t, []string{"dee@practice.example"}, m.To, "envelope")
	require.NotNil(t, m.Parsed.From)
	assert.Equal(t, "Green Leaf Nutrition", m.Parsed.From.Name)
	assert.Equal(t, "notifications@practice.example", m.Parsed.From.Address)
	require.Len(t, m.Parsed.To, 1)
	assert.Equal(t, "dee@practice.example", m.Parsed.To[0].Address)
	assert.Equal(t, "A new inquiry", m.Subject)
	assert.Equal(t, "notification-7.1@practice.example", m.MessageID)
	assert.False(t, m.Date.IsZero())
	assert.Contains(t, m.Header.Get("Content-Type"), "multipart/alternative")
	assert.Contains(t, m.Text, "http://127.0.0.1:8080/console/patients/new?inquiry=7")
	assert.Contains(t, m.HTML, `<a href="http://127.0.0.1:8080/console/patients/new?inquiry=7">`)
	assert.Empty(t, m.Attachments)
}

func TestSendTextOnly(t *testing.T) {
	srv, sender := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m := message()
	m.HTML = ""
	require.NoError(t, sender.Send(ctx, m))
	got, err := srv.Wait(ctx, 1)
	require.NoError(t, err)
	assert.Contains(t, got[0].Header.Get("Content-Type"), "text/plain")
	assert.Contains(t, got[0].Text, "Someone wrote")
	assert.Empty(t, got[0].HTML)
}

func TestSendRefused(t *testing.T) {
	for _, c := range []struct {
		name     string
		code     int
		rejected bool
	}{
		{"5xx is for good", 550, true},
		{"4xx is transient", 451, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, sender := startServer(t)
			srv.Refuse(c.code, "no such mailbox <dee@practice.example>")
			err := sender.Send(context.Background(), message())
			require.Error(t, err)
			assert.Equal(t, c.rejected, errors.Is(err, mail.ErrRejected), err.Error())
			assert.NotContains(t, err.Error(), "dee@practice.example", "an error never holds the recipient")
			assert.Contains(t, err.Error(), "notification-7.1@practice.example", "it names the message")
			assert.Empty(t, srv.Messages())
		})
	}
}

func TestSendServerDown(t *testing.T) {
	srv, sender := startServer(t)
	require.NoError(t, srv.Down())
	err := sender.Send(context.Background(), message())
	require.Error(t, err)
	assert.NotErrorIs(t, err, mail.ErrRejected, "a server down is transient")

	require.NoError(t, srv.Up())
	require.NoError(t, sender.Send(context.Background(), message()), "delivered once the server is back")
	assert.Len(t, srv.Messages(), 1)
}

func TestSendMalformed(t *testing.T) {
	srv, sender := startServer(t)
	for name, edit := range map[string]func(*mail.Message){
		"subject with a line break": func(m *mail.Message) { m.Subject = "Hi\r\nBcc: x@example.org" },
		"message id in brackets":    func(m *mail.Message) { m.MessageID = "<a@b>" },
		"no message id":             func(m *mail.Message) { m.MessageID = "" },
		"recipient not an address":  func(m *mail.Message) { m.To = "dee" },
	} {
		m := message()
		edit(&m)
		err := sender.Send(context.Background(), m)
		assert.ErrorIs(t, err, mail.ErrRejected, name)
	}
	assert.Empty(t, srv.Messages())
}

func TestSendRequiresSTARTTLSByDefault(t *testing.T) {
	srv, _ := startServer(t)
	sender, err := mail.NewSMTP(mail.SMTPConfig{URL: "smtp://" + srv.Addr(), From: "n@practice.example", Timeout: 5 * time.Second})
	require.NoError(t, err)
	err = sender.Send(context.Background(), message())
	require.Error(t, err, "the server offers no STARTTLS: nothing may be sent in the clear")
	assert.Empty(t, srv.Messages())
}

func TestNewSMTPRefusesBadConfig(t *testing.T) {
	for _, c := range []struct{ url, from string }{
		{"http://host", "n@practice.example"},
		{"smtp://", "n@practice.example"},
		{"smtp://host:99999", "n@practice.example"},
		{"smtp://host?starttls=maybe", "n@practice.example"},
		{"smtps://host?starttls=none", "n@practice.example"},
		{"smtp://host", "Practice <n@practice.example>"},
		{"smtp://host", ""},
	} {
		_, err := mail.NewSMTP(mail.SMTPConfig{URL: c.url, From: c.from})
		assert.Error(t, err, c.url+" "+c.from)
	}
}
