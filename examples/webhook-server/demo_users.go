package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"github.com/healthcare-records/healthcare-records/practice"
)

// demoUser is a user the demo creates, with the password it prints.
type demoUser struct {
	practice.User
	password string
}

// demoUsers creates one user of each staff role, gives every patient the
// demo synced to its dietician, and makes the first of them a patient
// user, so that each role can be tried at once. Passwords are random each
// run.
func demoUsers(ctx context.Context, st practice.Store, now time.Time) ([]demoUser, error) {
	var out []demoUser
	add := func(u practice.NewUser) (practice.User, error) {
		u.Password = rand.Text()
		created, err := practice.Bootstrap(ctx, st, u, now)
		if err != nil {
			return practice.User{}, fmt.Errorf("demo user %s: %w", u.Role, err)
		}
		out = append(out, demoUser{User: created, password: u.Password})
		return created, nil
	}
	if _, err := add(practice.NewUser{Email: "admin@demo.example", Name: "Ada Admin", Role: practice.RoleAdmin}); err != nil {
		return nil, err
	}
	dietician, err := add(practice.NewUser{Email: "dietician@demo.example", Name: "Dana Dietician", Role: practice.RoleDietician})
	if err != nil {
		return nil, err
	}
	if _, err := add(practice.NewUser{Email: "practitioner@demo.example", Name: "Pat Practitioner", Role: practice.RolePractitioner}); err != nil {
		return nil, err
	}
	var first int64
	err = st.Write(ctx, func(tx practice.Tx) error {
		patients, err := tx.Patients(ctx, practice.PatientQuery{IncludeArchived: true, Page: practice.Page{Limit: practice.MaxLimit}})
		if err != nil {
			return err
		}
		for _, p := range patients {
			if p.OwnerID != 0 {
				continue
			}
			p.OwnerID = dietician.ID
			if err := tx.SetPatientPractice(ctx, p); err != nil {
				return err
			}
			if first == 0 {
				first = p.ID
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("demo patients: %w", err)
	}
	if first != 0 {
		if _, err := add(practice.NewUser{Email: "patient@demo.example", Name: "Demo Patient", Role: practice.RolePatient, PatientID: first}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// printUsers lists the demo's users and how to sign in.
func printUsers(w io.Writer, server string, users []demoUser) {
	fmt.Fprintf(w, "\nOpen the console at %s%s/ and sign in, or use the API (%s%s), as any of:\n", server, consoleBase, server, apiBase)
	for _, u := range users {
		fmt.Fprintf(w, "  %-13s %-28s password %s\n", u.Role, u.Email, u.password)
	}
	if len(users) > 0 {
		u := users[1]
		fmt.Fprintf(w, "\n  curl -s %s%s/auth/token -H 'Content-Type: application/json' \\\n", server, apiBase)
		fmt.Fprintf(w, "    -d '{\"email\":\"%s\",\"password\":\"%s\"}'\n", u.Email, u.password)
	}
}
