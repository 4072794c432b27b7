package practice

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Sign-in. Login trades an email and password for a short-lived access
// token (a JWT, TokenConfig.AccessTTL) and a refresh token; Refresh
// trades the refresh token, once, for new ones; Logout ends the session.
// Sessions are kept in the store, and Authenticate checks the token's
// session and its user's current record (role, patient, disabled) through
// a cache that holds each for AuthCacheTTL: logging out, disabling a user
// or changing a role takes effect within those seconds in every process,
// and at once in the process that made the change.

// AuthCacheTTL is how long Authenticate trusts what it read of a session
// and its user.
const AuthCacheTTL = 5 * time.Second

// authState is what sign-in keeps between calls.
type authState struct {
	keys     keyring
	verified verifiedCache
	limits   *loginLimiter
	sessions sessionCache
	// oidc is nil unless TokenConfig.OIDC is set.
	oidc *oidcVerifier
}

func newAuthState(cfg Config) (*authState, error) {
	a := &authState{limits: newLoginLimiter(), sessions: sessionCache{bySID: map[string]cachedSession{}}}
	if cfg.Tokens.OIDC != nil {
		if cfg.Tokens.OIDC.Issuer == cfg.Tokens.Issuer {
			return nil, errors.New("practice: the oidc issuer must not be the service's own issuer")
		}
		v, err := newOIDCVerifier(*cfg.Tokens.OIDC, cfg.Logger)
		if err != nil {
			return nil, err
		}
		a.oidc = v
	}
	return a, nil
}

// unauthenticated is ErrUnauthenticated with the reason a client reads.
func unauthenticated(reason string) error { return fmt.Errorf("%w: %s", ErrUnauthenticated, reason) }

var errBadCredentials = unauthenticated("the email or password is wrong")

