package connectortest

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/healthcare-records/healthcare-records/connector"
)

var (
	_ connector.DocumentRequester = (*Source)(nil)
	_ connector.RequestTracker    = (*Source)(nil)
)

// Request is a document request a Source took.
type Request struct {
	// Task is the ref RequestDocuments returned.
	Task connector.Ref
	connector.DocumentRequest
	Status connector.RequestStatus
	Detail string
}

// RequestDocuments implements connector.DocumentRequester: it records the
// request as requested under a new task ("task-1", ...) of type "Task",
// or returns the task of an earlier request with the same key. A request
// without a key, or for a patient the Source does not have, is refused
// with connector.ErrInvalid.
func (s *Source) RequestDocuments(ctx context.Context, r connector.DocumentRequest) (connector.Ref, error) {
	s.count(func(c *SourceCalls) { c.Request++ })
	if _, err := s.faults.begin(ctx, "request documents", r.Key); err != nil {
		return connector.Ref{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Key == "" {
		return connector.Ref{}, fmt.Errorf("request documents: %w: no key", connector.ErrInvalid)
	}
	if id, ok := s.taskOf[r.Key]; ok {
		return s.requests[id].Task, nil
	}
	if _, ok := s.patients[r.Patient.ID]; !ok {
		return connector.Ref{}, fmt.Errorf("request documents: %w: no patient %q", connector.ErrInvalid, r.Patient.ID)
	}
	id := fmt.Sprintf("task-%d", len(s.requests)+1)
	r.Types = slices.Clone(r.Types)
	s.requests[id] = &Request{Task: connector.Ref{System: s.cfg.Name, Type: "Task", ID: id}, DocumentRequest: r,
		Status: connector.RequestRequested}
	s.taskOf[r.Key] = id
	return s.requests[id].Task, nil
}

// RequestStatus implements connector.RequestTracker. A task the Source
// never issued is connector.ErrNotFound.
func (s *Source) RequestStatus(ctx context.Context, task connector.Ref) (connector.RequestStatus, string, error) {
	s.count(func(c *SourceCalls) { c.Status++ })
	if _, err := s.faults.begin(ctx, "request status", task.ID); err != nil {
		return "", "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.requests[task.ID]
	if !ok || task.Type != "Task" {
		return "", "", fmt.Errorf("request status of %q: %w", task.ID, connector.ErrNotFound)
	}
	return r.Status, r.Detail, nil
}

// CompleteRequest fulfils the request of a task: it adds docs to the
// request's patient (as AddDocument does, Patient set for them) and
// marks the request completed. It returns the documents as stored.
func (s *Source) CompleteRequest(task string, docs ...connector.Document) ([]connector.Document, error) {
	s.mu.Lock()
	r, ok := s.requests[task]
	var patient connector.Ref
	if ok {
		patient = r.Patient
	}
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("complete request %q: %w", task, connector.ErrNotFound)
	}
	var added []connector.Document
	for _, d := range docs {
		d.Patient = patient
		got, err := s.AddDocument(d)
		if err != nil {
			return added, fmt.Errorf("complete request %q: %w", task, err)
		}
		added = append(added, got)
	}
	return added, s.SetRequestStatus(task, connector.RequestCompleted, "")
}

// SetRequestStatus sets the status and detail of the request of a task,
// as the provider's staff would.
func (s *Source) SetRequestStatus(task string, status connector.RequestStatus, detail string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.requests[task]
	if !ok {
		return fmt.Errorf("set request status %q: %w", task, connector.ErrNotFound)
	}
	r.Status, r.Detail = status, detail
	return nil
}

// Requests returns the requests the Source took, ordered by task id.
func (s *Source) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, 0, len(s.requests))
	for _, r := range s.requests {
		c := *r
		c.Types = slices.Clone(r.Types)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Request) int { return cmp.Compare(a.Task.ID, b.Task.ID) })
	return out
}
