package practice

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Access tokens are JWTs signed with ES256 (ECDSA on P-256 with SHA-256)
// by keys the service keeps in the database, each named by its RFC 7638
// thumbprint as the kid. ES256 rather than EdDSA: every JOSE library,
// API gateway and WebCrypto verifies it, its name says the whole
// algorithm (RFC 9864 deprecates "EdDSA" for naming no curve), and Go's
// ECDSA signing is hedged, so a signature does not depend on a good
// random source as ECDSA's once did, which was EdDSA's main advantage.
const (
	// accessAlg is the only algorithm an access token may carry.
	accessAlg = "ES256"
	// accessType is the JWT's typ header (RFC 9068), which keeps another
	// kind of JWT signed by the same keys from passing for an access
	// token.
	accessType = "at+jwt"
	// clockSkew is the leeway on exp, nbf and iat.
	clockSkew = 30 * time.Second
	// keyRefresh is how often the keys are read again, so that a key
	// another process made takes over signing here within it. A token
	// with an unknown kid reads them at once (at most once a second).
	keyRefresh = time.Minute
	// maxTokenLen bounds a token before it is parsed.
	maxTokenLen = 8 << 10
)

// Tokens are what a sign-in or a refresh returns.
type Tokens struct {
	// Access is the JWT to send as "Authorization: Bearer"; it expires
	// at AccessExpires (TokenConfig.AccessTTL after issue).
	Access        string
	AccessExpires time.Time
	// Refresh is an opaque token that Refresh trades, once, for new
	// Tokens until RefreshExpires.
	Refresh        string
	RefreshExpires time.Time
	// User is the signed-in user, without the password hash.
	User User
}

// signingKey is a stored key, parsed.
type signingKey struct {
	kid     string
	private jwk.Key
	public  *ecdsa.PublicKey
	created time.Time
	retired time.Time
}

// verifiesAt reports whether the key still verifies tokens at now: until
// it retired plus one token lifetime, so that tokens it signed live out
// their lifetime.
func (k *signingKey) verifiesAt(now time.Time, ttl time.Duration) bool {
	return k.retired.IsZero() || now.Before(k.retired.Add(ttl+clockSkew))
}

// keyring caches the signing keys.
type keyring struct {
	mu       sync.Mutex
	loadedAt time.Time
	missAt   time.Time
	signer   *signingKey
	byKID    map[string]*signingKey
	// all is every usable key, newest first.
	all []*signingKey
}

// keys returns the keyring, read from the store when stale (or when kid
// is not known and it was not read in the last second). A failed read
// keeps the keys it had, if any.
func (s *Service) keys(ctx context.Context, kid string) (*keyring, error) {
	r := &s.auth.keys
	now := s.cfg.Now()
	stale := r.byKID == nil || now.Sub(r.loadedAt) >= keyRefresh || now.Before(r.loadedAt)
	if !stale && kid != "" && r.byKID[kid] == nil && now.Sub(r.missAt) >= time.Second {
		r.missAt = now
		stale = true
	}
	if !stale {
		return r, nil
	}
	var stored []SigningKey
	err := s.cfg.Store.Read(ctx, func(tx Tx) error {
		var err error
		stored, err = tx.SigningKeys(ctx)
		return err
	})
	if err != nil {
		if r.byKID != nil {
			s.log.WarnContext(ctx, "signing keys not read again; using those read before", "err", err)
			return r, nil
		}
		return nil, fmt.Errorf("practice: signing keys: %w", err)
	}
	r.load(stored, s)
	r.loadedAt = now
	return r, nil
}

// load replaces the keys by stored (newest first).
func (r *keyring) load(stored []SigningKey, s *Service) {
	r.byKID = make(map[string]*signingKey, len(stored))
	r.all, r.signer = r.all[:0], nil
	for _, sk := range stored {
		k, err := parseSigningKey(sk)
		if err != nil {
			s.log.Error("signing key unusable", "kid", sk.KID, "err", err)
			continue
		}
		r.byKID[k.kid] = k
		r.all = append(r.all, k)
		if r.signer == nil && k.retired.IsZero() {
			r.signer = k
		}
	}
}

