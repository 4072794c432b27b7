package practice_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/practice"
)

type jwks struct {
	Keys []map[string]any `json:"keys"`
}

func readJWKS(t *testing.T, svc *practice.Service) jwks {
	t.Helper()
	raw, err := svc.JWKS(context.Background())
	require.NoError(t, err)
	var set jwks
	require.NoError(t, json.Unmarshal(raw, &set))
	return set
}

func kids(set jwks) []string {
	var out []string
	for _, k := range set.Keys {
		out = append(out, k["kid"].(string))
	}
	return out
}

func TestJWKS(t *testing.T) {
	h := newHarness(t)
	set := readJWKS(t, h.svc)
	require.Len(t, set.Keys, 1, "a key is made on first need")
	k := set.Keys[0]
	assert.Equal(t, "EC", k["kty"])
	assert.Equal(t, "P-256", k["crv"])
	assert.Equal(t, "ES256", k["alg"])
	assert.Equal(t, "sig", k["use"])
	assert.NotContains(t, k, "d", "no private part")

	// The set verifies the service's tokens: its key is the one that
	// signed, named by the token's kid.
	h.user("dee@example.org", practice.RoleDietician)
	tok := h.login("dee@example.org")
	assert.Equal(t, k["kid"], header(t, tok.Access)["kid"])
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(),
		append(append([]byte{4}, coord(t, k["x"])...), coord(t, k["y"])...))
	require.NoError(t, err)
	assert.True(t, pub.Equal(&h.signingKey(k["kid"].(string)).PublicKey))

	// Another process on the same database publishes the same key.
	assert.Equal(t, kids(set), kids(readJWKS(t, h.another())))
}

func coord(t *testing.T, v any) []byte {
	b, err := base64.RawURLEncoding.DecodeString(v.(string))
	require.NoError(t, err)
	require.Len(t, b, 32)
	return b
}

func TestKeyRotation(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	u := h.user("dee@example.org", practice.RoleDietician)
	other := h.another()
	before := h.login("dee@example.org")
	oldKID := header(t, before.Access)["kid"].(string)
	oldKey := h.signingKey(oldKID)
	sid := claims(t, before.Access)["sid"].(string)
	// A token of the old key that outlives its retirement, to show when
	// the key itself stops verifying.
	long := func() string {
		now := h.clock.Now()
		return signES256(t, oldKey, map[string]any{"alg": "ES256", "typ": "at+jwt", "kid": oldKID},
			map[string]any{"iss": "healthcare-records", "aud": "healthcare-records", "sub": itoa(u.ID), "sid": sid,
				"iat": unix(now), "nbf": unix(now), "exp": unix(now.Add(24 * time.Hour)), "jti": "long"})
	}()

	h.clock.Advance(5 * time.Minute)
	newKID, err := h.svc.RotateKey(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, oldKID, newKID)
	retiredAt := h.clock.Now()

	after := h.login("dee@example.org")
	assert.Equal(t, newKID, header(t, after.Access)["kid"], "the new key signs")
	assert.ElementsMatch(t, []string{oldKID, newKID}, kids(readJWKS(t, h.svc)), "JWKS lists both")
	assert.Equal(t, newKID, kids(readJWKS(t, h.svc))[0], "the signing key first")

	for _, svc := range []*practice.Service{h.svc, other} {
		for _, tok := range []string{before.Access, after.Access, long} {
			_, err := svc.Authenticate(ctx, client, tok)
			assert.NoError(t, err)
		}
	}
	// The other process signs with the new key once it reads the keys
	// again (within a minute).
	h.clock.Advance(time.Minute)
	tok, err := other.Login(ctx, client, "dee@example.org", password)
	require.NoError(t, err)
	assert.Equal(t, newKID, header(t, tok.Access)["kid"])

	// The old key verifies until its retirement plus one access-token
	// lifetime (and the 30 s leeway), then not at all.
	h.clock.Advance(retiredAt.Add(15*time.Minute + 29*time.Second).Sub(h.clock.Now()))
	_, err = h.svc.Authenticate(ctx, client, long)
	assert.NoError(t, err)
	h.clock.Advance(2 * time.Second)
	_, err = h.svc.Authenticate(ctx, client, long)
	assert.ErrorIs(t, err, practice.ErrUnauthenticated)
	_, err = other.Authenticate(ctx, client, long)
	assert.ErrorIs(t, err, practice.ErrUnauthenticated)
	assert.Equal(t, []string{newKID}, kids(readJWKS(t, h.svc)), "JWKS drops the old key then")
	_, err = h.svc.Authenticate(ctx, client, tok.Access)
	assert.NoError(t, err)
}
