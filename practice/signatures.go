package practice

// TEMPORARY: the signatures of the service, for the layers built beside
// it; each moves to its own file with its body.

import (
	"context"
	"errors"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
)

var errNotYet = errors.New("practice: not built yet")

// NewUser is a user to create.
type NewUser struct {
	Email, Name  string
	Role         Role
	Password     string
	PatientID    int64
	CarepatronID string
}

// UserUpdate changes a user; nil fields stay.
type UserUpdate struct {
	Email, Name, Password, CarepatronID *string
	Role                                *Role
	Disabled                            *bool
}

// UserList selects users.
type UserList struct {
	Role   Role
	Text   string
	Cursor string
	Limit  int
}

func (s *Service) Users(ctx context.Context, a Actor, q UserList) (List[User], error) {
	return List[User]{}, errNotYet
}
func (s *Service) User(ctx context.Context, a Actor, id int64) (User, error) {
	return User{}, errNotYet
}
func (s *Service) CreateUser(ctx context.Context, a Actor, u NewUser) (User, error) {
	return User{}, errNotYet
}
func (s *Service) UpdateUser(ctx context.Context, a Actor, id int64, u UserUpdate) (User, error) {
	return User{}, errNotYet
}
func (s *Service) DeleteUser(ctx context.Context, a Actor, id int64) error { return errNotYet }

// NewPatient is a patient to create.
type NewPatient struct {
	Name, Email                                        string
	ContactDetails, MedicalHistory, DietaryPreferences string
	Identifiers                                        []connector.Identifier
	// ConfirmDistinctFrom confirms that the patient is another person
	// than the existing patient of that id, whose email it shares.
	ConfirmDistinctFrom int64
}

// PatientUpdate changes a patient; nil fields stay.
type PatientUpdate struct {
	Name, Email, ContactDetails, MedicalHistory, DietaryPreferences *string
}

// PatientList selects patients.
type PatientList struct {
	Text            string
	Sort            PatientSort
	Desc            bool
	IncludeArchived bool
	Cursor          string
	Limit           int
}

func (s *Service) Patients(ctx context.Context, a Actor, q PatientList) (List[Patient], error) {
	return List[Patient]{}, errNotYet
}
func (s *Service) Patient(ctx context.Context, a Actor, id int64) (Patient, error) {
	return Patient{}, errNotYet
}

// CreatePatient creates a patient, matches it at the provider and starts
// its first sync, whose run id it returns (empty for an unlinked patient).
func (s *Service) CreatePatient(ctx context.Context, a Actor, p NewPatient) (Patient, string, error) {
	return Patient{}, "", errNotYet
}
func (s *Service) UpdatePatient(ctx context.Context, a Actor, id int64, u PatientUpdate) (Patient, error) {
	return Patient{}, errNotYet
}
func (s *Service) ArchivePatient(ctx context.Context, a Actor, id int64) error { return errNotYet }

// LinkPatient links an unlinked patient to the provider's record with
// that identifier and starts its first sync.
func (s *Service) LinkPatient(ctx context.Context, a Actor, id int64, ident connector.Identifier) (Patient, string, error) {
	return Patient{}, "", errNotYet
}

// RetryWriteBack writes the patient's last edit again, over the
// provider's current version.
func (s *Service) RetryWriteBack(ctx context.Context, a Actor, id int64) (Patient, error) {
	return Patient{}, errNotYet
}

// DocumentList selects a patient's documents.
type DocumentList struct {
	Type     connector.DocumentType
	From, To time.Time
	Text     string
	Source   string
	Author   string
	Sort     DocumentSort
	Asc      bool
	Cursor   string
	Limit    int
}

// DocumentPage is a page of documents with the counts per type of every
// document the filters select.
type DocumentPage struct {
	List[Document]
	Counts map[connector.DocumentType]int
}

// Content is a document's content with what a download needs.
type Content struct {
	Document
	// FileName is safe to put in Content-Disposition.
	FileName string
	Data     []byte
}

// Upload is a document a user uploads.
type Upload struct {
	FileName string
	Type     connector.DocumentType
	Title    string
	Date     time.Time
	Data     []byte
}

// DocumentUpdate changes an uploaded document; nil fields stay.
type DocumentUpdate struct {
	Title *string
	Type  *connector.DocumentType
	Date  *time.Time
}

