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

func (t *tx) PracticePatient(ctx context.Context, id int64) (practice.Patient, error) {
	return practice.Patient{}, errNotYet
}

func (t *tx) Patients(ctx context.Context, q practice.PatientQuery) ([]practice.Patient, error) {
	return nil, errNotYet
}

func (t *tx) DuplicatePatients(ctx context.Context, email string, ids []connector.Identifier) ([]practice.Patient, error) {
	return nil, errNotYet
}

func (t *tx) CreatePatient(ctx context.Context, p practice.Patient) (int64, error) {
	return 0, errNotYet
}

func (t *tx) SetPatientPractice(ctx context.Context, p practice.Patient) error { return errNotYet }

func (t *tx) RelinkPatient(ctx context.Context, id int64, ref connector.Ref) error { return errNotYet }

func (t *tx) PracticeDocument(ctx context.Context, id int64) (practice.Document, error) {
	return practice.Document{}, errNotYet
}

func (t *tx) Documents(ctx context.Context, q practice.DocumentQuery) ([]practice.Document, error) {
	return nil, errNotYet
}

func (t *tx) DocumentCounts(ctx context.Context, q practice.DocumentQuery) (map[connector.DocumentType]int, error) {
	return nil, errNotYet
}

func (t *tx) DocumentContent(ctx context.Context, id int64) ([]byte, error) { return nil, errNotYet }

func (t *tx) SetDocumentUploader(ctx context.Context, id, userID int64) error { return errNotYet }

func (t *tx) Logs(ctx context.Context, q practice.LogQuery) ([]connector.LogEntry, error) {
	return nil, errNotYet
}

func (t *tx) Log(ctx context.Context, id int64) (connector.LogEntry, error) {
	return connector.LogEntry{}, errNotYet
}

func (t *tx) Run(ctx context.Context, id string) (connector.Progress, error) {
	return connector.Progress{}, errNotYet
}

func (t *tx) CreateShare(ctx context.Context, s practice.Share) (int64, error) { return 0, errNotYet }

func (t *tx) Share(ctx context.Context, id int64) (practice.Share, error) {
	return practice.Share{}, errNotYet
}

func (t *tx) Shares(ctx context.Context, q practice.ShareQuery) ([]practice.Share, error) {
	return nil, errNotYet
}

func (t *tx) RevokeShare(ctx context.Context, id, by int64, at time.Time) error { return errNotYet }

func (t *tx) CreateDocumentRequest(ctx context.Context, r practice.DocumentRequest) (int64, error) {
	return 0, errNotYet
}

func (t *tx) DocumentRequest(ctx context.Context, id int64) (practice.DocumentRequest, error) {
	return practice.DocumentRequest{}, errNotYet
}

func (t *tx) DocumentRequests(ctx context.Context, patientID int64) ([]practice.DocumentRequest, error) {
	return nil, errNotYet
}

func (t *tx) OpenDocumentRequests(ctx context.Context, limit int) ([]practice.DocumentRequest, error) {
	return nil, errNotYet
}

func (t *tx) UpdateDocumentRequest(ctx context.Context, r practice.DocumentRequest) error {
	return errNotYet
}

func (t *tx) AppendAudit(ctx context.Context, entries ...practice.AuditEntry) error { return errNotYet }

func (t *tx) Audit(ctx context.Context, q practice.AuditQuery) ([]practice.AuditEntry, error) {
	return nil, errNotYet
}
