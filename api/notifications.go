package api

import (
	"context"
	"net/http"
	"time"

	"github.com/healthcare-records/healthcare-records/internal/sse"
	"github.com/healthcare-records/healthcare-records/practice"
)

func (s *server) ListNotifications(ctx context.Context, req ListNotificationsRequestObject) (ListNotificationsResponseObject, error) {
	p := req.Params
	l, unread, err := s.svc.Notifications(ctx, actorOf(ctx), practice.NotificationList{UnreadOnly: p.Unread, Cursor: p.Cursor, Limit: p.Limit})
	if err != nil {
		return nil, err
	}
	return ListNotifications200JSONResponse{Items: mapItems(l.Items, notificationOut), NextCursor: l.Next, Unread: unread}, nil
}

func (s *server) MarkNotificationRead(ctx context.Context, req MarkNotificationReadRequestObject) (MarkNotificationReadResponseObject, error) {
	if err := s.svc.MarkNotificationRead(ctx, actorOf(ctx), req.Id); err != nil {
		return nil, err
	}
	return MarkNotificationRead204Response{}, nil
}

func (s *server) MarkAllNotificationsRead(ctx context.Context, _ MarkAllNotificationsReadRequestObject) (MarkAllNotificationsReadResponseObject, error) {
	n, err := s.svc.MarkAllNotificationsRead(ctx, actorOf(ctx))
	if err != nil {
		return nil, err
	}
	return MarkAllNotificationsRead200JSONResponse{Marked: n}, nil
}

func (s *server) GetNotificationPreferences(ctx context.Context, _ GetNotificationPreferencesRequestObject) (GetNotificationPreferencesResponseObject, error) {
	l, err := s.svc.NotificationPreferences(ctx, actorOf(ctx))
	if err != nil {
		return nil, err
	}
	return GetNotificationPreferences200JSONResponse{Items: mapItems(l, preferenceOut)}, nil
}

func (s *server) SetNotificationPreferences(ctx context.Context, req SetNotificationPreferencesRequestObject) (SetNotificationPreferencesResponseObject, error) {
	in := mapItems(req.Body.Items, func(p NotificationPreference) practice.Preference {
		return practice.Preference{Kind: practice.NotificationKind(p.Kind), Delivery: practice.Delivery(p.Delivery)}
	})
	l, err := s.svc.SetNotificationPreferences(ctx, actorOf(ctx), in)
	if err != nil {
		return nil, err
	}
	return SetNotificationPreferences200JSONResponse{Items: mapItems(l, preferenceOut)}, nil
}

// NotificationEvents streams the caller's notifications until the client
// leaves: the request's context ends with its connection, and the
// service's channel closes then.
func (s *server) NotificationEvents(ctx context.Context, req NotificationEventsRequestObject) (NotificationEventsResponseObject, error) {
	wait := 5 * time.Minute
	if req.Params.Wait > 0 {
		wait = time.Duration(req.Params.Wait) * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	ch, err := s.svc.WatchNotifications(ctx, actorOf(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	return notificationStream{events: ch, heartbeat: s.cfg.Heartbeat, done: cancel}, nil
}

// notificationStream answers GET /notifications/events: a
// text/event-stream of "notification" events (a Notification as JSON)
// and "unread" events (the count), with a comment line every heartbeat
// while nothing happens.
type notificationStream struct {
	events    <-chan practice.NotificationEvent
	heartbeat time.Duration
	// done ends the stream's wait.
	done context.CancelFunc
}

// VisitNotificationEventsResponse writes the stream; as the sync events'
// stream, it stops without an error once the client left.
func (e notificationStream) VisitNotificationEventsResponse(w http.ResponseWriter) error {
	defer e.done()
	rc, ok := sse.Start(w)
	if !ok {
		return nil
	}
	tick := time.NewTicker(e.heartbeat)
	defer tick.Stop()
	for seq := 1; ; seq++ {
		select {
		case ev, ok := <-e.events:
			if !ok {
				return nil
			}
			var err error
			if ev.Notification != nil {
				err = writeEvent(w, rc, seq, "notification", notificationOut(*ev.Notification))
			} else {
				err = writeEvent(w, rc, seq, "unread", struct {
					Unread int `json:"unread"`
				}{ev.Unread})
			}
			if err != nil {
				return nil
			}
		case <-tick.C:
			if sse.Heartbeat(w, rc) != nil {
				return nil
			}
		}
	}
}

func notificationOut(n practice.Notification) Notification {
	return Notification{
		Id:       n.ID,
		Kind:     NotificationKind(n.Kind),
		Severity: NotificationSeverity(n.Severity),
		Title:    n.Title,
		Body:     n.Body,
		Links: NotificationLinks{PatientId: n.Links.PatientID, DocumentId: n.Links.DocumentID, Run: n.Links.Run,
			InquiryId: n.Links.InquiryID, Retry: n.Links.Retry, Support: n.Links.Support},
		Count:     n.Count,
		Delivery:  NotificationDelivery(n.Delivery),
		CreatedAt: n.CreatedAt,
		UpdatedAt: n.UpdatedAt,
		ReadAt:    n.ReadAt,
		EmailedAt: n.EmailedAt,
		Unread:    n.Unread(),
	}
}

func preferenceOut(p practice.Preference) NotificationPreference {
	return NotificationPreference{Kind: NotificationKind(p.Kind), Delivery: NotificationDelivery(p.Delivery), Fixed: p.Fixed}
}
