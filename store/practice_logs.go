package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

const logColumns = `id, patient_id, document_id, action, "timestamp", status, details`

func scanLog(r Row) (connector.LogEntry, error) {
	var (
		e                       connector.LogEntry
		patientID, documentID   *int64
		action, status, details nullString
		at                      nullTime
	)
	if err := r.Scan(&e.ID, &patientID, &documentID, &action, &at, &status, &details); err != nil {
		return e, err
	}
	if patientID != nil {
		e.PatientID = *patientID
	}
	if documentID != nil {
		e.DocumentID = *documentID
	}
	e.Action, e.Status, e.Details, e.Timestamp = connector.Action(action), connector.Status(status), string(details), at.Time
	return e, nil
}

// logConditions returns the conditions on synchronization_log of q's
// filters but its patients, Latest, BeforeID and Limit, binding their
// arguments in args; owner apart, as it holds for every entry of a
// patient.
func logConditions(q practice.LogQuery, args *params) (owner, conds []string) {
	if q.OwnerID != 0 {
		owner = []string{"EXISTS (SELECT 1 FROM patients p WHERE p.id = synchronization_log.patient_id AND p.user_id = " +
			args.add(q.OwnerID) + ")"}
	}
	if q.Action != "" {
		conds = append(conds, "action = "+args.add(string(q.Action)))
	}
	if q.Status != "" {
		conds = append(conds, "status = "+args.add(string(q.Status)))
	}
	if !q.From.IsZero() {
		conds = append(conds, `"timestamp" >= `+args.add(q.From.UTC()))
	}
	if !q.To.IsZero() {
		conds = append(conds, `"timestamp" < `+args.add(q.To.UTC()))
	}
	if q.Text != "" {
		conds = append(conds, args.contains("details", q.Text))
	}
	return owner, conds
}

func (t *tx) Logs(ctx context.Context, q practice.LogQuery) ([]connector.LogEntry, error) {
	var args params
	owner, conds := logConditions(q, &args)
	if q.BeforeID != 0 {
		conds = append(conds, "id < "+args.add(q.BeforeID))
	}
	from := ` FROM synchronization_log`
	switch {
	case q.Latest && q.PatientIDs != nil:
		// A patient's newest entry is its largest id, which the index on
		// (patient_id, id) finds at once, however long its log.
		newest := make([]string, len(q.PatientIDs))
		for i, id := range q.PatientIDs {
			newest[i] = `(SELECT MAX(id) FROM synchronization_log` + where(append([]string{"patient_id = " + args.add(id)}, conds...)) + `)`
		}
		if len(newest) == 0 {
			newest = []string{"NULL"}
		}
		from += where(append(owner, `id IN (`+strings.Join(newest, ", ")+`)`))
	case q.Latest:
		from += where(append(owner, `id IN (SELECT MAX(id) FROM synchronization_log`+where(conds)+` GROUP BY patient_id)`))
	default:
		if q.PatientIDs != nil {
			conds = append(conds, args.in("patient_id", q.PatientIDs))
		}
		from += where(append(owner, conds...))
	}
	rows, err := t.q.Query(ctx, `SELECT `+logColumns+from+` ORDER BY id DESC LIMIT `+args.add(listLimit(q.Limit)), args...)
	out, err := scanAll(rows, err, scanLog)
	if err != nil {
		return nil, fmt.Errorf("store: list logs: %w", err)
	}
	return out, nil
}

// CountLogs counts in one pass over the range's entries: the span of an
// entry is the first bound it is before, a CASE of comparisons either
// database runs the same way.
func (t *tx) CountLogs(ctx context.Context, q practice.LogQuery, bounds []time.Time) ([]map[connector.Status]int, error) {
	if len(bounds) < 2 {
		return nil, nil
	}
	q.From, q.To = bounds[0], bounds[len(bounds)-1]
	var args params
	owner, conds := logConditions(q, &args)
	if q.PatientIDs != nil {
		conds = append(conds, args.in("patient_id", q.PatientIDs))
	}
	var span strings.Builder
	span.WriteString("CASE")
	for i, b := range bounds[1:] {
		fmt.Fprintf(&span, ` WHEN "timestamp" < %s THEN %d`, args.add(b.UTC()), i)
	}
	span.WriteString(" END")
	rows, err := t.q.Query(ctx, `SELECT `+span.String()+`, status, COUNT(*) FROM synchronization_log`+
		where(append(owner, conds...))+` GROUP BY 1, 2`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: count logs: %w", err)
	}
	defer rows.Close()
	counts := make([]map[connector.Status]int, len(bounds)-1)
	for i := range counts {
		counts[i] = map[connector.Status]int{}
	}
	for rows.Next() {
		var (
			i, n   int
			status nullString
		)
		if err := rows.Scan(&i, &status, &n); err != nil {
			return nil, fmt.Errorf("store: count logs: %w", err)
		}
		counts[i][connector.Status(status)] += n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: count logs: %w", err)
	}
	return counts, nil
}

func (t *tx) Log(ctx context.Context, id int64) (connector.LogEntry, error) {
	e, err := scanLog(t.q.QueryRow(ctx, `SELECT `+logColumns+` FROM synchronization_log WHERE id = $1`, id))
	return e, notFound(err, fmt.Sprintf("log entry %d", id))
}

func (t *tx) Run(ctx context.Context, id string) (connector.Progress, error) {
	p := connector.Progress{Run: id}
	err := scanRun(t.q.QueryRow(ctx, `SELECT `+runColumns+` FROM sync_runs WHERE id = $1`, id), &p)
	return p, notFound(err, "run "+id)
}
