package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/practice"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

// withStdin runs hrctl with in as its standard input.
func withStdin(t *testing.T, in string, args ...string) (int, string, string) {
	t.Helper()
	old := stdin
	stdin = strings.NewReader(in)
	defer func() { stdin = old }()
	return hrctl(args...)
}

func TestUsersCreate(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "hr.db")
	s, err := sqlite.Open(ctx, db, storetest.FastConfig())
	require.NoError(t, err)
	require.NoError(t, s.Close())

	const pw = "correct horse battery staple"
	create := []string{"-database-url", db, "users", "create", "--role", "admin", "--email", "Ada@Example.org", "--name", "Ada Admin"}
	code, out, errs := withStdin(t, pw+"\r\n", create...)
	require.Equal(t, 0, code, errs)
	assert.Regexp(t, `^user \d+ created as admin\n$`, out)
	assert.NotContains(t, out+errs, pw)

	s, err = sqlite.Open(ctx, db, storetest.FastConfig())
	require.NoError(t, err)
	var u practice.User
	require.NoError(t, s.Read(ctx, func(tx practice.Tx) error {
		u, err = tx.UserByEmail(ctx, "ada@example.org")
		return err
	}))
	require.NoError(t, s.Close())
	assert.Equal(t, practice.RoleAdmin, u.Role)
	assert.Equal(t, "Ada Admin", u.Name)
	assert.True(t, strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$"), u.PasswordHash)

	// The same email again, in another case.
	code, _, errs = withStdin(t, pw, "-database-url", db, "users", "create", "-role", "dietician",
		"-email", "ada@example.ORG", "-name", "Another Ada")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "exists already")

	for name, c := range map[string]struct {
		stdin string
		args  []string
		want  string
	}{
		"short password": {"too short\n", []string{"-role", "admin", "-email", "b@example.org", "-name", "B"},
			"password: must be at least 12 characters long"},
		"no password":     {"", []string{"-role", "admin", "-email", "b@example.org", "-name", "B"}, "no password"},
		"bad email":       {pw, []string{"-role", "admin", "-email", "B <b@example.org>", "-name", "B"}, "email:"},
		"patient without": {pw, []string{"-role", "patient", "-email", "b@example.org", "-name", "B"}, "patient_id"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, errs := withStdin(t, c.stdin, append([]string{"-database-url", db, "users", "create"}, c.args...)...)
			assert.Equal(t, 1, code, errs)
			assert.Contains(t, errs, c.want)
		})
	}

	for _, args := range [][]string{
		{"users"},
		{"users", "delete"},
		{"users", "create"},
		{"users", "create", "-email", "b@example.org", "-name", "B"},
		{"users", "create", "-role", "root", "-email", "b@example.org", "-name", "B"},
		{"users", "create", "-role", "admin", "-name", "B"},
		{"users", "create", "-role", "admin", "-email", "b@example.org"},
		{"users", "create", "-role", "admin", "-email", "b@example.org", "-name", "B", "extra"},
	} {
		code, _, errs := withStdin(t, pw, append([]string{"-database-url", db}, args...)...)
		assert.Equal(t, 2, code, "%v: %s", args, errs)
		assert.Contains(t, errs, "users create -role ROLE -email EMAIL -name NAME", "%v", args)
	}
}

func TestReadPasswordFromPipe(t *testing.T) {
	for in, want := range map[string]string{
		"twelve chars\n":           "twelve chars",
		"twelve chars\r\nsecond\n": "twelve chars",
		"no newline at the end":    "no newline at the end",
		" spaces are kept  \n":     " spaces are kept  ",
		strings.Repeat("p", 300):   strings.Repeat("p", practice.MaxPasswordBytes+3),
	} {
		got, err := readPassword(strings.NewReader(in), io.Discard)
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
	}
	_, err := readPassword(strings.NewReader("\n"), io.Discard)
	assert.Error(t, err)
}
