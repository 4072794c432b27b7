package practice

import (
	"context"
	"fmt"
	"time"
)

// Bootstrap creates a user with no actor to allow it: the first admin,
// from an operator's command line (hrctl users create) or the server's
// ADMIN_EMAIL and ADMIN_PASSWORD_FILE. It validates u as any new user
// (see validateNewUser; the password is required), hashes the password,
// and records the creation in the audit log as done by the system (actor
// 0), in the same transaction. An email a user has already, whatever its
// case, is an error wrapping ErrConflict, so that a server bootstrapping
// at every start can tell "already there" from a failure. The returned
// user has no password hash.
func Bootstrap(ctx context.Context, st Store, u NewUser, now time.Time) (User, error) {
	if err := validateNewUser(u); err != nil {
		return User{}, err
	}
	if u.Password == "" {
		return User{}, invalid("password", "is required")
	}
	hash, err := hashPassword(u.Password)
	if err != nil {
		return User{}, err
	}
	now = now.UTC()
	user := User{Email: u.Email, Name: u.Name, Role: u.Role, PatientID: u.PatientID, CarepatronID: u.CarepatronID,
		PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	err = st.Write(ctx, func(tx Tx) error {
		id, err := tx.CreateUser(ctx, user)
		if err != nil {
			return err
		}
		user.ID = id
		return tx.AppendAudit(ctx, AuditEntry{At: now, Action: ActionCreateUser, Outcome: OutcomeSuccess,
			Target: userTarget(id), Detail: fmt.Sprintf("by the system (actor role system): role %s", u.Role)})
	})
	if err != nil {
		return User{}, fmt.Errorf("practice: bootstrap user: %w", err)
	}
	user.PasswordHash = ""
	return user, nil
}

// validateNewUser checks what any new user needs: a bare email, a
// name, a role, a patient record exactly for a patient user, and a
// password within the policy if there is one (a user without one signs
// in only through single sign-on). Each refusal is a *FieldError.
func validateNewUser(u NewUser) error {
	if err := ValidateEmail(u.Email); err != nil {
		return err
	}
	if err := validateName(u.Name); err != nil {
		return err
	}
	if !u.Role.Valid() {
		return invalid("role", "must be one of admin, dietician, practitioner or patient")
	}
	switch {
	case u.Role == RolePatient && u.PatientID <= 0:
		return invalid("patient_id", "is required for a patient user: their own patient record")
	case u.Role != RolePatient && u.PatientID != 0:
		return invalid("patient_id", "is only for a patient user")
	}
	if u.Password != "" {
		return ValidatePassword(u.Password)
	}
	return nil
}
