package inbound

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"log"
	"log/slog"
	"net"
	netmail "net/mail"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-smtp"
	"github.com/google/uuid"
	"github.com/microcosm-cc/bluemonday"

	"github.com/healthcare-records/healthcare-records/mail"
	"github.com/healthcare-records/healthcare-records/practice"
)

// Receiver stores an inquiry: *practice.Service.
type Receiver interface {
	ReceiveInquiry(ctx context.Context, c practice.Client, in practice.NewInquiry) (practice.Inquiry, error)
}

// Config configures the listener. Zero values take the documented
// defaults.
type Config struct {
	// Recipients are the addresses the listener accepts mail for
	// (INQUIRY_SMTP_RCPT), whatever their case: the practice's inquiry
	// address and, to address a dietician, their own. Any other recipient
	// is refused with 550, so that the listener relays nothing. Required.
	Recipients []string
	// Receiver stores each message as an inquiry. Required.
	Receiver Receiver
	// Domain is the name the listener greets with. Default "localhost".
	Domain string
	// MaxBytes bounds a message; a larger one is refused with 552.
	// Default 10 MiB.
	MaxBytes int64
	// MaxParts and MaxDepth bound its MIME structure (see mail.Limits);
	// beyond them a message is refused as malformed. Default 20 parts, 4
	// levels.
	MaxParts, MaxDepth int
	// Timeout bounds each read and write of a conversation, and the
	// storing of a message. Default 1 minute.
	Timeout time.Duration
	// TLSConfig, when set, offers STARTTLS.
	TLSConfig *tls.Config
	// Logger receives inquiry ids, sizes and reply codes, never an
	// address or a message's content. Default slog.Default().
	Logger *slog.Logger
}

// Server is the inquiry listener: an SMTP server that turns each message
// to one of its recipients into an inquiry.
type Server struct {
	cfg    Config
	rcpts  map[string]bool
	smtp   *smtp.Server
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
}

// New checks cfg and returns a listener; Serve starts it.
func New(cfg Config) (*Server, error) {
	if cfg.Receiver == nil {
		return nil, errors.New("inbound: config has no receiver")
	}
	if len(cfg.Recipients) == 0 {
		return nil, errors.New("inbound: config has no recipients: name the addresses inquiries are sent to")
	}
	rcpts := map[string]bool{}
	for _, r := range cfg.Recipients {
		a, err := netmail.ParseAddress(strings.TrimSpace(r))
		if err != nil || a.Name != "" {
			return nil, fmt.Errorf("inbound: recipient %q is not a bare address", r)
		}
		rcpts[strings.ToLower(a.Address)] = true
	}
	if cfg.Domain == "" {
		cfg.Domain = "localhost"
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 10 << 20
	}
	if cfg.MaxParts <= 0 {
		cfg.MaxParts = 20
	}
	if cfg.MaxDepth <= 0 {
		cfg.MaxDepth = 4
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, rcpts: rcpts, log: cfg.Logger}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = cfg.Domain
	srv.MaxMessageBytes = cfg.MaxBytes
	srv.MaxRecipients = 10
	srv.ReadTimeout, srv.WriteTimeout = cfg.Timeout, cfg.Timeout
	srv.TLSConfig = cfg.TLSConfig
	srv.ErrorLog = log.New(io.Discard, "", 0)
	s.smtp = srv
	return s, nil
}

// Serve accepts conversations on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	err := s.smtp.Serve(l)
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting, waits for the conversations under way to end
// or ctx to, and stops storing.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.smtp.Shutdown(ctx)
	s.cancel()
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops at once.
func (s *Server) Close() error {
	s.cancel()
	err := s.smtp.Close()
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	addr := ""
	if host, _, err := net.SplitHostPort(c.Conn().RemoteAddr().String()); err == nil {
		addr = host
	}
	return &session{s: s, addr: addr}, nil
}

// The replies of the listener.
var (
	errNoMailbox = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
		Message: "no such mailbox here: this server takes only the practice's inquiries"}
	errUnavailable = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "the inquiry could not be stored just now; try again later"}
	errRateLimited = &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 7, 1},
		Message: "too many inquiries from this sender; try again later"}
)

func malformed(reason string) error {
	return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
		Message: "the message is not MIME this server can read: " + reason}
}

type session struct {
	s    *Server
	addr string
	from string
	to   []string
}

func (c *session) Mail(from string, _ *smtp.MailOptions) error {
	c.from = from
	return nil
}

func (c *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !c.s.rcpts[strings.ToLower(to)] {
		return errNoMailbox
	}
	c.to = append(c.to, to)
	return nil
}

func (c *session) Reset() { c.from, c.to = "", nil }

func (c *session) Logout() error { return nil }

