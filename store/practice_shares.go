package store

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcare-records/healthcare-records/practice"
)

const shareColumns = `s.id, s.document_id, s.patient_id, s.shared_by, s.shared_with, s.note, s.created_at, s.expires_at,
	s.revoked_at, s.revoked_by`

func scanShare(r Row) (practice.Share, error) {
	var (
		s                           practice.Share
		note                        nullString
		created, expires, revokedAt nullTime
		revokedBy                   *int64
	)
	err := r.Scan(&s.ID, &s.DocumentID, &s.PatientID, &s.SharedBy, &s.SharedWith, &note, &created, &expires,
		&revokedAt, &revokedBy)
	if err != nil {
		return s, err
	}
	if revokedBy != nil {
		s.RevokedBy = *revokedBy
	}
	s.Note, s.CreatedAt, s.ExpiresAt, s.RevokedAt = string(note), created.Time, expires.Time, revokedAt.Time
	return s, nil
}

func (t *tx) CreateShare(ctx context.Context, s practice.Share) (int64, error) {
	if s.CreatedAt.IsZero() {
		s.CreatedAt = t.now()
	}
	var id int64
	err := t.q.QueryRow(ctx, `INSERT INTO document_shares (document_id, patient_id, shared_by, shared_with, note,
			created_at, expires_at, revoked_at, revoked_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		s.DocumentID, s.PatientID, s.SharedBy, s.SharedWith, nullText(s.Note), timeArg(s.CreatedAt),
		timeArg(s.ExpiresAt), timeArg(s.RevokedAt), nullID(s.RevokedBy)).Scan(&id)
	return id, conflict(err, fmt.Sprintf("share of document %d", s.DocumentID))
}

func (t *tx) Share(ctx context.Context, id int64) (practice.Share, error) {
	s, err := scanShare(t.q.QueryRow(ctx, `SELECT `+shareColumns+` FROM document_shares s WHERE s.id = $1`, id))
	return s, notFound(err, fmt.Sprintf("share %d", id))
}

func (t *tx) Shares(ctx context.Context, q practice.ShareQuery) ([]practice.Share, error) {
	var (
		args  params
		conds []string
	)
	conds = args.matchIDs(conds, idFilter{"s.shared_by", q.SharedBy}, idFilter{"s.shared_with", q.SharedWith},
		idFilter{"s.patient_id", q.PatientID}, idFilter{"s.document_id", q.DocumentID})
	if !q.LiveAt.IsZero() {
		conds = append(conds, liveShare("s", args.add(q.LiveAt.UTC())))
	}
	rows, err := t.q.Query(ctx, `SELECT `+shareColumns+` FROM document_shares s`+where(conds)+
		` ORDER BY s.id DESC LIMIT `+args.add(listLimit(q.Limit)), args...)
	out, err := scanAll(rows, err, scanShare)
	if err != nil {
		return nil, fmt.Errorf("store: list shares: %w", err)
	}
	return out, nil
}

func (t *tx) RevokeShare(ctx context.Context, id, by int64, at time.Time) error {
	n, err := t.q.Exec(ctx, `UPDATE document_shares SET revoked_at = $1, revoked_by = $2
		WHERE id = $3 AND revoked_at IS NULL`, at.UTC(), nullID(by), id)
	if err != nil || n == 1 {
		return err
	}
	// Revoked already, or no such share.
	_, err = t.Share(ctx, id)
	return err
}
