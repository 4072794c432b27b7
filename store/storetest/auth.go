package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

// testAuth holds a store to the sign-in part of practice.Tx: users,
// sessions, refresh tokens and signing keys.
func testAuth(t *testing.T, open Opener) {
	t.Run("Users", func(t *testing.T) { testAuthUsers(t, open) })
	t.Run("UserList", func(t *testing.T) { testAuthUserList(t, open) })
	t.Run("DeleteUser", func(t *testing.T) { testAuthDeleteUser(t, open) })
	t.Run("Sessions", func(t *testing.T) { testAuthSessions(t, open) })
	t.Run("RefreshTokens", func(t *testing.T) { testAuthRefreshTokens(t, open) })
	t.Run("ConcurrentRefresh", func(t *testing.T) { testAuthConcurrentRefresh(t, open) })
	t.Run("SigningKeys", func(t *testing.T) { testAuthSigningKeys(t, open) })
}

// practiceStore opens a store and returns it as a PracticeStore.
func practiceStore(t *testing.T, open Opener) PracticeStore {
	t.Helper()
	s := openClosed(t, open)
	ps, ok := s.(PracticeStore)
	require.True(t, ok, "%T is not a PracticeStore", s)
	return ps
}

// atMinute is a time both databases keep exactly (microseconds, UTC).
func atMinute(minute int) time.Time { return time.Date(2025, 3, 1, 9, minute, 7, 123456000, time.UTC) }

func newUser(email string, role practice.Role) practice.User {
	return practice.User{Email: email, Name: "User " + email, Role: role, PasswordHash: "$argon2id$stub",
		CreatedAt: atMinute(0), UpdatedAt: atMinute(0)}
}

func testAuthUsers(t *testing.T, open Opener) {
	ctx := context.Background()
	s := practiceStore(t, open)
	var patientID int64
	update(t, s.(Store), func(tx connector.Tx) error {
		var err error
		patientID, err = tx.SavePatient(ctx, connector.StoredPatient{Patient: connector.Patient{
			Ref: connector.Ref{System: "php", Type: connector.PatientType, ID: "p1"}}})
		return err
	})

	full := practice.User{Email: "Ann.Lee@Example.org", Name: "Ann Lee", Role: practice.RolePatient,
		CarepatronID: "cp-1", PatientID: patientID, PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
		DisabledAt: atMinute(3), CreatedAt: atMinute(1), UpdatedAt: atMinute(2)}
	var annID, bobID int64
	write(t, s, func(tx practice.Tx) error {
		var err error
		annID, err = tx.CreateUser(ctx, full)
		require.NoError(t, err)
		assert.NotZero(t, annID)

		// An email taken in another case is a conflict, and leaves the
		// transaction usable.
		_, err = tx.CreateUser(ctx, newUser("ann.lee@example.ORG", practice.RoleAdmin))
		assert.ErrorIs(t, err, practice.ErrConflict)
		_, err = tx.CreateUser(ctx, newUser("ann.lee@example.org", practice.RoleAdmin))
		assert.ErrorIs(t, err, practice.ErrConflict)
		bobID, err = tx.CreateUser(ctx, practice.User{Email: "bob@example.org", Name: "Bob", Role: practice.RoleDietician})
		require.NoError(t, err)
		return nil
	})
	// A patient that does not exist is refused (on PostgreSQL that ends
	// the transaction).
	err := s.Write(ctx, func(tx practice.Tx) error {
		bad := newUser("carl@example.org", practice.RolePatient)
		bad.PatientID = patientID + 1000
		_, err := tx.CreateUser(ctx, bad)
		return err
	})
	assert.ErrorIs(t, err, practice.ErrConflict)

	write(t, s, func(tx practice.Tx) error {
		got, err := tx.User(ctx, annID)
		require.NoError(t, err)
		want := full
		want.ID = annID
		assert.Equal(t, want, got)
		assert.True(t, got.Disabled())

		for _, email := range []string{"ann.lee@example.org", "ANN.LEE@EXAMPLE.ORG", "Ann.Lee@Example.org"} {
			got, err := tx.UserByEmail(ctx, email)
			require.NoError(t, err, email)
			assert.Equal(t, annID, got.ID, email)
		}
		_, err = tx.UserByEmail(ctx, "nobody@example.org")
		assert.ErrorIs(t, err, practice.ErrNotFound)
		_, err = tx.User(ctx, annID+bobID+100)
		assert.ErrorIs(t, err, practice.ErrNotFound)

		// Zero values read back as zero: no password, enabled, no patient.
		bob, err := tx.User(ctx, bobID)
		require.NoError(t, err)
		assert.Equal(t, practice.User{ID: bobID, Email: "bob@example.org", Name: "Bob", Role: practice.RoleDietician}, bob)
		return nil
	})

	write(t, s, func(tx practice.Tx) error {
		// Every field but ID and CreatedAt is saved.
		changed := practice.User{ID: annID, Email: "ann@example.org", Name: "Ann", Role: practice.RolePractitioner,
			CarepatronID: "cp-2", PasswordHash: "$argon2id$new", CreatedAt: atMinute(50), UpdatedAt: atMinute(9)}
		require.NoError(t, tx.UpdateUser(ctx, changed))
		got, err := tx.User(ctx, annID)
		require.NoError(t, err)
		changed.CreatedAt = atMinute(1)
		assert.Equal(t, changed, got)
		assert.False(t, got.Disabled())

		// A user may change the case of their own email.
		changed.Email = "ANN@example.org"
		require.NoError(t, tx.UpdateUser(ctx, changed))

		taken := changed
		taken.Email = "Bob@Example.org"
		assert.ErrorIs(t, tx.UpdateUser(ctx, taken), practice.ErrConflict)
		missing := changed
		missing.ID = annID + bobID + 100
		missing.Email = "missing@example.org"
		assert.ErrorIs(t, tx.UpdateUser(ctx, missing), practice.ErrNotFound)
		return nil
	})
}

