package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

var _ connector.ObservationTx = (*tx)(nil)

// observationColumns are read from observations o.
const observationColumns = `o.id, o.patient_id, o.source_system, o.source_id, p.source, p.source_id, o.report_type,
	o.report_id, o.category, o.code_system, o.code, o.display, o.status, o.effective_at, o.value, o.comparator, o.unit,
	o.value_text, o.range_low, o.range_high, o.range_text, o.interpretation, o.version, o.updated_at, o.deleted,
	o.fingerprint`

// scanObservation reads a row of observationColumns, then into extra the
// columns that follow them.
func scanObservation(r Row, extra ...any) (connector.StoredObservation, error) {
	var (
		o                                                connector.StoredObservation
		system, id, patientSystem, patientID             nullString
		reportType, reportID, category, codeSystem, code nullString
		display, status, comparator, unit, text, rngText nullString
		interpretation, version, fingerprint             nullString
		effective, updated                               nullTime
		value, low, high                                 *float64
	)
	err := r.Scan(append([]any{&o.ID, &o.PatientID, &system, &id, &patientSystem, &patientID, &reportType, &reportID,
		&category, &codeSystem, &code, &display, &status, &effective, &value, &comparator, &unit, &text, &low, &high,
		&rngText, &interpretation, &version, &updated, &o.Deleted, &fingerprint}, extra...)...)
	if err != nil {
		return o, err
	}
	o.Ref = connector.Ref{System: string(system), Type: connector.ObservationType, ID: string(id)}
	o.Patient = connector.Ref{System: string(patientSystem), Type: connector.PatientType, ID: string(patientID)}
	if reportID != "" {
		o.Report = connector.Ref{System: string(system), Type: string(reportType), ID: string(reportID)}
	}
	o.Category, o.Code = string(category), connector.Coding{System: string(codeSystem), Code: string(code), Display: string(display)}
	o.Status, o.Effective, o.Value, o.Comparator = connector.ObservationStatus(status), effective.Time, value, string(comparator)
	o.Unit, o.Text, o.Low, o.High, o.RangeText = string(unit), string(text), low, high, string(rngText)
	o.Interpretation, o.Version, o.UpdatedAt, o.Fingerprint = string(interpretation), string(version), updated.Time, string(fingerprint)
	return o, nil
}

func (t *tx) Observation(ctx context.Context, ref connector.Ref) (connector.StoredObservation, error) {
	o, err := scanObservation(t.q.QueryRow(ctx, `SELECT `+observationColumns+` FROM observations o
			JOIN patients p ON p.id = o.patient_id
		WHERE o.source_system = $1 AND o.source_id = $2`, ref.System, ref.ID))
	return o, notFound(err, "observation "+ref.String())
}

// SaveObservation keeps the revision it replaces, if any, in
// observation_versions, then writes o over it: the series shows the
// current revision, the history every one before.
func (t *tx) SaveObservation(ctx context.Context, o connector.StoredObservation) (int64, error) {
	if o.Ref.Type != connector.ObservationType {
		return 0, fmt.Errorf("%w: observation ref %s is not of type %s", connector.ErrInvalid, o.Ref, connector.ObservationType)
	}
	old, err := t.Observation(ctx, o.Ref)
	switch {
	case err == nil:
		data, err := json.Marshal(old.Observation)
		if err != nil {
			return 0, err
		}
		if _, err := t.q.Exec(ctx, `INSERT INTO observation_versions (observation_id, version, status, data, replaced_at)
			VALUES ($1, $2, $3, $4, $5)`, old.ID, old.Version, string(old.Status), string(data), t.now().UTC()); err != nil {
			return 0, err
		}
	case !errors.Is(err, connector.ErrNotFound):
		return 0, err
	}
	var reportType, reportID any
	if !o.Report.IsZero() {
		reportType, reportID = o.Report.Type, o.Report.ID
	}
	var id int64
	err = t.q.QueryRow(ctx, `INSERT INTO observations (patient_id, source_system, source_id, report_type, report_id,
			category, code_system, code, display, status, effective_at, value, comparator, unit, value_text, range_low,
			range_high, range_text, interpretation, version, updated_at, deleted, fingerprint, synced_at, raw)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
			$23, $24, $25)
		ON CONFLICT (source_system, source_id) DO UPDATE SET patient_id = excluded.patient_id,
			report_type = excluded.report_type, report_id = excluded.report_id, category = excluded.category,
			code_system = excluded.code_system, code = excluded.code, display = excluded.display,
			status = excluded.status, effective_at = excluded.effective_at, value = excluded.value,
			comparator = excluded.comparator, unit = excluded.unit, value_text = excluded.value_text,
			range_low = excluded.range_low, range_high = excluded.range_high, range_text = excluded.range_text,
			interpretation = excluded.interpretation, version = excluded.version, updated_at = excluded.updated_at,
			deleted = excluded.deleted, fingerprint = excluded.fingerprint, synced_at = excluded.synced_at,
			raw = excluded.raw
		RETURNING id`,
		o.PatientID, o.Ref.System, o.Ref.ID, reportType, reportID, o.Category, o.Code.System, o.Code.Code,
		o.Code.Display, string(o.Status), timeArg(o.Effective), o.Value, o.Comparator, o.Unit, o.Text, o.Low, o.High,
		o.RangeText, o.Interpretation, o.Version, timeArg(o.UpdatedAt), o.Deleted, o.Fingerprint, t.now().UTC(),
		o.Raw).Scan(&id)
	return id, err
}

