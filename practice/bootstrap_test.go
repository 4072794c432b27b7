package practice_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/practice"
)

func TestBootstrap(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	u, err := practice.Bootstrap(ctx, h.store, practice.NewUser{Email: "Admin@Example.org", Name: "Ada Admin",
		Role: practice.RoleAdmin, Password: password}, start)
	require.NoError(t, err)
	assert.NotZero(t, u.ID)
	assert.Equal(t, "Admin@Example.org", u.Email, "the email is kept as typed")
	assert.Empty(t, u.PasswordHash)
	assert.Equal(t, start, u.CreatedAt)

	entries := h.audit(practice.ActionCreateUser)
	require.Len(t, entries, 1)
	e := entries[0]
	assert.Zero(t, e.ActorID, "the system is actor 0")
	assert.Contains(t, e.Detail, "system")
	assert.Equal(t, practice.OutcomeSuccess, e.Outcome)
	assert.Equal(t, "user:"+itoa(u.ID), e.Target)
	assert.Equal(t, start, e.At)
	assert.NotContains(t, e.Detail, password)

	tok := h.login("admin@example.org")
	assert.Equal(t, u.ID, tok.User.ID)
	assert.Equal(t, practice.RoleAdmin, tok.User.Role)

	_, err = practice.Bootstrap(ctx, h.store, practice.NewUser{Email: "ADMIN@example.org", Name: "Again",
		Role: practice.RoleAdmin, Password: password}, start)
	assert.ErrorIs(t, err, practice.ErrConflict, "an email taken in any case")
	assert.Len(t, h.audit(practice.ActionCreateUser), 1, "nothing audited for a user not created")
}

func TestBootstrapValidation(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	patient := h.patient("p-1")
	ok := practice.NewUser{Email: "ann@example.org", Name: "Ann", Role: practice.RoleDietician, Password: password}
	cases := []struct {
		name  string
		edit  func(*practice.NewUser)
		field string
	}{
		{"no email", func(u *practice.NewUser) { u.Email = "" }, "email"},
		{"not an email", func(u *practice.NewUser) { u.Email = "ann" }, "email"},
		{"display name", func(u *practice.NewUser) { u.Email = "Ann <ann@example.org>" }, "email"},
		{"brackets", func(u *practice.NewUser) { u.Email = "<ann@example.org>" }, "email"},
		{"spaces", func(u *practice.NewUser) { u.Email = " ann@example.org" }, "email"},
		{"header injection", func(u *practice.NewUser) { u.Email = "ann@example.org\r\nBcc: eve@example.org" }, "email"},
		{"two addresses", func(u *practice.NewUser) { u.Email = "ann@example.org, eve@example.org" }, "email"},
		{"email too long", func(u *practice.NewUser) { u.Email = strings.Repeat("a", 64) + "@" + strings.Repeat("b", 190) + ".org" }, "email"},
		{"no name", func(u *practice.NewUser) { u.Name = "  " }, "name"},
		{"name with newline", func(u *practice.NewUser) { u.Name = "Ann\nLee" }, "name"},
		{"name too long", func(u *practice.NewUser) { u.Name = strings.Repeat("n", 256) }, "name"},
		{"no role", func(u *practice.NewUser) { u.Role = "" }, "role"},
		{"unknown role", func(u *practice.NewUser) { u.Role = "root" }, "role"},
		{"patient without record", func(u *practice.NewUser) { u.Role = practice.RolePatient }, "patient_id"},
		{"record for staff", func(u *practice.NewUser) { u.PatientID = patient }, "patient_id"},
		{"no password", func(u *practice.NewUser) { u.Password = "" }, "password"},
		{"short password", func(u *practice.NewUser) { u.Password = "eleven char" }, "password"},
		{"short in characters", func(u *practice.NewUser) { u.Password = "ééééééééééé" }, "password"},
		{"long password", func(u *practice.NewUser) { u.Password = strings.Repeat("p", 257) }, "password"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := ok
			c.edit(&u)
			_, err := practice.Bootstrap(ctx, h.store, u, start)
			var fe *practice.FieldError
			require.ErrorAs(t, err, &fe)
			assert.ErrorIs(t, err, practice.ErrInvalid)
			assert.Equal(t, c.field, fe.Field)
			assert.NotEmpty(t, fe.Reason)
		})
	}
	assert.Empty(t, h.audit(""), "nothing created")

	// The bounds themselves pass, and the error says them.
	for _, pw := range []string{"twelve chars", "éééééééééééé", strings.Repeat("p", 256)} {
		assert.NoError(t, practice.ValidatePassword(pw), pw)
	}
	assert.ErrorContains(t, practice.ValidatePassword("short"), "at least 12 characters")
	assert.ErrorContains(t, practice.ValidatePassword(strings.Repeat("p", 257)), "at most 256 bytes")

	u := ok
	u.Role, u.PatientID, u.Email = practice.RolePatient, patient, "pat@example.org"
	got, err := practice.Bootstrap(ctx, h.store, u, start)
	require.NoError(t, err)
	assert.Equal(t, patient, got.PatientID)
}

func TestValidateEmail(t *testing.T) {
	for _, email := range []string{"ann@example.org", "Ann.Lee+diet@sub.example.co.uk", "o'brien@example.org"} {
		assert.NoError(t, practice.ValidateEmail(email), email)
	}
	err := practice.ValidateEmail("Ann <ann@example.org>")
	var fe *practice.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "email", fe.Field)
}
