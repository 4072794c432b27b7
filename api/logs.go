package api

import (
	"context"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

func (s *server) ListPatientLogs(ctx context.Context, req ListPatientLogsRequestObject) (ListPatientLogsResponseObject, error) {
	p := req.Params
	l, err := s.svc.Logs(ctx, actorOf(ctx), practice.LogList{
		PatientID: req.PatientId,
		Action:    connector.Action(p.Action),
		Status:    connector.Status(p.Status),
		From:      p.From,
		To:        p.To,
		Text:      p.Q,
		Cursor:    p.Cursor,
		Limit:     p.Limit,
	})
	if err != nil {
		return nil, err
	}
	return ListPatientLogs200JSONResponse{Items: mapItems(l.Items, logOut), NextCursor: l.Next}, nil
}

func (s *server) ListLogs(ctx context.Context, req ListLogsRequestObject) (ListLogsResponseObject, error) {
	p := req.Params
	l, err := s.svc.Logs(ctx, actorOf(ctx), practice.LogList{
		PatientID: p.PatientId,
		Action:    connector.Action(p.Action),
		Status:    connector.Status(p.Status),
		From:      p.From,
		To:        p.To,
		Text:      p.Q,
		Cursor:    p.Cursor,
		Limit:     p.Limit,
	})
	if err != nil {
		return nil, err
	}
	return ListLogs200JSONResponse{Items: mapItems(l.Items, logOut), NextCursor: l.Next}, nil
}

func (s *server) GetLog(ctx context.Context, req GetLogRequestObject) (GetLogResponseObject, error) {
	e, err := s.svc.Log(ctx, actorOf(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return GetLog200JSONResponse(logOut(e)), nil
}
