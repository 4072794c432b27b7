package connectortest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
)

// ObservingSource is a Source that also gives its patients' observations
// (connector.ObservationSource); see Source.Observing. It shares the
// Source's records, faults and change order.
type ObservingSource struct{ *Source }

var _ connector.ObservationSource = ObservingSource{}

// Observing returns s as a connector.ObservationSource too. A Source on
// its own has the observations a test adds but gives none, so that
// engines and counts of tests that ignore observations stay as they
// were.
func (s *Source) Observing() ObservingSource { return ObservingSource{s} }

type sourceObs struct {
	obs connector.Observation
	seq uint64
}

// ObservationRef returns the ref the Source gives the observation with
// this id.
func (s *Source) ObservationRef(id string) connector.Ref {
	return connector.Ref{System: s.cfg.Name, Type: connector.ObservationType, ID: id}
}

// PutObservation creates the observation, or replaces the one with the
// same Ref.ID as its next version (an amendment, a correction, an
// entered-in-error status), and returns it as stored. The patient named
// by o.Patient.ID must exist. An empty Ref.ID is assigned one, an empty
// Status is final.
func (s *Source) PutObservation(o connector.Observation) (connector.Observation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.patients[o.Patient.ID]; !ok {
		return connector.Observation{}, fmt.Errorf("put observation: patient %q: %w", o.Patient.ID, connector.ErrNotFound)
	}
	if s.obs == nil {
		s.obs = map[string]*sourceObs{}
	}
	if o.Ref.ID == "" {
		for used := true; used; _, used = s.obs[o.Ref.ID] {
			s.lastObs++
			o.Ref.ID = fmt.Sprintf("obs-%d", s.lastObs)
		}
	}
	o.Version = s.bump("")
	if old, ok := s.obs[o.Ref.ID]; ok {
		o.Version = s.bump(old.obs.Version)
	}
	if o.Status == "" {
		o.Status = connector.ObservationFinal
	}
	return s.storeObs(o), nil
}

// RemoveObservation deletes the observation: it is listed as deleted with
// a new version, and fetching it answers connector.ErrNotFound.
func (s *Source) RemoveObservation(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.obs[id]
	if !ok || old.obs.Deleted {
		return fmt.Errorf("remove observation %q: %w", id, connector.ErrNotFound)
	}
	o := old.obs
	o.Version, o.Deleted = s.bump(o.Version), true
	s.storeObs(o)
	return nil
}

// storeObs saves o as the observation's latest change; s.mu is held.
func (s *Source) storeObs(o connector.Observation) connector.Observation {
	o.Ref = s.ObservationRef(o.Ref.ID)
	o.Patient = s.PatientRef(o.Patient.ID)
	o.Raw = slices.Clone(o.Raw)
	o.UpdatedAt = s.cfg.Now()
	s.seq++
	s.obs[o.Ref.ID] = &sourceObs{obs: o, seq: s.seq}
	return o
}

// FillObservations gives each patient of the Source monthly values of the
// codes from start, each value v(i) = base + i: a series a test can
// predict. It returns what it added.
func (s *Source) FillObservations(start time.Time, months int, unit string, codes ...string) ([]connector.Observation, error) {
	var out []connector.Observation
	for _, p := range s.Patients() {
		for ci, code := range codes {
			for m := range months {
				v := float64(100*(ci+1) + m)
				o, err := s.PutObservation(connector.Observation{
					Patient: p.Ref, Category: "laboratory", Code: connector.Coding{System: "http://loinc.org", Code: code},
					Effective: start.AddDate(0, m, 0), Value: &v, Unit: unit,
				})
				if err != nil {
					return out, err
				}
				out = append(out, o)
			}
		}
	}
	return out, nil
}

// Observations returns every observation, removed ones included (marked
// Deleted), ordered by ref id.
func (s *Source) Observations() []connector.Observation {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]connector.Observation, 0, len(s.obs))
	for _, o := range s.obs {
		out = append(out, o.obs)
	}
	slices.SortFunc(out, func(a, b connector.Observation) int { return cmp.Compare(a.Ref.ID, b.Ref.ID) })
	return out
}

// ListObservations implements connector.ObservationSource like
// ListDocuments: in change order, PageSize a page.
func (s ObservingSource) ListObservations(ctx context.Context, patient connector.Ref, cursor string) (connector.Page, error) {
	s.count(func(c *SourceCalls) { c.ListObservations++ })
	after, err := parseCursor(cursor)
	if err != nil {
		return connector.Page{}, err
	}
	if _, err := s.faults.begin(ctx, "list observations", patient.ID+"\x00"+cursor); err != nil {
		return connector.Page{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.patients[patient.ID]; !ok {
		return connector.Page{}, fmt.Errorf("list observations of patient %q: %w", patient.ID, connector.ErrNotFound)
	}
	var changed []*sourceObs
	for _, o := range s.obs {
		if o.obs.Patient.ID == patient.ID && o.seq > after && !(o.obs.Deleted && s.cfg.UnlistDeleted) {
			changed = append(changed, o)
		}
	}
	return changePage(s.Source, changed, func(o *sourceObs) uint64 { return o.seq }, func(o *sourceObs) connector.Item {
		return connector.Item{Ref: o.obs.Ref, Version: o.obs.Version, UpdatedAt: o.obs.UpdatedAt, Deleted: o.obs.Deleted}
	}), nil
}

// FetchObservation implements connector.ObservationSource.
func (s ObservingSource) FetchObservation(ctx context.Context, ref connector.Ref) (*connector.Observation, error) {
	s.count(func(c *SourceCalls) { c.FetchObservation++ })
	if _, err := s.faults.begin(ctx, "fetch observation", ref.ID); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.obs[ref.ID]
	if !ok || o.obs.Deleted || !strings.EqualFold(ref.Type, connector.ObservationType) {
		return nil, fmt.Errorf("fetch observation %q: %w", ref.ID, connector.ErrNotFound)
	}
	out := o.obs
	out.Raw = slices.Clone(out.Raw)
	return &out, nil
}
