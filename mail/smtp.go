package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SMTPConfig configures an SMTP sender. Zero values take the documented
// defaults.
type SMTPConfig struct {
	// URL is the server: smtp://user:pass@host:587 speaks SMTP and
	// requires STARTTLS before anything is sent; smtps://user:pass@host:465
	// speaks SMTP over TLS from the first byte (implicit TLS). The query
	// ?starttls=opportunistic upgrades only when the server offers it,
	// ?starttls=none never does: for a relay on loopback (the demo's, a
	// test's), never across a network. The user and password, when given,
	// authenticate (the strongest mechanism the server offers). Default
	// port 587 for smtp, 465 for smtps. Required.
	URL string
	// From is the sender's address (SMTP_FROM). Required.
	From string
	// FromName is the display name of From: the practice's name.
	FromName string
	// Timeout bounds a connection and each reply. Default 30 seconds.
	Timeout time.Duration
	// TLSConfig is the TLS configuration for STARTTLS or implicit TLS.
	// Default: the system's roots, verifying the URL's host.
	TLSConfig *tls.Config
	// HELO is the name the sender greets the server with. Default
	// "localhost".
	HELO string
	// Logger receives message ids and outcomes, never a recipient or a
	// body. Default slog.Default().
	Logger *slog.Logger
}

// SMTP sends each message over its own connection to the configured
// server. It is safe for concurrent use.
type SMTP struct {
	cfg    SMTPConfig
	from   netmail.Address
	host   string
	port   int
	ssl    bool
	policy gomail.TLSPolicy
	user   string
	pass   string
	log    *slog.Logger
}

var _ Sender = (*SMTP)(nil)

// NewSMTP checks cfg and returns a sender; it connects only to send.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" {
		return nil, errors.New("mail: SMTP URL must be smtp://[user:pass@]host[:port] or smtps://…")
	}
	s := &SMTP{cfg: cfg, host: u.Hostname(), policy: gomail.TLSMandatory, log: cfg.Logger}
	switch u.Scheme {
	case "smtp":
		s.port = 587
	case "smtps":
		s.port, s.ssl = 465, true
	default:
		return nil, fmt.Errorf("mail: SMTP URL scheme %q is not smtp or smtps", u.Scheme)
	}
	if p := u.Port(); p != "" {
		if s.port, err = strconv.Atoi(p); err != nil || s.port <= 0 || s.port > 65535 {
			return nil, fmt.Errorf("mail: SMTP URL port %q is not a port", p)
		}
	}
	switch v := u.Query().Get("starttls"); v {
	case "", "required":
	case "opportunistic":
		s.policy = gomail.TLSOpportunistic
	case "none":
		s.policy = gomail.NoTLS
	default:
		return nil, fmt.Errorf("mail: SMTP URL starttls=%q is not required, opportunistic or none", v)
	}
	if s.ssl && u.Query().Has("starttls") {
		return nil, errors.New("mail: an smtps URL is TLS from the start: drop starttls")
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil || from.Name != "" {
		return nil, errors.New("mail: SMTP from must be a bare address such as notifications@practice.example")
	}
	s.from = netmail.Address{Name: cfg.FromName, Address: from.Address}
	if s.cfg.Timeout <= 0 {
		s.cfg.Timeout = 30 * time.Second
	}
	if s.cfg.HELO == "" {
		s.cfg.HELO = "localhost"
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s, nil
}

// Send sends m. A refusal the server gives for good (a 5xx reply) wraps
// ErrRejected, and so does a message that cannot be sent as it is (a
// malformed address or Message-ID); any other failure, a connection that
// fails or a 4xx reply, is transient. An error never holds the recipient
// or the server's reply text, which may quote it: only the message id,
// the step and the reply codes.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg, err := s.compose(m)
	if err != nil {
		return fmt.Errorf("send message %s: %w: %v", m.MessageID, ErrRejected, err)
	}
	opts := []gomail.Option{
		gomail.WithPort(s.port), gomail.WithTimeout(s.cfg.Timeout), gomail.WithHELO(s.cfg.HELO),
		gomail.WithTLSPolicy(s.policy),
	}
	if s.ssl {
		opts = append(opts, gomail.WithSSL())
	}
	tc := s.cfg.TLSConfig
	if tc == nil {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	tc = tc.Clone()
	if tc.ServerName == "" {
		tc.ServerName = s.host
	}
	opts = append(opts, gomail.WithTLSConfig(tc))
	if s.user != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.user), gomail.WithPassword(s.pass))
	}
	c, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return fmt.Errorf("send message %s: %w: %v", m.MessageID, ErrRejected, err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		err = classify(err)
		s.log.WarnContext(ctx, "mail: send failed", "message_id", m.MessageID, "rejected", errors.Is(err, ErrRejected), "err", err)
		return fmt.Errorf("send message %s: %w", m.MessageID, err)
	}
	s.log.DebugContext(ctx, "mail: sent", "message_id", m.MessageID)
	return nil
}

// compose builds the MIME message: text, with HTML as its alternative.
func (s *SMTP) compose(m Message) (*gomail.Msg, error) {
	if strings.ContainsAny(m.Subject, "\r\n") {
		return nil, errors.New("the subject holds a line break")
	}
	if m.MessageID == "" || strings.ContainsAny(m.MessageID, "<>\r\n \t") || !strings.Contains(m.MessageID, "@") {
		return nil, errors.New("the message id is not id@host")
	}
	to, err := netmail.ParseAddress(m.To)
	if err != nil {
		return nil, errors.New("the recipient is not an address")
	}
	msg := gomail.NewMsg()
	msg.FromMailAddress(&s.from)
	msg.ToMailAddress(to)
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDate()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// classify makes a permanent refusal ErrRejected and keeps of any error
// only what may be logged: the step and the codes of a refusal, the
// network operation of a connection failure.
func classify(err error) error {
	var se *gomail.SendError
	if errors.As(err, &se) {
		code := se.ErrorCode()
		detail := fmt.Sprintf("%s: reply %d", se.Reason, code)
		if esc := se.EnhancedStatusCode(); esc != "" {
			detail += " " + esc
		}
		if code >= 500 && code < 600 && !se.IsTemp() {
			return fmt.Errorf("%w: %s", ErrRejected, detail)
		}
		return errors.New(detail)
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return fmt.Errorf("connect: %s %s: %w", oe.Op, oe.Addr, oe.Err)
	}
	// Dialling includes the greeting, STARTTLS and authentication, whose
	// errors name no recipient.
	return err
}
