package practice

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// ShareInput shares a document with a practitioner, named by id or email.
type ShareInput struct {
	With      int64
	WithEmail string
	// ExpiresAt ends the share; zero never does.
	ExpiresAt time.Time
	Note      string
}

// SharedDocument is a share with the document it gives.
type SharedDocument struct {
	Share
	Document Document
}

// ShareList selects the actor's shares: "given", "received" or both ("").
type ShareList struct {
	Direction string
}

// ShareDocument gives a practitioner of the practice one document until
// the share expires or is revoked. Only the document's source shares it.
func (s *Service) ShareDocument(ctx context.Context, a Actor, documentID int64, in ShareInput) (Share, error) {
	if err := checkText("note", in.Note, maxNote, false); err != nil {
		return Share{}, err
	}
	if !in.ExpiresAt.IsZero() && !in.ExpiresAt.After(s.now()) {
		return Share{}, invalid("expires_at", "is in the past")
	}
	if (in.With == 0) == (in.WithEmail == "") {
		return Share{}, invalid("practitioner_id", "name the practitioner by id or by email, one of them")
	}
	var sh Share
	err := s.cfg.Store.Write(ctx, func(tx Tx) error {
		d, err := s.checkedDocument(ctx, tx, a, ActionShareDocument, documentID)
		if err != nil {
			return err
		}
		with, err := practitioner(ctx, tx, in)
		if err != nil {
			return err
		}
		sh = Share{DocumentID: d.ID, PatientID: d.PatientID, SharedBy: a.UserID, SharedWith: with.ID,
			Note: in.Note, CreatedAt: s.now(), ExpiresAt: in.ExpiresAt.UTC()}
		if in.ExpiresAt.IsZero() {
			sh.ExpiresAt = time.Time{}
		}
		if sh.ID, err = tx.CreateShare(ctx, sh); err != nil || s.cfg.Notifier == nil {
			return err
		}
		return s.cfg.Notifier.Share(ctx, tx, sh)
	})
	if err != nil {
		return Share{}, fmt.Errorf("share document %d: %w", documentID, err)
	}
	s.record(ctx, a, ActionShareDocument, OutcomeSuccess, sh.PatientID, documentID, userTarget(sh.SharedWith), "share:"+strconv.FormatInt(sh.ID, 10))
	return sh, nil
}

// practitioner finds the user a share names, who must be an enabled
// practitioner.
func practitioner(ctx context.Context, tx Tx, in ShareInput) (User, error) {
	field := "practitioner_id"
	var (
		u   User
		err error
	)
	if in.With != 0 {
		u, err = tx.User(ctx, in.With)
	} else {
		field = "practitioner_email"
		if err := checkEmail(field, in.WithEmail, true); err != nil {
			return User{}, err
		}
		u, err = tx.UserByEmail(ctx, in.WithEmail)
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return User{}, invalid(field, "names no practitioner of the practice")
	case err != nil:
		return User{}, err
	case u.Role != RolePractitioner:
		return User{}, invalid(field, "names a user who is not a practitioner: documents are shared with practitioners")
	case u.Disabled():
		return User{}, invalid(field, "names a practitioner whose account is disabled")
	}
	return u, nil
}

// SharedDocuments lists the patient's documents shared now: every live
// share for the patient's dietician or an admin, those with the actor for
// a practitioner.
func (s *Service) SharedDocuments(ctx context.Context, a Actor, patientID int64) ([]SharedDocument, error) {
	var out []SharedDocument
	err := s.cfg.Store.Read(ctx, func(tx Tx) error {
		r, err := s.patientAccess(ctx, tx, a, patientID)
		if err != nil {
			return err
		}
		if err := s.check(ctx, a, ActionListShared, r, 0); err != nil {
			return err
		}
		q := ShareQuery{PatientID: patientID, LiveAt: s.now(), Limit: MaxLimit}
		if a.Role == RolePractitioner {
			q.SharedWith = a.UserID
		}
		shares, err := tx.Shares(ctx, q)
		if err != nil {
			return err
		}
		for _, sh := range shares {
			d, err := tx.PracticeDocument(ctx, sh.DocumentID)
			if err != nil {
				return err
			}
			if !d.Deleted {
				out = append(out, SharedDocument{Share: sh, Document: d})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("shared documents of patient %d: %w", patientID, err)
	}
	s.record(ctx, a, ActionListShared, OutcomeSuccess, patientID, 0, "", strconv.Itoa(len(out))+" shared documents")
	return out, nil
}

// Shares lists the shares the actor gave or received, newest first,
// revoked and expired ones included.
func (s *Service) Shares(ctx context.Context, a Actor, in ShareList) ([]Share, error) {
	if err := s.check(ctx, a, ActionListShares, Resource{}, 0); err != nil {
		return nil, err
	}
	var queries []ShareQuery
	switch in.Direction {
	case "given":
		queries = []ShareQuery{{SharedBy: a.UserID, Limit: MaxLimit}}
	case "received":
		queries = []ShareQuery{{SharedWith: a.UserID, Limit: MaxLimit}}
	case "":
		queries = []ShareQuery{{SharedBy: a.UserID, Limit: MaxLimit}, {SharedWith: a.UserID, Limit: MaxLimit}}
	default:
		return nil, invalid("direction", "must be given or received")
	}
	var out []Share
	err := s.cfg.Store.Read(ctx, func(tx Tx) error {
		for _, q := range queries {
			found, err := tx.Shares(ctx, q)
			if err != nil {
				return err
			}
			out = append(out, found...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list shares: %w", err)
	}
	slices.SortFunc(out, func(x, y Share) int { return int(y.ID - x.ID) })
	return slices.CompactFunc(out, func(x, y Share) bool { return x.ID == y.ID }), nil
}

// RevokeShare ends a share at once: by whoever shared, or an admin.
func (s *Service) RevokeShare(ctx context.Context, a Actor, id int64) error {
	var sh Share
	err := s.cfg.Store.Write(ctx, func(tx Tx) error {
		var err error
		if sh, err = tx.Share(ctx, id); err != nil {
			return err
		}
		r := Resource{PatientID: sh.PatientID, SharedBy: sh.SharedBy, SharedWith: sh.SharedWith}
		if err := s.check(ctx, a, ActionRevokeShare, r, sh.DocumentID); err != nil {
			return err
		}
		return tx.RevokeShare(ctx, id, a.UserID, s.now())
	})
	if err != nil {
		return fmt.Errorf("revoke share %d: %w", id, err)
	}
	s.record(ctx, a, ActionRevokeShare, OutcomeSuccess, sh.PatientID, sh.DocumentID, userTarget(sh.SharedWith), "share:"+strconv.FormatInt(id, 10))
	return nil
}
