package provider

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Base holds the elements every resource has, and the JSON the resource
// was decoded from.
type Base struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id,omitempty"`
	Meta         Meta   `json:"meta,omitzero"`
	// Contained are the resources contained in this one, raw: a "#id"
	// reference names one (see ContainedResource).
	Contained []json.RawMessage `json:"contained,omitempty"`

	raw    json.RawMessage
	served Instant
}

// ContainedResource returns the contained resource a local reference
// ("#id") names.
func (b *Base) ContainedResource(ref string) (Resource, bool) {
	id, ok := strings.CutPrefix(ref, "#")
	if !ok || id == "" {
		return nil, false
	}
	for _, raw := range b.Contained {
		if r, err := Decode(raw); err == nil && r.base().ID == id {
			return r, true
		}
	}
	return nil, false
}

// LastUpdated returns when the resource last changed: its
// meta.lastUpdated, else, for a resource or Bundle the Client received,
// the time the HTTP answer stated (Last-Modified, else Date). ok is false
// when there is neither, as for a resource decoded from a Bundle entry
// without meta.lastUpdated: use the Bundle's then.
func (b *Base) LastUpdated() (t time.Time, ok bool) {
	if t, ok := b.Meta.LastUpdated.Time(); ok {
		return t, true
	}
	return b.served.Time()
}

// Raw returns the JSON the resource was decoded from, byte for byte: it
// keeps every element the typed subset leaves out. It is nil for a
// resource built in code.
func (b *Base) Raw() json.RawMessage { return b.raw }

// Ref returns "Type/id".
func (b *Base) Ref() string { return b.ResourceType + "/" + b.ID }

func (b *Base) base() *Base { return b }

// Resource is any decoded FHIR resource: one of the typed subset
// (*Patient, *DocumentReference, *DiagnosticReport, *Observation, *Binary,
// *Bundle, *OperationOutcome, *Task, *Parameters, *SubscriptionStatus,
// *Practitioner, *PractitionerRole, *Organization) or *Other for every
// other type.
type Resource interface {
	base() *Base
}

// Other is a resource of a type outside the typed subset (an Encounter, a
// Practitioner): only its Base is decoded, Raw keeps the rest.
type Other struct {
	Base
}

// Decoding errors. Both are wrapped with detail; test with errors.Is.
var (
	// ErrNotFHIR: the body is not JSON, or not a JSON object with a
	// resourceType.
	ErrNotFHIR = errors.New("not a fhir resource")
	// ErrUnexpectedType: a valid resource of another type than expected (an
	// OperationOutcome where a Bundle was due, a Bundle of the wrong type).
	ErrUnexpectedType = errors.New("unexpected fhir resource type")
)

// Decode decodes one resource leniently: unknown elements, extensions
// (also on primitives), contained resources and unknown codes never fail
// it, and an element of an unexpected JSON type is left empty rather than
// failing the whole resource. It fails with ErrNotFHIR only when data is
// not a JSON object naming its resourceType.
func Decode(data []byte) (Resource, error) {
	typ, err := peekType(data)
	if err != nil {
		return nil, err
	}
	var r Resource
	switch typ {
	case "Patient":
		r = new(Patient)
	case "DocumentReference":
		r = new(DocumentReference)
	case "DiagnosticReport":
		r = new(DiagnosticReport)
	case "Observation":
		r = new(Observation)
	case "Binary":
		r = new(Binary)
	case "Bundle":
		r = new(Bundle)
	case "OperationOutcome":
		r = new(OperationOutcome)
	case "Task":
		r = new(Task)
	case "Parameters":
		r = new(Parameters)
	case "SubscriptionStatus":
		r = new(SubscriptionStatus)
	case "Practitioner":
		r = new(Practitioner)
	case "PractitionerRole":
		r = new(PractitionerRole)
	case "Organization":
		r = new(Organization)
	default:
		r = new(Other)
	}
	if err := decodeInto(data, r); err != nil {
		return nil, err
	}
	return r, nil
}

// DecodeAs decodes data as a resource of type T. A valid resource of
// another type fails with ErrUnexpectedType; an OperationOutcome in its
// place fails with an *OutcomeError carrying the outcome.
func DecodeAs[T any, PT interface {
	*T
	Resource
}](data []byte) (PT, error) {
	r, err := Decode(data)
	if err != nil {
		return nil, err
	}
	if v, ok := r.(PT); ok {
		return v, nil
	}
	want := resourceTypeOf(PT(new(T)))
	if oo, ok := r.(*OperationOutcome); ok {
		return nil, fmt.Errorf("%w: want %s, got OperationOutcome: %w", ErrUnexpectedType, want, &OutcomeError{Outcome: oo})
	}
	return nil, fmt.Errorf("%w: want %s, got %s", ErrUnexpectedType, want, r.base().ResourceType)
}

// peekType returns the resourceType of the JSON object in data.
func peekType(data []byte) (string, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return "", fmt.Errorf("%w: body is not a json object", ErrNotFHIR)
	}
	var head struct {
		ResourceType json.RawMessage `json:"resourceType"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			return "", fmt.Errorf("%w: %w", ErrNotFHIR, err)
		}
	}
	var typ string
	if err := json.Unmarshal(head.ResourceType, &typ); err != nil || !isResourceTypeName(typ) {
		return "", fmt.Errorf("%w: no resourceType", ErrNotFHIR)
	}
	return typ, nil
}

// decodeInto unmarshals data into r, tolerating elements of the wrong JSON
// type, and keeps a copy of data as r's raw JSON.
func decodeInto(data []byte, r Resource) error {
	if err := json.Unmarshal(data, r); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			return fmt.Errorf("%w: %w", ErrNotFHIR, err)
		}
		// encoding/json keeps decoding after a type mismatch and reports
		// only the first; the rest of the resource is filled in.
	}
	b := r.base()
	b.raw = bytes.Clone(bytes.TrimSpace(data))
	return nil
}

// resourceTypeOf names the resourceType of a typed resource, so that
// DecodeAs can say which type it wanted.
func resourceTypeOf(r Resource) string {
	switch r.(type) {
	case *Patient:
		return "Patient"
	case *DocumentReference:
		return "DocumentReference"
	case *DiagnosticReport:
		return "DiagnosticReport"
	case *Observation:
		return "Observation"
	case *Binary:
		return "Binary"
	case *Bundle:
		return "Bundle"
	case *OperationOutcome:
		return "OperationOutcome"
	case *Task:
		return "Task"
	case *Parameters:
		return "Parameters"
	case *SubscriptionStatus:
		return "SubscriptionStatus"
	case *Practitioner:
		return "Practitioner"
	case *PractitionerRole:
		return "PractitionerRole"
	case *Organization:
		return "Organization"
	}
	return ""
}

// servedAt records the time an HTTP answer states for r: Last-Modified,
// else Date.
func servedAt(r Resource, h http.Header) {
	for _, name := range []string{"Last-Modified", "Date"} {
		if t, err := http.ParseTime(h.Get(name)); err == nil {
			r.base().served = Instant(t.UTC().Format(time.RFC3339))
			return
		}
	}
}
