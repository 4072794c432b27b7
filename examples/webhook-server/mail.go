package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	netmail "net/mail"
	"strings"

	"github.com/emersion/go-smtp"

	"github.com/healthcare-records/healthcare-records/mail"
	"github.com/healthcare-records/healthcare-records/mail/inbound"
	"github.com/healthcare-records/healthcare-records/practice"
)

// mailSettings configure the email the server sends and the inquiries it
// receives by email; settings holds them among the others.
var mailSettings = []setting{
	{flag: "smtp-url", env: "SMTP_URL", secret: true,
		usage: "SMTP server for email: smtp://user:pass@host:587 (STARTTLS required), smtps://user:pass@host:465; empty: no email",
		set: func(c *Config, v string) error {
			c.SMTPURL = v
			if v == "" {
				return nil
			}
			// Checked without the sender's address, which SMTP_FROM
			// gives; the error names no part of the URL (a password).
			if _, err := mail.NewSMTP(mail.SMTPConfig{URL: v, From: "check@example.org"}); err != nil {
				return errors.New("not an smtp:// or smtps:// URL this server can use")
			}
			return nil
		}},
	{flag: "smtp-from", env: "SMTP_FROM",
		usage: "the address email is sent from, such as notifications@practice.example",
		set: func(c *Config, v string) error {
			c.SMTPFrom = v
			if v == "" {
				return nil
			}
			if a, err := netmail.ParseAddress(v); err != nil || a.Name != "" || a.Address != v {
				return fmt.Errorf("%q is not a bare email address", v)
			}
			return nil
		}},
	{flag: "practice-name", env: "PRACTICE_NAME", def: "Healthcare Records",
		usage: "the practice's name, shown as the sender of its email",
		set: func(c *Config, v string) error {
			if strings.ContainsAny(v, "\r\n") {
				return errors.New("must be one line")
			}
			c.PracticeName = v
			return nil
		}},
	{flag: "inquiry-smtp-addr", env: "INQUIRY_SMTP_ADDR",
		usage: "listen address of the inquiry SMTP listener (\":25\" behind the practice's MX); empty: off",
		set:   func(c *Config, v string) error { c.InquirySMTPAddr = v; return nil }},
	{flag: "inquiry-smtp-rcpt", env: "INQUIRY_SMTP_RCPT",
		usage: "comma-separated addresses the inquiry listener accepts mail for (others are refused 550)",
		set: func(c *Config, v string) error {
			c.InquirySMTPRcpt = nil
			for s := range strings.SplitSeq(v, ",") {
				if s = strings.TrimSpace(s); s == "" {
					continue
				}
				if a, err := netmail.ParseAddress(s); err != nil || a.Name != "" {
					return fmt.Errorf("%q is not a bare email address", s)
				}
				c.InquirySMTPRcpt = append(c.InquirySMTPRcpt, s)
			}
			return nil
		}},
}

// validateMail checks that the mail settings go together.
func (c *Config) validateMail() []error {
	var errs []error
	if (c.SMTPURL == "") != (c.SMTPFrom == "") {
		errs = append(errs, fmt.Errorf("%s and %s go together: set both to send email, or neither",
			settingName("SMTP_URL"), settingName("SMTP_FROM")))
	}
	if c.InquirySMTPAddr != "" && len(c.InquirySMTPRcpt) == 0 {
		errs = append(errs, fmt.Errorf("%s needs %s: the addresses inquiries are sent to",
			settingName("INQUIRY_SMTP_ADDR"), settingName("INQUIRY_SMTP_RCPT")))
	}
	return errs
}

// mailer is the server's inquiry listener (nil without
// INQUIRY_SMTP_ADDR); its email goes out through the notifications'
// outbox.
type mailer struct {
	inquiry  *inbound.Server
	addr     string
	serveErr chan error
}

// newSMTPSender is the server's mail.Sender, over SMTP_URL from
// SMTP_FROM in PRACTICE_NAME's name; nil (no email) without SMTP_URL.
func newSMTPSender(cfg *Config, log *slog.Logger) (mail.Sender, error) {
	if cfg.SMTPURL == "" {
		return nil, nil
	}
	s, err := mail.NewSMTP(mail.SMTPConfig{URL: cfg.SMTPURL, From: cfg.SMTPFrom, FromName: cfg.PracticeName,
		Logger: log.With("component", "mail")})
	if err != nil {
		return nil, configError{fmt.Errorf("%s: %w", settingName("SMTP_URL"), errors.New("the URL or SMTP_FROM is not usable"))}
	}
	return s, nil
}

// startMail starts the inquiry listener, which stores what it receives
// through svc.
func startMail(cfg *Config, svc *practice.Service, log *slog.Logger) (*mailer, error) {
	m := &mailer{}
	if cfg.InquirySMTPAddr == "" {
		return m, nil
	}
	srv, err := inbound.New(inbound.Config{Recipients: cfg.InquirySMTPRcpt, Receiver: svc,
		Logger: log.With("component", "inquiry-smtp")})
	if err != nil {
		return nil, configError{fmt.Errorf("%s: %w", settingName("INQUIRY_SMTP_RCPT"), err)}
	}
	ln, err := net.Listen("tcp", cfg.InquirySMTPAddr)
	if err != nil {
		return nil, configError{fmt.Errorf("%s: %w", settingName("INQUIRY_SMTP_ADDR"), err)}
	}
	m.inquiry, m.addr, m.serveErr = srv, loopbackAddr(ln.Addr()), make(chan error, 1)
	go func() { m.serveErr <- srv.Serve(ln) }()
	log.Info("inquiry listener", "addr", ln.Addr().String(), "recipients", len(cfg.InquirySMTPRcpt))
	return m, nil
}

// stop stops the inquiry listener, letting conversations under way end
// within ctx.
func (m *mailer) stop(ctx context.Context) error {
	if m == nil || m.inquiry == nil {
		return nil
	}
	err := m.inquiry.Shutdown(ctx)
	if serr := <-m.serveErr; serr != nil && err == nil {
		err = serr
	}
	return err
}

// demoInquiry is the inquiry the demo mails to its own listener, as a
// prospective patient would.
const demoInquiry = "From: Riley Prospect <riley@prospect.example>\r\n" +
	"To: %s\r\n" +
	"Subject: Help with my diet\r\n" +
	"Message-ID: <demo-inquiry-1@prospect.example>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"Hello, my doctor suggested I see a dietician about my blood sugar.\r\n" +
	"Could I book a first appointment? Thank you, Riley\r\n"

// seedInquiry mails the demo's inquiry to the listener, as a
// prospective patient's mail server would.
func (m *mailer) seedInquiry(rcpt string) error {
	if err := mailInquiry(m.addr, "riley@prospect.example", rcpt, fmt.Sprintf(demoInquiry, rcpt)); err != nil {
		return fmt.Errorf("demo inquiry: %w", err)
	}
	return nil
}

// mailInquiry delivers message from the envelope sender from to rcpt
// over SMTP at addr, on loopback and so without STARTTLS.
func mailInquiry(addr, from, rcpt, message string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	if err := c.Rcpt(rcpt, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, message); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
