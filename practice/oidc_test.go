package practice_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/practice"
)

// issuer is an OpenID Connect issuer's JWKS endpoint on loopback, whose
// keys the test changes.
type issuer struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	public  jwk.Set
	fetches atomic.Int32
}

const idpIssuer = "https://idp.example"

func newIssuer(t *testing.T) *issuer {
	is := &issuer{t: t, public: jwk.NewSet()}
	is.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		is.fetches.Add(1)
		is.mu.Lock()
		body, err := json.Marshal(is.public)
		is.mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	t.Cleanup(is.srv.Close)
	return is
}

// key makes a signing key of kid; publish puts it in the JWKS.
func (is *issuer) key(kid string, alg jwa.SignatureAlgorithm, raw any, publish bool) jwk.Key {
	is.t.Helper()
	k, err := jwk.Import(raw)
	require.NoError(is.t, err)
	require.NoError(is.t, k.Set(jwk.KeyIDKey, kid))
	require.NoError(is.t, k.Set(jwk.AlgorithmKey, alg))
	if publish {
		pub, err := k.PublicKey()
		require.NoError(is.t, err)
		is.mu.Lock()
		require.NoError(is.t, is.public.AddKey(pub))
		is.mu.Unlock()
	}
	return k
}

// token signs claims with k, defaulting iss, aud, exp and email.
func (is *issuer) token(alg jwa.SignatureAlgorithm, k jwk.Key, now time.Time, edit func(*jwt.Builder)) string {
	is.t.Helper()
	b := jwt.NewBuilder().Issuer(idpIssuer).Audience([]string{"hr-api"}).Subject("idp|42").
		IssuedAt(now).Expiration(now.Add(5*time.Minute)).Claim("email", "Dee@Example.org")
	if edit != nil {
		edit(b)
	}
	tok, err := b.Build()
	require.NoError(is.t, err)
	signed, err := jwt.Sign(tok, jwt.WithKey(alg, k))
	require.NoError(is.t, err)
	return string(signed)
}

func TestOIDC(t *testing.T) {
	ctx := context.Background()
	is := newIssuer(t)
	ec := is.key("idp-ec", jwa.ES256(), newECKey(t), true)
	h := newHarness(t, func(c *practice.Config) {
		c.Tokens.OIDC = &practice.OIDCConfig{Issuer: idpIssuer, JWKSURL: is.srv.URL + "/jwks", Audience: "hr-api"}
	})
	dee := h.user("dee@example.org", practice.RoleDietician)
	off := h.user("off@example.org", practice.RolePractitioner)
	h.change(off.ID, func(u *practice.User) { u.DisabledAt = start })

	now := h.clock.Now()

	tok := is.token(jwa.ES256(), ec, now, nil)
	a, err := h.svc.Authenticate(ctx, client, tok)
	require.NoError(t, err)
	assert.Equal(t, practice.Actor{UserID: dee.ID, Role: practice.RoleDietician, ClientAddr: client.Addr,
		RequestID: client.RequestID}, a, "the user of the token's email, whatever its case, without a session here")
	assert.NoError(t, h.svc.Logout(ctx, a), "logging out is the issuer's")

	_, err = h.svc.Authenticate(ctx, client, is.token(jwa.ES256(), ec, now, func(b *jwt.Builder) {
		b.Claim("email_verified", true)
	}))
	assert.NoError(t, err)

	// The service's own tokens still pass beside the issuer's.
	own := h.login("dee@example.org")
	_, err = h.svc.Authenticate(ctx, client, own.Access)
	assert.NoError(t, err)

	// The issuer rotates to a new key: a token naming it makes the cache
	// fetch the keys again, once. (A kid unknown even then is refused
	// below; such misses fetch at most every 10 seconds.)
	_, edRaw, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	ed := is.key("idp-ed", jwa.EdDSA(), edRaw, true)
	fetched := is.fetches.Load()
	rotated := is.token(jwa.EdDSA(), ed, now, nil)
	a, err = h.svc.Authenticate(ctx, client, rotated)
	require.NoError(t, err)
	assert.Equal(t, dee.ID, a.UserID)
	assert.Equal(t, fetched+1, is.fetches.Load())
	_, err = h.svc.Authenticate(ctx, client, rotated)
	require.NoError(t, err)
	assert.Equal(t, fetched+1, is.fetches.Load(), "a known kid fetches nothing")

	stranger := is.key("idp-ec", jwa.ES256(), newECKey(t), false)
	publicJSON, err := json.Marshal(mustPublic(t, ec))
	require.NoError(t, err)
	hsKey, err := jwk.Import(publicJSON)
	require.NoError(t, err)
	require.NoError(t, hsKey.Set(jwk.KeyIDKey, "idp-ec"))
	refused := map[string]string{
		"wrong aud": is.token(jwa.ES256(), ec, now, func(b *jwt.Builder) { b.Audience([]string{"another-api"}) }),
		"expired": is.token(jwa.ES256(), ec, now, func(b *jwt.Builder) {
			b.IssuedAt(now.Add(-time.Hour)).Expiration(now.Add(-time.Minute))
		}),
		"unknown email": is.token(jwa.ES256(), ec, now, func(b *jwt.Builder) { b.Claim("email", "nobody@example.org") }),
		"disabled user": is.token(jwa.ES256(), ec, now, func(b *jwt.Builder) { b.Claim("email", "off@example.org") }),
		"no email":      is.token(jwa.ES256(), ec, now, func(b *jwt.Builder) { b.Claim("email", "") }),
		"email not verified": is.token(jwa.ES256(), ec, now, func(b *jwt.Builder) {
			b.Claim("email_verified", false)
		}),
		"another key under the issuer's kid": is.token(jwa.ES256(), stranger, now, nil),
		"HS256 with the issuer's public key": is.token(jwa.HS256(), hsKey, now, nil),
		"unknown kid":                        is.token(jwa.ES256(), is.key("idp-unpublished", jwa.ES256(), newECKey(t), false), now, nil),
	}
	for name, tok := range refused {
		t.Run(name, func(t *testing.T) {
			_, err := h.svc.Authenticate(ctx, client, tok)
			assert.ErrorIs(t, err, practice.ErrUnauthenticated)
		})
	}

}

func mustPublic(t *testing.T, k jwk.Key) jwk.Key {
	pub, err := k.PublicKey()
	require.NoError(t, err)
	return pub
}

func TestOIDCConfigRefused(t *testing.T) {
	h := newHarness(t)
	for name, oc := range map[string]practice.OIDCConfig{
		"no issuer":          {JWKSURL: "https://idp.example/jwks", Audience: "a"},
		"no audience":        {Issuer: idpIssuer, JWKSURL: "https://idp.example/jwks"},
		"no jwks url":        {Issuer: idpIssuer, Audience: "a"},
		"jwks not http":      {Issuer: idpIssuer, JWKSURL: "file:///etc/jwks.json", Audience: "a"},
		"our own issuer too": {Issuer: "healthcare-records", JWKSURL: "https://idp.example/jwks", Audience: "a"},
	} {
		t.Run(name, func(t *testing.T) {
			c := h.cfg
			c.Tokens.OIDC = &oc
			svc, err := practice.New(c)
			if svc != nil {
				svc.Close()
			}
			assert.Error(t, err)
		})
	}
}
