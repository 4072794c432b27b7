package connector

import (
	"errors"
	"fmt"
	"time"
)

// Ref names one resource in a system outside this library: a FHIR resource on
// a provider, a contact on a practice platform.
type Ref struct {
	// System is the name of the Source or Sink the resource lives in, as
	// registered with the Engine (for example "php" or "carepatron").
	System string `json:"system"`
	// Type is the resource type in that system, such as "DocumentReference".
	Type string `json:"type"`
	// ID is the system's own identifier of the resource.
	ID string `json:"id"`
}

// String renders the ref as system/type/id, for logs and keys.
func (r Ref) String() string { return r.System + "/" + r.Type + "/" + r.ID }

// IsZero reports whether r names nothing.
func (r Ref) IsZero() bool { return r == Ref{} }

// Validate reports whether every part of r is set.
func (r Ref) Validate() error {
	switch {
	case r.System == "":
		return fmt.Errorf("%w: ref has no system", ErrInvalid)
	case r.Type == "":
		return fmt.Errorf("%w: ref %q has no type", ErrInvalid, r.String())
	case r.ID == "":
		return fmt.Errorf("%w: ref %q has no id", ErrInvalid, r.String())
	}
	return nil
}

// ErrInvalid marks input the library refuses: a malformed Change, a
// document without a ref. It is permanent; wrap it with the detail.
var ErrInvalid = errors.New("invalid input")

// Patient follows the seed's patient model, plus the references that tie
// it to the systems it is synchronized with.
type Patient struct {
	// Ref is the patient's identity in the Source it came from.
	Ref   Ref    `json:"ref"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
	// ContactDetails holds phone numbers and addresses as free text.
	ContactDetails     string `json:"contact_details,omitempty"`
	MedicalHistory     string `json:"medical_history,omitempty"`
	DietaryPreferences string `json:"dietary_preferences,omitempty"`
	// Identifiers are other business identifiers (such as a medical record
	// number) a Sink may record to find the patient again.
	Identifiers []Identifier `json:"identifiers,omitempty"`
	// Version is the Source's version of the record; see CompareVersions.
	Version   string    `json:"version,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Identifier is a business identifier: a value within a naming system.
type Identifier struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

// DocumentType is the seed's category of a healthcare document.
type DocumentType string

// The document types a dietician sees. Adapters map anything else to
// DocumentOther.
const (
	DocumentLabResult          DocumentType = "lab_result"
	DocumentProgressNote       DocumentType = "progress_note"
	DocumentPhysicalAssessment DocumentType = "physical_assessment"
	DocumentOther              DocumentType = "other"
)

// Valid reports whether t is one of the defined types.
func (t DocumentType) Valid() bool {
	switch t {
	case DocumentLabResult, DocumentProgressNote, DocumentPhysicalAssessment, DocumentOther:
		return true
	}
	return false
}

// Document is one healthcare document with its content, as fetched from a
// Source and delivered to Sinks.
type Document struct {
	// Ref is the document's identity in its Source.
	Ref Ref `json:"ref"`
	// Patient is the Source's ref of the patient the document belongs to.
	Patient Ref          `json:"patient"`
	Type    DocumentType `json:"type"`
	Title   string       `json:"title"`
	// Date is when the document was written (clinically), not when it was
	// last changed.
	Date time.Time `json:"date,omitzero"`
	// Author is a display name for whoever wrote it.
	Author string `json:"author,omitempty"`
	// Source names the provider the document came from, shown to the
	// dietician ("Primary Healthcare Provider", a practice's name).
	Source      string `json:"source,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	// Content is the content held in memory; empty when Body is set.
	Content []byte `json:"content,omitempty"`
	// Body, when set, is the content to read instead of Content: large
	// content travels as one (see Body and Config.StreamAbove). Read
	// either through Open.
	Body Body `json:"-"`
	// Size is the content's length in bytes once the content is fetched.
	Size int64 `json:"size"`
	// ContentHash is the hex SHA-256 of the whole content; see
	// Document.Seal.
	ContentHash string `json:"content_hash,omitempty"`
	// Version is the Source's version of the document; see CompareVersions.
	Version   string    `json:"version,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	// Raw is the Source's own representation (FHIR JSON), kept verbatim.
	Raw []byte `json:"raw,omitempty"`
	// Text is the content's words for the store's text search, as
	// Engine.ExtractText found them; kept with the local copy, never
	// delivered.
	Text string `json:"-"`
	// Deleted marks a document the Source no longer has.
	Deleted bool `json:"deleted,omitempty"`
}

// Validate reports the first field that makes d unusable.
func (d *Document) Validate() error {
	if err := d.Ref.Validate(); err != nil {
		return fmt.Errorf("document: %w", err)
	}
	if err := d.Patient.Validate(); err != nil {
		return fmt.Errorf("document %s patient: %w", d.Ref, err)
	}
	if !d.Type.Valid() {
		return fmt.Errorf("%w: document %s has unknown type %q", ErrInvalid, d.Ref, d.Type)
	}
	return nil
}
