package provider

import "strings"

// OperationOutcome is the FHIR resource servers answer errors with.
type OperationOutcome struct {
	Base
	Issue []OutcomeIssue `json:"issue,omitempty"`
}

// OutcomeIssue is one problem an OperationOutcome reports.
type OutcomeIssue struct {
	// Severity is fatal, error, warning or information.
	Severity    string          `json:"severity,omitempty"`
	Code        string          `json:"code,omitempty"`
	Details     CodeableConcept `json:"details,omitzero"`
	Diagnostics string          `json:"diagnostics,omitempty"`
	Expression  []string        `json:"expression,omitempty"`
}

// Summary joins the issues' severity, code and diagnostics (or details
// text) into one line for an error message.
func (o *OperationOutcome) Summary() string {
	if o == nil {
		return ""
	}
	var parts []string
	for _, is := range o.Issue {
		s := is.Severity
		if is.Code != "" {
			s += " " + is.Code
		}
		msg := is.Diagnostics
		if msg == "" {
			msg = is.Details.Display()
		}
		if msg != "" {
			s += ": " + msg
		}
		parts = append(parts, strings.TrimSpace(s))
	}
	return strings.Join(parts, "; ")
}

// OutcomeError is an OperationOutcome returned where a resource was
// expected.
type OutcomeError struct {
	Outcome *OperationOutcome
}

func (e *OutcomeError) Error() string {
	return "operation outcome: " + e.Outcome.Summary()
}
