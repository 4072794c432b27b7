package store

import (
	"context"
	"fmt"

	"github.com/healthcare-records/healthcare-records/connector"
)

// The connector.Tx methods of the product layer's calls: the write-back
// state of a patient's edit (the patients.writeback_* columns) and the
// outcome of document requests (document_requests, whose rows the
// practice inserts).

func (t *tx) WriteBack(ctx context.Context, patientID int64) (connector.WriteBack, error) {
	var (
		status, base, detail nullString
		at                   nullTime
	)
	err := t.q.QueryRow(ctx, `SELECT writeback_status, writeback_base, writeback_detail, writeback_at FROM patients
		WHERE id = $1`, patientID).Scan(&status, &base, &detail, &at)
	if err != nil {
		return connector.WriteBack{}, notFound(err, fmt.Sprintf("patient %d", patientID))
	}
	return connector.WriteBack{Status: connector.WriteBackStatus(status), Base: string(base), Detail: string(detail), At: at.Time}, nil
}

func (t *tx) SaveWriteBack(ctx context.Context, patientID int64, w connector.WriteBack) error {
	at := w.At
	if at.IsZero() {
		at = t.now()
	}
	n, err := t.q.Exec(ctx, `UPDATE patients SET writeback_status = $2, writeback_base = $3, writeback_detail = $4,
			writeback_at = $5
		WHERE id = $1`, patientID, nullText(string(w.Status)), nullText(w.Base), nullText(w.Detail), at.UTC())
	if err == nil && n == 0 {
		err = fmt.Errorf("save write-back of patient %d: %w", patientID, connector.ErrNotFound)
	}
	return err
}

const storedRequestColumns = `r.id, r.idempotency_key, r.patient_id, p.source, p.source_id, r.what, r.status, r.task_ref, r.detail`

func scanStoredRequest(r Row) (connector.StoredRequest, error) {
	var (
		sr                                   connector.StoredRequest
		source, sourceID, what, task, detail nullString
		status                               string
	)
	if err := r.Scan(&sr.ID, &sr.Key, &sr.PatientID, &source, &sourceID, &what, &status, &task, &detail); err != nil {
		return sr, err
	}
	sr.Patient = connector.Ref{System: string(source), Type: connector.PatientType, ID: string(sourceID)}
	sr.What, sr.Status, sr.Detail = string(what), connector.RequestStatus(status), string(detail)
	if task != "" {
		ref, err := connector.ParseRef(string(task))
		if err != nil {
			return sr, fmt.Errorf("document request %d task: %w", sr.ID, err)
		}
		sr.Task = ref
	}
	return sr, nil
}

func (t *tx) Request(ctx context.Context, key string) (connector.StoredRequest, error) {
	r, err := scanStoredRequest(t.q.QueryRow(ctx, `SELECT `+storedRequestColumns+` FROM document_requests r
		JOIN patients p ON p.id = r.patient_id WHERE r.idempotency_key = $1`, key))
	return r, notFound(err, "document request "+key)
}

// OpenRequests names the open states as the partial index
// document_requests_open does, so that the databases use it.
func (t *tx) OpenRequests(ctx context.Context, after int64, limit int) ([]connector.StoredRequest, error) {
	rows, err := t.q.Query(ctx, `SELECT `+storedRequestColumns+` FROM document_requests r
			JOIN patients p ON p.id = r.patient_id
		WHERE r.status IN ('requested', 'in_progress') AND r.id > $1 ORDER BY r.id LIMIT $2`, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []connector.StoredRequest
	for rows.Next() {
		r, err := scanStoredRequest(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SaveRequestOutcome stores the task as Ref.String, which
// connector.ParseRef reads back; completed_at is set when the request
// completes.
func (t *tx) SaveRequestOutcome(ctx context.Context, key string, o connector.RequestOutcome) error {
	at := o.At
	if at.IsZero() {
		at = t.now()
	}
	var task any
	if !o.Task.IsZero() {
		task = o.Task.String()
	}
	var completed any
	if o.Status == connector.RequestCompleted {
		completed = at.UTC()
	}
	n, err := t.q.Exec(ctx, `UPDATE document_requests SET status = $2, task_ref = COALESCE($3, task_ref), detail = $4,
			updated_at = $5, completed_at = COALESCE($6, completed_at)
		WHERE idempotency_key = $1`, key, string(o.Status), task, nullText(o.Detail), at.UTC(), completed)
	if err == nil && n == 0 {
		err = fmt.Errorf("save outcome of document request %s: %w", key, connector.ErrNotFound)
	}
	return err
}