// Data reads the message, parses it within the limits and stores it as
// an inquiry. It answers 552 for a message too large, 554 for one that
// does not parse or that the practice refuses (for good: sending it again
// cannot help), 450 for a sender over the limit and 451 when the
// inquiry could not be stored (the database is down), so that the
// sender's server tries again.
func (c *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err // ErrDataTooLarge is go-smtp's 552
	}
	id := "smtp-" + uuid.NewString()
	log := c.s.log.With("request_id", id, "bytes", len(raw))
	p, err := mail.Parse(bytes.NewReader(raw), mail.Limits{MaxBytes: c.s.cfg.MaxBytes,
		MaxParts: c.s.cfg.MaxParts, MaxDepth: c.s.cfg.MaxDepth})
	switch {
	case errors.Is(err, mail.ErrTooLarge):
		return smtp.ErrDataTooLarge
	case err != nil:
		log.Info("inbound: message refused as malformed")
		return malformed(strings.TrimPrefix(err.Error(), mail.ErrMalformed.Error()+": "))
	}
	in, err := inquiryOf(p, raw, c.from, c.to[0])
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.s.ctx, c.s.cfg.Timeout)
	defer cancel()
	q, err := c.s.cfg.Receiver.ReceiveInquiry(ctx, practice.Client{Addr: c.addr, RequestID: id}, in)
	var fe *practice.FieldError
	switch {
	case errors.As(err, &fe):
		log.Info("inbound: inquiry refused", "field", fe.Field)
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
			Message: "the inquiry was refused: " + oneLine(fe.Error(), 200)}
	case errors.Is(err, practice.ErrRateLimited):
		log.Info("inbound: inquiry deferred: sender over the limit")
		return errRateLimited
	case err != nil:
		log.Error("inbound: inquiry not stored; the sender is asked to retry", "err", err)
		return errUnavailable
	}
	log.Info("inbound: inquiry received", "inquiry_id", q.ID, "attachments", len(in.Attachments))
	return nil
}

// inquiryOf makes the inquiry of a parsed message to rcpt.
func inquiryOf(p *mail.Parsed, raw []byte, envelopeFrom, rcpt string) (practice.NewInquiry, error) {
	from := p.From
	if from == nil {
		a, err := netmail.ParseAddress(envelopeFrom)
		if err != nil {
			return practice.NewInquiry{}, &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 7},
				Message: "the message has no From address to answer"}
		}
		from = a
	}
	if len(p.Attachments) > practice.MaxInquiryAttachments {
		return practice.NewInquiry{}, &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4},
			Message: fmt.Sprintf("an inquiry may carry at most %d attachments", practice.MaxInquiryAttachments)}
	}
	name := oneLine(from.Name, 255)
	if name == "" {
		name = oneLine(from.Address, 255)
	}
	text := p.Text
	if strings.TrimSpace(text) == "" && p.HTML != "" {
		text = textOfHTML(p.HTML)
	}
	text = cut(cleanText(text), maxMessage)
	if text == "" {
		text = "(the email held no text)"
	}
	mid := oneLine(p.MessageID, 900)
	if mid == "" {
		// A message without one is still one inquiry however often it
		// is delivered: it is known by its content.
		sum := sha256.Sum256(raw)
		mid = "sha256-" + hex.EncodeToString(sum[:]) + "@inbound"
	}
	in := practice.NewInquiry{Name: name, Email: from.Address, Subject: oneLine(p.Subject, 255), Message: text,
		AddressedTo: rcpt, Channel: practice.InquiryEmail, MessageID: mid}
	for _, a := range p.Attachments {
		in.Attachments = append(in.Attachments, practice.InquiryAttachment{Name: oneLine(a.Name, 255),
			ContentType: oneLine(a.ContentType, 255), Size: int64(len(a.Data)), Data: a.Data})
	}
	return in, nil
}

// maxMessage is the practice's bound on an inquiry's message; a longer
// email is cut rather than refused, since its sender cannot easily fix
// it.
const maxMessage = 10000

var (
	htmlPolicy = sync.OnceValue(bluemonday.StrictPolicy)
	// blockEnd matches the tags that end a line of text in HTML.
	blockEnd   = regexp.MustCompile(`(?i)<\s*(br|/p|/div|/li|/tr|/h[1-6]|/blockquote)\b[^>]*>`)
	blankLines = regexp.MustCompile(`\n{3,}`)
)

// textOfHTML is an HTML message's text: its tags stripped by bluemonday's
// strict policy (which drops scripts and styles with their content), its
// block ends kept as line breaks and its entities decoded.
func textOfHTML(h string) string {
	h = blockEnd.ReplaceAllString(h, "\n")
	t := html.UnescapeString(htmlPolicy().Sanitize(h))
	lines := strings.Split(t, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

// cleanText keeps line breaks and tabs of text and drops other control
// characters, with the line breaks as \n and no run of blank lines.
func cleanText(t string) string {
	t = strings.ReplaceAll(t, "\r\n", "\n")
	t = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if r == '\r' || unicode.IsControl(r) {
			return -1
		}
		return r
	}, t)
	return strings.TrimSpace(blankLines.ReplaceAllString(t, "\n\n"))
}

// oneLine makes v one line of at most n characters: any control
// character (a CR or LF a header smuggled in) becomes a space.
func oneLine(v string, n int) string {
	v = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(v, "\uFFFD"))
	return cut(strings.Join(strings.Fields(v), " "), n)
}

// cut keeps the first n characters of v.
func cut(v string, n int) string {
	if utf8.RuneCountInString(v) <= n {
		return v
	}
	r := []rune(v)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
