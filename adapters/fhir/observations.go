package fhir

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/provider"
)

var _ connector.ObservationSource = (*Source)(nil)

const typeObservation = "Observation"

// Observation categories (FHIR observation-category) the Source lists.
const (
	categoryLaboratory = "laboratory"
	categoryVitalSigns = "vital-signs"
)

// observationListing lists a patient's observations: laboratory, then
// vital signs (US Core's searches by patient and category).
var observationListing = listing{
	{typ: typeObservation, params: url.Values{"category": {categoryLaboratory}}},
	{typ: typeObservation, params: url.Values{"category": {categoryVitalSigns}}},
}

// ListObservations lists one page of the patient's laboratory, then
// vital-sign Observations changed since cursor, paged, deduplicated and
// bounded exactly as ListDocuments lists documents. An observation
// entered in error is listed as it is, not as deleted: it is kept, out
// of every series.
//
// The results a DiagnosticReport lists are found by these searches when
// they carry the laboratory category, as US Core requires of them.
//
// A server that forbids the search (403: the client's scopes lack
// system/Observation.rs, as for a client registered before this
// library read observations) lists none, logged, so that documents keep
// syncing.
//
// The reports of a page's observations are looked up in one search a few
// dozen observations (DiagnosticReport?result=<a>,<b>,…) and remembered
// for FetchObservation, which otherwise searches for each.
func (s *Source) ListObservations(ctx context.Context, patient connector.Ref, cur string) (connector.Page, error) {
	page, err := s.list(ctx, patient, cur, observationListing)
	var se *provider.StatusError
	if errors.As(err, &se) && se.StatusCode == http.StatusForbidden {
		s.log.WarnContext(ctx, "fhir server forbids searching observations; none are synced (grant system/Observation.rs)",
			"patient", patient.ID)
		return connector.Page{Cursor: cur}, nil
	}
	if err != nil {
		return page, err
	}
	var ids []string
	for _, it := range page.Items {
		if !it.Deleted {
			ids = append(ids, it.Ref.ID)
		}
	}
	for len(ids) > 0 {
		n := min(len(ids), reportLookupBatch)
		if err := s.rememberReports(ctx, ids[:n]); err != nil {
			return connector.Page{}, fmt.Errorf("reports of listed observations: %w", err)
		}
		ids = ids[n:]
	}
	return page, nil
}

// reportLookupBatch is how many observations one report search names.
const reportLookupBatch = 40

// rememberReports finds the DiagnosticReports that list the observations
// ids and remembers, for each observation listed by one, its report.
func (s *Source) rememberReports(ctx context.Context, ids []string) error {
	refs := make([]string, len(ids))
	for i, id := range ids {
		refs[i] = typeObservation + "/" + id
	}
	return s.routeSearch(ctx, typeDiagnosticReport, url.Values{"result": {strings.Join(refs, ",")}}, func(r provider.Resource) {
		dr, ok := r.(*provider.DiagnosticReport)
		if !ok {
			return
		}
		for _, res := range dr.Result {
			if typ, id, ok := res.TypeID(); ok && typ == typeObservation {
				s.reports.put(id, dr.ID)
			}
		}
	})
}

// FetchObservation reads an Observation. For a laboratory result, the
// DiagnosticReport that lists it (DiagnosticReport?result=) is its
// report: FHIR links them only that way. The report a listing found is
// taken as it is; a report that lists the observation later is found
// when the observation is listed or fetched again after the memo of
// reports starts over.
func (s *Source) FetchObservation(ctx context.Context, ref connector.Ref) (*connector.Observation, error) {
	r, err := s.c.Read(ctx, typeObservation, ref.ID)
	if err != nil {
		return nil, s.classifyRead(ctx, typeObservation, ref.ID, err)
	}
	o, ok := r.(*provider.Observation)
	if !ok {
		return nil, fmt.Errorf("%w: read Observation/%s returned a %T", connector.ErrPermanent, ref.ID, r)
	}
	obs := mapObservation(o)
	if obs.Patient.ID == "" {
		return nil, fmt.Errorf("%w: observation subject is not a patient reference", connector.ErrPermanent)
	}
	if report, ok := s.reports.get(o.ID); ok {
		obs.Report = connector.Ref{Type: typeDiagnosticReport, ID: report}
	} else if obs.Category != categoryVitalSigns {
		err := s.routeSearch(ctx, typeDiagnosticReport, url.Values{"result": {"Observation/" + o.ID}}, func(r provider.Resource) {
			dr, ok := r.(*provider.DiagnosticReport)
			if !ok || !obs.Report.IsZero() {
				return
			}
			for _, res := range dr.Result {
				if typ, id, ok := res.TypeID(); ok && typ == typeObservation && id == o.ID {
					obs.Report = connector.Ref{Type: typeDiagnosticReport, ID: dr.ID}
					return
				}
			}
		})
		if err != nil {
			return nil, fmt.Errorf("report of observation %s: %w", o.ID, err)
		}
	}
	return obs, nil
}

