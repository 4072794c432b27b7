package connector

import "time"

// Action is what a sync-log entry records, after the seed's
// synchronization_log.action.
type Action string

// The actions the library logs.
const (
	ActionWebhook         Action = "webhook"
	ActionPoll            Action = "poll"
	ActionManualSync      Action = "manual_sync"
	ActionAutomaticUpdate Action = "automatic_update"
	ActionDelivery        Action = "delivery"
	ActionWriteBack       Action = "write_back"
	// ActionRequest: a document request sent to a provider, and what
	// became of it.
	ActionRequest Action = "document_request"
)

// Status is the outcome of a logged action.
type Status string

// The outcomes of a logged action.
const (
	StatusSuccess Status = "success"
	StatusError   Status = "error"
	// StatusSkipped: nothing to do (unchanged content, stale version).
	StatusSkipped Status = "skipped"
	// StatusIgnored: an event the library does not act on was received.
	StatusIgnored Status = "ignored"
)

// LogEntry is one row of the synchronization log. Details never hold
// patient data: ids, versions, error messages.
type LogEntry struct {
	ID int64 `json:"id"`
	// PatientID and DocumentID are local (store) ids; zero when unknown.
	PatientID  int64     `json:"patient_id,omitempty"`
	DocumentID int64     `json:"document_id,omitempty"`
	Action     Action    `json:"action"`
	Status     Status    `json:"status"`
	Details    string    `json:"details,omitempty"`
	Timestamp  time.Time `json:"timestamp"`
}
