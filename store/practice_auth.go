package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/healthcare-records/healthcare-records/practice"
)

// The practice.Tx methods of sign-in: users, sessions, refresh tokens and
// signing keys, in SQL both backends accept.

const userColumns = `id, email, name, type, carepatron_id, patient_id, password_hash, disabled_at, created_at, updated_at`

func scanUser(r Row) (practice.User, error) {
	var (
		u                                practice.User
		email, name, role, cpID, pwHash  nullString
		patientID                        *int64
		disabledAt, createdAt, updatedAt nullTime
	)
	if err := r.Scan(&u.ID, &email, &name, &role, &cpID, &patientID, &pwHash, &disabledAt, &createdAt, &updatedAt); err != nil {
		return u, err
	}
	u.Email, u.Name, u.Role, u.CarepatronID = string(email), string(name), practice.Role(role), string(cpID)
	if patientID != nil {
		u.PatientID = *patientID
	}
	u.PasswordHash, u.DisabledAt = string(pwHash), disabledAt.Time
	u.CreatedAt, u.UpdatedAt = createdAt.Time, updatedAt.Time
	return u, nil
}

// CreateUser inserts u. The insert skips a row whose email (whatever its
// case) is taken rather than failing, so that a conflict leaves the
// transaction usable on PostgreSQL too.
func (t *tx) CreateUser(ctx context.Context, u practice.User) (int64, error) {
	var id int64
	err := t.q.QueryRow(ctx, `INSERT INTO users (email, name, type, carepatron_id, patient_id, password_hash,
			disabled_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT DO NOTHING
		RETURNING id`,
		u.Email, u.Name, string(u.Role), nullText(u.CarepatronID), nullID(u.PatientID), nullText(u.PasswordHash),
		timeArg(u.DisabledAt), timeArg(u.CreatedAt), timeArg(u.UpdatedAt)).Scan(&id)
	if errors.Is(err, ErrNoRows) {
		return 0, fmt.Errorf("store: create user: email taken: %w", practice.ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("store: create user: %w", constraintError(err))
	}
	return id, nil
}

func (t *tx) User(ctx context.Context, id int64) (practice.User, error) {
	u, err := scanUser(t.q.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	return u, notFound(err, fmt.Sprintf("user %d", id))
}

func (t *tx) UserByEmail(ctx context.Context, email string) (practice.User, error) {
	u, err := scanUser(t.q.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE lower(email) = lower($1)`, email))
	return u, notFound(err, "user by email")
}

func (t *tx) Users(ctx context.Context, q practice.UserQuery) ([]practice.User, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.Role != "" {
		where = append(where, "type = "+arg(string(q.Role)))
	}
	if q.Text != "" {
		p := arg("%" + escapeLike(strings.ToLower(q.Text)) + "%")
		where = append(where, `(lower(name) LIKE `+p+` ESCAPE '\' OR lower(email) LIKE `+p+` ESCAPE '\')`)
	}
	if q.AfterID > 0 {
		where = append(where, "id > "+arg(q.AfterID))
	}
	query := `SELECT ` + userColumns + ` FROM users`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY id`
	if q.Limit > 0 {
		query += ` LIMIT ` + arg(q.Limit)
	}
	rows, err := t.q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []practice.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// escapeLike makes s match itself in a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// UpdateUser saves u. An email another user has, whatever its case, is
// looked for first so that the common conflict leaves the transaction
// usable; the unique index still decides a race.
func (t *tx) UpdateUser(ctx context.Context, u practice.User) error {
	var other int64
	err := t.q.QueryRow(ctx, `SELECT id FROM users WHERE lower(email) = lower($1) AND id <> $2`, u.Email, u.ID).Scan(&other)
	switch {
	case err == nil:
		return fmt.Errorf("store: update user %d: email taken: %w", u.ID, practice.ErrConflict)
	case !errors.Is(err, ErrNoRows):
		return err
	}
	n, err := t.q.Exec(ctx, `UPDATE users SET email = $2, name = $3, type = $4, carepatron_id = $5, patient_id = $6,
			password_hash = $7, disabled_at = $8, updated_at = $9
		WHERE id = $1`,
		u.ID, u.Email, u.Name, string(u.Role), nullText(u.CarepatronID), nullID(u.PatientID), nullText(u.PasswordHash),
		timeArg(u.DisabledAt), timeArg(u.UpdatedAt))
	if err != nil {
		return fmt.Errorf("store: update user %d: %w", u.ID, constraintError(err))
	}
	if n == 0 {
		return fmt.Errorf("user %d: %w", u.ID, practice.ErrNotFound)
	}
	return nil
}

// DeleteUser deletes the user with their sessions and refresh tokens. A
// user other records still name (documents they uploaded, shares) is
// ErrConflict: those records keep who acted.
func (t *tx) DeleteUser(ctx context.Context, id int64) error {
	if _, err := t.q.Exec(ctx, `DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM sessions WHERE user_id = $1)`, id); err != nil {
		return err
	}
	if _, err := t.q.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
		return err
	}
	n, err := t.q.Exec(ctx, `DELETE FROM users WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("store: delete user %d: %w", id, constraintError(err))
	}
	if n == 0 {
		return fmt.Errorf("user %d: %w", id, practice.ErrNotFound)
	}
	return nil
}

func (t *tx) CreateSession(ctx context.Context, s practice.Session) error {
	n, err := t.q.Exec(ctx, `INSERT INTO sessions (id, user_id, created_at, expires_at, revoked_at, revoke_reason, client_addr)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT DO NOTHING`,
		s.ID, s.UserID, s.CreatedAt.UTC(), s.ExpiresAt.UTC(), timeArg(s.RevokedAt), nullText(s.Reason), nullText(s.ClientAddr))
	if err != nil {
		return fmt.Errorf("store: create session: %w", constraintError(err))
	}
	if n == 0 {
		return fmt.Errorf("store: create session: id taken: %w", practice.ErrConflict)
	}
	return nil
}

func (t *tx) Session(ctx context.Context, id string) (practice.Session, error) {
	s := practice.Session{ID: id}
	var created, expires, revoked nullTime
	var reason, addr nullString
	err := t.q.QueryRow(ctx, `SELECT user_id, created_at, expires_at, revoked_at, revoke_reason, client_addr
		FROM sessions WHERE id = $1`, id).Scan(&s.UserID, &created, &expires, &revoked, &reason, &addr)
	if err != nil {
		return s, notFound(err, "session")
	}
	s.CreatedAt, s.ExpiresAt, s.RevokedAt = created.Time, expires.Time, revoked.Time
	s.Reason, s.ClientAddr = string(reason), string(addr)
	return s, nil
}

// RevokeSession keeps the first revocation's time and reason.
func (t *tx) RevokeSession(ctx context.Context, id string, at time.Time, reason string) error {
	n, err := t.q.Exec(ctx, `UPDATE sessions SET revoked_at = $2, revoke_reason = $3 WHERE id = $1 AND revoked_at IS NULL`,
		id, at.UTC(), reason)
	if err != nil || n > 0 {
		return err
	}
	var one int
	err = t.q.QueryRow(ctx, `SELECT 1 FROM sessions WHERE id = $1`, id).Scan(&one)
	return notFound(err, "session")
}

func (t *tx) RevokeUserSessions(ctx context.Context, userID int64, at time.Time, reason string) error {
	_, err := t.q.Exec(ctx, `UPDATE sessions SET revoked_at = $2, revoke_reason = $3 WHERE user_id = $1 AND revoked_at IS NULL`,
		userID, at.UTC(), reason)
	return err
}

func (t *tx) SaveRefreshToken(ctx context.Context, r practice.RefreshToken) error {
	n, err := t.q.Exec(ctx, `INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at, used_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT DO NOTHING`,
		r.Hash, r.SessionID, r.CreatedAt.UTC(), r.ExpiresAt.UTC(), timeArg(r.UsedAt))
	if err != nil {
		return fmt.Errorf("store: save refresh token: %w", constraintError(err))
	}
	if n == 0 {
		return fmt.Errorf("store: save refresh token: hash taken: %w", practice.ErrConflict)
	}
	return nil
}

// UseRefreshToken marks the token used in one conditional update, so
// that of two concurrent uses exactly one finds it unused: on SQLite
// writers are serialized, and on PostgreSQL the second update waits for
// the first's row lock and then sees used_at set. Whoever's update
// matched nothing reads the token as the other left it.
func (t *tx) UseRefreshToken(ctx context.Context, hash string, at time.Time) (practice.RefreshToken, error) {
	r := practice.RefreshToken{Hash: hash}
	var created, expires, used nullTime
	err := t.q.QueryRow(ctx, `UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL
		RETURNING session_id, created_at, expires_at`, hash, at.UTC()).Scan(&r.SessionID, &created, &expires)
	if err == nil {
		r.CreatedAt, r.ExpiresAt = created.Time, expires.Time
		return r, nil
	}
	if !errors.Is(err, ErrNoRows) {
		return r, err
	}
	err = t.q.QueryRow(ctx, `SELECT session_id, created_at, expires_at, used_at FROM refresh_tokens WHERE token_hash = $1`,
		hash).Scan(&r.SessionID, &created, &expires, &used)
	if err != nil {
		return r, notFound(err, "refresh token")
	}
	r.CreatedAt, r.ExpiresAt, r.UsedAt = created.Time, expires.Time, used.Time
	return r, nil
}

func (t *tx) SigningKeys(ctx context.Context) ([]practice.SigningKey, error) {
	rows, err := t.q.Query(ctx, `SELECT kid, alg, private_key, created_at, retired_at FROM signing_keys
		ORDER BY created_at DESC, kid DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []practice.SigningKey
	for rows.Next() {
		var k practice.SigningKey
		var created, retired nullTime
		if err := rows.Scan(&k.KID, &k.Alg, &k.Private, &created, &retired); err != nil {
			return nil, err
		}
		k.CreatedAt, k.RetiredAt = created.Time, retired.Time
		out = append(out, k)
	}
	return out, rows.Err()
}

func (t *tx) SaveSigningKey(ctx context.Context, k practice.SigningKey) error {
	n, err := t.q.Exec(ctx, `INSERT INTO signing_keys (kid, alg, private_key, created_at, retired_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT DO NOTHING`,
		k.KID, k.Alg, k.Private, k.CreatedAt.UTC(), timeArg(k.RetiredAt))
	if err != nil {
		return fmt.Errorf("store: save signing key: %w", constraintError(err))
	}
	if n == 0 {
		return fmt.Errorf("store: save signing key %s: kid taken: %w", k.KID, practice.ErrConflict)
	}
	return nil
}

// RetireSigningKey keeps the first retirement: retiring a retired key
// again does not extend how long it verifies.
func (t *tx) RetireSigningKey(ctx context.Context, kid string, at time.Time) error {
	n, err := t.q.Exec(ctx, `UPDATE signing_keys SET retired_at = COALESCE(retired_at, $2) WHERE kid = $1`, kid, at.UTC())
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("signing key %s: %w", kid, practice.ErrNotFound)
	}
	return nil
}

// constraintError makes a unique or foreign-key violation (the row is
// still named by, or names a missing, other row) practice.ErrConflict.
// Any other error is returned as it is.
func constraintError(err error) error {
	if errors.Is(err, ErrUnique) || errors.Is(err, ErrReferenced) {
		return fmt.Errorf("%w: %w", practice.ErrConflict, err)
	}
	return err
}
