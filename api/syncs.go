package api

import (
	"context"
)

func (s *server) StartSync(ctx context.Context, req StartSyncRequestObject) (StartSyncResponseObject, error) {
	run, err := s.svc.StartSync(ctx, actorOf(ctx), req.PatientId)
	if err != nil {
		return nil, err
	}
	return StartSync202JSONResponse{Body: s.syncRef(run), Headers: StartSync202ResponseHeaders{Location: s.runURL(run)}}, nil
}

func (s *server) GetSync(ctx context.Context, req GetSyncRequestObject) (GetSyncResponseObject, error) {
	p, err := s.svc.Run(ctx, actorOf(ctx), req.Run)
	if err != nil {
		return nil, err
	}
	return GetSync200JSONResponse(s.runOut(p)), nil
}

// SyncEvents streams the run until it finishes or the client leaves: the
// service closes the channel then, the request's context ending with the
// client's connection.
func (s *server) SyncEvents(ctx context.Context, req SyncEventsRequestObject) (SyncEventsResponseObject, error) {
	ch, err := s.svc.WatchRun(ctx, actorOf(ctx), req.Run)
	if err != nil {
		return nil, err
	}
	return eventStream{events: ch, heartbeat: s.cfg.Heartbeat, render: s.runOut}, nil
}