func parseSigningKey(sk SigningKey) (*signingKey, error) {
	if sk.Alg != accessAlg {
		return nil, fmt.Errorf("algorithm %q is not %s", sk.Alg, accessAlg)
	}
	raw, err := x509.ParsePKCS8PrivateKey(sk.Private)
	if err != nil {
		return nil, err
	}
	priv, ok := raw.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return nil, fmt.Errorf("key is %T, not a P-256 ECDSA key", raw)
	}
	k, err := jwk.Import(priv)
	if err != nil {
		return nil, err
	}
	if err := k.Set(jwk.KeyIDKey, sk.KID); err != nil {
		return nil, err
	}
	if err := k.Set(jwk.AlgorithmKey, jwa.ES256()); err != nil {
		return nil, err
	}
	return &signingKey{kid: sk.KID, private: k, public: &priv.PublicKey, created: sk.CreatedAt, retired: sk.RetiredAt}, nil
}

// newSigningKey makes a P-256 key named by its thumbprint.
func newSigningKey(now time.Time) (SigningKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return SigningKey{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return SigningKey{}, err
	}
	pub, err := jwk.Import(&priv.PublicKey)
	if err != nil {
		return SigningKey{}, err
	}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return SigningKey{}, err
	}
	return SigningKey{KID: base64.RawURLEncoding.EncodeToString(tp), Alg: accessAlg, Private: der, CreatedAt: now.UTC()}, nil
}

