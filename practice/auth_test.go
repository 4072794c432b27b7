package practice_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/practice"
)

func TestLogin(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	u := h.user("Dee@Example.org", practice.RoleDietician)

	tok, err := h.svc.Login(ctx, client, "dee@example.ORG", password)
	require.NoError(t, err, "the email matches whatever its case")
	assert.Equal(t, u.ID, tok.User.ID)
	assert.Empty(t, tok.User.PasswordHash, "the hash never leaves the service")
	assert.Equal(t, start.Add(15*time.Minute), tok.AccessExpires, "access tokens live 15 minutes by default")
	assert.Equal(t, start.Add(7*24*time.Hour), tok.RefreshExpires)
	assert.NotEmpty(t, tok.Refresh)

	hdr := header(t, tok.Access)
	assert.Equal(t, "ES256", hdr["alg"])
	assert.Equal(t, "at+jwt", hdr["typ"])
	assert.NotEmpty(t, hdr["kid"])
	cl := claims(t, tok.Access)
	for _, name := range []string{"iss", "aud", "sub", "sid", "iat", "nbf", "exp", "jti"} {
		assert.Contains(t, cl, name)
	}
	assert.Equal(t, "healthcare-records", cl["iss"])

	a, err := h.svc.Authenticate(ctx, practice.Client{Addr: "192.0.2.99", RequestID: "req-2"}, tok.Access)
	require.NoError(t, err)
	assert.Equal(t, practice.Actor{UserID: u.ID, Role: practice.RoleDietician, SessionID: cl["sid"].(string),
		ClientAddr: "192.0.2.99", RequestID: "req-2"}, a)

	logins := h.audit(practice.ActionLogin)
	require.Len(t, logins, 1)
	assert.Equal(t, u.ID, logins[0].ActorID)
	assert.Equal(t, practice.RoleDietician, logins[0].ActorRole)
	assert.Equal(t, practice.OutcomeSuccess, logins[0].Outcome)
	assert.Equal(t, client.Addr, logins[0].ClientAddr)
	assert.Equal(t, client.RequestID, logins[0].RequestID)
}

func TestLoginRefused(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	dee := h.user("dee@example.org", practice.RoleDietician)
	off := h.user("off@example.org", practice.RolePractitioner)
	h.change(off.ID, func(u *practice.User) { u.DisabledAt = start })

	cases := []struct {
		name, email, password, reason string
		target                        int64
	}{
		{"unknown email", "nobody@example.org", password, "unknown email", 0},
		{"wrong password", "dee@example.org", "correct horse battery staple", "wrong password", dee.ID},
		{"empty password", "dee@example.org", "", "wrong password", dee.ID},
		{"too long", "dee@example.org", strings.Repeat("x", 300), "wrong password", 0},
		{"disabled", "off@example.org", password, "disabled", off.ID},
	}
	var first error
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(h.audit(practice.ActionLogin))
			_, err := h.svc.Login(ctx, client, c.email, c.password)
			require.ErrorIs(t, err, practice.ErrUnauthenticated)
			if first == nil {
				first = err
			}
			assert.Equal(t, first.Error(), err.Error(), "every refusal reads the same")
			entries := h.audit(practice.ActionLogin)
			require.Len(t, entries, before+1)
			e := entries[before]
			assert.Equal(t, practice.OutcomeFailure, e.Outcome)
			assert.Zero(t, e.ActorID, "who failed to sign in is not the actor")
			assert.Contains(t, e.Detail, c.reason)
			if c.target != 0 {
				assert.Equal(t, "user:"+itoa(c.target), e.Target)
			}
		})
	}
	for _, e := range h.audit("") {
		assert.NotContains(t, e.Detail, "staple", "no password in the audit log")
		assert.NotContains(t, e.Detail, password)
		assert.NotContains(t, e.Detail, "example.org", "no email in the audit log")
	}
}

