package practice_test

import (
	"context"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/argon2"

	"github.com/healthcare-records/healthcare-records/practice"
)

// phc is argon2id's PHC string with OWASP's parameters, a 16-byte salt
// and a 32-byte hash.
var phc = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$`)

func storedHash(t *testing.T, h *harness, id int64) string {
	t.Helper()
	var u practice.User
	require.NoError(t, h.store.Read(context.Background(), func(tx practice.Tx) error {
		var err error
		u, err = tx.User(context.Background(), id)
		return err
	}))
	return u.PasswordHash
}

func TestPasswordHashFormat(t *testing.T) {
	h := newHarness(t)
	a := storedHash(t, h, h.user("a@example.org", practice.RoleAdmin).ID)
	b := storedHash(t, h, h.user("b@example.org", practice.RoleAdmin).ID)
	m := phc.FindStringSubmatch(a)
	require.NotNil(t, m, a)
	require.NotNil(t, phc.FindStringSubmatch(b), b)
	assert.NotEqual(t, a, b, "each hash has its own salt")
	assert.NotContains(t, a, password)

	// The hash is argon2id of the password under the parameters it names.
	salt, err := base64.RawStdEncoding.DecodeString(m[1])
	require.NoError(t, err)
	want := argon2.IDKey([]byte(password), salt, 2, 19456, 1, 32)
	assert.Equal(t, base64.RawStdEncoding.EncodeToString(want), m[2])
}

// A stored hash whose parameters are out of bounds (a damaged or hostile
// row) fails the sign-in without running them.
func TestPasswordHashUnreadable(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	u := h.user("dee@example.org", practice.RoleDietician)
	good := storedHash(t, h, u.ID)
	for name, bad := range map[string]string{
		"huge memory": strings.Replace(good, "m=19456", "m=4194304", 1),
		"many passes": strings.Replace(good, "t=2", "t=1000", 1),
		"argon2i":     strings.Replace(good, "argon2id", "argon2i", 1),
		"version 16":  strings.Replace(good, "v=19", "v=16", 1),
		"truncated":   good[:len(good)-30],
		"bcrypt":      "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
	} {
		t.Run(name, func(t *testing.T) {
			h.clock.Advance(practice.LoginFailureWindow) // past the account's failure limit
			h.change(u.ID, func(u *practice.User) { u.PasswordHash = bad })
			_, err := h.svc.Login(ctx, practice.Client{}, "dee@example.org", password)
			assert.ErrorIs(t, err, practice.ErrUnauthenticated)
		})
	}
	h.change(u.ID, func(u *practice.User) { u.PasswordHash = good })
	h.login("dee@example.org")
}
