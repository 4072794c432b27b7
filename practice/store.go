package practice

import (
	"context"
	"io"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
)

// Store is what the practice service persists, in the same database as
// the sync engine's state, so that a change and the jobs it causes commit
// together. The packages under store/ implement it.
type Store interface {
	// Write runs fn in one read-write transaction and commits it if fn
	// returns nil. Ops enqueued through the Tx's connector.Tx methods
	// commit with it.
	Write(ctx context.Context, fn func(Tx) error) error
	// Read runs fn in a read-only transaction that never waits for a
	// writer. Methods that write return an error in it.
	Read(ctx context.Context, fn func(Tx) error) error
}

// Tx is one transaction of the practice's store. Methods return an error
// wrapping ErrNotFound for a missing row and ErrConflict for a unique
// value already taken.
type Tx interface {
	connector.Tx
	NotificationTx
	InquiryTx

	// CreateUser inserts u and returns its id. An email taken by another
	// user, whatever its case, is ErrConflict.
	CreateUser(ctx context.Context, u User) (int64, error)
	User(ctx context.Context, id int64) (User, error)
	// UserByEmail finds a user by email, whatever its case.
	UserByEmail(ctx context.Context, email string) (User, error)
	// Users lists users in ascending id order.
	Users(ctx context.Context, q UserQuery) ([]User, error)
	// UpdateUser saves every field of u but ID and CreatedAt.
	UpdateUser(ctx context.Context, u User) error
	// DeleteUser deletes the user, their sessions and refresh tokens.
	DeleteUser(ctx context.Context, id int64) error

	CreateSession(ctx context.Context, s Session) error
	Session(ctx context.Context, id string) (Session, error)
	// RevokeSession marks the session revoked with a reason, if it is not
	// already.
	RevokeSession(ctx context.Context, id string, at time.Time, reason string) error
	// RevokeUserSessions revokes every live session of a user.
	RevokeUserSessions(ctx context.Context, userID int64, at time.Time, reason string) error
	SaveRefreshToken(ctx context.Context, r RefreshToken) error
	// UseRefreshToken marks the token used at `at` and returns it as it
	// was before: a non-zero UsedAt in the result means it had been used
	// already (a reuse).
	UseRefreshToken(ctx context.Context, hash string, at time.Time) (RefreshToken, error)

	// SigningKeys lists every key, newest first.
	SigningKeys(ctx context.Context) ([]SigningKey, error)
	SaveSigningKey(ctx context.Context, k SigningKey) error
	// RetireSigningKey sets the key's RetiredAt.
	RetireSigningKey(ctx context.Context, kid string, at time.Time) error

	// PracticePatient returns the patient with its practice fields.
	PracticePatient(ctx context.Context, id int64) (Patient, error)
	// PatientOwner returns the id of the patient's dietician (0 when it
	// has none): what the policy needs of a patient, read without the
	// rest of it, and, since an owner does not change, possibly from a
	// cache.
	PatientOwner(ctx context.Context, id int64) (int64, error)
	// Patients lists the patients q selects.
	Patients(ctx context.Context, q PatientQuery) ([]Patient, error)
	// DuplicatePatients returns the patients that are not archived and
	// have the email (whatever its case) or one of the identifiers.
	DuplicatePatients(ctx context.Context, email string, ids []connector.Identifier) ([]Patient, error)
	// CreatePatient inserts a patient with its practice fields (its Ref is
	// the provider's, or LocalSource's for an unlinked one) and returns
	// its id. A Ref already known is ErrConflict.
	CreatePatient(ctx context.Context, p Patient) (int64, error)
	// SetPatientPractice saves the practice fields of the patient (owner,
	// link, archived and edited times), neither the synced ones nor the
	// write-back, which the engine keeps. A patient's owner, once set,
	// does not change: another owner is ErrConflict.
	SetPatientPractice(ctx context.Context, p Patient) error
	// RelinkPatient moves an unlinked patient to the provider's ref.
	RelinkPatient(ctx context.Context, id int64, ref connector.Ref) error

	// PracticeDocument returns a document's metadata.
	PracticeDocument(ctx context.Context, id int64) (Document, error)
	// Documents lists the documents q selects that are not deleted.
	Documents(ctx context.Context, q DocumentQuery) ([]Document, error)
	// DocumentsCounted lists the documents q selects that are not deleted,
	// as Documents does, and counts per type all that q selects ignoring
	// its Type, paging and sorting: a page and its facets. A search reads
	// each document's text once for both.
	DocumentsCounted(ctx context.Context, q DocumentQuery) ([]Document, map[connector.DocumentType]int, error)
	// DocumentContent returns a reader of a document's content. It stays
	// readable once the transaction ends, for as long as ctx: content
	// kept in parts is read a part at a time as the reader goes, each in
	// a read of its own, so a large document is never held whole.
	DocumentContent(ctx context.Context, id int64) (io.ReadSeeker, error)
	// SetDocumentUploader records who uploaded the document.
	SetDocumentUploader(ctx context.Context, id, userID int64) error
	// DocumentVersions lists a document's versions, oldest first: those
	// its current version replaced, then the current one (Current set).
	// Their Text is empty.
	DocumentVersions(ctx context.Context, documentID int64) ([]DocumentVersion, error)
	// DocumentVersionContent returns a reader of one version's content,
	// as DocumentContent does, and the version with its extracted Text.
	DocumentVersionContent(ctx context.Context, documentID int64, number int) (io.ReadSeeker, DocumentVersion, error)

	// Observations lists the observations q selects that belong in a
	// series: not deleted, not entered in error, cancelled or only
	// registered (connector.ObservationStatus.InSeries). Oldest first,
	// ties by ascending id.
	Observations(ctx context.Context, q ObservationQuery) ([]connector.StoredObservation, error)
	// ObservationHistory lists the revisions an observation had before
	// its current one (an amended value's first), oldest first.
	ObservationHistory(ctx context.Context, id int64) ([]connector.Observation, error)

	// Logs lists sync-log entries, newest first.
	Logs(ctx context.Context, q LogQuery) ([]connector.LogEntry, error)
	// CountLogs counts, by status, the entries q selects (its Latest,
	// BeforeID and Limit aside) in each span of time between two
	// consecutive bounds, which ascend: counts[i] is of bounds[i] <=
	// timestamp < bounds[i+1].
	CountLogs(ctx context.Context, q LogQuery, bounds []time.Time) (counts []map[connector.Status]int, err error)
	Log(ctx context.Context, id int64) (connector.LogEntry, error)
	// Run returns a sync run's progress.
	Run(ctx context.Context, id string) (connector.Progress, error)

	CreateShare(ctx context.Context, s Share) (int64, error)
	Share(ctx context.Context, id int64) (Share, error)
	// Shares lists shares, newest first.
	Shares(ctx context.Context, q ShareQuery) ([]Share, error)
	// RevokeShare sets RevokedAt and RevokedBy if the share is not revoked.
	RevokeShare(ctx context.Context, id, by int64, at time.Time) error

	CreateDocumentRequest(ctx context.Context, r DocumentRequest) (int64, error)
	DocumentRequest(ctx context.Context, id int64) (DocumentRequest, error)
	// DocumentRequests lists the patient's requests, newest first.
	DocumentRequests(ctx context.Context, patientID int64) ([]DocumentRequest, error)

	// AppendAudit appends entries to the audit log, which nothing updates
	// or deletes.
	AppendAudit(ctx context.Context, entries ...AuditEntry) error
	// Audit lists audit entries, newest first.
	Audit(ctx context.Context, q AuditQuery) ([]AuditEntry, error)
}