func TestRefreshRotates(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	u := h.user("dee@example.org", practice.RoleDietician)
	first := h.login("dee@example.org")

	h.clock.Advance(10 * time.Minute)
	second, err := h.svc.Refresh(ctx, client, first.Refresh)
	require.NoError(t, err)
	assert.NotEqual(t, first.Refresh, second.Refresh)
	assert.NotEqual(t, first.Access, second.Access)
	assert.Equal(t, h.clock.Now().Add(15*time.Minute), second.AccessExpires)
	assert.Equal(t, u.ID, second.User.ID)
	assert.Empty(t, second.User.PasswordHash)
	assert.Equal(t, claims(t, first.Access)["sid"], claims(t, second.Access)["sid"], "one session")

	a, err := h.svc.Authenticate(ctx, client, second.Access)
	require.NoError(t, err)
	assert.Equal(t, u.ID, a.UserID)

	third, err := h.svc.Refresh(ctx, client, second.Refresh)
	require.NoError(t, err)
	_, err = h.svc.Authenticate(ctx, client, third.Access)
	require.NoError(t, err)

	for _, bad := range []string{"", "no such token", strings.Repeat("x", 1000)} {
		_, err := h.svc.Refresh(ctx, client, bad)
		assert.ErrorIs(t, err, practice.ErrUnauthenticated, bad)
	}
}

func TestRefreshReuseRevokesFamily(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	u := h.user("dee@example.org", practice.RoleDietician)
	first := h.login("dee@example.org")
	second, err := h.svc.Refresh(ctx, client, first.Refresh)
	require.NoError(t, err)

	// The first token again: a thief's copy, or the original after the
	// thief used a copy. Either way the session ends for both.
	_, err = h.svc.Refresh(ctx, client, first.Refresh)
	require.ErrorIs(t, err, practice.ErrUnauthenticated)
	assert.Contains(t, err.Error(), "used already")

	_, err = h.svc.Refresh(ctx, client, second.Refresh)
	assert.ErrorIs(t, err, practice.ErrUnauthenticated, "the token it was rotated to stops working too")
	_, err = h.svc.Authenticate(ctx, client, second.Access)
	assert.ErrorIs(t, err, practice.ErrUnauthenticated, "and so do the session's access tokens")

	var reuse []practice.AuditEntry
	for _, e := range h.audit(practice.ActionRefresh) {
		if strings.HasPrefix(e.Detail, "refresh token reuse") {
			reuse = append(reuse, e)
		}
	}
	require.Len(t, reuse, 1)
	assert.Equal(t, practice.OutcomeFailure, reuse[0].Outcome)
	assert.Equal(t, "user:"+itoa(u.ID), reuse[0].Target)

	// Another session of the same user is not touched.
	other := h.login("dee@example.org")
	_, err = h.svc.Refresh(ctx, client, other.Refresh)
	assert.NoError(t, err)
}

func TestRefreshExpiry(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, func(c *practice.Config) {
		c.Tokens.RefreshTTL = time.Hour
		c.Tokens.SessionTTL = 90 * time.Minute
	})
	h.user("dee@example.org", practice.RoleDietician)
	tok := h.login("dee@example.org")
	assert.Equal(t, start.Add(time.Hour), tok.RefreshExpires)

	h.clock.Advance(50 * time.Minute)
	tok, err := h.svc.Refresh(ctx, client, tok.Refresh)
	require.NoError(t, err)
	assert.Equal(t, start.Add(90*time.Minute), tok.RefreshExpires, "a refresh token never outlives its session")

	h.clock.Advance(41 * time.Minute)
	_, err = h.svc.Refresh(ctx, client, tok.Refresh)
	assert.ErrorIs(t, err, practice.ErrUnauthenticated)
	_, err = h.svc.Authenticate(ctx, client, tok.Access)
	assert.ErrorIs(t, err, practice.ErrUnauthenticated)
}

