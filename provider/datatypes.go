package provider

import (
	"strings"
	"time"
)

// The FHIR R4 data types the typed subset uses. Each holds only the
// elements this library reads; everything else in the JSON (extensions,
// `_element` primitive extensions, elements of later FHIR versions) is
// ignored on decode and kept in the resource's raw JSON.

// Meta is a resource's metadata: the server's version and change time.
type Meta struct {
	VersionID   string   `json:"versionId,omitempty"`
	LastUpdated Instant  `json:"lastUpdated,omitempty"`
	Profile     []string `json:"profile,omitempty"`
}

// Instant is a FHIR instant or dateTime kept as sent. FHIR dateTimes may be
// partial ("2005", "2005-07", "2005-07-05"); Time parses any of the forms.
type Instant string

// Time parses the value. Partial dates are taken at midnight UTC of their
// first day; ok is false for an empty or malformed value.
func (v Instant) Time() (t time.Time, ok bool) {
	s := strings.TrimSpace(string(v))
	if s == "" {
		return time.Time{}, false
	}
	// RFC 3339 parsing accepts any number of fractional digits, which
	// FHIR instants use freely (the Backport examples carry seven).
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02", "2006-01", "2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// Coding is one code in a code system.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// CodeableConcept is a concept given as codes and text.
type CodeableConcept struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

// Has reports whether any coding of c is code in system.
func (c CodeableConcept) Has(system, code string) bool {
	for _, cd := range c.Coding {
		if cd.System == system && cd.Code == code {
			return true
		}
	}
	return false
}

// Display returns the concept's text, else its first coding's display,
// else its first code.
func (c CodeableConcept) Display() string {
	if c.Text != "" {
		return c.Text
	}
	for _, cd := range c.Coding {
		if cd.Display != "" {
			return cd.Display
		}
	}
	for _, cd := range c.Coding {
		if cd.Code != "" {
			return cd.Code
		}
	}
	return ""
}

// Reference points at another resource, by literal reference
// ("Patient/123", an absolute URL), by identifier, or only by display.
type Reference struct {
	Reference  string      `json:"reference,omitempty"`
	Type       string      `json:"type,omitempty"`
	Identifier *Identifier `json:"identifier,omitempty"`
	Display    string      `json:"display,omitempty"`
}

// TypeID splits a literal reference into resource type and id. It
// understands relative references ("Patient/123"), absolute ones
// ("https://host/fhir/Patient/123") and versioned ones
// ("Patient/123/_history/4"). ok is false for contained ("#x"), urn:uuid
// and any other form.
func (r Reference) TypeID() (typ, id string, ok bool) {
	s := r.Reference
	if s == "" || strings.HasPrefix(s, "#") || strings.HasPrefix(s, "urn:") {
		return "", "", false
	}
	if i := strings.Index(s, "/_history/"); i >= 0 {
		s = s[:i]
	}
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(strings.TrimSuffix(s, "/"), "/")
	if len(parts) < 2 {
		return "", "", false
	}
	typ, id = parts[len(parts)-2], parts[len(parts)-1]
	if !isResourceTypeName(typ) || id == "" {
		return "", "", false
	}
	return typ, id, true
}

// isResourceTypeName reports whether s looks like a FHIR resource type: an
// upper-case ASCII letter followed by ASCII letters.
func isResourceTypeName(s string) bool {
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

// Identifier is a business identifier.
type Identifier struct {
	Use    string `json:"use,omitempty"`
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
}

// HumanName is a person's name.
type HumanName struct {
	Use    string   `json:"use,omitempty"`
	Text   string   `json:"text,omitempty"`
	Family string   `json:"family,omitempty"`
	Given  []string `json:"given,omitempty"`
	Prefix []string `json:"prefix,omitempty"`
	Suffix []string `json:"suffix,omitempty"`
}

// String renders the name: its text, else given names then family.
func (n HumanName) String() string {
	if n.Text != "" {
		return n.Text
	}
	var parts []string
	for _, g := range n.Given {
		if g != "" {
			parts = append(parts, g)
		}
	}
	if n.Family != "" {
		parts = append(parts, n.Family)
	}
	return strings.Join(parts, " ")
}

// ContactPoint is a phone number, email address or similar.
type ContactPoint struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
	Use    string `json:"use,omitempty"`
}

// Address is a postal address.
type Address struct {
	Use        string   `json:"use,omitempty"`
	Text       string   `json:"text,omitempty"`
	Line       []string `json:"line,omitempty"`
	City       string   `json:"city,omitempty"`
	State      string   `json:"state,omitempty"`
	PostalCode string   `json:"postalCode,omitempty"`
	Country    string   `json:"country,omitempty"`
}

// String renders the address on one line.
func (a Address) String() string {
	if a.Text != "" {
		return a.Text
	}
	var parts []string
	for _, p := range append(append([]string{}, a.Line...), a.City, a.State, a.PostalCode, a.Country) {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

// Period is a time range; either end may be open.
type Period struct {
	Start Instant `json:"start,omitempty"`
	End   Instant `json:"end,omitempty"`
}

// Attachment is content inline (Data, base64) or by URL.
type Attachment struct {
	ContentType string `json:"contentType,omitempty"`
	Language    string `json:"language,omitempty"`
	// Data is the content, base64-encoded.
	Data string `json:"data,omitempty"`
	URL  string `json:"url,omitempty"`
	// Size is the content's length in bytes, as the server states it.
	Size int64 `json:"size,omitempty"`
	// Hash is the base64 SHA-1 of the content.
	Hash     string  `json:"hash,omitempty"`
	Title    string  `json:"title,omitempty"`
	Creation Instant `json:"creation,omitempty"`
}

// Annotation is a note with its author and time.
type Annotation struct {
	Text string  `json:"text,omitempty"`
	Time Instant `json:"time,omitempty"`
}