func testAuthUserList(t *testing.T, open Opener) {
	ctx := context.Background()
	s := practiceStore(t, open)
	ids := map[string]int64{}
	write(t, s, func(tx practice.Tx) error {
		for _, u := range []practice.User{
			{Email: "admin@example.org", Name: "Ada Admin", Role: practice.RoleAdmin},
			{Email: "dee@example.org", Name: "Dee Dietician", Role: practice.RoleDietician},
			{Email: "dan@clinic.example", Name: "Dan 100% Dietician", Role: practice.RoleDietician},
			{Email: "pat_ient@example.org", Name: "Pat", Role: practice.RolePractitioner},
		} {
			id, err := tx.CreateUser(ctx, u)
			require.NoError(t, err)
			ids[u.Email] = id
		}
		return nil
	})
	cases := []struct {
		name string
		q    practice.UserQuery
		want []string
	}{
		{"all in id order", practice.UserQuery{}, []string{"admin@example.org", "dee@example.org", "dan@clinic.example", "pat_ient@example.org"}},
		{"role", practice.UserQuery{Role: practice.RoleDietician}, []string{"dee@example.org", "dan@clinic.example"}},
		{"name any case", practice.UserQuery{Text: "DIETICIAN"}, []string{"dee@example.org", "dan@clinic.example"}},
		{"email part", practice.UserQuery{Text: "clinic"}, []string{"dan@clinic.example"}},
		{"percent is literal", practice.UserQuery{Text: "0%"}, []string{"dan@clinic.example"}},
		{"underscore is literal", practice.UserQuery{Text: "t_i"}, []string{"pat_ient@example.org"}},
		{"role and text", practice.UserQuery{Role: practice.RoleAdmin, Text: "dee"}, nil},
		{"after", practice.UserQuery{AfterID: ids["dee@example.org"]}, []string{"dan@clinic.example", "pat_ient@example.org"}},
		{"limit", practice.UserQuery{Limit: 2}, []string{"admin@example.org", "dee@example.org"}},
		{"page", practice.UserQuery{AfterID: ids["admin@example.org"], Limit: 1}, []string{"dee@example.org"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			write(t, s, func(tx practice.Tx) error {
				users, err := tx.Users(ctx, c.q)
				require.NoError(t, err)
				var got []string
				for _, u := range users {
					got = append(got, u.Email)
					assert.Equal(t, ids[u.Email], u.ID)
				}
				assert.Equal(t, c.want, got)
				return nil
			})
		})
	}
}