func TestLogout(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	u := h.user("dee@example.org", practice.RoleDietician)
	other := h.another() // a second server process on the same database
	tok := h.login("dee@example.org")
	a, err := h.svc.Authenticate(ctx, client, tok.Access)
	require.NoError(t, err)
	_, err = other.Authenticate(ctx, client, tok.Access)
	require.NoError(t, err)

	require.NoError(t, h.svc.Logout(ctx, a))
	_, err = h.svc.Authenticate(ctx, client, tok.Access)
	assert.ErrorIs(t, err, practice.ErrUnauthenticated, "at once in the process that logged out")
	_, err = h.svc.Refresh(ctx, client, tok.Refresh)
	assert.ErrorIs(t, err, practice.ErrUnauthenticated)

	_, err = other.Authenticate(ctx, client, tok.Access)
	assert.NoError(t, err, "another process trusts what it read for AuthCacheTTL")
	h.clock.Advance(practice.AuthCacheTTL)
	_, err = other.Authenticate(ctx, client, tok.Access)
	assert.ErrorIs(t, err, practice.ErrUnauthenticated, "and no longer")

	logouts := h.audit(practice.ActionLogout)
	require.Len(t, logouts, 1)
	assert.Equal(t, u.ID, logouts[0].ActorID)
	assert.Equal(t, practice.OutcomeSuccess, logouts[0].Outcome)
	assert.Equal(t, client.RequestID, logouts[0].RequestID)

	assert.ErrorIs(t, h.svc.Logout(ctx, practice.Actor{}), practice.ErrUnauthenticated)
}

func TestDisabledUserRefused(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	u := h.user("dee@example.org", practice.RoleDietician)
	tok := h.login("dee@example.org")
	_, err := h.svc.Authenticate(ctx, client, tok.Access)
	require.NoError(t, err)

	h.change(u.ID, func(u *practice.User) { u.DisabledAt = h.clock.Now() })
	h.clock.Advance(practice.AuthCacheTTL - time.Second)
	_, err = h.svc.Authenticate(ctx, client, tok.Access)
	assert.NoError(t, err, "within the cache's TTL the token still passes")
	h.clock.Advance(time.Second)
	_, err = h.svc.Authenticate(ctx, client, tok.Access)
	assert.ErrorIs(t, err, practice.ErrUnauthenticated, "after it the disabled user is refused")
	_, err = h.svc.Refresh(ctx, client, tok.Refresh)
	assert.ErrorIs(t, err, practice.ErrUnauthenticated)
}

func TestRoleChangeReflected(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	u := h.user("pat@example.org", practice.RolePractitioner)
	tok := h.login("pat@example.org")
	a, err := h.svc.Authenticate(ctx, client, tok.Access)
	require.NoError(t, err)
	assert.Equal(t, practice.RolePractitioner, a.Role)

	patientID := h.patient("p-7")
	h.change(u.ID, func(u *practice.User) { u.Role, u.PatientID = practice.RolePatient, patientID })
	h.clock.Advance(practice.AuthCacheTTL)
	a, err = h.svc.Authenticate(ctx, client, tok.Access)
	require.NoError(t, err)
	assert.Equal(t, practice.RolePatient, a.Role, "the role is the user's current one, not the token's")
	assert.Equal(t, patientID, a.PatientID)
}

func TestDeletedUserRefused(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	u := h.user("dee@example.org", practice.RoleDietician)
	tok := h.login("dee@example.org")
	require.NoError(t, h.store.Write(ctx, func(tx practice.Tx) error { return tx.DeleteUser(ctx, u.ID) }))
	_, err := h.svc.Authenticate(ctx, client, tok.Access)
	assert.ErrorIs(t, err, practice.ErrUnauthenticated)
	_, err = h.svc.Refresh(ctx, client, tok.Refresh)
	assert.ErrorIs(t, err, practice.ErrUnauthenticated)
}

func TestPasswordRehashedOnLogin(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	u := h.user("dee@example.org", practice.RoleDietician)
	weak := weakHash(t, password)
	h.change(u.ID, func(u *practice.User) { u.PasswordHash = weak })

	h.login("dee@example.org")
	var got practice.User
	require.NoError(t, h.store.Read(ctx, func(tx practice.Tx) error {
		var err error
		got, err = tx.User(ctx, u.ID)
		return err
	}))
	assert.NotEqual(t, weak, got.PasswordHash)
	assert.Contains(t, got.PasswordHash, "$m=19456,t=2,p=1$", "a weaker hash is made again with the current parameters")
	h.login("dee@example.org")
}