// Login signs a user in with email and password and starts a session.
//
// Every outcome is audited (ActionLogin) with its reason, never the
// password. A wrong email, a wrong password and a disabled user all
// answer the same error wrapping ErrUnauthenticated, after the same
// work: an unknown email is checked against a dummy hash. Too many
// attempts answer a *RateLimitError (see LoginFailuresPerAccount).
func (s *Service) Login(ctx context.Context, c Client, email, password string) (Tokens, error) {
	now := s.cfg.Now()
	account := accountKey(email)
	if wait := s.auth.limits.allow(account, addrKey(c.Addr), now); wait > 0 {
		s.auditAuth(ctx, c, ActionLogin, User{}, "", OutcomeFailure, "rate limited")
		return Tokens{}, &RateLimitError{RetryAfter: wait, What: "sign-in attempts"}
	}
	fail := func(u User, reason string) (Tokens, error) {
		s.auth.limits.fail(account, now)
		s.auditAuth(ctx, c, ActionLogin, User{ID: u.ID}, "", OutcomeFailure, reason)
		return Tokens{}, errBadCredentials
	}
	switch {
	case email == "":
		return fail(User{}, "unknown email")
	case len(password) > MaxPasswordBytes:
		// No account's password is that long: nothing to hide by timing.
		return fail(User{}, "wrong password")
	}
	var u User
	err := s.cfg.Store.Read(ctx, func(tx Tx) error {
		var err error
		u, err = tx.UserByEmail(ctx, email)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		_, _ = checkPassword(dummyHash(), password)
		return fail(User{}, "unknown email")
	}
	if err != nil {
		return Tokens{}, fmt.Errorf("practice: login: %w", err)
	}
	if u.PasswordHash == "" {
		_, _ = checkPassword(dummyHash(), password)
		return fail(u, "no password: the user signs in through single sign-on")
	}
	ok, err := checkPassword(u.PasswordHash, password)
	if err != nil {
		s.log.ErrorContext(ctx, "password hash unreadable", "user", u.ID, "err", err)
		return fail(u, "unreadable password hash")
	}
	if !ok {
		return fail(u, "wrong password")
	}
	if u.Disabled() {
		s.auditAuth(ctx, c, ActionLogin, User{ID: u.ID}, "", OutcomeFailure, "disabled")
		return Tokens{}, errBadCredentials
	}
	s.auth.limits.succeed(account)

	var rehash string
	if needsRehash(u.PasswordHash) {
		if rehash, err = hashPassword(password); err != nil {
			return Tokens{}, err
		}
	}
	t, err := s.startSession(ctx, c, u, rehash, now)
	if err != nil {
		return Tokens{}, fmt.Errorf("practice: login: %w", err)
	}
	s.auditAuth(ctx, c, ActionLogin, u, t.sid, OutcomeSuccess, "")
	return t.Tokens, nil
}

type issued struct {
	Tokens
	sid string
}

// startSession stores a new session of u with its first refresh token,
// and saves rehash as u's password hash if it is set (and the hash did
// not change meanwhile).
func (s *Service) startSession(ctx context.Context, c Client, u User, rehash string, now time.Time) (issued, error) {
	sess := Session{ID: randomToken(16), UserID: u.ID, CreatedAt: now.UTC(),
		ExpiresAt: now.Add(s.cfg.Tokens.SessionTTL).UTC(), ClientAddr: c.Addr}
	refresh := randomToken(32)
	rt := RefreshToken{Hash: hashRefresh(refresh), SessionID: sess.ID, CreatedAt: now.UTC(),
		ExpiresAt: minTime(now.Add(s.cfg.Tokens.RefreshTTL), sess.ExpiresAt).UTC()}
	access, exp, err := s.issueAccess(ctx, u.ID, sess.ID, now)
	if err != nil {
		return issued{}, err
	}
	err = s.cfg.Store.Write(ctx, func(tx Tx) error {
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		if err := tx.SaveRefreshToken(ctx, rt); err != nil {
			return err
		}
		if rehash == "" {
			return nil
		}
		cur, err := tx.User(ctx, u.ID)
		if err != nil || cur.PasswordHash != u.PasswordHash {
			return err
		}
		cur.PasswordHash = rehash
		return tx.UpdateUser(ctx, cur)
	})
	if err != nil {
		return issued{}, err
	}
	u.PasswordHash = ""
	return issued{Tokens: Tokens{Access: access, AccessExpires: exp, Refresh: refresh, RefreshExpires: rt.ExpiresAt,
		User: u}, sid: sess.ID}, nil
}

// maxRefreshLen bounds a refresh token (ours are 43 characters).
const maxRefreshLen = 256

// Refresh trades a refresh token for new Tokens in the same session: the
// token is used up, and the new refresh token replaces it. A token used
// a second time (a stolen copy, or the original after the thief used
// the copy) revokes the whole session, so that neither holder can go
// on; that reuse is audited. An expired token, an ended session or a
// disabled user answer ErrUnauthenticated.
func (s *Service) Refresh(ctx context.Context, c Client, refresh string) (Tokens, error) {
	now := s.cfg.Now()
	if refresh == "" || len(refresh) > maxRefreshLen {
		return Tokens{}, unauthenticated("the refresh token is not valid")
	}
	// The signing key must exist before the transaction: making it is a
	// transaction of its own.
	if _, err := s.signer(ctx); err != nil {
		return Tokens{}, err
	}
	next := randomToken(32)
	var (
		u      User
		sess   Session
		reused bool
		reason string
		rt     RefreshToken
	)
	err := s.cfg.Store.Write(ctx, func(tx Tx) error {
		used, err := tx.UseRefreshToken(ctx, hashRefresh(refresh), now)
		if errors.Is(err, ErrNotFound) {
			reason = "unknown refresh token"
			return nil
		}
		if err != nil {
			return err
		}
		if sess, err = tx.Session(ctx, used.SessionID); err == nil {
			u, err = tx.User(ctx, sess.UserID)
		}
		if errors.Is(err, ErrNotFound) {
			reason = "session or user deleted"
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case !used.UsedAt.IsZero():
			reused = true
			if sess.RevokedAt.IsZero() {
				return tx.RevokeSession(ctx, sess.ID, now, "refresh token reuse")
			}
			return nil
		case !now.Before(used.ExpiresAt):
			reason = "refresh token expired"
		case !sess.RevokedAt.IsZero():
			reason = "session revoked: " + sess.Reason
		case !now.Before(sess.ExpiresAt):
			reason = "session expired"
		case u.Disabled():
			reason = "disabled"
		default:
			rt = RefreshToken{Hash: hashRefresh(next), SessionID: sess.ID, CreatedAt: now.UTC(),
				ExpiresAt: minTime(now.Add(s.cfg.Tokens.RefreshTTL), sess.ExpiresAt).UTC()}
			return tx.SaveRefreshToken(ctx, rt)
		}
		return nil
	})
	if err != nil {
		return Tokens{}, fmt.Errorf("practice: refresh: %w", err)
	}
	if reused {
		s.auth.sessions.forgetSession(sess.ID)
		s.log.WarnContext(ctx, "refresh token reused; session revoked", "user", u.ID, "session", sess.ID)
		s.auditAuth(ctx, c, ActionRefresh, User{ID: u.ID}, sess.ID, OutcomeFailure, "refresh token reuse: session revoked")
		return Tokens{}, unauthenticated("the refresh token was used already; sign in again")
	}
	if reason != "" {
		s.auditAuth(ctx, c, ActionRefresh, User{ID: u.ID}, sess.ID, OutcomeFailure, reason)
		return Tokens{}, unauthenticated("the refresh token is not valid; sign in again")
	}
	access, exp, err := s.issueAccess(ctx, u.ID, sess.ID, now)
	if err != nil {
		return Tokens{}, fmt.Errorf("practice: refresh: %w", err)
	}
	s.auditAuth(ctx, c, ActionRefresh, u, sess.ID, OutcomeSuccess, "")
	u.PasswordHash = ""
	return Tokens{Access: access, AccessExpires: exp, Refresh: next, RefreshExpires: rt.ExpiresAt, User: u}, nil
}

// Logout ends the actor's session: its refresh token stops working at
// once, and its access tokens within AuthCacheTTL (at once in this
// process). An actor signed in through an external OIDC issuer has no
// session here; logging out is the issuer's.
func (s *Service) Logout(ctx context.Context, a Actor) error {
	if a.Anonymous() {
		return unauthenticated("not signed in")
	}
	if a.SessionID == "" {
		return nil
	}
	err := s.cfg.Store.Write(ctx, func(tx Tx) error {
		return tx.RevokeSession(ctx, a.SessionID, s.cfg.Now(), "logout")
	})
	if err != nil {
		return fmt.Errorf("practice: logout: %w", err)
	}
	s.auth.sessions.forgetSession(a.SessionID)
	s.audit(ctx, AuditEntry{ActorID: a.UserID, ActorRole: a.Role, Action: ActionLogout, Outcome: OutcomeSuccess,
		Target: userTarget(a.UserID), ClientAddr: a.ClientAddr, RequestID: a.RequestID, Detail: "session " + a.SessionID})
	return nil
}

// Authenticate verifies an access token and returns its actor, whose
// Role and PatientID are the user's current ones. Any token that is not
// valid (see verifyAccess), whose session ended or whose user is
// disabled answers an error wrapping ErrUnauthenticated; the reason says
// "expired" when a refresh would help. With TokenConfig.OIDC set, a
// token of that issuer is verified against its keys instead.
func (s *Service) Authenticate(ctx context.Context, c Client, token string) (Actor, error) {
	if token == "" {
		return Actor{}, unauthenticated("no access token")
	}
	if s.auth.oidc != nil && s.auth.oidc.issued(token) {
		return s.authenticateOIDC(ctx, c, token)
	}
	claims, err := s.verifyAccess(ctx, token)
	if err != nil {
		if errors.Is(err, jwt.TokenExpiredError()) {
			return Actor{}, unauthenticated("the access token expired")
		}
		s.log.DebugContext(ctx, "access token refused", "err", err)
		return Actor{}, unauthenticated("the access token is not valid")
	}
	e, err := s.sessionOf(ctx, claims.SessionID)
	if err != nil {
		return Actor{}, err
	}
	now := s.cfg.Now()
	switch {
	case e.missing, e.session.UserID != claims.UserID:
		return Actor{}, unauthenticated("the access token is not valid")
	case !e.session.RevokedAt.IsZero(), !now.Before(e.session.ExpiresAt), e.user.Disabled():
		return Actor{}, unauthenticated("the session ended; sign in again")
	}
	return Actor{UserID: e.user.ID, Role: e.user.Role, PatientID: e.user.PatientID, SessionID: e.session.ID,
		ClientAddr: c.Addr, RequestID: c.RequestID}, nil
}

// sessionCache holds what Authenticate read of sessions and their users.
type sessionCache struct {
	mu    sync.Mutex
	bySID map[string]cachedSession
	// byEmail holds users of OIDC tokens, by email in lower case.
	byEmail map[string]cachedUser
}

type cachedSession struct {
	session Session
	user    User
	// missing: the session or its user does not exist.
	missing bool
	at      time.Time
}

type cachedUser struct {
	user    User
	missing bool
	at      time.Time
}

// fresh reports whether a cache entry read at `at` is still trusted.
func fresh(at, now time.Time) bool { return !now.Before(at) && now.Sub(at) < AuthCacheTTL }

// sessionOf returns the session and its user, from the cache or the store.
func (s *Service) sessionOf(ctx context.Context, sid string) (cachedSession, error) {
	now := s.cfg.Now()
	c := &s.auth.sessions
	c.mu.Lock()
	e, ok := c.bySID[sid]
	c.mu.Unlock()
	if ok && fresh(e.at, now) {
		return e, nil
	}
	e = cachedSession{at: now}
	err := s.cfg.Store.Read(ctx, func(tx Tx) error {
		var err error
		if e.session, err = tx.Session(ctx, sid); err != nil {
			return err
		}
		e.user, err = tx.User(ctx, e.session.UserID)
		return err
	})
	switch {
	case errors.Is(err, ErrNotFound):
		e.missing = true
	case err != nil:
		return e, fmt.Errorf("practice: authenticate: %w", err)
	}
	e.user.PasswordHash = ""
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.bySID) >= maxTracked {
		for k, v := range c.bySID {
			if !fresh(v.at, now) {
				delete(c.bySID, k)
			}
		}
		if len(c.bySID) >= maxTracked {
			clear(c.bySID)
		}
	}
	c.bySID[sid] = e
	return e, nil
}

