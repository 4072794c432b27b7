package provider

// Task is the subset of the FHIR R4 Task this library creates to ask the
// provider for documents, and reads back to follow the request.
type Task struct {
	Base
	Identifier []Identifier `json:"identifier,omitempty"`
	// Status is draft, requested, received, accepted, rejected, ready,
	// cancelled, in-progress, on-hold, failed, completed or
	// entered-in-error.
	Status       string           `json:"status,omitempty"`
	StatusReason *CodeableConcept `json:"statusReason,omitempty"`
	// Intent is "order" for a request this library makes.
	Intent       string           `json:"intent,omitempty"`
	Priority     string           `json:"priority,omitempty"`
	Code         *CodeableConcept `json:"code,omitempty"`
	Description  string           `json:"description,omitempty"`
	For          *Reference       `json:"for,omitempty"`
	AuthoredOn   Instant          `json:"authoredOn,omitempty"`
	LastModified Instant          `json:"lastModified,omitempty"`
	Requester    *Reference       `json:"requester,omitempty"`
	Owner        *Reference       `json:"owner,omitempty"`
	ReasonCode   *CodeableConcept `json:"reasonCode,omitempty"`
	Note         []Annotation     `json:"note,omitempty"`
	// Restriction narrows the request to a period.
	Restriction *TaskRestriction `json:"restriction,omitempty"`
	Input       []TaskParameter  `json:"input,omitempty"`
	Output      []TaskParameter  `json:"output,omitempty"`
}

// TaskRestriction limits when a Task is to be fulfilled, or what period it
// is about.
type TaskRestriction struct {
	Period *Period `json:"period,omitempty"`
}

// TaskParameter is one input or output of a Task. Only the value types
// this library uses are typed.
type TaskParameter struct {
	Type                 CodeableConcept  `json:"type"`
	ValueString          string           `json:"valueString,omitempty"`
	ValueCodeableConcept *CodeableConcept `json:"valueCodeableConcept,omitempty"`
	ValueReference       *Reference       `json:"valueReference,omitempty"`
	ValuePeriod          *Period          `json:"valuePeriod,omitempty"`
}