func TestRateLimitPerAccount(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	h.user("dee@example.org", practice.RoleDietician)

	for i := range practice.LoginFailuresPerAccount {
		h.clock.Advance(time.Minute)
		addr := practice.Client{Addr: "198.51.100." + itoa(int64(i))}
		_, err := h.svc.Login(ctx, addr, "dee@example.org", "wrong password guess")
		require.ErrorIs(t, err, practice.ErrUnauthenticated)
	}
	// Even the right password waits, from any address, whatever the case
	// of the email.
	_, err := h.svc.Login(ctx, practice.Client{Addr: "203.0.113.1"}, "DEE@example.org", password)
	var rl *practice.RateLimitError
	require.ErrorAs(t, err, &rl)
	assert.ErrorIs(t, err, practice.ErrRateLimited)
	assert.Equal(t, practice.LoginFailureWindow-5*time.Minute+time.Minute, rl.RetryAfter,
		"until the oldest failure is a window old")
	entries := h.audit(practice.ActionLogin)
	assert.Contains(t, entries[len(entries)-1].Detail, "rate limited")

	// Another account is not locked.
	h.user("ann@example.org", practice.RoleDietician)
	_, err = h.svc.Login(ctx, client, "ann@example.org", password)
	assert.NoError(t, err)

	h.clock.Advance(rl.RetryAfter)
	_, err = h.svc.Login(ctx, client, "dee@example.org", password)
	assert.NoError(t, err)
}

func TestRateLimitSuccessResets(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	h.user("dee@example.org", practice.RoleDietician)
	fail := func(n int) {
		for range n {
			_, err := h.svc.Login(ctx, client, "dee@example.org", "wrong password guess")
			require.ErrorIs(t, err, practice.ErrUnauthenticated)
		}
	}
	fail(practice.LoginFailuresPerAccount - 1)
	h.login("dee@example.org")
	fail(practice.LoginFailuresPerAccount - 1)
	h.login("dee@example.org")
	fail(practice.LoginFailuresPerAccount)
	_, err := h.svc.Login(ctx, client, "dee@example.org", password)
	assert.ErrorIs(t, err, practice.ErrRateLimited)
}

func TestRateLimitPerAddress(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	h.user("dee@example.org", practice.RoleDietician)
	from := func(addr string) error {
		_, err := h.svc.Login(ctx, practice.Client{Addr: addr}, "dee@example.org", password)
		return err
	}
	// Attempts per address count successes too, and an IPv6 client by its
	// /64; the port does not matter.
	for i := range practice.LoginAttemptsPerAddr {
		addr := "[2001:db8:1:2::" + itoa(int64(i+1)) + "]:4430"
		require.NoError(t, from(addr), "attempt %d", i+1)
	}
	h.clock.Advance(20 * time.Second)
	err := from("2001:db8:1:2:ffff::1")
	var rl *practice.RateLimitError
	require.ErrorAs(t, err, &rl)
	assert.Equal(t, 40*time.Second, rl.RetryAfter)
	assert.NoError(t, from("2001:db8:1:3::1"), "another /64 is another client")
	assert.NoError(t, from("192.0.2.1:5555"))

	h.clock.Advance(rl.RetryAfter)
	assert.NoError(t, from("2001:db8:1:2::1"))
}

