package provider

// Code systems the mapping to document types relies on.
const (
	SystemLOINC = "http://loinc.org"
	// SystemV2DiagnosticService is HL7 v2 table 0074, the category system
	// of DiagnosticReport ("LAB", "RAD", ...).
	SystemV2DiagnosticService = "http://terminology.hl7.org/CodeSystem/v2-0074"
)

// DocumentReference is the subset of the FHIR R4 DocumentReference this
// library reads: a clinical note or scanned document and where its
// content is.
type DocumentReference struct {
	Base
	Identifier []Identifier `json:"identifier,omitempty"`
	// Status is current, superseded or entered-in-error.
	Status    string            `json:"status,omitempty"`
	DocStatus string            `json:"docStatus,omitempty"`
	Type      CodeableConcept   `json:"type,omitzero"`
	Category  []CodeableConcept `json:"category,omitempty"`
	Subject   *Reference        `json:"subject,omitempty"`
	// Date is when the reference was created (R4 has no "created").
	Date        Instant             `json:"date,omitempty"`
	Author      []Reference         `json:"author,omitempty"`
	Custodian   *Reference          `json:"custodian,omitempty"`
	Description string              `json:"description,omitempty"`
	Content     []DocumentContent   `json:"content,omitempty"`
	Context     *DocumentContext    `json:"context,omitempty"`
	RelatesTo   []DocumentRelatesTo `json:"relatesTo,omitempty"`
	Security    []CodeableConcept   `json:"securityLabel,omitempty"`
	MasterID    *Identifier         `json:"masterIdentifier,omitempty"`
	Authentic   *Reference          `json:"authenticator,omitempty"`
}

// DocumentContent is one rendition of the document.
type DocumentContent struct {
	Attachment Attachment `json:"attachment"`
	Format     *Coding    `json:"format,omitempty"`
}

// DocumentContext is the clinical context of a document.
type DocumentContext struct {
	Encounter []Reference `json:"encounter,omitempty"`
	Period    *Period     `json:"period,omitempty"`
	// Related names resources the document belongs to, such as the
	// DiagnosticReport a lab report document presents.
	Related []Reference `json:"related,omitempty"`
}

// DocumentRelatesTo links a document to one it replaces or appends.
type DocumentRelatesTo struct {
	Code   string    `json:"code,omitempty"`
	Target Reference `json:"target"`
}

// DiagnosticReport is the subset of the FHIR R4 DiagnosticReport this
// library reads: a lab panel or a report with a presented form.
type DiagnosticReport struct {
	Base
	Identifier         []Identifier      `json:"identifier,omitempty"`
	Status             string            `json:"status,omitempty"`
	Category           []CodeableConcept `json:"category,omitempty"`
	Code               CodeableConcept   `json:"code,omitzero"`
	Subject            *Reference        `json:"subject,omitempty"`
	Encounter          *Reference        `json:"encounter,omitempty"`
	EffectiveDateTime  Instant           `json:"effectiveDateTime,omitempty"`
	EffectivePeriod    *Period           `json:"effectivePeriod,omitempty"`
	Issued             Instant           `json:"issued,omitempty"`
	Performer          []Reference       `json:"performer,omitempty"`
	ResultsInterpreter []Reference       `json:"resultsInterpreter,omitempty"`
	Result             []Reference       `json:"result,omitempty"`
	Conclusion         string            `json:"conclusion,omitempty"`
	PresentedForm      []Attachment      `json:"presentedForm,omitempty"`
}

// Observation is the subset of the FHIR R4 Observation this library reads.
type Observation struct {
	Base
	Status            string            `json:"status,omitempty"`
	Category          []CodeableConcept `json:"category,omitempty"`
	Code              CodeableConcept   `json:"code,omitzero"`
	Subject           *Reference        `json:"subject,omitempty"`
	EffectiveDateTime Instant           `json:"effectiveDateTime,omitempty"`
	EffectivePeriod   *Period           `json:"effectivePeriod,omitempty"`
	EffectiveInstant  Instant           `json:"effectiveInstant,omitempty"`
	Issued            Instant           `json:"issued,omitempty"`
	ValueQuantity     *Quantity         `json:"valueQuantity,omitempty"`
	ValueString       string            `json:"valueString,omitempty"`
	ValueCodeable     *CodeableConcept  `json:"valueCodeableConcept,omitempty"`
	Interpretation    []CodeableConcept `json:"interpretation,omitempty"`
	Note              []Annotation      `json:"note,omitempty"`
	ReferenceRange    []ReferenceRange  `json:"referenceRange,omitempty"`
}

// ReferenceRange is an Observation's normal range, as the lab gives it.
type ReferenceRange struct {
	Low  *Quantity `json:"low,omitempty"`
	High *Quantity `json:"high,omitempty"`
	Text string    `json:"text,omitempty"`
}

// Quantity is a measured amount.
type Quantity struct {
	Value      *float64 `json:"value,omitempty"`
	Comparator string   `json:"comparator,omitempty"`
	Unit       string   `json:"unit,omitempty"`
	System     string   `json:"system,omitempty"`
	Code       string   `json:"code,omitempty"`
}

// Binary is raw content wrapped as a resource: the JSON form of a Binary
// read (Accept: application/fhir+json).
type Binary struct {
	Base
	ContentType     string     `json:"contentType,omitempty"`
	SecurityContext *Reference `json:"securityContext,omitempty"`
	// Data is the content, base64-encoded.
	Data string `json:"data,omitempty"`
}
