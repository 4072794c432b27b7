package api

import (
	"context"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

func (s *server) RequestDocuments(ctx context.Context, req RequestDocumentsRequestObject) (RequestDocumentsResponseObject, error) {
	b := req.Body
	r, err := s.svc.RequestDocuments(ctx, actorOf(ctx), req.PatientId, practice.RequestInput{
		What:   b.What,
		Types:  mapItems(b.Types, func(t DocumentType) connector.DocumentType { return connector.DocumentType(t) }),
		From:   b.From,
		To:     b.To,
		Reason: b.Reason,
		Key:    req.Params.IdempotencyKey,
	})
	if err != nil {
		return nil, err
	}
	return RequestDocuments202JSONResponse(requestOut(r)), nil
}

func (s *server) ListDocumentRequests(ctx context.Context, req ListDocumentRequestsRequestObject) (ListDocumentRequestsResponseObject, error) {
	l, err := s.svc.DocumentRequests(ctx, actorOf(ctx), req.PatientId)
	if err != nil {
		return nil, err
	}
	return ListDocumentRequests200JSONResponse{Items: mapItems(l, requestOut)}, nil
}