func (s *Service) Documents(ctx context.Context, a Actor, patientID int64, q DocumentList) (DocumentPage, error) {
	return DocumentPage{}, errNotYet
}
func (s *Service) Document(ctx context.Context, a Actor, id int64) (Document, error) {
	return Document{}, errNotYet
}
func (s *Service) Content(ctx context.Context, a Actor, id int64) (Content, error) {
	return Content{}, errNotYet
}
func (s *Service) Upload(ctx context.Context, a Actor, patientID int64, u Upload) (Document, error) {
	return Document{}, errNotYet
}
func (s *Service) UpdateDocument(ctx context.Context, a Actor, id int64, u DocumentUpdate) (Document, error) {
	return Document{}, errNotYet
}
func (s *Service) DeleteDocument(ctx context.Context, a Actor, id int64) error { return errNotYet }

// LogList selects sync-log entries.
type LogList struct {
	PatientID int64
	Action    connector.Action
	Status    connector.Status
	From, To  time.Time
	Text      string
	Cursor    string
	Limit     int
}

func (s *Service) Logs(ctx context.Context, a Actor, q LogList) (List[connector.LogEntry], error) {
	return List[connector.LogEntry]{}, errNotYet
}
func (s *Service) Log(ctx context.Context, a Actor, id int64) (connector.LogEntry, error) {
	return connector.LogEntry{}, errNotYet
}

// StartSync starts a sync of the patient and returns its run id.
func (s *Service) StartSync(ctx context.Context, a Actor, patientID int64) (string, error) {
	return "", errNotYet
}

// Run returns a sync run's progress.
func (s *Service) Run(ctx context.Context, a Actor, run string) (connector.Progress, error) {
	return connector.Progress{}, errNotYet
}

// WatchRun streams a run's progress until it finishes or ctx ends; the
// channel closes then. The first snapshot is the run's current state.
func (s *Service) WatchRun(ctx context.Context, a Actor, run string) (<-chan connector.Progress, error) {
	return nil, errNotYet
}

// RequestInput asks the provider for documents.
type RequestInput struct {
	What     string
	Types    []connector.DocumentType
	From, To time.Time
	Reason   string
	// Key makes the request idempotent; empty derives none.
	Key string
}

func (s *Service) RequestDocuments(ctx context.Context, a Actor, patientID int64, in RequestInput) (DocumentRequest, error) {
	return DocumentRequest{}, errNotYet
}
func (s *Service) DocumentRequests(ctx context.Context, a Actor, patientID int64) ([]DocumentRequest, error) {
	return nil, errNotYet
}

// ShareInput shares a document with a practitioner, named by id or email.
type ShareInput struct {
	With      int64
	WithEmail string
	ExpiresAt time.Time
	Note      string
}

// SharedDocument is a share with the document it gives.
type SharedDocument struct {
	Share
	Document Document
}

// ShareList selects shares: given, received or both ("").
type ShareList struct {
	Direction string
}

func (s *Service) ShareDocument(ctx context.Context, a Actor, documentID int64, in ShareInput) (Share, error) {
	return Share{}, errNotYet
}
func (s *Service) SharedDocuments(ctx context.Context, a Actor, patientID int64) ([]SharedDocument, error) {
	return nil, errNotYet
}
func (s *Service) Shares(ctx context.Context, a Actor, q ShareList) ([]Share, error) {
	return nil, errNotYet
}
func (s *Service) RevokeShare(ctx context.Context, a Actor, id int64) error { return errNotYet }

// AuditList selects audit entries.
type AuditList struct {
	ActorID    int64
	PatientID  int64
	DocumentID int64
	Action     Action
	Outcome    Outcome
	From, To   time.Time
	Cursor     string
	Limit      int
}

func (s *Service) Audit(ctx context.Context, a Actor, q AuditList) (List[AuditEntry], error) {
	return List[AuditEntry]{}, errNotYet
}

// audit appends e to the audit log. TEMPORARY: synchronous; the batched
// writer replaces it.
func (s *Service) audit(ctx context.Context, e AuditEntry) {
	if e.At.IsZero() {
		e.At = s.cfg.Now().UTC()
	}
	if err := s.cfg.Store.Write(ctx, func(tx Tx) error { return tx.AppendAudit(ctx, e) }); err != nil {
		s.log.ErrorContext(ctx, "audit append failed", "action", e.Action, "err", err)
	}
}
