package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/mail"
	"github.com/healthcare-records/healthcare-records/mail/mailtest"
	"github.com/healthcare-records/healthcare-records/practice"
	"github.com/healthcare-records/healthcare-records/store"
)

// testOutbox: the outbox's email jobs, sent by practice.Outbox through
// mail.SMTP to an SMTP server on loopback. An email job commits with its
// notification; while the mail server is down it is retried with
// backoff, and once it is back each notification's email arrives exactly
// once (counted by Message-ID at the server), however often its job is
// enqueued or run again. A message the server refuses for good (5xx) is a
// dead letter at once, listed like any other.
func testOutbox(t *testing.T, open Opener) {
	ctx := context.Background()
	smtp, err := mailtest.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = smtp.Close() })
	sender, err := mail.NewSMTP(mail.SMTPConfig{URL: smtp.URL(), From: "notifications@practice.example",
		FromName: "Green Clinic", Timeout: 5 * time.Second, Logger: FastConfig().Logger})
	require.NoError(t, err)

	// The email jobs run the outbox; the suite counts each job's runs and
	// failures by notification.
	var (
		ob       *practice.Outbox
		mu       sync.Mutex
		runs     = map[int64]int{}
		failures = map[int64]int{}
	)
	counts := func(e practice.Email) (int, int) {
		mu.Lock()
		defer mu.Unlock()
		return runs[e.NotificationID], failures[e.NotificationID]
	}
	cfg := FastConfig()
	cfg.Email = func(ctx context.Context, e practice.Email) error {
		err := ob.Send(ctx, e)
		mu.Lock()
		defer mu.Unlock()
		runs[e.NotificationID]++
		if err != nil {
			failures[e.NotificationID]++
		}
		return err
	}
	opened := open(t, cfg)
	s, ok := opened.(PracticeStore)
	require.True(t, ok, "%T is not a PracticeStore", opened)
	ob, err = practice.NewOutbox(practice.OutboxConfig{Store: s, Sender: sender, BaseURL: "https://records.practice.example",
		PracticeName: "Green Clinic", Logger: FastConfig().Logger})
	require.NoError(t, err)
	h := startOn(t, opened, connectortest.SourceConfig{}, nil)
	user := addUser(t, s, "carol@example.org", practice.RoleDietician)

	// The mail server is down when the notifications are made.
	require.NoError(t, smtp.Down())
	var emails []practice.Email
	write(t, s, func(tx practice.Tx) error {
		for i := range 3 {
			id, _, err := tx.AddNotification(ctx, practice.Notification{UserID: user, Kind: practice.KindAlert,
				Severity: practice.SeverityError, Title: fmt.Sprintf("alert %d", i), Delivery: practice.DeliverEmail})
			require.NoError(t, err)
			e := practice.Email{UserID: user, NotificationID: id}
			emails = append(emails, e)
			require.NoError(t, tx.EnqueueEmail(ctx, e))
		}
		return nil
	})
	// A rolled-back transaction's email is never sent.
	rollback := errors.New("roll back")
	lost := practice.Email{UserID: user, NotificationID: emails[2].NotificationID + 1000}
	err = s.Write(ctx, func(tx practice.Tx) error {
		require.NoError(t, tx.EnqueueEmail(ctx, lost))
		return rollback
	})
	require.ErrorIs(t, err, rollback)

	for _, e := range emails {
		require.Eventually(t, func() bool { _, failed := counts(e); return failed >= 3 },
			20*time.Second, 10*time.Millisecond, "the job of %s is retried while the server is down", ob.MessageID(e))
	}
	assert.Empty(t, smtp.Messages(), "nothing arrived while down")

	require.NoError(t, smtp.Up())
	wait, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	_, err = smtp.Wait(wait, len(emails))
	require.NoError(t, err)
	for i, e := range emails {
		got := smtp.WithMessageID(ob.MessageID(e))
		require.Len(t, got, 1, "email %d arrived once", i)
		m := got[0]
		assert.Equal(t, []string{"carol@example.org"}, m.To, "the envelope's recipient")
		require.NotNil(t, m.Parsed.From, "a From header")
		assert.Equal(t, "Green Clinic", m.Parsed.From.Name, "From's display name: the practice")
		assert.Equal(t, "notifications@practice.example", m.Parsed.From.Address)
		assert.Equal(t, fmt.Sprintf("[Green Clinic] alert %d", i), m.Subject)
		assert.True(t, strings.HasPrefix(m.Header.Get("Content-Type"), "multipart/alternative"), m.Header.Get("Content-Type"))
		link := fmt.Sprintf("https://records.practice.example/console/notifications/%d", e.NotificationID)
		assert.Contains(t, m.Text, link, "the text alternative links to it")
		assert.Contains(t, m.HTML, `href="`+link+`"`, "the HTML alternative links to it")
	}

	// Once recorded as sent, the email enqueued again is the same job,
	// and the job run again sends nothing.
	require.Eventually(t, func() bool {
		var n practice.Notification
		read(t, s, func(tx practice.Tx) (err error) {
			n, err = tx.Notification(ctx, user, emails[0].NotificationID)
			return err
		})
		return !n.EmailedAt.IsZero()
	}, 10*time.Second, 10*time.Millisecond, "the send is recorded")
	write(t, s, func(tx practice.Tx) error { return tx.EnqueueEmail(ctx, emails[0]) })
	require.NoError(t, ob.Send(ctx, emails[0]), "the job run again")
	WaitIdle(t, h.store, 10*time.Second, nil)
	time.Sleep(200 * time.Millisecond)
	for _, e := range emails {
		assert.Len(t, smtp.WithMessageID(ob.MessageID(e)), 1, "exactly once per notification")
	}
	assert.Len(t, smtp.Messages(), len(emails))
	ran, _ := counts(lost)
	assert.Zero(t, ran, "a rolled-back email has no job")

	// Refused for good: a dead letter at once, with the reply's code and
	// not the recipient.
	smtp.Refuse(550, "5.1.1 carol@example.org: no such user")
	var refused practice.Email
	write(t, s, func(tx practice.Tx) error {
		id, _, err := tx.AddNotification(ctx, practice.Notification{UserID: user, Kind: practice.KindAlert,
			Severity: practice.SeverityError, Title: "refused", Delivery: practice.DeliverEmail})
		require.NoError(t, err)
		refused = practice.Email{UserID: user, NotificationID: id}
		return tx.EnqueueEmail(ctx, refused)
	})
	var dead store.DeadLetter
	require.Eventually(t, func() bool {
		dls, err := h.store.DeadLetters(ctx, 100)
		require.NoError(t, err)
		for _, d := range dls {
			if d.Kind == "hr_email" {
				dead = d
				return true
			}
		}
		return false
	}, 20*time.Second, 20*time.Millisecond, "the refused email is a dead letter")
	assert.Equal(t, store.QueueEmail, dead.Queue)
	assert.Equal(t, "cancelled", dead.State, "a permanent refusal is not retried")
	assert.Equal(t, 1, dead.Attempts)
	assert.Contains(t, dead.Error, "reply 550")
	assert.NotContains(t, dead.Error, "carol@example.org", "no recipient in a dead letter")
	assert.Empty(t, smtp.WithMessageID(ob.MessageID(refused)))
	smtp.Refuse(0, "")
}
