package mailtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/healthcare-records/healthcare-records/mail"
)

// Received is one message the server accepted: the envelope, the bytes
// as sent and the message as mail.Parse read it.
type Received struct {
	// ID numbers the messages the server received, from 1.
	ID int
	At time.Time
	// From and To are the envelope's MAIL FROM and RCPT TO.
	From string
	To   []string
	Raw  []byte
	*mail.Parsed
}

// Server is an SMTP server on 127.0.0.1 that keeps what it receives in
// memory. It is safe for concurrent use.
type Server struct {
	addr string

	mu       sync.Mutex
	srv      *smtp.Server
	l        net.Listener
	done     chan struct{}
	messages []Received
	refusal  *smtp.SMTPError
	changed  chan struct{}
}

// Start starts a server on a free port of 127.0.0.1.
func Start() (*Server, error) {
	s := &Server{addr: "127.0.0.1:0", changed: make(chan struct{})}
	if err := s.Up(); err != nil {
		return nil, err
	}
	return s, nil
}

// Addr is the server's host:port. It stays the same across Down and Up.
func (s *Server) Addr() string { return s.addr }

// URL is the SMTP_URL of the server for mail.SMTPConfig: plain SMTP on
// loopback, without STARTTLS.
func (s *Server) URL() string { return "smtp://" + s.addr + "?starttls=none" }

// Down stops the server as if it crashed: open connections are closed and
// new ones refused, until Up.
func (s *Server) Down() error {
	s.mu.Lock()
	srv, l, done := s.srv, s.l, s.done
	s.srv = nil
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Close()
	// Serve may not have registered the listener with srv yet, so that
	// srv.Close could not close it.
	_ = l.Close()
	<-done
	return err
}

// Up starts the server again on its address after Down. Up on a running
// server does nothing.
func (s *Server) Up() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return nil
	}
	var (
		l   net.Listener
		err error
	)
	// The port of a listener just closed may be a moment in coming back.
	for try := 0; try < 50; try++ {
		if l, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("mailtest: listen: %w", err)
	}
	s.addr = l.Addr().String()
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "mailtest.localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	srv.MaxMessageBytes = 32 << 20
	srv.ErrorLog = log.New(io.Discard, "", 0)
	done := make(chan struct{})
	s.srv, s.l, s.done = srv, l, done
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	return nil
}

// Close stops the server for good.
func (s *Server) Close() error { return s.Down() }

// Refuse makes the server answer every RCPT TO with code (4xx or 5xx)
// and message, as a server refusing a recipient would; Refuse(0, "")
// accepts again.
func (s *Server) Refuse(code int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		s.refusal = nil
		return
	}
	enh := smtp.EnhancedCode{code / 100, 0, 0}
	s.refusal = &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: message}
}

// Messages returns what the server received, oldest first.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.messages...)
}

// Message returns the received message of that id.
func (s *Server) Message(id int) (Received, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id < 1 || id > len(s.messages) {
		return Received{}, false
	}
	return s.messages[id-1], true
}

// WithMessageID returns the messages received under that Message-ID
// (without angle brackets), oldest first: how a test sees that a message
// sent again is the same one, or that it was sent once.
func (s *Server) WithMessageID(id string) []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Received
	for _, m := range s.messages {
		if m.MessageID == id {
			out = append(out, m)
		}
	}
	return out
}

// Wait waits until the server has received at least n messages, or ctx
// ends, and returns them.
func (s *Server) Wait(ctx context.Context, n int) ([]Received, error) {
	for {
		s.mu.Lock()
		got, changed := len(s.messages), s.changed
		s.mu.Unlock()
		if got >= n {
			return s.Messages(), nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return s.Messages(), fmt.Errorf("mailtest: %d of %d messages received: %w", got, n, ctx.Err())
		}
	}
}

// Reset forgets the messages received.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = nil
}

func (s *Server) keep(r Received) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.ID = len(s.messages) + 1
	s.messages = append(s.messages, r)
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) refusalNow() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refusal == nil {
		return nil // not the nil *SMTPError, which is a non-nil error
	}
	return s.refusal
}

// session is one SMTP conversation.
type session struct {
	s    *Server
	from string
	to   []string
}

func (c *session) Mail(from string, _ *smtp.MailOptions) error {
	c.from = from
	return nil
}

func (c *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := c.s.refusalNow(); err != nil {
		return err
	}
	c.to = append(c.to, to)
	return nil
}

func (c *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	p, err := mail.Parse(bytes.NewReader(raw), mail.Limits{MaxBytes: int64(len(raw)) + 1})
	if err != nil {
		// Kept all the same: a test wants to see what was sent.
		if !errors.Is(err, mail.ErrMalformed) {
			return err
		}
		p = &mail.Parsed{}
	}
	c.s.keep(Received{At: time.Now(), From: c.from, To: append([]string(nil), c.to...), Raw: raw, Parsed: p})
	return nil
}

func (c *session) Reset() { c.from, c.to = "", nil }

func (c *session) Logout() error { return nil }
