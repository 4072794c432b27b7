package connectortest

import (
	"context"
	"fmt"

	"github.com/healthcare-records/healthcare-records/connector"
)

var _ connector.PatientWriter = (*Source)(nil)

// WritePatient implements connector.PatientWriter: it stores p's fields
// as the patient's next version and returns that version, if p.Version is
// the patient's current one; another version is connector.ErrConflict. An
// unknown patient is connector.ErrNotFound.
func (s *Source) WritePatient(ctx context.Context, p connector.Patient) (string, error) {
	s.count(func(c *SourceCalls) { c.Write++ })
	if _, err := s.faults.begin(ctx, "write patient", p.Ref.ID+"@"+p.Version); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.patients[p.Ref.ID]
	if !ok {
		return "", fmt.Errorf("write patient %q: %w", p.Ref.ID, connector.ErrNotFound)
	}
	if p.Version != old.Version {
		return "", fmt.Errorf("write patient %q: %w: the edit is based on version %s, the patient is at %s",
			p.Ref.ID, connector.ErrConflict, p.Version, old.Version)
	}
	next := clonePatient(p)
	next.Ref = s.PatientRef(p.Ref.ID)
	next.Version = s.bump(old.Version)
	next.UpdatedAt = s.cfg.Now()
	s.patients[p.Ref.ID] = &next
	return next.Version, nil
}

// Patient returns the patient with this id as stored.
func (s *Source) Patient(id string) (connector.Patient, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.patients[id]
	if !ok {
		return connector.Patient{}, false
	}
	return clonePatient(*p), true
}
