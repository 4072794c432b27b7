package fhir

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/provider"
)

// FindPatient reads the patient by id, or searches by identifier
// (Patient?identifier=system|value) or email (Patient?email=...). No
// match is ErrNotFound; more than one is ErrPermanent, as guessing
// between patients is never safe.
func (s *Source) FindPatient(ctx context.Context, q connector.PatientQuery) (*connector.Patient, error) {
	var params url.Values
	switch {
	case q.ID != "":
		p, err := s.c.ReadPatient(ctx, q.ID)
		if err != nil {
			return nil, fmt.Errorf("find patient by id: %w", s.classifyRead(ctx, connector.PatientType, q.ID, err))
		}
		return s.mapPatient(p, nil), nil
	case q.Identifier.Value != "":
		v := escapeSearchValue(q.Identifier.Value)
		if q.Identifier.System != "" {
			v = escapeSearchValue(q.Identifier.System) + "|" + v
		}
		params = url.Values{"identifier": {v}}
	case q.Email != "":
		params = url.Values{"email": {escapeSearchValue(q.Email)}}
	default:
		return nil, fmt.Errorf("%w: empty patient query", connector.ErrInvalid)
	}
	var found []*connector.Patient
	err := s.c.SearchAll(ctx, connector.PatientType, params, func(b *provider.Bundle) error {
		rs, _ := b.Matches()
		for _, r := range rs {
			if p, ok := r.(*provider.Patient); ok && !containsPatient(found, p.ID) {
				found = append(found, s.mapPatient(p, b))
			}
		}
		if len(found) > 1 {
			return provider.ErrStop
		}
		return nil
	})
	if err != nil {
		return nil, classify(fmt.Errorf("find patient: %w", err))
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("find patient: %w", connector.ErrNotFound)
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("find patient: %w: the query matches more than one patient", connector.ErrAmbiguous)
}

func containsPatient(ps []*connector.Patient, id string) bool {
	for _, p := range ps {
		if p.Ref.ID == id {
			return true
		}
	}
	return false
}

// mapPatient maps the fields the kernel's patient has; b is the search
// page p came in, nil for a read. MedicalHistory and DietaryPreferences
// have no home in a FHIR Patient and stay empty.
func (s *Source) mapPatient(p *provider.Patient, b *provider.Bundle) *connector.Patient {
	out := &connector.Patient{
		Ref:       connector.Ref{Type: connector.PatientType, ID: p.ID},
		Email:     p.Email(),
		Version:   p.Meta.VersionID,
		UpdatedAt: s.updatedAt(&p.Base, b),
	}
	if n, ok := p.PreferredName(); ok {
		out.Name = n.String()
	}
	var contact []string
	for _, t := range p.Telecom {
		if t.System != "email" && t.Value != "" {
			contact = append(contact, t.Value)
		}
	}
	for _, a := range p.Address {
		if s := a.String(); s != "" {
			contact = append(contact, s)
		}
	}
	out.ContactDetails = strings.Join(contact, "; ")
	for _, id := range p.Identifier {
		if id.Value != "" {
			out.Identifiers = append(out.Identifiers, connector.Identifier{System: id.System, Value: id.Value})
		}
	}
	return out
}

// WritePatient writes a patient edit back with PUT Patient/{id} and
// If-Match: W/"<p.Version>". It reads the current resource first and
// changes only the name, email and identifiers in it, so every element
// this library does not model survives; ContactDetails, MedicalHistory
// and DietaryPreferences are not written. A server-side version other
// than p.Version (seen on the read or answered 412) is ErrConflict.
func (s *Source) WritePatient(ctx context.Context, p connector.Patient) (string, error) {
	if p.Ref.ID == "" {
		return "", fmt.Errorf("%w: write patient: no id", connector.ErrInvalid)
	}
	cur, err := s.c.ReadPatient(ctx, p.Ref.ID)
	if err != nil {
		return "", classify(fmt.Errorf("write patient: %w", err))
	}
	if p.Version != "" && cur.Meta.VersionID != "" && cur.Meta.VersionID != p.Version {
		return "", fmt.Errorf("%w: write patient: provider has version %s, edit is based on %s",
			connector.ErrConflict, cur.Meta.VersionID, p.Version)
	}
	body, err := mergePatient(cur, p)
	if err != nil {
		return "", fmt.Errorf("%w: write patient: %w", connector.ErrPermanent, err)
	}
	res, err := s.c.Update(ctx, connector.PatientType, p.Ref.ID, body, p.Version)
	if err != nil {
		return "", classify(fmt.Errorf("write patient: %w", err))
	}
	s.log.InfoContext(ctx, "patient written back", "patient", p.Ref.ID, "version", res.Version)
	return res.Version, nil
}

// mergePatient returns cur's JSON with p's name, email and identifiers.
func mergePatient(cur *provider.Patient, p connector.Patient) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(cur.Raw()))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("current patient: %w", err)
	}
	if n, _ := cur.PreferredName(); p.Name != "" && n.String() != p.Name {
		idx := preferredNameIndex(cur)
		use := n.Use
		if use == "" {
			use = "official"
		}
		fields := strings.Fields(p.Name)
		name := map[string]any{"use": use, "text": p.Name}
		if len(fields) > 0 {
			name["family"] = fields[len(fields)-1]
		}
		if len(fields) > 1 {
			name["given"] = fields[:len(fields)-1]
		}
		names, _ := m["name"].([]any)
		if idx >= 0 && idx < len(names) {
			names[idx] = name
		} else {
			names = append([]any{name}, names...)
		}
		m["name"] = names
	}
	if p.Email != "" && cur.Email() != p.Email {
		telecom, _ := m["telecom"].([]any)
		replaced := false
		for _, t := range telecom {
			if tm, ok := t.(map[string]any); ok && tm["system"] == "email" {
				tm["value"] = p.Email
				replaced = true
				break
			}
		}
		if !replaced {
			telecom = append(telecom, map[string]any{"system": "email", "value": p.Email})
		}
		m["telecom"] = telecom
	}
	ids, _ := m["identifier"].([]any)
	for _, id := range p.Identifiers {
		have := false
		for _, c := range cur.Identifier {
			have = have || (c.System == id.System && c.Value == id.Value)
		}
		if !have && id.Value != "" {
			ids = append(ids, map[string]any{"system": id.System, "value": id.Value})
		}
	}
	if len(ids) > 0 {
		m["identifier"] = ids
	}
	return json.Marshal(m)
}

// preferredNameIndex returns the index in cur.Name of the name
// PreferredName picks, or -1.
func preferredNameIndex(cur *provider.Patient) int {
	n, ok := cur.PreferredName()
	if !ok {
		return -1
	}
	for i, m := range cur.Name {
		if m.Use == n.Use && m.String() == n.String() {
			return i
		}
	}
	return -1
}
