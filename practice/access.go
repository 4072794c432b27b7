package practice

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// check asks the policy whether a may do act on r, and audits a refusal.
func (s *Service) check(ctx context.Context, a Actor, act Action, r Resource, documentID int64) error {
	err := Can(a, act, r)
	if err != nil {
		detail := "not the actor's record"
		var d *DenyError
		if errors.As(err, &d) && !d.Hidden {
			detail = d.Reason
		}
		s.record(ctx, a, act, OutcomeDenied, r.PatientID, documentID, target(r), detail)
	}
	return err
}

func target(r Resource) string {
	if r.UserID != 0 {
		return "user:" + strconv.FormatInt(r.UserID, 10)
	}
	return ""
}

// patientFacts loads the patient and what the policy needs of it for a.
func (s *Service) patientFacts(ctx context.Context, tx Tx, a Actor, id int64) (Patient, Resource, error) {
	p, err := tx.PracticePatient(ctx, id)
	if err != nil {
		return Patient{}, Resource{}, err
	}
	r, err := s.factsOf(ctx, tx, a, p.ID, p.OwnerID)
	return p, r, err
}

// patientAccess loads what the policy needs of a patient for a, when the
// caller needs nothing else of the patient: the busiest reads (listing
// and searching documents, logs) are spared reading the whole row.
func (s *Service) patientAccess(ctx context.Context, tx Tx, a Actor, id int64) (Resource, error) {
	owner, err := tx.PatientOwner(ctx, id)
	if err != nil {
		return Resource{}, err
	}
	return s.factsOf(ctx, tx, a, id, owner)
}

// factsOf completes the facts of patient id, of dietician owner, for a: a
// practitioner sees a patient while one of its documents is shared with
// them.
func (s *Service) factsOf(ctx context.Context, tx Tx, a Actor, id, owner int64) (Resource, error) {
	r := Resource{PatientID: id, OwnerID: owner}
	if a.Role == RolePractitioner {
		live, err := tx.Shares(ctx, ShareQuery{PatientID: id, SharedWith: a.UserID, LiveAt: s.now(), Limit: 1})
		if err != nil {
			return Resource{}, err
		}
		r.SharedWithActor = len(live) > 0
	}
	return r, nil
}

// allowedPatient reads the patient if a may do act on it.
func (s *Service) allowedPatient(ctx context.Context, a Actor, act Action, id int64) (Patient, error) {
	var p Patient
	err := s.cfg.Store.Read(ctx, func(tx Tx) error {
		var (
			r   Resource
			err error
		)
		if p, r, err = s.patientFacts(ctx, tx, a, id); err != nil {
			return err
		}
		return s.check(ctx, a, act, r, 0)
	})
	return p, err
}

// checkedDocument loads a live document and what the policy needs of it,
// and asks the policy whether a may do act to it (recording a refusal).
func (s *Service) checkedDocument(ctx context.Context, tx Tx, a Actor, act Action, id int64) (Document, error) {
	d, err := tx.PracticeDocument(ctx, id)
	if err != nil {
		return Document{}, err
	}
	if d.Deleted {
		return Document{}, ErrNotFound
	}
	p, err := tx.PracticePatient(ctx, d.PatientID)
	if err != nil {
		return Document{}, err
	}
	r := Resource{PatientID: p.ID, OwnerID: p.OwnerID, Uploaded: d.Uploaded(), UploadedBy: d.UploadedBy}
	if a.Role == RolePractitioner {
		live, err := tx.Shares(ctx, ShareQuery{DocumentID: d.ID, SharedWith: a.UserID, LiveAt: s.now(), Limit: 1})
		if err != nil {
			return Document{}, err
		}
		r.SharedWithActor = len(live) > 0
	}
	if err := s.check(ctx, a, act, r, id); err != nil {
		return Document{}, err
	}
	return d, nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }
