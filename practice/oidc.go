package practice

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/httprc/v3"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// An external OpenID Connect issuer (TokenConfig.OIDC) signs access
// tokens the service accepts besides its own: a token whose iss is the
// issuer's is verified against the issuer's JWKS, which a jwk.Cache
// fetches in the background (every 5 minutes to an hour, as the
// issuer's Cache-Control says) and at once when a token names a kid it
// does not hold (at most every oidcMissEvery), so that the issuer's key
// rotation is picked up without a restart. The user is the one whose
// email is the token's email claim; a disabled user, an unknown email
// and an email_verified claim of false are refused.
const (
	oidcMinRefresh = 5 * time.Minute
	oidcMaxRefresh = time.Hour
	// oidcMissEvery bounds the fetches that unknown kids cause.
	oidcMissEvery = 10 * time.Second
	// oidcWait bounds how long a request waits for the first fetch.
	oidcWait = 5 * time.Second
)

// oidcAlgs are the algorithms accepted from the issuer: asymmetric
// ones only, so that no public key can be used as an HMAC secret.
var oidcAlgs = map[string]string{
	"RS256": "RSA", "RS384": "RSA", "RS512": "RSA",
	"PS256": "RSA", "PS384": "RSA", "PS512": "RSA",
	"ES256": "EC", "ES384": "EC", "ES512": "EC",
	"EdDSA": "OKP", "Ed25519": "OKP",
}

type oidcVerifier struct {
	cfg    OIDCConfig
	log    *slog.Logger
	cache  *jwk.Cache
	cancel context.CancelFunc

	mu     sync.Mutex
	missAt time.Time
}

func newOIDCVerifier(cfg OIDCConfig, log *slog.Logger) (*oidcVerifier, error) {
	u, err := url.Parse(cfg.JWKSURL)
	switch {
	case cfg.Issuer == "" || cfg.Audience == "":
		return nil, errors.New("practice: oidc needs an issuer and an audience")
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return nil, fmt.Errorf("practice: oidc jwks url %q is not an http(s) url", cfg.JWKSURL)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cache, err := jwk.NewCache(ctx, httprc.NewClient())
	if err != nil {
		cancel()
		return nil, fmt.Errorf("practice: oidc key cache: %w", err)
	}
	// Registering does not wait for the first fetch: the service starts
	// while the issuer is unreachable, and its tokens wait for it then.
	err = cache.Register(ctx, cfg.JWKSURL, jwk.WithMinInterval(oidcMinRefresh), jwk.WithMaxInterval(oidcMaxRefresh),
		jwk.WithWaitReady(false))
	if err != nil {
		cancel()
		return nil, fmt.Errorf("practice: oidc key cache: %w", err)
	}
	return &oidcVerifier{cfg: cfg, log: log, cache: cache, cancel: cancel}, nil
}

func (v *oidcVerifier) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := v.cache.Shutdown(ctx)
	v.cancel()
	return err
}

// issued reports whether the token says the issuer issued it. It reads
// the claims without verifying them, only to choose the keys that will.
func (v *oidcVerifier) issued(token string) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(token) > maxTokenLen {
		return false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return false
	}
	var claims struct {
		Iss string `json:"iss"`
	}
	return json.Unmarshal(payload, &claims) == nil && claims.Iss == v.cfg.Issuer
}

// keySet returns the issuer's keys, waiting a little for the first fetch.
func (v *oidcVerifier) keySet(ctx context.Context) (jwk.Set, error) {
	r, err := v.cache.LookupResource(ctx, v.cfg.JWKSURL)
	if err != nil {
		return nil, err
	}
	wait, cancel := context.WithTimeout(ctx, oidcWait)
	defer cancel()
	if err := r.Ready(wait); err != nil {
		return nil, fmt.Errorf("issuer's keys not fetched: %w", err)
	}
	return r.Resource(), nil
}

// key returns the issuer's key of kid, fetching the keys again if it is
// not known and they were not fetched for that in oidcMissEvery.
func (v *oidcVerifier) key(ctx context.Context, kid string) (jwk.Key, error) {
	set, err := v.keySet(ctx)
	if err != nil {
		return nil, err
	}
	if k, ok := set.LookupKeyID(kid); ok {
		return k, nil
	}
	v.mu.Lock()
	due := time.Since(v.missAt) >= oidcMissEvery
	if due {
		v.missAt = time.Now()
	}
	v.mu.Unlock()
	if due {
		if set, err = v.cache.Refresh(ctx, v.cfg.JWKSURL); err != nil {
			v.log.WarnContext(ctx, "oidc keys not fetched again", "err", err)
		} else if k, ok := set.LookupKeyID(kid); ok {
			return k, nil
		}
	}
	return nil, fmt.Errorf("unknown kid %q", kid)
}

