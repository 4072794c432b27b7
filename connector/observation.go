package connector

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// ObservationType is the Ref.Type of observations.
const ObservationType = "Observation"

// ObservationStatus is the status of an observation, as FHIR defines it.
type ObservationStatus string

// The observation statuses a Source reports.
const (
	ObservationRegistered  ObservationStatus = "registered"
	ObservationPreliminary ObservationStatus = "preliminary"
	ObservationFinal       ObservationStatus = "final"
	ObservationAmended     ObservationStatus = "amended"
	ObservationCorrected   ObservationStatus = "corrected"
	ObservationCancelled   ObservationStatus = "cancelled"
	// ObservationEnteredInError: the value was never right. It stays in
	// the observation's history and leaves every series.
	ObservationEnteredInError ObservationStatus = "entered-in-error"
	ObservationUnknown        ObservationStatus = "unknown"
)

// InSeries reports whether an observation of status s belongs in a
// series of values: not one entered in error, cancelled or only
// registered (no value yet).
func (s ObservationStatus) InSeries() bool {
	switch s {
	case ObservationEnteredInError, ObservationCancelled, ObservationRegistered:
		return false
	}
	return true
}

// Coding is a code in a code system, with its display.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

// Observation is one measurement about a patient, kept as data: a lab
// result or a vital sign. A lab report (a DiagnosticReport document)
// lists its results as observations.
type Observation struct {
	// Ref is the observation's identity in its Source.
	Ref Ref `json:"ref"`
	// Patient is the Source's ref of the patient.
	Patient Ref `json:"patient"`
	// Report is the document (the lab report) that lists the observation
	// as a result; zero when none does.
	Report Ref `json:"report,omitzero"`
	// Category is the FHIR observation category: "laboratory",
	// "vital-signs".
	Category string `json:"category,omitempty"`
	// Code is what was measured: its LOINC code when it has one.
	Code   Coding            `json:"code"`
	Status ObservationStatus `json:"status"`
	// Effective is when the value was true for the patient (the sample's
	// collection), not when it was reported.
	Effective time.Time `json:"effective,omitzero"`
	// Value is a quantity's value in Unit (a UCUM code when the Source
	// gives one); nil for a coded or text value, in Text.
	Value *float64 `json:"value,omitempty"`
	// Comparator qualifies Value: "<", "<=", ">=", ">".
	Comparator string `json:"comparator,omitempty"`
	Unit       string `json:"unit,omitempty"`
	Text       string `json:"text,omitempty"`
	// Low and High are the provider's reference range, in Unit; RangeText
	// is its text.
	Low       *float64 `json:"low,omitempty"`
	High      *float64 `json:"high,omitempty"`
	RangeText string   `json:"range_text,omitempty"`
	// Interpretation is the provider's flag (FHIR
	// ObservationInterpretation: H, L, HH, LL, A, AA, N…), as given.
	Interpretation string `json:"interpretation,omitempty"`
	// Version is the Source's version; see CompareVersions.
	Version   string    `json:"version,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	// Raw is the Source's own representation (FHIR JSON), kept verbatim.
	Raw []byte `json:"raw,omitempty"`
	// Deleted marks an observation the Source no longer has.
	Deleted bool `json:"deleted,omitempty"`
}

// Revision returns the observation's revision.
func (o *Observation) Revision() Revision { return Revision{o.Version, o.UpdatedAt} }

// Fingerprint summarizes the observation's data: equal means unchanged.
func (o *Observation) Fingerprint() string {
	num := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'g', -1, 64)
	}
	return fingerprint(o.Patient.String(), o.Report.String(), o.Category, o.Code.System, o.Code.Code, o.Code.Display,
		string(o.Status), stamp(o.Effective), num(o.Value), o.Comparator, o.Unit, o.Text, num(o.Low), num(o.High),
		o.RangeText, o.Interpretation, strconv.FormatBool(o.Deleted))
}

// Validate reports the first field that makes o unusable.
func (o *Observation) Validate() error {
	if err := o.Ref.Validate(); err != nil {
		return fmt.Errorf("observation: %w", err)
	}
	if err := o.Patient.Validate(); err != nil {
		return fmt.Errorf("observation %s patient: %w", o.Ref, err)
	}
	if !o.Deleted && o.Code.Code == "" {
		return fmt.Errorf("%w: observation %s has no code", ErrInvalid, o.Ref)
	}
	return nil
}

// StoredObservation is an observation as kept locally.
type StoredObservation struct {
	ID        int64
	PatientID int64
	Observation
	Fingerprint string
}

// ObservationSource is a Source that also gives the patient's
// observations as data (FHIR Observation): lab results and vital signs.
// The engine lists them in every reconcile, after the documents, with a
// cursor of their own, and pulls each like a document: at least once,
// idempotently, a version older than the local copy never written over
// it.
type ObservationSource interface {
	// ListObservations is ListDocuments for the patient's observations,
	// with the same contract; its cursor is its own.
	ListObservations(ctx context.Context, patient Ref, cursor string) (Page, error)
	// FetchObservation returns the observation as the Source has it now.
	// ErrNotFound means it was deleted.
	FetchObservation(ctx context.Context, ref Ref) (*Observation, error)
}

// ObservationTx is a Tx that keeps observations: the stores under store/
// implement it. An engine whose Source gives observations needs it.
type ObservationTx interface {
	Observation(ctx context.Context, ref Ref) (StoredObservation, error)
	// SaveObservation inserts or updates the observation by its Ref, and
	// keeps the revision it replaces in the observation's history.
	SaveObservation(ctx context.Context, o StoredObservation) (id int64, err error)
}

// observationCursor is the key the observations' listing cursor of a
// patient is saved under, beside the documents' (Tx.Cursor).
func observationCursor(patient string) string { return patient + "#observations" }