func testAuthDeleteUser(t *testing.T, open Opener) {
	ctx := context.Background()
	s := practiceStore(t, open)
	var gone, kept int64
	write(t, s, func(tx practice.Tx) error {
		var err error
		gone, err = tx.CreateUser(ctx, newUser("gone@example.org", practice.RoleDietician))
		require.NoError(t, err)
		kept, err = tx.CreateUser(ctx, newUser("kept@example.org", practice.RoleDietician))
		require.NoError(t, err)
		for i, uid := range []int64{gone, gone, kept} {
			sid := fmt.Sprintf("s%d", i)
			require.NoError(t, tx.CreateSession(ctx, practice.Session{ID: sid, UserID: uid, CreatedAt: atMinute(0), ExpiresAt: atMinute(30)}))
			require.NoError(t, tx.SaveRefreshToken(ctx, practice.RefreshToken{Hash: "h" + sid, SessionID: sid,
				CreatedAt: atMinute(0), ExpiresAt: atMinute(20)}))
		}
		return nil
	})
	write(t, s, func(tx practice.Tx) error {
		require.NoError(t, tx.DeleteUser(ctx, gone))
		_, err := tx.User(ctx, gone)
		assert.ErrorIs(t, err, practice.ErrNotFound)
		for _, sid := range []string{"s0", "s1"} {
			_, err = tx.Session(ctx, sid)
			assert.ErrorIs(t, err, practice.ErrNotFound, sid)
			_, err = tx.UseRefreshToken(ctx, "h"+sid, atMinute(1))
			assert.ErrorIs(t, err, practice.ErrNotFound, sid)
		}
		// Another user's session and token stay.
		_, err = tx.Session(ctx, "s2")
		assert.NoError(t, err)
		r, err := tx.UseRefreshToken(ctx, "hs2", atMinute(1))
		require.NoError(t, err)
		assert.Equal(t, "s2", r.SessionID)

		assert.ErrorIs(t, tx.DeleteUser(ctx, gone), practice.ErrNotFound)
		_, err = tx.User(ctx, kept)
		assert.NoError(t, err)
		return nil
	})
}

func testAuthSessions(t *testing.T, open Opener) {
	ctx := context.Background()
	s := practiceStore(t, open)
	write(t, s, func(tx practice.Tx) error {
		uid, err := tx.CreateUser(ctx, newUser("u@example.org", practice.RoleAdmin))
		require.NoError(t, err)
		other, err := tx.CreateUser(ctx, newUser("o@example.org", practice.RoleAdmin))
		require.NoError(t, err)

		sess := practice.Session{ID: "sess-1", UserID: uid, CreatedAt: atMinute(1), ExpiresAt: atMinute(40), ClientAddr: "192.0.2.7"}
		require.NoError(t, tx.CreateSession(ctx, sess))
		assert.ErrorIs(t, tx.CreateSession(ctx, sess), practice.ErrConflict)
		got, err := tx.Session(ctx, "sess-1")
		require.NoError(t, err)
		assert.Equal(t, sess, got)
		_, err = tx.Session(ctx, "nope")
		assert.ErrorIs(t, err, practice.ErrNotFound)

		// The first revocation stays.
		require.NoError(t, tx.RevokeSession(ctx, "sess-1", atMinute(5), "logout"))
		require.NoError(t, tx.RevokeSession(ctx, "sess-1", atMinute(6), "refresh token reuse"))
		got, err = tx.Session(ctx, "sess-1")
		require.NoError(t, err)
		assert.Equal(t, atMinute(5), got.RevokedAt)
		assert.Equal(t, "logout", got.Reason)
		assert.ErrorIs(t, tx.RevokeSession(ctx, "nope", atMinute(5), "logout"), practice.ErrNotFound)

		for _, sid := range []string{"sess-2", "sess-3"} {
			require.NoError(t, tx.CreateSession(ctx, practice.Session{ID: sid, UserID: uid, CreatedAt: atMinute(2), ExpiresAt: atMinute(40)}))
		}
		require.NoError(t, tx.CreateSession(ctx, practice.Session{ID: "sess-other", UserID: other, CreatedAt: atMinute(2), ExpiresAt: atMinute(40)}))
		require.NoError(t, tx.RevokeUserSessions(ctx, uid, atMinute(7), "disabled"))
		for sid, want := range map[string]struct {
			at     time.Time
			reason string
		}{
			"sess-1": {atMinute(5), "logout"}, "sess-2": {atMinute(7), "disabled"}, "sess-3": {atMinute(7), "disabled"}, "sess-other": {},
		} {
			got, err := tx.Session(ctx, sid)
			require.NoError(t, err)
			assert.Equal(t, want.at, got.RevokedAt, sid)
			assert.Equal(t, want.reason, got.Reason, sid)
		}
		return nil
	})
}