// Page bounds a listing: at most Limit rows, skipping Offset.
type Page struct {
	Limit, Offset int
}

// UserQuery selects users. A zero field does not filter.
type UserQuery struct {
	Role Role
	// Text matches name or email, case-insensitively, as a substring.
	Text string
	// AfterID lists users with a greater id.
	AfterID int64
	Limit   int
}

// PatientSort orders a patient listing.
type PatientSort string

// The patient orders; each breaks ties by ascending id.
const (
	SortName    PatientSort = "name"
	SortCreated PatientSort = "created"
	SortUpdated PatientSort = "updated"
)

// PatientQuery selects patients. A zero field does not filter.
type PatientQuery struct {
	// OwnerID keeps a dietician's own patients.
	OwnerID int64
	// SharedWith keeps patients with a live share to this user at Now.
	SharedWith int64
	// ID keeps one patient (a patient user's own record).
	ID int64
	// Text matches name or email, case-insensitively, as a substring.
	Text            string
	IncludeArchived bool
	Sort            PatientSort
	Desc            bool
	Now             time.Time
	Page
}

// DocumentSort orders a document listing.
type DocumentSort string

// The document orders; each breaks ties by descending id.
const (
	SortDate  DocumentSort = "date"
	SortTitle DocumentSort = "title"
	SortType  DocumentSort = "type"
)

// DocumentQuery selects a patient's documents. A zero field does not
// filter.
type DocumentQuery struct {
	PatientID int64
	// OwnerID keeps the documents of this dietician's patients.
	OwnerID int64
	Type    connector.DocumentType
	// From and To bound the document's Date: From <= Date < To.
	From, To time.Time
	// Text holds keywords matched like store.SearchQuery.Text.
	Text   string
	Source string
	// Author matches as a case-insensitive substring.
	Author string
	// IDs keeps only these documents (those shared with a practitioner);
	// nil does not filter, empty keeps none.
	IDs  []int64
	Sort DocumentSort
	// Asc reverses the default, descending, order.
	Asc bool
	Page
}

// ObservationQuery selects a patient's observations. A zero field does
// not filter.
type ObservationQuery struct {
	PatientID int64
	// Codes keeps observations of these codes; nil does not filter, empty
	// keeps none.
	Codes []string
	// From and To bound the effective time: From <= Effective < To.
	From, To time.Time
	// Latest keeps only the latest Latest observations of each code.
	Latest int
	Page
}

// LogQuery selects sync-log entries. A zero field does not filter.
type LogQuery struct {
	// PatientIDs keeps entries of these patients; nil does not filter,
	// empty keeps none.
	PatientIDs []int64
	// OwnerID keeps entries of a dietician's patients.
	OwnerID  int64
	Action   connector.Action
	Status   connector.Status
	From, To time.Time
	// Text matches details as a case-insensitive substring.
	Text string
	// BeforeID lists entries with a smaller id.
	BeforeID int64
	// Latest keeps, of the entries the other fields select, the newest of
	// each patient.
	Latest bool
	Limit  int
}

// ShareQuery selects shares. A zero field does not filter.
type ShareQuery struct {
	SharedBy   int64
	SharedWith int64
	PatientID  int64
	DocumentID int64
	// LiveAt keeps shares live at that time.
	LiveAt time.Time
	Limit  int
}

// AuditQuery selects audit entries. A zero field does not filter.
type AuditQuery struct {
	ActorID    int64
	PatientID  int64
	DocumentID int64
	Action     Action
	Outcome    Outcome
	From, To   time.Time
	BeforeID   int64
	Limit      int
}
