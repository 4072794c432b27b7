package practice

import (
	"context"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/mail"
)

// OutboxConfig configures an Outbox. Zero values take the documented
// defaults.
type OutboxConfig struct {
	// Store is the practice's store. Required.
	Store Store
	// Sender sends the email. Required.
	Sender mail.Sender
	// BaseURL is the service's public URL: an email links to
	// BaseURL + "/console/notifications/{id}" (an inquiry's to
	// "/console/patients/new?inquiry={id}"), pages behind sign-in.
	// Required.
	BaseURL string
	// PracticeName is shown in the subject and the signature. Default
	// "Your practice".
	PracticeName string
	// NamesInEmail opts the practice into the patient's name in an
	// email's body (never its subject). Default off: an email carries a
	// statement and a link, no patient data (see docs/notifications.md).
	NamesInEmail bool
	// Logger receives ids, never patient data. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Outbox sends the email jobs the Notifier enqueues: its Send is the
// store's Config.Email, its Digests a periodic task. It is safe for
// concurrent use.
type Outbox struct {
	cfg  OutboxConfig
	host string
	text *texttemplate.Template
	html *htmltemplate.Template
}

// NewOutbox validates cfg and returns an Outbox.
func NewOutbox(cfg OutboxConfig) (*Outbox, error) {
	if cfg.Store == nil || cfg.Sender == nil {
		return nil, errors.New("practice: outbox needs a store and a sender")
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("practice: outbox base url %q is not an http(s) url", cfg.BaseURL)
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	if cfg.PracticeName == "" {
		cfg.PracticeName = "Your practice"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Outbox{cfg: cfg, host: u.Hostname(),
		text: texttemplate.Must(texttemplate.New("text").Parse(emailText)),
		html: htmltemplate.Must(htmltemplate.New("html").Parse(emailHTML))}, nil
}

// emailItem is one notification as an email shows it.
type emailItem struct {
	Title, Patient, Link string
	Count                int
}

// emailView is what the templates render.
type emailView struct {
	Practice, Name, Intro string
	Items                 []emailItem
	Settings              string
}

const emailText = `Hello {{.Name}},

{{.Intro}}
{{range .Items}}
- {{.Title}}{{if gt .Count 1}} ({{.Count}} times){{end}}{{if .Patient}}
  Patient: {{.Patient}}{{end}}
  Sign in to read it: {{.Link}}
{{end}}
For your patients' privacy this email holds no clinical details: they are
behind the link, after you sign in.

{{.Practice}}
Notification settings: {{.Settings}}
`

const emailHTML = `<!doctype html>
<html><body style="font-family: sans-serif">
<p>Hello {{.Name}},</p>
<p>{{.Intro}}</p>
<ul>{{range .Items}}
<li><a href="{{.Link}}">{{.Title}}</a>{{if gt .Count 1}} ({{.Count}} times){{end}}{{if .Patient}}<br>Patient: {{.Patient}}{{end}}</li>{{end}}
</ul>
<p>For your patients' privacy this email holds no clinical details: they are behind the link, after you sign in.</p>
<p>{{.Practice}}<br><a href="{{.Settings}}">Notification settings</a></p>
</body></html>
`

// MessageID is the Message-ID of a notification's email: the same for
// every attempt, so that a resent email is recognisably the same.
func (o *Outbox) MessageID(e Email) string {
	if e.NotificationID != 0 {
		return fmt.Sprintf("notification-%d@%s", e.NotificationID, o.host)
	}
	return fmt.Sprintf("digest-%d-%d-%d@%s", e.UserID, e.Digest[0], e.Digest[len(e.Digest)-1], o.host)
}

// Send sends the email of one job, once: a notification already emailed
// is not sent again. A Sender error is returned for the job to retry;
// one wrapping mail.ErrRejected is permanent (connector.ErrPermanent),
// since sending it again cannot succeed.
func (o *Outbox) Send(ctx context.Context, e Email) error {
	ids := e.Digest
	if e.NotificationID != 0 {
		ids = []int64{e.NotificationID}
	}
	if len(ids) == 0 {
		return fmt.Errorf("%w: email job names no notification", connector.ErrPermanent)
	}
	var (
		user  User
		items []emailItem
	)
	err := o.cfg.Store.Read(ctx, func(tx Tx) (err error) {
		if user, err = tx.User(ctx, e.UserID); err != nil {
			return err
		}
		items = items[:0]
		for _, id := range ids {
			n, err := tx.Notification(ctx, e.UserID, id)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if !n.EmailedAt.IsZero() {
				continue // sent before: a resent job sends nothing more
			}
			item := emailItem{Title: n.Title, Count: n.Count, Link: o.link(n)}
			if o.cfg.NamesInEmail && n.Links.PatientID != 0 {
				if p, err := tx.PracticePatient(ctx, n.Links.PatientID); err == nil {
					item.Patient = p.Name
				}
			}
			items = append(items, item)
		}
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return nil // the user is gone: nobody to tell
	}
	if err != nil {
		return fmt.Errorf("email %s: %w", o.MessageID(e), err)
	}
	if len(items) == 0 || user.Disabled() || user.Email == "" {
		return nil
	}
	m, err := o.render(user, e, items)
	if err != nil {
		return fmt.Errorf("%w: render email %s: %w", connector.ErrPermanent, m.MessageID, err)
	}
	if err := o.cfg.Sender.Send(ctx, m); err != nil {
		if errors.Is(err, mail.ErrRejected) {
			return fmt.Errorf("%w: email %s: %w", connector.ErrPermanent, m.MessageID, err)
		}
		return fmt.Errorf("email %s: %w", m.MessageID, err)
	}
	o.cfg.Logger.InfoContext(ctx, "notification emailed", "message_id", m.MessageID, "user", e.UserID, "items", len(items))
	// Recorded after the send: a crash between the two sends the same
	// message (same Message-ID) once more, never loses it.
	err = o.cfg.Store.Write(ctx, func(tx Tx) error { return tx.SetNotificationEmailed(ctx, ids, o.cfg.Now()) })
	if err != nil {
		o.cfg.Logger.WarnContext(ctx, "recording an email sent", "message_id", m.MessageID, "err", err)
	}
	return nil
}

// link is where an email's notification leads, behind sign-in: an
// inquiry's to the new-patient page prefilled from it, any other to the
// notification.
func (o *Outbox) link(n Notification) string {
	if n.Kind == KindInquiry && n.Links.InquiryID != 0 {
		return o.cfg.BaseURL + "/console/patients/new?inquiry=" + strconv.FormatInt(n.Links.InquiryID, 10)
	}
	return o.cfg.BaseURL + "/console/notifications/" + strconv.FormatInt(n.ID, 10)
}

func (o *Outbox) render(user User, e Email, items []emailItem) (mail.Message, error) {
	m := mail.Message{To: user.Email, MessageID: o.MessageID(e)}
	v := emailView{Practice: o.cfg.PracticeName, Name: user.Name, Items: items,
		Settings: o.cfg.BaseURL + "/console/settings/notifications"}
	if v.Name == "" {
		v.Name = "there"
	}
	if e.NotificationID != 0 {
		m.Subject = fmt.Sprintf("[%s] %s", o.cfg.PracticeName, items[0].Title)
		v.Intro = "You have a new notification."
	} else {
		m.Subject = fmt.Sprintf("[%s] %s", o.cfg.PracticeName, plural(len(items), "new notification", "new notifications"))
		v.Intro = "Here is your digest of notifications."
	}
	var text, html strings.Builder
	if err := o.text.Execute(&text, v); err != nil {
		return m, err
	}
	if err := o.html.Execute(&html, v); err != nil {
		return m, err
	}
	m.Text, m.HTML = text.String(), html.String()
	return m, nil
}

// digestBatch bounds the notifications one run of Digests gathers.
const digestBatch = 1000

// Digests enqueues, for each user, one digest email of the notifications
// whose digest is due, in one transaction that takes them out of the
// digests to come: the periodic task of digest preferences.
func (o *Outbox) Digests(ctx context.Context) error {
	err := o.cfg.Store.Write(ctx, func(tx Tx) error {
		due, err := tx.DueDigests(ctx, o.cfg.Now(), digestBatch)
		if err != nil || len(due) == 0 {
			return err
		}
		var ids []int64
		for i, n := range due {
			ids = append(ids, n.ID)
			if i+1 < len(due) && due[i+1].UserID == n.UserID {
				continue
			}
			if err := tx.EnqueueEmail(ctx, Email{UserID: n.UserID, Digest: ids}); err != nil {
				return err
			}
			if err := tx.ClearDigest(ctx, ids); err != nil {
				return err
			}
			ids = nil
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("notification digests: %w", err)
	}
	return nil
}
