package fhir

import (
	"strings"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/provider"
)

// loincTypes maps the LOINC document codes the dietician's categories
// come from.
var loincTypes = map[string]connector.DocumentType{
	"11502-2": connector.DocumentLabResult,          // Laboratory report
	"11506-3": connector.DocumentProgressNote,       // Progress note
	"34117-2": connector.DocumentPhysicalAssessment, // History and physical note
}

// documentType maps codes to a document type: configured codes first,
// then the LOINC ones, else DocumentOther.
func (s *Source) documentType(concepts ...provider.CodeableConcept) connector.DocumentType {
	for _, cc := range concepts {
		for _, cd := range cc.Coding {
			if t, ok := s.cfg.TypeCodes[cd.System+"|"+cd.Code]; ok {
				return t
			}
			if cd.System == provider.SystemLOINC {
				if t, ok := loincTypes[cd.Code]; ok {
					return t
				}
			}
		}
	}
	return connector.DocumentOther
}

// docRefType maps a DocumentReference by its type, then its categories.
func (s *Source) docRefType(d *provider.DocumentReference) connector.DocumentType {
	return s.documentType(append([]provider.CodeableConcept{d.Type}, d.Category...)...)
}

// reportType maps a DiagnosticReport by its code; a LAB category makes
// any other report a lab result.
func (s *Source) reportType(r *provider.DiagnosticReport) connector.DocumentType {
	if t := s.documentType(r.Code); t != connector.DocumentOther {
		return t
	}
	for _, c := range r.Category {
		if c.Has(provider.SystemV2DiagnosticService, "LAB") {
			return connector.DocumentLabResult
		}
	}
	return s.documentType(r.Category...)
}

// firstTime returns the first value that parses.
func firstTime(vs ...provider.Instant) time.Time {
	for _, v := range vs {
		if t, ok := v.Time(); ok {
			return t
		}
	}
	return time.Time{}
}

// displays joins the display names of refs.
func displays(refs []provider.Reference) string {
	var out []string
	for _, r := range refs {
		if r.Display != "" {
			out = append(out, r.Display)
		}
	}
	return strings.Join(out, ", ")
}

// patientRef returns the kernel ref of a subject reference to a Patient.
func patientRef(subject *provider.Reference) connector.Ref {
	if subject == nil {
		return connector.Ref{}
	}
	typ, id, ok := subject.TypeID()
	if !ok || typ != connector.PatientType {
		return connector.Ref{}
	}
	return connector.Ref{Type: connector.PatientType, ID: id}
}

// deleted reports whether a status says the resource should never have
// existed.
func deleted(status string) bool { return status == "entered-in-error" }

// mapDocumentReference maps a DocumentReference's metadata.
func (s *Source) mapDocumentReference(d *provider.DocumentReference) *connector.Document {
	doc := &connector.Document{
		Ref:       connector.Ref{Type: typeDocumentReference, ID: d.ID},
		Patient:   patientRef(d.Subject),
		Type:      s.docRefType(d),
		Title:     d.Description,
		Author:    displays(d.Author),
		Source:    s.cfg.Name,
		Version:   d.Meta.VersionID,
		UpdatedAt: firstTime(d.Meta.LastUpdated),
		Raw:       d.Raw(),
		Deleted:   deleted(d.Status),
	}
	if doc.Title == "" {
		doc.Title = d.Type.Display()
	}
	var period provider.Instant
	if d.Context != nil && d.Context.Period != nil {
		period = d.Context.Period.Start
	}
	var creation provider.Instant
	if a, ok := documentAttachment(d); ok {
		creation = a.Creation
		if doc.Title == "" {
			doc.Title = a.Title
		}
	}
	doc.Date = firstTime(d.Date, period, creation)
	if d.Custodian != nil && d.Custodian.Display != "" {
		doc.Source = d.Custodian.Display
	}
	return doc
}

// mapDiagnosticReport maps a DiagnosticReport's metadata.
func (s *Source) mapDiagnosticReport(r *provider.DiagnosticReport) *connector.Document {
	doc := &connector.Document{
		Ref:       connector.Ref{Type: typeDiagnosticReport, ID: r.ID},
		Patient:   patientRef(r.Subject),
		Type:      s.reportType(r),
		Title:     r.Code.Display(),
		Author:    displays(r.ResultsInterpreter),
		Source:    s.cfg.Name,
		Version:   r.Meta.VersionID,
		UpdatedAt: firstTime(r.Meta.LastUpdated),
		Raw:       r.Raw(),
		Deleted:   deleted(r.Status),
	}
	if doc.Author == "" {
		doc.Author = displays(r.Performer)
	}
	var period provider.Instant
	if r.EffectivePeriod != nil {
		period = r.EffectivePeriod.Start
	}
	doc.Date = firstTime(r.EffectiveDateTime, period, r.Issued)
	return doc
}

// documentAttachment picks the rendition to deliver: the first attachment
// with content.
func documentAttachment(d *provider.DocumentReference) (provider.Attachment, bool) {
	for _, c := range d.Content {
		if c.Attachment.Data != "" || c.Attachment.URL != "" {
			return c.Attachment, true
		}
	}
	return provider.Attachment{}, false
}

// reportAttachment picks the first presented form with content.
func reportAttachment(r *provider.DiagnosticReport) (provider.Attachment, bool) {
	for _, a := range r.PresentedForm {
		if a.Data != "" || a.URL != "" {
			return a, true
		}
	}
	return provider.Attachment{}, false
}
