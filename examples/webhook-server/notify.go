package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/mail"
	"github.com/healthcare-records/healthcare-records/practice"
	"github.com/healthcare-records/healthcare-records/store"
)

// notifications is the wiring of notifications: one Notifier for the
// engine and the service, so that a notification commits with the event
// that caused it, and, once a mail sender is configured, the outbox that
// emails them (the store's email jobs) and gathers the digests.
type notifications struct {
	cfg      *Config
	sender   mail.Sender
	log      *slog.Logger
	notifier *practice.Notifier
	// outbox is set by open, before the store's workers start; nil
	// without a sender.
	outbox *practice.Outbox
}

// digestEvery is how often due digests are gathered: a digest goes out
// within this much of its hour.
const digestEvery = 5 * time.Minute

// newNotifications prepares the notifications of the server; sender may
// be nil (no mail configured), which keeps every notification in the app.
func newNotifications(cfg *Config, sender mail.Sender, log *slog.Logger) *notifications {
	return &notifications{cfg: cfg, sender: sender, log: log, notifier: practice.NewNotifier(practice.NotifierConfig{
		AlertAfter: cfg.NotifyAlertAfter, Support: cfg.SupportContact, InAppOnly: sender == nil,
		Logger: log.With("component", "notify")})}
}

// engineNotifier is connector.Config.Notifier.
func (n *notifications) engineNotifier() connector.Notifier { return n.notifier }

// email is store.Config.Email: the outbox's Send, once open made it.
func (n *notifications) email(ctx context.Context, e practice.Email) error {
	if n.outbox == nil {
		return errors.New("no mail sender configured")
	}
	return n.outbox.Send(ctx, e)
}

// periodic is the digests' task, for store.Config.Periodic.
func (n *notifications) periodic() []store.Periodic {
	return []store.Periodic{{Name: "notification-digests", Every: digestEvery,
		Run: func(ctx context.Context, _ *connector.Engine) error {
			if n.outbox == nil {
				return nil
			}
			return n.outbox.Digests(ctx)
		}}}
}

// open makes the outbox over the open store; its email links to
// PUBLIC_URL, or without it to origin, the server's listening address as
// this host reaches it. Call it before the store's workers start.
func (n *notifications) open(st practice.Store, origin string) error {
	if n.sender == nil {
		n.log.Info("notifications stay in the app: no mail sender is configured")
		return nil
	}
	base := n.cfg.PublicURL
	if base == "" {
		// LISTEN_ADDR may be ":8080" or a port 0 chosen at listen.
		base = origin
	}
	ob, err := practice.NewOutbox(practice.OutboxConfig{Store: st, Sender: n.sender, BaseURL: base,
		NamesInEmail: n.cfg.EmailPatientNames, PracticeName: n.cfg.PracticeName, Logger: n.log.With("component", "outbox")})
	if err != nil {
		return configError{err}
	}
	n.outbox = ob
	return nil
}