func TestForgedTokensRefused(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	u := h.user("dee@example.org", practice.RoleDietician)
	tok := h.login("dee@example.org")
	kid := header(t, tok.Access)["kid"].(string)
	key := h.signingKey(kid)
	sid := claims(t, tok.Access)["sid"].(string)
	now := h.clock.Now()

	good := func() (map[string]any, map[string]any) {
		return map[string]any{"alg": "ES256", "typ": "at+jwt", "kid": kid},
			map[string]any{"iss": "healthcare-records", "aud": []string{"healthcare-records"}, "sub": itoa(u.ID),
				"sid": sid, "iat": unix(now), "nbf": unix(now), "exp": unix(now.Add(10 * time.Minute)), "jti": "j1"}
	}
	forge := func(edit func(hdr, cl map[string]any)) string {
		hdr, cl := good()
		edit(hdr, cl)
		return signES256(t, key, hdr, cl)
	}
	// The control: a token made by hand the way the service makes them
	// passes, so each refusal below is for what the case changes.
	for name, token := range map[string]string{
		"as issued":         tok.Access,
		"forged like ours":  forge(func(hdr, cl map[string]any) {}),
		"aud as a string":   forge(func(_, cl map[string]any) { cl["aud"] = "healthcare-records" }),
		"exp within leeway": forge(func(_, cl map[string]any) { cl["exp"] = unix(now.Add(-20 * time.Second)) }),
		"nbf within leeway": forge(func(_, cl map[string]any) { cl["nbf"] = unix(now.Add(20 * time.Second)) }),
	} {
		a, err := h.svc.Authenticate(ctx, client, token)
		require.NoError(t, err, name)
		assert.Equal(t, u.ID, a.UserID, name)
	}

	other, err := h.svc.RotateKey(ctx)
	require.NoError(t, err)
	require.NotEqual(t, kid, other)
	pubJWK := publicJWK(t, &key.PublicKey)

	cases := map[string]string{
		"alg none": func() string {
			hdr, cl := good()
			hdr["alg"] = "none"
			return compact(t, hdr, cl) + "."
		}(),
		"HS256 with the public key as secret": hmacToken(t, []byte(pubJWK), kid, good),
		"HS256 with the public key's DER":     hmacToken(t, publicDER(t, &key.PublicKey), kid, good),
		"ES384 claimed":                       forge(func(hdr, _ map[string]any) { hdr["alg"] = "ES384" }),
		"wrong aud":                           forge(func(_, cl map[string]any) { cl["aud"] = []string{"another-service"} }),
		"no aud":                              forge(func(_, cl map[string]any) { delete(cl, "aud") }),
		"wrong iss":                           forge(func(_, cl map[string]any) { cl["iss"] = "https://evil.example" }),
		"no iss":                              forge(func(_, cl map[string]any) { delete(cl, "iss") }),
		"expired":                             forge(func(_, cl map[string]any) { cl["exp"] = unix(now.Add(-31 * time.Second)) }),
		"no exp":                              forge(func(_, cl map[string]any) { delete(cl, "exp") }),
		"future nbf":                          forge(func(_, cl map[string]any) { cl["nbf"] = unix(now.Add(time.Minute)) }),
		"future iat":                          forge(func(_, cl map[string]any) { cl["iat"] = unix(now.Add(time.Minute)) }),
		"no sid":                              forge(func(_, cl map[string]any) { delete(cl, "sid") }),
		"unknown sid":                         forge(func(_, cl map[string]any) { cl["sid"] = "not-a-session" }),
		"another sub":                         forge(func(_, cl map[string]any) { cl["sub"] = itoa(u.ID + 1) }),
		"sub not an id":                       forge(func(_, cl map[string]any) { cl["sub"] = "dee" }),
		"no jti":                              forge(func(_, cl map[string]any) { delete(cl, "jti") }),
		"unknown kid":                         forge(func(hdr, _ map[string]any) { hdr["kid"] = "no-such-key" }),
		"no kid":                              forge(func(hdr, _ map[string]any) { delete(hdr, "kid") }),
		"another kid":                         forge(func(hdr, _ map[string]any) { hdr["kid"] = other }),
		"no typ":                              forge(func(hdr, _ map[string]any) { delete(hdr, "typ") }),
		"typ JWT":                             forge(func(hdr, _ map[string]any) { hdr["typ"] = "JWT" }),
		"bad signature": func() string {
			s := forge(func(hdr, cl map[string]any) {})
			i := strings.LastIndex(s, ".") + 5
			c := byte('A')
			if s[i] == 'A' {
				c = 'B'
			}
			return s[:i] + string(c) + s[i+1:]
		}(),
		"signed by another key": signES256(t, newECKey(t), map[string]any{"alg": "ES256", "typ": "at+jwt", "kid": kid},
			func() map[string]any { _, cl := good(); return cl }()),
		"not a JWT":     "hello",
		"JSON JWS":      `{"payload":"e30","signatures":[]}`,
		"five segments": tok.Access + ".a.b",
		"empty":         "",
	}
	for name, token := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := h.svc.Authenticate(ctx, client, token)
			assert.ErrorIs(t, err, practice.ErrUnauthenticated)
		})
	}
	fresh := h.login("dee@example.org")
	_, err = h.svc.Authenticate(ctx, client, fresh.Access)
	require.NoError(t, err)
	h.clock.Advance(15*time.Minute + 30*time.Second)
	_, err = h.svc.Authenticate(ctx, client, fresh.Access)
	require.ErrorIs(t, err, practice.ErrUnauthenticated)
	assert.Contains(t, err.Error(), "expired", "an expired token says so, so that the client refreshes")
}
