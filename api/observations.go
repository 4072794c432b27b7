package api

import (
	"context"

	"github.com/healthcare-records/healthcare-records/practice"
)

func (s *server) ListObservations(ctx context.Context, req ListObservationsRequestObject) (ListObservationsResponseObject, error) {
	p := req.Params
	page, err := s.svc.Observations(ctx, actorOf(ctx), req.PatientId, practice.ObservationList{
		Analyte: string(p.Analyte),
		Code:    p.Code,
		From:    p.From,
		To:      p.To,
		Cursor:  p.Cursor,
		Limit:   p.Limit,
	})
	if err != nil {
		return nil, err
	}
	return ListObservations200JSONResponse{Items: mapItems(page.Items, observationOut), NextCursor: page.Next}, nil
}

func (s *server) GetLabSummary(ctx context.Context, req GetLabSummaryRequestObject) (GetLabSummaryResponseObject, error) {
	sum, err := s.svc.LabSummary(ctx, actorOf(ctx), req.PatientId)
	if err != nil {
		return nil, err
	}
	return GetLabSummary200JSONResponse{Items: mapItems(sum, summaryOut)}, nil
}

func observationOut(o practice.Observation) Observation {
	out := Observation{
		Id: o.ID, PatientId: o.PatientID, Analyte: Analyte(o.Analyte),
		Code:     Coding{System: o.Code.System, Code: o.Code.Code, Display: o.Code.Display},
		Category: o.Category, Status: string(o.Status), Effective: o.Effective,
		Value: o.Value, Comparator: o.Comparator, Unit: o.Unit, Text: o.Text,
		Range:          Range{Low: o.Low, High: o.High, Text: o.RangeText},
		Interpretation: o.Interpretation, Version: o.Version, UpdatedAt: o.UpdatedAt,
	}
	if !o.Report.IsZero() {
		out.Report = o.Report.Type + "/" + o.Report.ID
	}
	if o.Display != nil {
		out.Display = &DisplayValue{Value: *o.Display, Unit: o.DisplayUnit, Low: o.DisplayLow, High: o.DisplayHigh}
	}
	return out
}

func summaryOut(a practice.AnalyteSummary) AnalyteSummary {
	out := AnalyteSummary{Analyte: Analyte(a.Analyte.ID), Name: a.Analyte.Name, Unit: a.Analyte.Unit,
		Latest: observationOut(a.Latest), Change: a.Change, Trend: AnalyteSummaryTrend(a.Trend)}
	if a.Previous != nil {
		prev := observationOut(*a.Previous)
		out.Previous = &prev
	}
	return out
}
