package console

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/healthcare-records/healthcare-records/practice"
)

// Sessions. A console sign-in is a practice sign-in (practice.Service
// Login): the practice keeps the session, and every request is
// authenticated by the practice (Authenticate) with the session's access
// token, refreshed (Refresh) shortly before it expires. So logging out,
// disabling a user or changing a role takes effect in the console as in
// the API. The browser holds only a random id in a cookie; the tokens
// stay in this process, in memory, under a lock per session so that
// concurrent requests never use one refresh token twice (which the
// practice answers by revoking the session). The console adds an idle
// timeout and an absolute lifetime of its own.

// cookieName is the session cookie. The __Host- prefix makes the browser
// refuse it unless it is Secure, has Path=/ and no Domain: no other host
// or path can set or shadow it. Browsers treat http://127.0.0.1 and
// http://localhost as secure contexts, so the demo and the tests keep
// the Secure attribute on plain loopback HTTP.
const cookieName = "__Host-hr-console"

// refreshAhead is how long before its expiry an access token is renewed.
const refreshAhead = 30 * time.Second

type session struct {
	id string

	mu      sync.Mutex
	tokens  practice.Tokens
	sid     string // the practice's session id, for Logout
	started time.Time
	seen    time.Time
}

type sessions struct {
	mu   sync.Mutex
	byID map[string]*session
}

func newSessions() *sessions { return &sessions{byID: map[string]*session{}} }

func (s *sessions) get(id string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byID[id]
}

func (s *sessions) add(sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byID[sess.id] = sess
}

func (s *sessions) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
}

func (s *sessions) clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.byID)
}

// sweep drops sessions that ended, so that abandoned ones do not pile up.
func (s *sessions) sweep(now time.Time, idle, maxAge time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, sess := range s.byID {
		sess.mu.Lock()
		over := now.Sub(sess.seen) >= idle || now.Sub(sess.started) >= maxAge
		sess.mu.Unlock()
		if over {
			delete(s.byID, id)
		}
	}
}

func randomID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// errSessionEnded is why a request with a session cookie is signed out:
// a key of signedOut.
type errSessionEnded struct{ reason string }

func (e errSessionEnded) Error() string { return e.reason }

// signIn starts a practice session for the credentials and a console
// session over it, and sets its cookie.
func (c *Console) signIn(ctx context.Context, w http.ResponseWriter, cl practice.Client, email, password string) error {
	t, err := c.svc.Login(ctx, cl, email, password)
	if err != nil {
		return err
	}
	a, err := c.svc.Authenticate(ctx, cl, t.Access)
	if err != nil {
		return err
	}
	now := c.cfg.Now()
	c.sessions.sweep(now, c.cfg.IdleTimeout, c.cfg.MaxAge)
	sess := &session{id: randomID(), tokens: t, sid: a.SessionID, started: now, seen: now}
	c.sessions.add(sess)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: sess.id, Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: int(c.cfg.MaxAge.Seconds())})
	return nil
}

// clearCookie tells the browser to drop the session cookie.
func clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// sessionOf returns the request's session, or nil without a cookie or
// with one this process does not know.
func (c *Console) sessionOf(r *http.Request) *session {
	ck, err := r.Cookie(cookieName)
	if err != nil || ck.Value == "" {
		return nil
	}
	return c.sessions.get(ck.Value)
}

// actorOf authenticates the session's request with the practice: it ends
// the session past its idle or absolute lifetime, refreshes the access
// token when it is about to expire, and renews the idle timer if touch.
func (c *Console) actorOf(ctx context.Context, sess *session, cl practice.Client, touch bool) (practice.Actor, error) {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	now := c.cfg.Now()
	switch {
	case now.Sub(sess.started) >= c.cfg.MaxAge:
		c.endLocked(ctx, sess, cl)
		return practice.Actor{}, errSessionEnded{"max"}
	case now.Sub(sess.seen) >= c.cfg.IdleTimeout:
		c.endLocked(ctx, sess, cl)
		return practice.Actor{}, errSessionEnded{"idle"}
	}
	// The practice ended the session (logout elsewhere, a disabled user,
	// a new password): so does the console.
	ended := func(err error) (practice.Actor, error) {
		if errors.Is(err, practice.ErrUnauthenticated) {
			c.sessions.remove(sess.id)
			return practice.Actor{}, errSessionEnded{"ended"}
		}
		return practice.Actor{}, err
	}
	if !now.Before(sess.tokens.AccessExpires.Add(-refreshAhead)) {
		t, err := c.svc.Refresh(ctx, cl, sess.tokens.Refresh)
		if err != nil {
			return ended(err)
		}
		sess.tokens = t
	}
	a, err := c.svc.Authenticate(ctx, cl, sess.tokens.Access)
	if err != nil {
		return ended(err)
	}
	if touch {
		sess.seen = now
	}
	return a, nil
}

// endLocked ends the session here and at the practice; sess.mu is held.
func (c *Console) endLocked(ctx context.Context, sess *session, cl practice.Client) {
	c.sessions.remove(sess.id)
	if sess.sid == "" {
		return
	}
	a := practice.Actor{UserID: sess.tokens.User.ID, Role: sess.tokens.User.Role, SessionID: sess.sid,
		ClientAddr: cl.Addr, RequestID: cl.RequestID}
	if err := c.svc.Logout(ctx, a); err != nil {
		c.log.WarnContext(ctx, "ending a practice session failed", "user", a.UserID, "err", err)
	}
	sess.sid = ""
}

// signOut ends the request's session, here and at the practice.
func (c *Console) signOut(ctx context.Context, w http.ResponseWriter, sess *session, cl practice.Client) {
	clearCookie(w)
	if sess == nil {
		return
	}
	sess.mu.Lock()
	defer sess.mu.Unlock()
	c.endLocked(ctx, sess, cl)
}

// deadline is when the session ends if no request renews it: the idle
// timeout, or the absolute lifetime if sooner.
func (c *Console) deadline(sess *session) time.Time {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	d := sess.seen.Add(c.cfg.IdleTimeout)
	if end := sess.started.Add(c.cfg.MaxAge); end.Before(d) {
		d = end
	}
	return d
}
