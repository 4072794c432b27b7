package practice

import (
	"context"
	"fmt"
)

// OpenNotification marks one of the actor's notifications read and
// returns it, in one transaction: what opening it from the list or from
// its email does. A notification of another user is not found.
func (s *Service) OpenNotification(ctx context.Context, a Actor, id int64) (Notification, error) {
	if err := s.check(ctx, a, ActionReadNotification, Resource{UserID: a.UserID}, 0); err != nil {
		return Notification{}, err
	}
	var n Notification
	err := s.cfg.Store.Write(ctx, func(tx Tx) (err error) {
		if err := tx.MarkNotificationRead(ctx, a.UserID, id, s.now()); err != nil {
			return err
		}
		n, err = tx.Notification(ctx, a.UserID, id)
		return err
	})
	if err != nil {
		return Notification{}, fmt.Errorf("open notification %d: %w", id, err)
	}
	return n, nil
}
