package practice

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/healthcare-records/healthcare-records/connector"
)

// RequestInput asks the provider for documents.
type RequestInput struct {
	What     string
	Types    []connector.DocumentType
	From, To time.Time
	Reason   string
	// Key makes the request idempotent: a second request with the same
	// key returns the first. Empty makes a new key.
	Key string
}

// RequestDocuments asks the patient's provider for more documents (a FHIR
// Task). The request is made by a job, so it survives a provider outage;
// its status follows the Task, and a completed request syncs the patient.
func (s *Service) RequestDocuments(ctx context.Context, a Actor, patientID int64, in RequestInput) (DocumentRequest, error) {
	if err := checkRequest(in); err != nil {
		return DocumentRequest{}, err
	}
	key := in.Key
	if key == "" {
		key = uuid.NewString()
	}
	// Keys are the client's: scope them to the patient so that two
	// patients' keys never collide.
	key = fmt.Sprintf("patient:%d:%s", patientID, key)
	var req DocumentRequest
	err := s.cfg.Store.Write(ctx, func(tx Tx) error {
		p, r, err := s.patientFacts(ctx, tx, a, patientID)
		if err != nil {
			return err
		}
		if err := s.check(ctx, a, ActionRequestDocuments, r, 0); err != nil {
			return err
		}
		if p.Link != Linked {
			return refuse(ErrConflict, "the patient is not linked to the provider; link it by an identifier first")
		}
		now := s.now()
		req = DocumentRequest{PatientID: patientID, RequestedBy: a.UserID, Key: key, What: in.What, Types: in.Types,
			From: in.From, To: in.To, Reason: in.Reason, Status: RequestPending, CreatedAt: now, UpdatedAt: now}
		req.ID, err = tx.CreateDocumentRequest(ctx, req)
		if errors.Is(err, ErrConflict) {
			return errRepeated
		}
		if err != nil {
			return err
		}
		return s.cfg.Engine.RequestDocuments(ctx, tx, connector.DocumentRequest{
			Patient: p.Ref, Key: key, What: in.What, Types: in.Types, From: in.From, To: in.To})
	})
	if errors.Is(err, errRepeated) {
		return s.repeatedRequest(ctx, a, patientID, key)
	}
	if err != nil {
		return DocumentRequest{}, fmt.Errorf("request documents for patient %d: %w", patientID, err)
	}
	s.record(ctx, a, ActionRequestDocuments, OutcomeSuccess, patientID, 0, fmt.Sprintf("request:%d", req.ID), "")
	return req, nil
}

// errRepeated marks a request whose key was used before.
var errRepeated = errors.New("request repeated")

func (s *Service) repeatedRequest(ctx context.Context, a Actor, patientID int64, key string) (DocumentRequest, error) {
	reqs, err := s.DocumentRequests(ctx, a, patientID)
	if err != nil {
		return DocumentRequest{}, err
	}
	for _, r := range reqs {
		if r.Key == key {
			return r, nil
		}
	}
	return DocumentRequest{}, fmt.Errorf("request documents for patient %d: %w", patientID, refuse(ErrConflict, "the idempotency key was used for another request"))
}

func checkRequest(in RequestInput) error {
	if err := checkName("what", in.What); err != nil {
		return err
	}
	if err := checkText("reason", in.Reason, maxNote, false); err != nil {
		return err
	}
	if err := checkText("idempotency_key", in.Key, 128, true); err != nil {
		return err
	}
	if len(in.Types) > 4 {
		return invalid("types", "holds more than the 4 document types")
	}
	for _, t := range in.Types {
		if err := checkType("types", t, false); err != nil {
			return err
		}
	}
	return checkRange("from", in.From, in.To)
}

// DocumentRequests lists the patient's document requests, newest first.
func (s *Service) DocumentRequests(ctx context.Context, a Actor, patientID int64) ([]DocumentRequest, error) {
	var reqs []DocumentRequest
	err := s.cfg.Store.Read(ctx, func(tx Tx) error {
		r, err := s.patientAccess(ctx, tx, a, patientID)
		if err != nil {
			return err
		}
		if err := s.check(ctx, a, ActionListRequests, r, 0); err != nil {
			return err
		}
		reqs, err = tx.DocumentRequests(ctx, patientID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("document requests of patient %d: %w", patientID, err)
	}
	return reqs, nil
}
