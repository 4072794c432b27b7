package fhir

import (
	"strings"

	"github.com/healthcare-records/healthcare-records/connector"
)

// urlForms returns the forms a server may have stored a URL on the
// provider in, for a search parameter that matches it literally
// (location): absolute, and relative to the base when it is under it.
func (s *Source) urlForms(u string) []string {
	abs := s.normalizeURL(u)
	forms := []string{abs}
	if rel, ok := strings.CutPrefix(abs, s.c.BaseURL()+"/"); ok && rel != "" {
		forms = append(forms, rel)
	}
	return forms
}

// patientParam is the value of a patient reference search parameter. It is
// always typed ("Patient/123"): FHIR lets a server match a bare id, but a
// server that indexes references by their literal value matches only the
// typed form, and answers a bare id with an empty Bundle, not an error.
func patientParam(id string) string { return connector.PatientType + "/" + id }

// normalizeURL resolves a URL against the base so that relative and
// absolute forms of one URL compare equal.
func (s *Source) normalizeURL(u string) string {
	if abs, err := s.c.Resolve(u); err == nil {
		return abs
	}
	return u
}

// escapeSearchValue escapes the characters FHIR search gives a meaning
// inside a parameter value.
func escapeSearchValue(v string) string {
	return strings.NewReplacer(`\`, `\\`, `,`, `\,`, `$`, `\$`, `|`, `\|`).Replace(v)
}