func testAuthRefreshTokens(t *testing.T, open Opener) {
	ctx := context.Background()
	s := practiceStore(t, open)
	write(t, s, func(tx practice.Tx) error {
		uid, err := tx.CreateUser(ctx, newUser("u@example.org", practice.RoleAdmin))
		require.NoError(t, err)
		require.NoError(t, tx.CreateSession(ctx, practice.Session{ID: "s", UserID: uid, CreatedAt: atMinute(1), ExpiresAt: atMinute(50)}))
		tok := practice.RefreshToken{Hash: "abc", SessionID: "s", CreatedAt: atMinute(1), ExpiresAt: atMinute(30)}
		require.NoError(t, tx.SaveRefreshToken(ctx, tok))
		assert.ErrorIs(t, tx.SaveRefreshToken(ctx, tok), practice.ErrConflict)

		first, err := tx.UseRefreshToken(ctx, "abc", atMinute(2))
		require.NoError(t, err)
		assert.Equal(t, tok, first, "the first use sees the token unused")
		again, err := tx.UseRefreshToken(ctx, "abc", atMinute(3))
		require.NoError(t, err)
		want := tok
		want.UsedAt = atMinute(2)
		assert.Equal(t, want, again, "a reuse sees when it was first used")

		_, err = tx.UseRefreshToken(ctx, "missing", atMinute(2))
		assert.ErrorIs(t, err, practice.ErrNotFound)
		return nil
	})
}

// testAuthConcurrentRefresh uses one refresh token from many transactions
// at once: exactly one may find it unused.
func testAuthConcurrentRefresh(t *testing.T, open Opener) {
	ctx := context.Background()
	s := practiceStore(t, open)
	const tokens, users = 5, 8
	write(t, s, func(tx practice.Tx) error {
		uid, err := tx.CreateUser(ctx, newUser("u@example.org", practice.RoleAdmin))
		require.NoError(t, err)
		require.NoError(t, tx.CreateSession(ctx, practice.Session{ID: "s", UserID: uid, CreatedAt: atMinute(1), ExpiresAt: atMinute(50)}))
		for i := range tokens {
			require.NoError(t, tx.SaveRefreshToken(ctx, practice.RefreshToken{Hash: fmt.Sprint("t", i), SessionID: "s",
				CreatedAt: atMinute(1), ExpiresAt: atMinute(30)}))
		}
		return nil
	})
	for i := range tokens {
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			fresh   int
			reused  int
			failure []error
		)
		start := make(chan struct{})
		for range users {
			wg.Go(func() {
				<-start
				err := s.Write(ctx, func(tx practice.Tx) error {
					r, err := tx.UseRefreshToken(ctx, fmt.Sprint("t", i), time.Now())
					if err != nil {
						return err
					}
					// Hold the transaction a moment, so that the others
					// overlap with it.
					time.Sleep(5 * time.Millisecond)
					mu.Lock()
					defer mu.Unlock()
					if r.UsedAt.IsZero() {
						fresh++
					} else {
						reused++
					}
					return nil
				})
				if err != nil {
					mu.Lock()
					failure = append(failure, err)
					mu.Unlock()
				}
			})
		}
		close(start)
		wg.Wait()
		require.Empty(t, failure)
		assert.Equal(t, 1, fresh, "token %d: uses that found it unused", i)
		assert.Equal(t, users-1, reused, "token %d: uses that found it used", i)
	}
}

func testAuthSigningKeys(t *testing.T, open Opener) {
	ctx := context.Background()
	s := practiceStore(t, open)
	older := practice.SigningKey{KID: "k1", Alg: "ES256", Private: []byte{0x30, 0x01, 0x00, 0xff}, CreatedAt: atMinute(1)}
	newer := practice.SigningKey{KID: "k2", Alg: "ES256", Private: []byte{0x30, 0x02}, CreatedAt: atMinute(2)}
	write(t, s, func(tx practice.Tx) error {
		keys, err := tx.SigningKeys(ctx)
		require.NoError(t, err)
		assert.Empty(t, keys)
		require.NoError(t, tx.SaveSigningKey(ctx, older))
		require.NoError(t, tx.SaveSigningKey(ctx, newer))
		assert.ErrorIs(t, tx.SaveSigningKey(ctx, older), practice.ErrConflict)

		keys, err = tx.SigningKeys(ctx)
		require.NoError(t, err)
		assert.Equal(t, []practice.SigningKey{newer, older}, keys, "newest first")

		require.NoError(t, tx.RetireSigningKey(ctx, "k1", atMinute(3)))
		require.NoError(t, tx.RetireSigningKey(ctx, "k1", atMinute(9)))
		assert.ErrorIs(t, tx.RetireSigningKey(ctx, "k9", atMinute(3)), practice.ErrNotFound)
		keys, err = tx.SigningKeys(ctx)
		require.NoError(t, err)
		retired := older
		retired.RetiredAt = atMinute(3)
		assert.Equal(t, []practice.SigningKey{newer, retired}, keys, "the first retirement stays")
		return nil
	})
}
