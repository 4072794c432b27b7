package api

import (
	"context"

	"github.com/healthcare-records/healthcare-records/practice"
)

func (s *server) ListSharedDocuments(ctx context.Context, req ListSharedDocumentsRequestObject) (ListSharedDocumentsResponseObject, error) {
	l, err := s.svc.SharedDocuments(ctx, actorOf(ctx), req.PatientId)
	if err != nil {
		return nil, err
	}
	return ListSharedDocuments200JSONResponse{Items: mapItems(l, func(sd practice.SharedDocument) SharedDocument {
		return SharedDocument{Share: s.shareOut(sd.Share), Document: s.documentOut(sd.Document)}
	})}, nil
}

func (s *server) ListShares(ctx context.Context, req ListSharesRequestObject) (ListSharesResponseObject, error) {
	l, err := s.svc.Shares(ctx, actorOf(ctx), practice.ShareList{Direction: string(req.Params.Direction)})
	if err != nil {
		return nil, err
	}
	return ListShares200JSONResponse{Items: mapItems(l, s.shareOut)}, nil
}

func (s *server) RevokeShare(ctx context.Context, req RevokeShareRequestObject) (RevokeShareResponseObject, error) {
	if err := s.svc.RevokeShare(ctx, actorOf(ctx), req.Id); err != nil {
		return nil, err
	}
	return RevokeShare204Response{}, nil
}
