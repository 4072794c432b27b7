package practice

import (
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
)

// Role is what a user is in the practice: the seed's users.type.
type Role string

// The roles. A dietician owns patients; a practitioner sees only what is
// shared with them; a patient sees their own record.
const (
	RoleAdmin        Role = "admin"
	RoleDietician    Role = "dietician"
	RolePractitioner Role = "practitioner"
	RolePatient      Role = "patient"
)

// Roles lists every role, in the order they are documented.
var Roles = []Role{RoleAdmin, RoleDietician, RolePractitioner, RolePatient}

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleDietician, RolePractitioner, RolePatient:
		return true
	}
	return false
}

// User is a person who signs in: the seed's users table.
type User struct {
	ID    int64
	Email string
	Name  string
	Role  Role
	// CarepatronID is the user's id in Carepatron, where known.
	CarepatronID string
	// PatientID is, for a patient user, their own patient record.
	PatientID int64
	// PasswordHash is the argon2id hash in PHC form; empty for a user who
	// signs in only through single sign-on. Never leaves the service.
	PasswordHash string
	// DisabledAt is when an admin disabled the user; zero if enabled.
	DisabledAt time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Disabled reports whether the user may no longer sign in.
func (u User) Disabled() bool { return !u.DisabledAt.IsZero() }

// Actor is who makes a request, as the policy sees them. The zero Actor is
// anonymous.
type Actor struct {
	UserID int64
	Role   Role
	// PatientID is a patient user's own record.
	PatientID int64
	// SessionID is the sign-in the request's token belongs to.
	SessionID string
	// ClientAddr and RequestID are recorded in the audit log.
	ClientAddr string
	RequestID  string
}

// Anonymous reports whether no user is signed in.
func (a Actor) Anonymous() bool { return a.UserID == 0 }

// LinkStatus says whether a patient is tied to a record at the provider.
type LinkStatus string

// The link states of a patient.
const (
	// Linked: the patient is the provider's record and syncs.
	Linked LinkStatus = "linked"
	// Unlinked: no record matched at the provider; the patient is kept
	// here only until it is linked by an identifier.
	Unlinked LinkStatus = "unlinked"
)

// LocalSource is the source of patients created here that match no
// record at the provider, and of documents uploaded here.
const LocalSource = "practice"

// WriteBackStatus is where the write-back of a patient edit to the
// provider stands: pending, then written, conflict (the provider's record
// changed since it was read: retry writes the edit over the provider's
// current version) or failed.
type WriteBackStatus = connector.WriteBackStatus

// The write-back states.
const (
	WriteBackPending  = connector.WriteBackPending
	WriteBackWritten  = connector.WriteBackWritten
	WriteBackConflict = connector.WriteBackConflict
	WriteBackFailed   = connector.WriteBackFailed
)

// WriteBack is the outcome of the last edit's write-back.
type WriteBack = connector.WriteBack

// Patient is a patient as the practice sees it: the seed's patients row.
type Patient struct {
	ID int64
	connector.Patient
	// OwnerID is the dietician the patient belongs to (patients.user_id).
	OwnerID int64
	// CarepatronPatientID is the patient's id in Carepatron, from the
	// sink mapping; empty until delivered.
	CarepatronPatientID string
	Link                LinkStatus
	WriteBack           WriteBack
	ArchivedAt          time.Time
	CreatedAt           time.Time
	// EditedAt is when a user last changed the record here.
	EditedAt time.Time
}

// Archived reports whether the patient no longer syncs.
func (p Patient) Archived() bool { return !p.ArchivedAt.IsZero() }

// Document is a healthcare document's metadata, as lists and the document
// page show it: never its content.
type Document struct {
	ID        int64
	PatientID int64
	Ref       connector.Ref
	Type      connector.DocumentType
	Title     string
	Date      time.Time
	Author    string
	// Source is the provider's name, or for an upload the uploader's.
	Source      string
	ContentType string
	Size        int64
	ContentHash string
	Version     string
	UpdatedAt   time.Time
	// UploadedBy is the user who uploaded it; zero for the provider's.
	UploadedBy int64
	Deleted    bool
}

// Uploaded reports whether a user uploaded the document here.
func (d Document) Uploaded() bool { return d.UploadedBy != 0 }

// Session is one sign-in. Refresh tokens rotate within it.
type Session struct {
	ID         string
	UserID     int64
	CreatedAt  time.Time
	ExpiresAt  time.Time
	RevokedAt  time.Time
	Reason     string
	ClientAddr string
}

// RefreshToken is a refresh token as stored: by its hash only.
type RefreshToken struct {
	Hash      string
	SessionID string
	CreatedAt time.Time
	ExpiresAt time.Time
	// UsedAt is when it was rotated; a second use is a reuse.
	UsedAt time.Time
}

// SigningKey is a key that signs access tokens.
type SigningKey struct {
	KID string
	Alg string
	// Private is the PKCS #8 DER of the private key.
	Private   []byte
	CreatedAt time.Time
	// RetiredAt is when a newer key took over signing; zero while it signs.
	RetiredAt time.Time
}

// Share gives a practitioner one document of a patient until it expires
// or is revoked.
type Share struct {
	ID         int64
	DocumentID int64
	PatientID  int64
	SharedBy   int64
	SharedWith int64
	Note       string
	CreatedAt  time.Time
	// ExpiresAt is zero for a share without expiry.
	ExpiresAt time.Time
	RevokedAt time.Time
	RevokedBy int64
}

// Live reports whether the share grants access at now.
func (s Share) Live(now time.Time) bool {
	return s.RevokedAt.IsZero() && (s.ExpiresAt.IsZero() || now.Before(s.ExpiresAt))
}

// RequestStatus is where a document request stands.
type RequestStatus = connector.RequestStatus

// The states of a document request. Pending: not yet at the provider.
const (
	RequestPending    = connector.RequestPending
	RequestRequested  = connector.RequestRequested
	RequestInProgress = connector.RequestInProgress
	RequestCompleted  = connector.RequestCompleted
	RequestRejected   = connector.RequestRejected
	RequestCancelled  = connector.RequestCancelled
	RequestFailed     = connector.RequestFailed
)

// DocumentRequest asks the provider for more documents about a patient.
type DocumentRequest struct {
	ID          int64
	PatientID   int64
	RequestedBy int64
	Key         string
	What        string
	Types       []connector.DocumentType
	From, To    time.Time
	Reason      string
	Status      RequestStatus
	// Task is the request's ref at the provider, once made.
	Task        connector.Ref
	Detail      string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	CompletedAt time.Time
}

// Outcome is how an audited action ended.
type Outcome string

// The audited outcomes.
const (
	OutcomeSuccess Outcome = "success"
	OutcomeDenied  Outcome = "denied"
	OutcomeFailure Outcome = "failure"
)

// AuditEntry is one row of the audit log: who did what to which record,
// and how it ended. It never holds document content.
type AuditEntry struct {
	ID         int64
	At         time.Time
	ActorID    int64
	ActorRole  Role
	Action     Action
	Outcome    Outcome
	PatientID  int64
	DocumentID int64
	// Target names another record acted on ("user:5", "share:3").
	Target     string
	ClientAddr string
	RequestID  string
	Detail     string
}