// outOfSeries are the statuses a series leaves out
// (connector.ObservationStatus.InSeries).
var outOfSeries = []string{string(connector.ObservationEnteredInError), string(connector.ObservationCancelled),
	string(connector.ObservationRegistered)}

// Observations lists the patient's observations in a series: not
// deleted, not out of series, oldest first (ties by id). With q.Latest,
// only the latest q.Latest of each code, by a window over the series
// index.
func (t *tx) Observations(ctx context.Context, q practice.ObservationQuery) ([]connector.StoredObservation, error) {
	var args params
	conds := []string{"o.patient_id = " + args.add(q.PatientID), "o.deleted = " + args.add(false)}
	placeholders := make([]string, len(outOfSeries))
	for i, s := range outOfSeries {
		placeholders[i] = args.add(s)
	}
	conds = append(conds, "o.status NOT IN ("+strings.Join(placeholders, ", ")+")")
	if q.Codes != nil {
		if len(q.Codes) == 0 {
			return nil, nil
		}
		ph := make([]string, len(q.Codes))
		for i, c := range q.Codes {
			ph[i] = args.add(c)
		}
		conds = append(conds, "o.code IN ("+strings.Join(ph, ", ")+")")
	}
	if !q.From.IsZero() {
		conds = append(conds, "o.effective_at >= "+args.add(q.From.UTC()))
	}
	if !q.To.IsZero() {
		conds = append(conds, "o.effective_at < "+args.add(q.To.UTC()))
	}
	query := `SELECT ` + observationColumns + ` FROM observations o JOIN patients p ON p.id = o.patient_id` +
		where(conds) + ` ORDER BY o.effective_at IS NULL, o.effective_at, o.id`
	if q.Latest > 0 {
		query = `SELECT ` + observationColumns + ` FROM (SELECT o.*, row_number() OVER (PARTITION BY o.code
				ORDER BY o.effective_at IS NULL, o.effective_at DESC, o.id DESC) AS rank
			FROM observations o` + where(conds) + `) o JOIN patients p ON p.id = o.patient_id
			WHERE o.rank <= ` + args.add(q.Latest) + ` ORDER BY o.effective_at IS NULL, o.effective_at, o.id`
	}
	if q.Limit > 0 {
		query += ` LIMIT ` + args.add(q.Limit) + ` OFFSET ` + args.add(q.Offset)
	}
	rows, err := t.q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list observations: %w", err)
	}
	defer rows.Close()
	var out []connector.StoredObservation
	for rows.Next() {
		o, err := scanObservation(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list observations: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// ObservationHistory lists the revisions the observation had before its
// current one, oldest first.
func (t *tx) ObservationHistory(ctx context.Context, id int64) ([]connector.Observation, error) {
	rows, err := t.q.Query(ctx, `SELECT data FROM observation_versions WHERE observation_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: observation %d history: %w", id, err)
	}
	defer rows.Close()
	var out []connector.Observation
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		var o connector.Observation
		if err := json.Unmarshal([]byte(data), &o); err != nil {
			return nil, fmt.Errorf("store: observation %d history: %w", id, err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