// forgetSession drops what the cache holds of a session.
func (c *sessionCache) forgetSession(sid string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.bySID, sid)
}

// forgetUser drops what the cache holds of a user's sessions, so that a
// change to the user (role, disabled, deleted) takes effect in this
// process at once. User management calls it after committing one.
func (s *Service) forgetUser(id int64) {
	c := &s.auth.sessions
	c.mu.Lock()
	defer c.mu.Unlock()
	for sid, e := range c.bySID {
		if e.user.ID == id || e.session.UserID == id {
			delete(c.bySID, sid)
		}
	}
	for email, e := range c.byEmail {
		if e.user.ID == id {
			delete(c.byEmail, email)
		}
	}
}

// auditAuth appends a sign-in event: u is the user it concerns (only
// the ID for one that did not sign in, who is not the actor), sid the
// session.
func (s *Service) auditAuth(ctx context.Context, c Client, act Action, u User, sid string, out Outcome, reason string) {
	e := AuditEntry{Action: act, Outcome: out, Target: userTarget(u.ID), ClientAddr: c.Addr, RequestID: c.RequestID,
		Detail: reason}
	if out == OutcomeSuccess {
		e.ActorID, e.ActorRole = u.ID, u.Role
	}
	if sid != "" {
		if e.Detail != "" {
			e.Detail += "; "
		}
		e.Detail += "session " + sid
	}
	s.audit(ctx, e)
}

func userTarget(id int64) string {
	if id == 0 {
		return ""
	}
	return "user:" + strconv.FormatInt(id, 10)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
