package practice

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// NewUser is a user to create.
type NewUser struct {
	Email, Name  string
	Role         Role
	Password     string
	PatientID    int64
	CarepatronID string
}

// UserUpdate changes a user; nil fields stay.
type UserUpdate struct {
	Email, Name, Password, CarepatronID *string
	Role                                *Role
	Disabled                            *bool
}

// UserList selects users.
type UserList struct {
	Role   Role
	Text   string
	Cursor string
	Limit  int
}

// Users lists the practice's users (admins only).
func (s *Service) Users(ctx context.Context, a Actor, q UserList) (List[User], error) {
	if err := s.check(ctx, a, ActionListUsers, Resource{}, 0); err != nil {
		return List[User]{}, err
	}
	if q.Role != "" && !q.Role.Valid() {
		return List[User]{}, invalid("role", "must be one of admin, dietician, practitioner, patient")
	}
	if err := checkText("q", q.Text, maxName, true); err != nil {
		return List[User]{}, err
	}
	c, err := parseCursor(q.Cursor)
	if err != nil {
		return List[User]{}, err
	}
	limit, err := limitOf(q.Limit)
	if err != nil {
		return List[User]{}, err
	}
	var users []User
	err = s.cfg.Store.Read(ctx, func(tx Tx) error {
		users, err = tx.Users(ctx, UserQuery{Role: q.Role, Text: q.Text, AfterID: c.ID, Limit: limit + 1})
		return err
	})
	if err != nil {
		return List[User]{}, fmt.Errorf("list users: %w", err)
	}
	return keysetPage(users, limit, func(u User) int64 { return u.ID }), nil
}

