package store

// TEMPORARY: practice.Tx methods not built yet.

import (
	"context"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

var (
	_ = time.Time{}
	_ = connector.Ref{}
)

func (t *tx) CreateUser(ctx context.Context, u practice.User) (int64, error) { return 0, errNotYet }

func (t *tx) User(ctx context.Context, id int64) (practice.User, error) {
	return practice.User{}, errNotYet
}

func (t *tx) UserByEmail(ctx context.Context, email string) (practice.User, error) {
	return practice.User{}, errNotYet
}

func (t *tx) Users(ctx context.Context, q practice.UserQuery) ([]practice.User, error) {
	return nil, errNotYet
}

func (t *tx) UpdateUser(ctx context.Context, u practice.User) error { return errNotYet }

func (t *tx) DeleteUser(ctx context.Context, id int64) error { return errNotYet }

func (t *tx) CreateSession(ctx context.Context, s practice.Session) error { return errNotYet }

func (t *tx) Session(ctx context.Context, id string) (practice.Session, error) {
	return practice.Session{}, errNotYet
}

func (t *tx) RevokeSession(ctx context.Context, id string, at time.Time, reason string) error {
	return errNotYet
}

func (t *tx) RevokeUserSessions(ctx context.Context, userID int64, at time.Time, reason string) error {
	return errNotYet
}

func (t *tx) SaveRefreshToken(ctx context.Context, r practice.RefreshToken) error { return errNotYet }

func (t *tx) UseRefreshToken(ctx context.Context, hash string, at time.Time) (practice.RefreshToken, error) {
	return practice.RefreshToken{}, errNotYet
}

func (t *tx) SigningKeys(ctx context.Context) ([]practice.SigningKey, error) { return nil, errNotYet }

func (t *tx) SaveSigningKey(ctx context.Context, k practice.SigningKey) error { return errNotYet }

func (t *tx) RetireSigningKey(ctx context.Context, kid string, at time.Time) error { return errNotYet }
