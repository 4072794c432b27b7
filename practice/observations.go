package practice

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/labs"
)

// ObservationList selects a patient's observations: one analyte (all its
// codes), or one code, or every one; within From <= Effective < To.
type ObservationList struct {
	Analyte  string
	Code     string
	From, To time.Time
	Cursor   string
	Limit    int
}

// Observation is one value of a series: the provider's, as given, and
// the same in its analyte's display unit when it converts.
type Observation struct {
	connector.StoredObservation
	// Analyte is the id of the analyte whose value set holds the code;
	// empty for a code of none.
	Analyte string
	// Display is the value, and DisplayLow and DisplayHigh the provider's
	// range, in DisplayUnit, the analyte's unit; nil when there is no
	// value or its unit does not convert.
	Display                 *float64
	DisplayUnit             string
	DisplayLow, DisplayHigh *float64
}

// AnalyteSummary is the latest value of one analyte, with what the
// dietician compares it with. The flag is the provider's
// (Latest.Interpretation): this library interprets no value.
type AnalyteSummary struct {
	Analyte labs.Analyte
	Latest  Observation
	// Previous is the value before it; nil for a first value.
	Previous *Observation
	// Change is Latest minus Previous in the analyte's unit; nil without
	// both in it.
	Change *float64
	// Trend is the direction of the last labs.TrendWindow values in the
	// analyte's unit.
	Trend labs.Direction
}

// loincCode is the form of a LOINC code: digits, a dash, a check digit.
var loincCode = regexp.MustCompile(`^[0-9]{1,7}-[0-9]$`)

// Observations lists a patient's observations, oldest first: a time
// series. An observation entered in error, or deleted at the provider,
// is in none; an amended one is there with its current value.
func (s *Service) Observations(ctx context.Context, a Actor, patientID int64, in ObservationList) (List[Observation], error) {
	q, err := observationQuery(patientID, in)
	if err != nil {
		return List[Observation]{}, err
	}
	var rows []connector.StoredObservation
	err = s.cfg.Store.Read(ctx, func(tx Tx) error {
		_, r, err := s.patientFacts(ctx, tx, a, patientID)
		if err != nil {
			return err
		}
		if err := s.check(ctx, a, ActionListObservations, r, 0); err != nil {
			return err
		}
		rows, err = tx.Observations(ctx, q)
		return err
	})
	if err != nil {
		return List[Observation]{}, fmt.Errorf("list observations of patient %d: %w", patientID, err)
	}
	page := pageOf(rows, q.Page)
	out := List[Observation]{Items: make([]Observation, len(page.Items)), Next: page.Next}
	for i, o := range page.Items {
		out.Items[i] = observationOf(o)
	}
	s.record(ctx, a, ActionListObservations, OutcomeSuccess, patientID, 0, "", strconv.Itoa(len(out.Items))+" observations")
	return out, nil
}

func observationQuery(patientID int64, in ObservationList) (ObservationQuery, error) {
	q := ObservationQuery{PatientID: patientID, From: in.From, To: in.To}
	switch {
	case in.Analyte != "" && in.Code != "":
		return q, invalid("code", "give an analyte or a code, not both")
	case in.Analyte != "":
		an, ok := labs.ByID(in.Analyte)
		if !ok {
			return q, invalid("analyte", "must be one of %s", strings.Join(labs.IDs(), ", "))
		}
		q.Codes = an.Codes
	case in.Code != "":
		if !loincCode.MatchString(in.Code) {
			return q, invalid("code", "must be a LOINC code, such as 2345-7")
		}
		q.Codes = []string{in.Code}
	}
	if err := checkRange("from", in.From, in.To); err != nil {
		return q, err
	}
	page, err := offsetPage(in.Cursor, in.Limit)
	q.Page = page
	return q, err
}

// observationOf gives an observation its analyte and its value in the
// analyte's unit.
func observationOf(o connector.StoredObservation) Observation {
	out := Observation{StoredObservation: o}
	an, ok := labs.ByCode(o.Code.Code)
	if !ok {
		return out
	}
	out.Analyte = an.ID
	conv := func(v *float64) *float64 {
		if v == nil {
			return nil
		}
		c, ok := an.Convert(*v, o.Unit)
		if !ok {
			return nil
		}
		return &c
	}
	if out.Display = conv(o.Value); out.Display != nil {
		out.DisplayUnit = an.Unit
		out.DisplayLow, out.DisplayHigh = conv(o.Low), conv(o.High)
	}
	return out
}

// LabSummary returns, for each analyte the patient has values of, in the
// table's order, the latest value with its flag, the change since the
// previous one and the direction of the trend.
func (s *Service) LabSummary(ctx context.Context, a Actor, patientID int64) ([]AnalyteSummary, error) {
	var codes []string
	for _, an := range labs.Analytes {
		codes = append(codes, an.Codes...)
	}
	var rows []connector.StoredObservation
	err := s.cfg.Store.Read(ctx, func(tx Tx) error {
		_, r, err := s.patientFacts(ctx, tx, a, patientID)
		if err != nil {
			return err
		}
		if err := s.check(ctx, a, ActionReadLabSummary, r, 0); err != nil {
			return err
		}
		// The latest few of each code are enough: an analyte's latest
		// values are among the latest of its codes.
		rows, err = tx.Observations(ctx, ObservationQuery{PatientID: patientID, Codes: codes, Latest: labs.TrendWindow})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("lab summary of patient %d: %w", patientID, err)
	}
	out := summarize(rows)
	s.record(ctx, a, ActionReadLabSummary, OutcomeSuccess, patientID, 0, "", strconv.Itoa(len(out))+" analytes")
	return out, nil
}

// summarize groups rows (oldest first) by analyte, in the table's order.
func summarize(rows []connector.StoredObservation) []AnalyteSummary {
	byAnalyte := map[string][]Observation{}
	for _, o := range rows {
		p := observationOf(o)
		byAnalyte[p.Analyte] = append(byAnalyte[p.Analyte], p)
	}
	var out []AnalyteSummary
	for _, an := range labs.Analytes {
		series := byAnalyte[an.ID]
		if len(series) == 0 {
			continue
		}
		if len(series) > labs.TrendWindow {
			series = series[len(series)-labs.TrendWindow:]
		}
		sum := AnalyteSummary{Analyte: an, Latest: series[len(series)-1]}
		var points []labs.Point
		for _, o := range series {
			if o.Display != nil {
				points = append(points, labs.Point{At: o.Effective, Value: *o.Display})
			}
		}
		if len(series) > 1 {
			prev := series[len(series)-2]
			sum.Previous = &prev
			if sum.Latest.Display != nil && prev.Display != nil {
				d := *sum.Latest.Display - *prev.Display
				sum.Change = &d
			}
		}
		sum.Trend = labs.Trend(points)
		out = append(out, sum)
	}
	return out
}
