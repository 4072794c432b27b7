package fhir

import (
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/provider"
)

// loincTypes maps LOINC document and report codes to the dietician's
// categories: US Core's clinical note types and their siblings. A code
// mapped to DocumentOther here is known and other on purpose (an imaging
// report is not a lab result), and is not mapped again by its category.
var loincTypes = map[string]connector.DocumentType{
	// Laboratory and pathology reports.
	"11502-2": connector.DocumentLabResult, // Laboratory report
	"11526-1": connector.DocumentLabResult, // Pathology study report
	// Clinicians' narrative notes of an encounter or stay.
	"11506-3": connector.DocumentProgressNote, // Progress note
	"11488-4": connector.DocumentProgressNote, // Consult note
	"18842-5": connector.DocumentProgressNote, // Discharge summary
	"28570-0": connector.DocumentProgressNote, // Procedure note
	"34746-8": connector.DocumentProgressNote, // Nurse note
	// Examination of the patient.
	"34117-2": connector.DocumentPhysicalAssessment, // History and physical note
	"47039-3": connector.DocumentPhysicalAssessment, // Hospital admission history and physical note
	"29545-1": connector.DocumentPhysicalAssessment, // Physical findings
	// Known, and none of the three.
	"18748-4": connector.DocumentOther, // Diagnostic imaging study
	"34133-9": connector.DocumentOther, // Summary of episode note (a CCD)
}

// loincReportCategories maps the LOINC part codes US Core uses as
// DiagnosticReport categories of reports that are notes.
var loincReportCategories = map[string]connector.DocumentType{
	"LP29693-6": connector.DocumentLabResult, // Laboratory
	"LP7839-6":  connector.DocumentLabResult, // Pathology
	"LP29684-5": connector.DocumentOther,     // Radiology
	"LP29708-2": connector.DocumentOther,     // Cardiology
}

// v2ServiceSections maps HL7 v2 table 0074 diagnostic service sections,
// the usual DiagnosticReport category: the laboratory and pathology
// sections are lab results; imaging and cardiology are other.
var v2ServiceSections = map[string]connector.DocumentType{
	"LAB": connector.DocumentLabResult, // Laboratory
	"PAT": connector.DocumentLabResult, // Pathology
	"SP":  connector.DocumentLabResult, // Surgical pathology
	"CP":  connector.DocumentLabResult, // Cytopathology
	"CH":  connector.DocumentLabResult, // Chemistry
	"HM":  connector.DocumentLabResult, // Hematology
	"IMM": connector.DocumentLabResult, // Immunology
	"MB":  connector.DocumentLabResult, // Microbiology
	"MCB": connector.DocumentLabResult, // Mycobacteriology
	"MYC": connector.DocumentLabResult, // Mycology
	"PAR": connector.DocumentLabResult, // Parasitology
	"VR":  connector.DocumentLabResult, // Virology
	"SR":  connector.DocumentLabResult, // Serology
	"BLB": connector.DocumentLabResult, // Blood bank
	"CG":  connector.DocumentLabResult, // Cytogenetics
	"TX":  connector.DocumentLabResult, // Toxicology
	"URN": connector.DocumentLabResult, // Urinalysis
	"HLA": connector.DocumentLabResult, // Tissue typing
	"RAD": connector.DocumentOther,     // Radiology
	"CT":  connector.DocumentOther,     // CAT scan
	"NMR": connector.DocumentOther,     // Nuclear magnetic resonance
	"NMS": connector.DocumentOther,     // Nuclear medicine scan
	"RUS": connector.DocumentOther,     // Radiology ultrasound
	"VUS": connector.DocumentOther,     // Vascular ultrasound
	"OUS": connector.DocumentOther,     // OB ultrasound
	"CUS": connector.DocumentOther,     // Cardiac ultrasound
	"EC":  connector.DocumentOther,     // Electrocardiac (e.g. EKG)
	"CTH": connector.DocumentOther,     // Cardiac catheterization
}

// systemUSCoreDocumentCategory is US Core's DocumentReference category
// system; its "clinical-note" marks a clinician's note.
const systemUSCoreDocumentCategory = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"