// mapObservation maps an Observation's data. Its code is the LOINC
// coding when it has one, else the first; its value a quantity (in the
// UCUM code when given, else the unit's text), a coded value's display
// or a string; its flag the first interpretation's code.
func mapObservation(o *provider.Observation) *connector.Observation {
	obs := &connector.Observation{
		Ref:     connector.Ref{Type: typeObservation, ID: o.ID},
		Patient: patientRef(o.Subject),
		Code:    pickCoding(o.Code, "http://loinc.org"),
		Status:  connector.ObservationStatus(o.Status),
		Version: o.Meta.VersionID,
		Raw:     o.Raw(),
	}
	if obs.Status == "" {
		obs.Status = connector.ObservationUnknown
	}
	if t, ok := o.LastUpdated(); ok {
		obs.UpdatedAt = t
	}
	for _, c := range o.Category {
		for _, cd := range c.Coding {
			if cd.Code == categoryLaboratory || cd.Code == categoryVitalSigns {
				obs.Category = cd.Code
			}
		}
		if obs.Category == "" && len(c.Coding) > 0 {
			obs.Category = c.Coding[0].Code
		}
	}
	var period provider.Instant
	if o.EffectivePeriod != nil {
		period = o.EffectivePeriod.Start
	}
	obs.Effective = firstTime(o.EffectiveDateTime, o.EffectiveInstant, period, o.Issued)
	switch {
	case o.ValueQuantity != nil && o.ValueQuantity.Value != nil:
		v := *o.ValueQuantity.Value
		obs.Value, obs.Comparator, obs.Unit = &v, o.ValueQuantity.Comparator, quantityUnit(o.ValueQuantity)
	case o.ValueCodeable != nil:
		obs.Text = o.ValueCodeable.Display()
	default:
		obs.Text = o.ValueString
	}
	if len(o.ReferenceRange) > 0 {
		rr := o.ReferenceRange[0]
		if rr.Low != nil && rr.Low.Value != nil {
			v := *rr.Low.Value
			obs.Low = &v
		}
		if rr.High != nil && rr.High.Value != nil {
			v := *rr.High.Value
			obs.High = &v
		}
		obs.RangeText = rr.Text
	}
	for _, in := range o.Interpretation {
		for _, cd := range in.Coding {
			if cd.Code != "" {
				obs.Interpretation = cd.Code
				break
			}
		}
		if obs.Interpretation != "" {
			break
		}
		obs.Interpretation = strings.TrimSpace(in.Text)
	}
	return obs
}

// pickCoding returns c's coding in system, else its first, with c's text
// as the display when the coding has none.
func pickCoding(c provider.CodeableConcept, system string) connector.Coding {
	var out connector.Coding
	for i, cd := range c.Coding {
		if i == 0 || cd.System == system {
			out = connector.Coding{System: cd.System, Code: cd.Code, Display: cd.Display}
		}
		if cd.System == system {
			break
		}
	}
	if out.Display == "" {
		out.Display = c.Text
	}
	return out
}

// quantityUnit is a quantity's UCUM code when it has one, else its unit.
func quantityUnit(q *provider.Quantity) string {
	if q.Code != "" && (q.System == "" || q.System == "http://unitsofmeasure.org") {
		return q.Code
	}
	return q.Unit
}