// verify checks a token of the issuer and returns the email it names.
func (v *oidcVerifier) verify(ctx context.Context, raw string, now func() time.Time) (string, error) {
	keys := jws.KeyProviderFunc(func(ctx context.Context, sink jws.KeySink, sig *jws.Signature, _ *jws.Message) error {
		h := sig.ProtectedHeaders()
		alg, _ := h.Algorithm()
		kty, ok := oidcAlgs[alg.String()]
		if !ok {
			return fmt.Errorf("algorithm %q is not allowed", alg.String())
		}
		kid, ok := h.KeyID()
		if !ok || kid == "" {
			return errors.New("no kid")
		}
		k, err := v.key(ctx, kid)
		if err != nil {
			return err
		}
		if k.KeyType().String() != kty {
			return fmt.Errorf("key %q is %s, not for %s", kid, k.KeyType(), alg)
		}
		if ka, ok := k.Algorithm(); ok && ka.String() != alg.String() {
			return fmt.Errorf("key %q is for %s, not %s", kid, ka, alg)
		}
		if use, ok := k.KeyUsage(); ok && use != "sig" {
			return fmt.Errorf("key %q is for %q", kid, use)
		}
		sink.Key(alg, k)
		return nil
	})
	tok, err := jwt.Parse([]byte(raw),
		jwt.WithKeyProvider(keys),
		jwt.WithContext(ctx),
		jwt.WithClock(jwt.ClockFunc(now)),
		jwt.WithAcceptableSkew(clockSkew),
		jwt.WithIssuer(v.cfg.Issuer),
		jwt.WithAudience(v.cfg.Audience),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
	)
	if err != nil {
		return "", err
	}
	var email string
	if err := tok.Get(v.cfg.EmailClaim, &email); err != nil || email == "" {
		return "", fmt.Errorf("no %s claim", v.cfg.EmailClaim)
	}
	var verified any
	if tok.Get("email_verified", &verified) == nil {
		if b, ok := verified.(bool); (ok && !b) || verified == "false" {
			return "", errors.New("email not verified")
		}
	}
	return email, nil
}

// authenticateOIDC verifies a token of the external issuer and returns
// the actor of its email's user. The actor has no SessionID: the
// session is the issuer's.
func (s *Service) authenticateOIDC(ctx context.Context, c Client, token string) (Actor, error) {
	email, err := s.auth.oidc.verify(ctx, token, s.cfg.Now)
	if err != nil {
		if errors.Is(err, jwt.TokenExpiredError()) {
			return Actor{}, unauthenticated("the access token expired")
		}
		s.log.DebugContext(ctx, "oidc token refused", "err", err)
		return Actor{}, unauthenticated("the access token is not valid")
	}
	e, err := s.userByEmail(ctx, email)
	if err != nil {
		return Actor{}, err
	}
	switch {
	case e.missing:
		return Actor{}, unauthenticated("no user has the token's email")
	case e.user.Disabled():
		return Actor{}, unauthenticated("the user is disabled")
	}
	return Actor{UserID: e.user.ID, Role: e.user.Role, PatientID: e.user.PatientID, ClientAddr: c.Addr,
		RequestID: c.RequestID}, nil
}

// userByEmail returns the user of an email, from the cache or the store.
func (s *Service) userByEmail(ctx context.Context, email string) (cachedUser, error) {
	now := s.cfg.Now()
	key := strings.ToLower(email)
	c := &s.auth.sessions
	c.mu.Lock()
	e, ok := c.byEmail[key]
	c.mu.Unlock()
	if ok && fresh(e.at, now) {
		return e, nil
	}
	e = cachedUser{at: now}
	err := s.cfg.Store.Read(ctx, func(tx Tx) error {
		var err error
		e.user, err = tx.UserByEmail(ctx, email)
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
	if c.byEmail == nil || len(c.byEmail) >= maxTracked {
		c.byEmail = map[string]cachedUser{}
	}
	c.byEmail[key] = e
	return e, nil
}
