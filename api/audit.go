package api

import (
	"context"

	"github.com/healthcare-records/healthcare-records/practice"
)

func (s *server) ListAudit(ctx context.Context, req ListAuditRequestObject) (ListAuditResponseObject, error) {
	p := req.Params
	l, err := s.svc.Audit(ctx, actorOf(ctx), practice.AuditList{
		ActorID:    p.ActorId,
		PatientID:  p.PatientId,
		DocumentID: p.DocumentId,
		Action:     practice.Action(p.Action),
		Outcome:    practice.Outcome(p.Outcome),
		From:       p.From,
		To:         p.To,
		Cursor:     p.Cursor,
		Limit:      p.Limit,
	})
	if err != nil {
		return nil, err
	}
	return ListAudit200JSONResponse{Items: mapItems(l.Items, auditOut), NextCursor: l.Next}, nil
}