// signer returns the key that signs, making the first one if there is
// none: on first need, and only once however many processes race to (a
// process that loses the race still signs with its key, which verifies
// like any other).
func (s *Service) signer(ctx context.Context) (*signingKey, error) {
	s.auth.keys.mu.Lock()
	defer s.auth.keys.mu.Unlock()
	r, err := s.keys(ctx, "")
	if err != nil {
		return nil, err
	}
	if r.signer != nil {
		return r.signer, nil
	}
	var stored []SigningKey
	err = s.cfg.Store.Write(ctx, func(tx Tx) error {
		var err error
		if stored, err = tx.SigningKeys(ctx); err != nil {
			return err
		}
		for _, k := range stored {
			if k.RetiredAt.IsZero() {
				return nil
			}
		}
		k, err := newSigningKey(s.cfg.Now())
		if err != nil {
			return err
		}
		if err := tx.SaveSigningKey(ctx, k); err != nil {
			return err
		}
		stored = append([]SigningKey{k}, stored...)
		s.log.InfoContext(ctx, "signing key created", "kid", k.KID)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("practice: signing key: %w", err)
	}
	r.load(stored, s)
	r.loadedAt = s.cfg.Now()
	if r.signer == nil {
		return nil, errors.New("practice: no usable signing key")
	}
	return r.signer, nil
}

// RotateKey makes a new signing key, which signs every access token from
// now on, and retires the others: they verify the tokens they signed
// until their retirement plus TokenConfig.AccessTTL, and JWKS lists them
// until then. Other processes sharing the database sign with the new key
// within a minute. It returns the new key's kid.
func (s *Service) RotateKey(ctx context.Context) (string, error) {
	k, err := newSigningKey(s.cfg.Now())
	if err != nil {
		return "", fmt.Errorf("practice: rotate key: %w", err)
	}
	s.auth.keys.mu.Lock()
	defer s.auth.keys.mu.Unlock()
	var stored []SigningKey
	err = s.cfg.Store.Write(ctx, func(tx Tx) error {
		old, err := tx.SigningKeys(ctx)
		if err != nil {
			return err
		}
		if err := tx.SaveSigningKey(ctx, k); err != nil {
			return err
		}
		now := s.cfg.Now().UTC()
		for _, o := range old {
			if o.RetiredAt.IsZero() {
				if err := tx.RetireSigningKey(ctx, o.KID, now); err != nil {
					return err
				}
				o.RetiredAt = now
			}
			stored = append(stored, o)
		}
		stored = append([]SigningKey{k}, stored...)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("practice: rotate key: %w", err)
	}
	s.auth.keys.load(stored, s)
	s.auth.keys.loadedAt = s.cfg.Now()
	s.log.InfoContext(ctx, "signing key rotated", "kid", k.KID)
	return k.KID, nil
}

// JWKS returns the public keys that verify access tokens (the signing
// key and those retired less than an access-token lifetime ago), as a
// JWK set for /.well-known/jwks.json. It makes the first key if there
// is none.
func (s *Service) JWKS(ctx context.Context) ([]byte, error) {
	if _, err := s.signer(ctx); err != nil {
		return nil, err
	}
	s.auth.keys.mu.Lock()
	defer s.auth.keys.mu.Unlock()
	r, err := s.keys(ctx, "")
	if err != nil {
		return nil, err
	}
	set := jwk.NewSet()
	now := s.cfg.Now()
	for _, k := range r.all {
		if !k.verifiesAt(now, s.cfg.Tokens.AccessTTL) {
			continue
		}
		pub, err := jwk.Import(k.public)
		if err != nil {
			return nil, err
		}
		for name, v := range map[string]any{jwk.KeyIDKey: k.kid, jwk.AlgorithmKey: jwa.ES256(), jwk.KeyUsageKey: "sig"} {
			if err := pub.Set(name, v); err != nil {
				return nil, err
			}
		}
		if err := set.AddKey(pub); err != nil {
			return nil, err
		}
	}
	return json.Marshal(set)
}

// issueAccess signs an access token for the user's session.
func (s *Service) issueAccess(ctx context.Context, userID int64, sid string, now time.Time) (string, time.Time, error) {
	k, err := s.signer(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	exp := now.Add(s.cfg.Tokens.AccessTTL)
	tok, err := jwt.NewBuilder().
		Issuer(s.cfg.Tokens.Issuer).
		Audience([]string{s.cfg.Tokens.Audience}).
		Subject(strconv.FormatInt(userID, 10)).
		Claim(claimSession, sid).
		IssuedAt(now).
		NotBefore(now).
		Expiration(exp).
		JwtID(randomToken(16)).
		Build()
	if err != nil {
		return "", time.Time{}, err
	}
	h := jws.NewHeaders()
	if err := h.Set(jws.TypeKey, accessType); err != nil {
		return "", time.Time{}, err
	}
	if err := h.Set(jws.KeyIDKey, k.kid); err != nil {
		return "", time.Time{}, err
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256(), k.private, jws.WithProtectedHeaders(h)))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("practice: sign access token: %w", err)
	}
	// exp is in whole seconds in the token.
	return string(signed), exp.Truncate(time.Second), nil
}

// claimSession is the access token's session id claim.
const claimSession = "sid"

// accessClaims are what a verified access token says.
type accessClaims struct {
	UserID    int64
	SessionID string
}

// verifyAccess checks an access token of ours: compact JWS, ES256 only,
// typ at+jwt, a kid of a key that still verifies, the signature, and
// iss, aud, exp, nbf and iat (with clockSkew of leeway), and that sub,
// sid and jti are there. A token it verified before (the same bytes, by
// their SHA-256) is checked again only for its times and its key.
func (s *Service) verifyAccess(ctx context.Context, raw string) (accessClaims, error) {
	if len(raw) > maxTokenLen || strings.Count(raw, ".") != 2 {
		return accessClaims{}, errors.New("not a compact JWS")
	}
	now := s.cfg.Now()
	sum := sha256.Sum256([]byte(raw))
	if v, ok := s.auth.verified.get(sum); ok && v.validAt(now) && s.stillVerifies(v.kid, now) {
		return v.claims, nil
	}
	var kid string
	keys := jws.KeyProviderFunc(func(ctx context.Context, sink jws.KeySink, sig *jws.Signature, _ *jws.Message) error {
		h := sig.ProtectedHeaders()
		if alg, _ := h.Algorithm(); alg.String() != accessAlg {
			return fmt.Errorf("algorithm %q is not allowed", alg.String())
		}
		if typ, _ := h.Type(); typ != accessType {
			return fmt.Errorf("typ %q is not %s", typ, accessType)
		}
		var ok bool
		if kid, ok = h.KeyID(); !ok || kid == "" {
			return errors.New("no kid")
		}
		pub, err := s.verifyingKey(ctx, kid)
		if err != nil {
			return err
		}
		sink.Key(jwa.ES256(), pub)
		return nil
	})
	tok, err := jwt.Parse([]byte(raw),
		jwt.WithKeyProvider(keys),
		jwt.WithContext(ctx),
		jwt.WithClock(jwt.ClockFunc(s.cfg.Now)),
		jwt.WithAcceptableSkew(clockSkew),
		jwt.WithIssuer(s.cfg.Tokens.Issuer),
		jwt.WithAudience(s.cfg.Tokens.Audience),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
		jwt.WithRequiredClaim(jwt.NotBeforeKey),
		jwt.WithRequiredClaim(jwt.IssuedAtKey),
		jwt.WithRequiredClaim(jwt.JwtIDKey),
		jwt.WithRequiredClaim(claimSession),
	)
	if err != nil {
		return accessClaims{}, err
	}
	v := verifiedToken{kid: kid}
	sub, _ := tok.Subject()
	if v.claims.UserID, err = strconv.ParseInt(sub, 10, 64); err != nil || v.claims.UserID <= 0 {
		return accessClaims{}, fmt.Errorf("sub %q is not a user id", sub)
	}
	if err := tok.Get(claimSession, &v.claims.SessionID); err != nil || v.claims.SessionID == "" {
		return accessClaims{}, errors.New("no session id")
	}
	nbf, _ := tok.NotBefore()
	iat, _ := tok.IssuedAt()
	v.expires, _ = tok.Expiration()
	v.notBefore = nbf
	if iat.After(nbf) {
		v.notBefore = iat
	}
	s.auth.verified.put(sum, v, now)
	return v.claims, nil
}

// verifiedCache remembers the access tokens verified, so that a token
// sent with every request of its lifetime pays for its signature once
// (ECDSA verification is most of the cost of Authenticate).
type verifiedCache struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]verifiedToken
}

