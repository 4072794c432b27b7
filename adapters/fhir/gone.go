package fhir

import (
	"context"
	"errors"
	"fmt"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/provider"
)

// classifyRead classifies the error of reading typ/id itself (a document
// or a patient). It is the only place that yields connector.ErrNotFound,
// which tells the engine the resource is confirmed deleted at the source
// and makes it delete every copy at every sink. Only the FHIR server can
// confirm that:
//
//   - a 404 or 410 whose body is an OperationOutcome sent as FHIR JSON
//     (provider.StatusError.FromFHIR), or
//   - when the 404 or 410 is not FHIR's (an HTML page of a proxy, an empty
//     body), a history Bundle whose newest entry is a DELETE.
//
// Anything else, an HTML 404 above all, is a retryable error: a proxy
// that lost its route must not delete documents.
func (s *Source) classifyRead(ctx context.Context, typ, id string, err error) error {
	var se *provider.StatusError
	if !errors.As(err, &se) || (se.StatusCode != 404 && se.StatusCode != 410) {
		return classify(err)
	}
	if se.FromFHIR() {
		return fmt.Errorf("%w: %w", connector.ErrNotFound, err)
	}
	deleted, herr := s.deletedInHistory(ctx, typ, id)
	if deleted {
		return fmt.Errorf("%w: %w (history records a deletion)", connector.ErrNotFound, err)
	}
	s.log.WarnContext(ctx, "fhir read answered not found without a fhir outcome; not taken as a deletion",
		"type", typ, "id", id, "status", se.StatusCode, "content_type", se.ContentType)
	if herr != nil {
		return fmt.Errorf("%w; history: %w", notFHIRGone(err, se), herr)
	}
	return notFHIRGone(err, se)
}

// notFHIRGone wraps a 404 or 410 that is not the FHIR server's own, so its
// message says why it is retried.
func notFHIRGone(err error, se *provider.StatusError) error {
	ct := se.ContentType
	if ct == "" {
		ct = "no content type"
	}
	return fmt.Errorf("%w: the answer is not a fhir OperationOutcome (%s); retried, not taken as a deletion", err, ct)
}

// deletedInHistory asks typ/id's history whether the resource was deleted.
// A history request that fails is no confirmation; its error is returned
// for the message only.
func (s *Source) deletedInHistory(ctx context.Context, typ, id string) (bool, error) {
	b, err := s.c.History(ctx, typ, id)
	if err != nil {
		return false, err
	}
	// FHIR orders a history newest first.
	return len(b.Entry) > 0 && b.Entry[0].IsDelete(), nil
}
