package fhir

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/provider"
)

var (
	_ connector.PatientWriter     = (*Source)(nil)
	_ connector.DocumentRequester = (*Source)(nil)
	_ connector.RequestTracker    = (*Source)(nil)
)

// typeCodes gives each document type the LOINC code a request names.
var typeCodes = map[connector.DocumentType]provider.Coding{
	connector.DocumentLabResult:          {System: provider.SystemLOINC, Code: "11502-2", Display: "Laboratory report"},
	connector.DocumentProgressNote:       {System: provider.SystemLOINC, Code: "11506-3", Display: "Progress note"},
	connector.DocumentPhysicalAssessment: {System: provider.SystemLOINC, Code: "34117-2", Display: "History and physical note"},
}

// RequestDocuments asks the provider for documents with a FHIR Task
// (status requested, intent order) for the patient, naming the document
// types and the period the documents should cover (r.From, r.To) as inputs
// and r.What as description and reason. The Task carries
// r.Key as its identifier and is created conditionally
// (If-None-Exist), so the same key creates one Task however often it is
// sent. Follow it with TaskStatus.
func (s *Source) RequestDocuments(ctx context.Context, r connector.DocumentRequest) (connector.Ref, error) {
	if r.Patient.ID == "" || r.Key == "" {
		return connector.Ref{}, fmt.Errorf("%w: document request needs a patient and a key", connector.ErrInvalid)
	}
	what := r.What
	if what == "" {
		what = "Please share the patient's documents."
	}
	task := provider.Task{
		Base:        provider.Base{ResourceType: "Task"},
		Identifier:  []provider.Identifier{{System: s.cfg.TaskIdentifierSystem, Value: r.Key}},
		Status:      "requested",
		Intent:      "order",
		Priority:    "routine",
		Code:        &provider.CodeableConcept{Text: "Request for documents"},
		Description: what,
		For:         &provider.Reference{Reference: connector.PatientType + "/" + r.Patient.ID},
		AuthoredOn:  provider.Instant(s.now().UTC().Format(time.RFC3339)),
		ReasonCode:  &provider.CodeableConcept{Text: what},
	}
	for _, t := range r.Types {
		cc := provider.CodeableConcept{Text: string(t)}
		if cd, ok := typeCodes[t]; ok {
			cc.Coding = []provider.Coding{cd}
		}
		task.Input = append(task.Input, provider.TaskParameter{
			Type:                 provider.CodeableConcept{Text: "document-type"},
			ValueCodeableConcept: &cc,
		})
	}
	if !r.From.IsZero() || !r.To.IsZero() {
		task.Input = append(task.Input, provider.TaskParameter{
			Type:        provider.CodeableConcept{Text: "document-period"},
			ValuePeriod: &provider.Period{Start: fhirDate(r.From), End: fhirDate(r.To)},
		})
	}
	body, err := json.Marshal(task)
	if err != nil {
		return connector.Ref{}, err
	}
	cond := "identifier=" + escapeSearchValue(s.cfg.TaskIdentifierSystem) + "|" + escapeSearchValue(r.Key)
	res, err := s.c.Create(ctx, "Task", body, cond)
	if err != nil {
		return connector.Ref{}, classify(fmt.Errorf("request documents: %w", err))
	}
	if res.ID == "" {
		return connector.Ref{}, fmt.Errorf("request documents: server returned no task id")
	}
	s.log.InfoContext(ctx, "documents requested", "patient", r.Patient.ID, "task", res.ID)
	return connector.Ref{System: r.Patient.System, Type: "Task", ID: res.ID}, nil
}

// TaskStatus returns the status of a Task RequestDocuments created
// (requested, accepted, in-progress, completed, rejected, ...), and its
// status reason when the provider gave one.
func (s *Source) TaskStatus(ctx context.Context, ref connector.Ref) (status, reason string, err error) {
	if ref.Type != "Task" || ref.ID == "" {
		return "", "", fmt.Errorf("%w: %s is not a task", connector.ErrInvalid, ref)
	}
	t, err := s.c.ReadTask(ctx, ref.ID)
	if err != nil {
		return "", "", fmt.Errorf("task status: %w", s.classifyRead(ctx, "Task", ref.ID, err))
	}
	if t.StatusReason != nil {
		reason = t.StatusReason.Display()
	}
	return strings.TrimSpace(t.Status), reason, nil
}

// RequestStatus implements connector.RequestTracker over TaskStatus: the
// Task's status read as a request's (draft, requested, received,
// accepted and ready are requested; in-progress and on-hold in progress;
// completed, rejected, cancelled and failed as they are; entered-in-error
// cancelled), with its status reason as the detail. A status FHIR does
// not define is taken as in progress, its code the detail unless the
// provider gave a reason. A Task the server confirms gone is
// connector.ErrNotFound.
func (s *Source) RequestStatus(ctx context.Context, task connector.Ref) (connector.RequestStatus, string, error) {
	status, reason, err := s.TaskStatus(ctx, task)
	if err != nil {
		return "", "", err
	}
	st, ok := taskStatuses[status]
	if !ok {
		st = connector.RequestInProgress
		if reason == "" {
			reason = "task status " + status
		}
	}
	return st, reason, nil
}

// taskStatuses maps FHIR R4 Task.status codes to request states.
var taskStatuses = map[string]connector.RequestStatus{
	"draft":            connector.RequestRequested,
	"requested":        connector.RequestRequested,
	"received":         connector.RequestRequested,
	"accepted":         connector.RequestRequested,
	"ready":            connector.RequestRequested,
	"in-progress":      connector.RequestInProgress,
	"on-hold":          connector.RequestInProgress,
	"completed":        connector.RequestCompleted,
	"rejected":         connector.RequestRejected,
	"cancelled":        connector.RequestCancelled,
	"entered-in-error": connector.RequestCancelled,
	"failed":           connector.RequestFailed,
}

// fhirDate renders t as a FHIR date, or nothing for the zero time.
func fhirDate(t time.Time) provider.Instant {
	if t.IsZero() {
		return ""
	}
	return provider.Instant(t.UTC().Format(time.DateOnly))
}
