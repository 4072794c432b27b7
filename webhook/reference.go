package webhook

import (
	"encoding/json"
	"strings"
)

// resourceRef is a FHIR resource named by a literal reference.
type resourceRef struct {
	Type, ID, Version string
}

func (r resourceRef) key() string { return r.Type + "/" + r.ID }

// parseReference reads a literal FHIR reference, relative ("Encounter/1")
// or absolute ("https://host/fhir/Encounter/1"), with an optional
// "/_history/<version>". It reports false for anything else, such as a
// "urn:uuid:" reference or a bare id.
func parseReference(s string) (resourceRef, bool) {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(strings.TrimRight(s, "/"), "/")
	var ref resourceRef
	if n := len(parts); n >= 4 && parts[n-2] == "_history" {
		ref.Version = parts[n-1]
		parts = parts[:n-2]
	}
	n := len(parts)
	if n < 2 || !isResourceType(parts[n-2]) || !isID(parts[n-1]) {
		return resourceRef{}, false
	}
	ref.Type, ref.ID = parts[n-2], parts[n-1]
	if ref.Version != "" && !isID(ref.Version) {
		return resourceRef{}, false
	}
	return ref, true
}

// isResourceType accepts what a FHIR resource type name looks like: a
// capital letter, then letters.
func isResourceType(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

// isID accepts a FHIR id: 1 to 64 of [A-Za-z0-9-.].
func isID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// patientID returns the patient id a reference names: "Patient/123" and
// absolute forms give "123", a bare id is taken as is, a reference to
// another type gives "".
func patientID(s string) string {
	if s == "" {
		return ""
	}
	if !strings.Contains(s, "/") {
		if isID(s) {
			return s
		}
		return ""
	}
	ref, ok := parseReference(s)
	if !ok || ref.Type != "Patient" {
		return ""
	}
	return ref.ID
}

// fhirResource holds the few fields of any FHIR resource a Change needs.
type fhirResource struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Meta         struct {
		VersionID   string `json:"versionId"`
		LastUpdated string `json:"lastUpdated"`
	} `json:"meta"`
	Subject *fhirReference `json:"subject"`
	Patient *fhirReference `json:"patient"`
}

type fhirReference struct {
	Reference string `json:"reference"`
}

// patient returns the id of the patient the resource belongs to, from its
// subject or patient element; "" for a Patient itself or when unknown.
func (r *fhirResource) patient() string {
	if r.ResourceType == "Patient" {
		return ""
	}
	for _, ref := range []*fhirReference{r.Subject, r.Patient} {
		if ref != nil {
			if id := patientID(ref.Reference); id != "" {
				return id
			}
		}
	}
	return ""
}

// decodeResource reads a resource leniently: unknown elements are skipped,
// and a subject or patient that is not a Reference is ignored rather than
// refused.
func decodeResource(raw json.RawMessage) (fhirResource, error) {
	var r fhirResource
	if err := json.Unmarshal(raw, &r); err != nil {
		// Retry without the optional references, which some resources
		// define with another type (Group.member, for example).
		var bare struct {
			ResourceType string `json:"resourceType"`
			ID           string `json:"id"`
			Meta         struct {
				VersionID   string `json:"versionId"`
				LastUpdated string `json:"lastUpdated"`
			} `json:"meta"`
		}
		if err2 := json.Unmarshal(raw, &bare); err2 != nil {
			return fhirResource{}, err
		}
		r = fhirResource{ResourceType: bare.ResourceType, ID: bare.ID}
		r.Meta.VersionID, r.Meta.LastUpdated = bare.Meta.VersionID, bare.Meta.LastUpdated
	}
	return r, nil
}