// codeType maps one coding: configured codes first, then the built-in
// ones of table. ok is false for a code neither knows.
func (s *Source) codeType(cd provider.Coding, table map[string]map[string]connector.DocumentType) (connector.DocumentType, bool) {
	if t, ok := s.cfg.TypeCodes[cd.System+"|"+cd.Code]; ok {
		return t, true
	}
	t, ok := table[cd.System][cd.Code]
	return t, ok
}

// conceptsType maps the first known coding of concepts.
func (s *Source) conceptsType(table map[string]map[string]connector.DocumentType, concepts ...provider.CodeableConcept) (connector.DocumentType, bool) {
	for _, cc := range concepts {
		for _, cd := range cc.Coding {
			if t, ok := s.codeType(cd, table); ok {
				return t, true
			}
		}
	}
	return "", false
}

var (
	typeTable = map[string]map[string]connector.DocumentType{provider.SystemLOINC: loincTypes}
	// A clinical note of a type not known above is still a clinician's
	// note: the nearest category is a progress note.
	docCategoryTable = map[string]map[string]connector.DocumentType{
		provider.SystemLOINC:         loincTypes,
		systemUSCoreDocumentCategory: {"clinical-note": connector.DocumentProgressNote},
	}
	reportCategoryTable = map[string]map[string]connector.DocumentType{
		provider.SystemLOINC:               loincReportCategories,
		provider.SystemV2DiagnosticService: v2ServiceSections,
	}
)

// docRefType maps a DocumentReference by its type, then its categories
// (US Core clinical-note), else DocumentOther.
func (s *Source) docRefType(d *provider.DocumentReference) connector.DocumentType {
	if t, ok := s.conceptsType(typeTable, d.Type); ok {
		return t
	}
	if t, ok := s.conceptsType(docCategoryTable, d.Category...); ok {
		return t
	}
	return connector.DocumentOther
}

// reportType maps a DiagnosticReport by its code, then its categories
// (v2-0074 sections such as LAB, PAT, RAD; US Core's LOINC categories),
// else DocumentOther.
func (s *Source) reportType(r *provider.DiagnosticReport) connector.DocumentType {
	if t, ok := s.conceptsType(typeTable, r.Code); ok {
		return t
	}
	if t, ok := s.conceptsType(reportCategoryTable, r.Category...); ok {
		return t
	}
	return connector.DocumentOther
}

// updatedAt returns when r last changed: its meta.lastUpdated, else the
// time its HTTP answer stated (Last-Modified, else Date), else, for an
// entry of b, b's own time (meta.lastUpdated, timestamp or answer), else
// the clock. It is never zero: the engine orders versions by it, as FHIR
// versionIds are opaque, and a server that sends no time at all still
// gets a time no earlier than the version it sent.
func (s *Source) updatedAt(r *provider.Base, b *provider.Bundle) time.Time {
	if t, ok := r.LastUpdated(); ok {
		return t
	}
	if b != nil {
		if t, ok := b.Meta.LastUpdated.Time(); ok {
			return t
		}
		if t, ok := b.Timestamp.Time(); ok {
			return t
		}
		if t, ok := b.LastUpdated(); ok {
			return t
		}
	}
	return s.now().UTC()
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

// mapDocumentReference maps a DocumentReference's metadata. Author and
// Source (the custodian) are the fetch's: they may need reads
// (authorNames).
func (s *Source) mapDocumentReference(d *provider.DocumentReference) *connector.Document {
	doc := &connector.Document{
		Ref:       connector.Ref{Type: typeDocumentReference, ID: d.ID},
		Patient:   patientRef(d.Subject),
		Type:      s.docRefType(d),
		Title:     d.Description,
		Source:    s.cfg.Name,
		Version:   d.Meta.VersionID,
		UpdatedAt: s.updatedAt(&d.Base, nil),
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
	return doc
}

// mapDiagnosticReport maps a DiagnosticReport's metadata. Author is the
// fetch's: it may need reads (authorNames).
func (s *Source) mapDiagnosticReport(r *provider.DiagnosticReport) *connector.Document {
	doc := &connector.Document{
		Ref:       connector.Ref{Type: typeDiagnosticReport, ID: r.ID},
		Patient:   patientRef(r.Subject),
		Type:      s.reportType(r),
		Title:     r.Code.Display(),
		Source:    s.cfg.Name,
		Version:   r.Meta.VersionID,
		UpdatedAt: s.updatedAt(&r.Base, nil),
		Raw:       r.Raw(),
		Deleted:   deleted(r.Status),
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
