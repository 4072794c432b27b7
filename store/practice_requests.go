package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

const requestColumns = `id, patient_id, requested_by, idempotency_key, what, types, date_from, date_to, reason, status,
	task_ref, detail, created_at, updated_at, completed_at`

func scanRequest(r Row) (practice.DocumentRequest, error) {
	var (
		d                                     practice.DocumentRequest
		requestedBy                           *int64
		key, types, reason, status, task, det nullString
		from, to, created, updated, completed nullTime
	)
	err := r.Scan(&d.ID, &d.PatientID, &requestedBy, &key, &d.What, &types, &from, &to, &reason, &status, &task, &det,
		&created, &updated, &completed)
	if err != nil {
		return d, err
	}
	if requestedBy != nil {
		d.RequestedBy = *requestedBy
	}
	if types != "" {
		if err := json.Unmarshal([]byte(types), &d.Types); err != nil {
			return d, fmt.Errorf("document request %d types: %w", d.ID, err)
		}
	}
	if task != "" {
		ref, err := connector.ParseRef(string(task))
		if err != nil {
			return d, fmt.Errorf("document request %d task: %w", d.ID, err)
		}
		d.Task = ref
	}
	d.Key, d.From, d.To, d.Reason = string(key), from.Time, to.Time, string(reason)
	d.Status, d.Detail = practice.RequestStatus(status), string(det)
	d.CreatedAt, d.UpdatedAt, d.CompletedAt = created.Time, updated.Time, completed.Time
	return d, nil
}

// taskArg is a task's ref as SaveRequestOutcome stores it, or NULL
// before there is one.
func taskArg(ref connector.Ref) (any, error) {
	if ref.IsZero() {
		return nil, nil
	}
	return ref.String(), nil
}

func (t *tx) CreateDocumentRequest(ctx context.Context, r practice.DocumentRequest) (int64, error) {
	var types any
	if len(r.Types) > 0 {
		b, err := json.Marshal(r.Types)
		if err != nil {
			return 0, err
		}
		types = string(b)
	}
	task, err := taskArg(r.Task)
	if err != nil {
		return 0, err
	}
	if r.Status == "" {
		r.Status = practice.RequestPending
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = t.now()
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = r.CreatedAt
	}
	var id int64
	err = t.q.QueryRow(ctx, `INSERT INTO document_requests (patient_id, requested_by, idempotency_key, what, types,
			date_from, date_to, reason, status, task_ref, detail, created_at, updated_at, completed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
		r.PatientID, nullID(r.RequestedBy), nullText(r.Key), r.What, types, timeArg(r.From), timeArg(r.To),
		nullText(r.Reason), string(r.Status), task, nullText(r.Detail), timeArg(r.CreatedAt), timeArg(r.UpdatedAt),
		timeArg(r.CompletedAt)).Scan(&id)
	return id, conflict(err, "document request")
}

func (t *tx) DocumentRequest(ctx context.Context, id int64) (practice.DocumentRequest, error) {
	r, err := scanRequest(t.q.QueryRow(ctx, `SELECT `+requestColumns+` FROM document_requests WHERE id = $1`, id))
	return r, notFound(err, fmt.Sprintf("document request %d", id))
}

func (t *tx) DocumentRequests(ctx context.Context, patientID int64) ([]practice.DocumentRequest, error) {
	rows, err := t.q.Query(ctx, `SELECT `+requestColumns+` FROM document_requests WHERE patient_id = $1
		ORDER BY id DESC`, patientID)
	out, err := scanAll(rows, err, scanRequest)
	if err != nil {
		return nil, fmt.Errorf("store: list document requests: %w", err)
	}
	return out, nil
}