type verifiedToken struct {
	claims             accessClaims
	kid                string
	notBefore, expires time.Time
}

// validAt applies the token's times as jwt.Validate does, in whole
// seconds with clockSkew of leeway.
func (v verifiedToken) validAt(now time.Time) bool {
	now = now.Truncate(time.Second)
	return now.Before(v.expires.Add(clockSkew)) && !now.Add(clockSkew).Before(v.notBefore)
}

func (c *verifiedCache) get(sum [sha256.Size]byte) (verifiedToken, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[sum]
	return v, ok
}

func (c *verifiedCache) put(sum [sha256.Size]byte, v verifiedToken, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[[sha256.Size]byte]verifiedToken{}
	}
	if len(c.m) >= maxTracked {
		for k, old := range c.m {
			if !old.validAt(now) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= maxTracked {
			clear(c.m)
		}
	}
	c.m[sum] = v
}

// stillVerifies reports whether the key of kid, as last read, verifies
// at now.
func (s *Service) stillVerifies(kid string, now time.Time) bool {
	s.auth.keys.mu.Lock()
	defer s.auth.keys.mu.Unlock()
	k := s.auth.keys.byKID[kid]
	return k != nil && k.verifiesAt(now, s.cfg.Tokens.AccessTTL)
}

// verifyingKey returns the public key of kid if it still verifies.
func (s *Service) verifyingKey(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	s.auth.keys.mu.Lock()
	defer s.auth.keys.mu.Unlock()
	r, err := s.keys(ctx, kid)
	if err != nil {
		return nil, err
	}
	k := r.byKID[kid]
	if k == nil {
		return nil, fmt.Errorf("unknown kid %q", kid)
	}
	if !k.verifiesAt(s.cfg.Now(), s.cfg.Tokens.AccessTTL) {
		return nil, fmt.Errorf("kid %q retired", kid)
	}
	return k.public, nil
}

// randomToken returns n random bytes, base64url-encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashRefresh is how a refresh token is stored: its SHA-256, so that a
// copy of the database holds no usable token. The token has 256 random
// bits, so a plain hash (no salt, no stretching) is enough.
func hashRefresh(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