// User returns a user: oneself, or anyone for an admin.
func (s *Service) User(ctx context.Context, a Actor, id int64) (User, error) {
	if err := s.check(ctx, a, ActionReadUser, Resource{UserID: id}, 0); err != nil {
		return User{}, err
	}
	var u User
	err := s.cfg.Store.Read(ctx, func(tx Tx) (err error) {
		u, err = tx.User(ctx, id)
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("user %d: %w", id, err)
	}
	return u, nil
}

// CreateUser creates a user: admins create anyone; a dietician invites a
// patient user for one of their own patients.
func (s *Service) CreateUser(ctx context.Context, a Actor, in NewUser) (User, error) {
	var u User
	err := s.cfg.Store.Write(ctx, func(tx Tx) error {
		r := Resource{NewRole: in.Role}
		if in.Role == RolePatient {
			if in.PatientID == 0 {
				return invalid("patient_id", "is required for a patient user: the patient record they see")
			}
			p, err := tx.PracticePatient(ctx, in.PatientID)
			if err != nil {
				return err
			}
			r.PatientID, r.OwnerID = p.ID, p.OwnerID
		} else if in.PatientID != 0 {
			return invalid("patient_id", "is only for patient users")
		}
		if err := s.check(ctx, a, ActionCreateUser, r, 0); err != nil {
			return err
		}
		var err error
		u, err = s.newUser(ctx, tx, in)
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	s.record(ctx, a, ActionCreateUser, OutcomeSuccess, u.PatientID, 0, userTarget(u.ID), "role "+string(u.Role))
	return u, nil
}

// newUser validates and inserts a user.
func (s *Service) newUser(ctx context.Context, tx Tx, in NewUser) (User, error) {
	if err := validateNewUser(in); err != nil {
		return User{}, err
	}
	if in.Password == "" {
		return User{}, invalid("password", "is required")
	}
	if err := checkText("carepatron_id", in.CarepatronID, maxName, true); err != nil {
		return User{}, err
	}
	hash, err := hashPassword(in.Password)
	if err != nil {
		return User{}, err
	}
	now := s.now()
	u := User{Email: in.Email, Name: in.Name, Role: in.Role, CarepatronID: in.CarepatronID, PatientID: in.PatientID,
		PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	u.ID, err = tx.CreateUser(ctx, u)
	if errors.Is(err, ErrConflict) {
		return User{}, &FieldError{Field: "email", Reason: "belongs to another user"}
	}
	return u, err
}

// UpdateUser changes a user: oneself (name, email, password), or anyone
// for an admin, who alone changes roles and disables users. Disabling a
// user or changing their password ends their sessions.
func (s *Service) UpdateUser(ctx context.Context, a Actor, id int64, in UserUpdate) (User, error) {
	var u User
	revoke := ""
	err := s.cfg.Store.Write(ctx, func(tx Tx) error {
		if err := s.check(ctx, a, ActionUpdateUser, Resource{UserID: id}, 0); err != nil {
			return err
		}
		var err error
		if u, err = tx.User(ctx, id); err != nil {
			return err
		}
		if (in.Role != nil && *in.Role != u.Role) || (in.Disabled != nil && *in.Disabled != u.Disabled()) {
			if err := s.check(ctx, a, ActionChangeRole, Resource{UserID: id}, 0); err != nil {
				return err
			}
		}
		if in.Role != nil {
			if !in.Role.Valid() {
				return invalid("role", "must be one of admin, dietician, practitioner, patient")
			}
			if *in.Role == RolePatient && u.PatientID == 0 {
				return invalid("role", "a patient user needs a patient record: create one for the patient instead")
			}
			u.Role = *in.Role
		}
		if in.Email != nil {
			if err := ValidateEmail(*in.Email); err != nil {
				return err
			}
			u.Email = *in.Email
		}
		if in.Name != nil {
			if err := validateName(*in.Name); err != nil {
				return err
			}
			u.Name = *in.Name
		}
		if in.CarepatronID != nil {
			if err := checkText("carepatron_id", *in.CarepatronID, maxName, true); err != nil {
				return err
			}
			u.CarepatronID = *in.CarepatronID
		}
		if in.Password != nil {
			if err := ValidatePassword(*in.Password); err != nil {
				return err
			}
			if u.PasswordHash, err = hashPassword(*in.Password); err != nil {
				return err
			}
			revoke = "password changed"
		}
		if in.Disabled != nil && *in.Disabled != u.Disabled() {
			if *in.Disabled {
				u.DisabledAt = s.now()
				revoke = "user disabled"
			} else {
				u.DisabledAt = time.Time{}
			}
		}
		u.UpdatedAt = s.now()
		err = tx.UpdateUser(ctx, u)
		if errors.Is(err, ErrConflict) {
			return &FieldError{Field: "email", Reason: "belongs to another user"}
		}
		if err != nil || revoke == "" {
			return err
		}
		return tx.RevokeUserSessions(ctx, id, s.now(), revoke)
	})
	if err != nil {
		return User{}, fmt.Errorf("update user %d: %w", id, err)
	}
	s.forgetUser(id)
	s.record(ctx, a, ActionUpdateUser, OutcomeSuccess, 0, 0, userTarget(id), strings.TrimSpace(revoke))
	return u, nil
}

// DeleteUser deletes a user (admins only). A dietician who owns patients,
// archived ones too, is refused, since a patient's dietician does not
// change (Tx.SetPatientPractice); so is a user whose name stands on
// records (uploads, shares, requests): disable them instead, which keeps
// the history readable.
func (s *Service) DeleteUser(ctx context.Context, a Actor, id int64) error {
	err := s.cfg.Store.Write(ctx, func(tx Tx) error {
		if err := s.check(ctx, a, ActionDeleteUser, Resource{UserID: id}, 0); err != nil {
			return err
		}
		if _, err := tx.User(ctx, id); err != nil {
			return err
		}
		owned, err := tx.Patients(ctx, PatientQuery{OwnerID: id, IncludeArchived: true, Page: Page{Limit: 1}})
		if err != nil {
			return err
		}
		if len(owned) > 0 {
			return refuse(ErrConflict, "the user is the dietician of patients (archived ones too), which keep their dietician; disable the user instead")
		}
		given, err := tx.Shares(ctx, ShareQuery{SharedBy: id, Limit: 1})
		if err != nil {
			return err
		}
		received, err := tx.Shares(ctx, ShareQuery{SharedWith: id, Limit: 1})
		if err != nil {
			return err
		}
		if len(given)+len(received) > 0 {
			return refuse(ErrConflict, "documents were shared by or with the user; disable the user instead, which keeps that history")
		}
		if err := tx.DeleteUser(ctx, id); err != nil {
			if errors.Is(err, ErrNotFound) {
				return err
			}
			return refuse(ErrConflict, "records name the user; disable the user instead")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete user %d: %w", id, err)
	}
	s.forgetUser(id)
	s.record(ctx, a, ActionDeleteUser, OutcomeSuccess, 0, 0, userTarget(id), "")
	return nil
}
