package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/healthcare-records/healthcare-records/practice"
)

const auditColumns = `id, at, actor_id, actor_role, action, outcome, patient_id, document_id, target, client_addr,
	request_id, detail`

// auditBatch bounds the entries one INSERT appends, well within the
// databases' limits on a statement's parameters (11 an entry).
const auditBatch = 500

func (t *tx) AppendAudit(ctx context.Context, entries ...practice.AuditEntry) error {
	for len(entries) > 0 {
		n := min(len(entries), auditBatch)
		if err := t.appendAudit(ctx, entries[:n]); err != nil {
			return fmt.Errorf("store: append audit: %w", err)
		}
		entries = entries[n:]
	}
	return nil
}

// appendAudit inserts entries in one statement.
func (t *tx) appendAudit(ctx context.Context, entries []practice.AuditEntry) error {
	var (
		args params
		rows = make([]string, len(entries))
	)
	for i, e := range entries {
		if e.At.IsZero() {
			e.At = t.now()
		}
		rows[i] = "(" + strings.Join([]string{
			args.add(e.At.UTC()), args.add(nullID(e.ActorID)), args.add(nullText(string(e.ActorRole))),
			args.add(string(e.Action)), args.add(string(e.Outcome)), args.add(nullID(e.PatientID)),
			args.add(nullID(e.DocumentID)), args.add(nullText(e.Target)), args.add(nullText(e.ClientAddr)),
			args.add(nullText(e.RequestID)), args.add(nullText(e.Detail)),
		}, ", ") + ")"
	}
	_, err := t.q.Exec(ctx, `INSERT INTO audit_log (at, actor_id, actor_role, action, outcome, patient_id, document_id,
			target, client_addr, request_id, detail)
		VALUES `+strings.Join(rows, ", "), args...)
	return err
}

func scanAudit(r Row) (practice.AuditEntry, error) {
	var (
		e                                          practice.AuditEntry
		actorID, patientID, documentID             *int64
		role, action, outcome, target, addr, reqID nullString
		detail                                     nullString
		at                                         nullTime
	)
	err := r.Scan(&e.ID, &at, &actorID, &role, &action, &outcome, &patientID, &documentID, &target, &addr, &reqID, &detail)
	if err != nil {
		return e, err
	}
	for _, id := range []struct {
		from *int64
		to   *int64
	}{{actorID, &e.ActorID}, {patientID, &e.PatientID}, {documentID, &e.DocumentID}} {
		if id.from != nil {
			*id.to = *id.from
		}
	}
	e.At, e.ActorRole, e.Action, e.Outcome = at.Time, practice.Role(role), practice.Action(action), practice.Outcome(outcome)
	e.Target, e.ClientAddr, e.RequestID, e.Detail = string(target), string(addr), string(reqID), string(detail)
	return e, nil
}

func (t *tx) Audit(ctx context.Context, q practice.AuditQuery) ([]practice.AuditEntry, error) {
	var (
		args  params
		conds []string
	)
	conds = args.matchIDs(conds, idFilter{"actor_id", q.ActorID}, idFilter{"patient_id", q.PatientID},
		idFilter{"document_id", q.DocumentID})
	if q.Action != "" {
		conds = append(conds, "action = "+args.add(string(q.Action)))
	}
	if q.Outcome != "" {
		conds = append(conds, "outcome = "+args.add(string(q.Outcome)))
	}
	if !q.From.IsZero() {
		conds = append(conds, "at >= "+args.add(q.From.UTC()))
	}
	if !q.To.IsZero() {
		conds = append(conds, "at < "+args.add(q.To.UTC()))
	}
	if q.BeforeID != 0 {
		conds = append(conds, "id < "+args.add(q.BeforeID))
	}
	rows, err := t.q.Query(ctx, `SELECT `+auditColumns+` FROM audit_log`+where(conds)+
		` ORDER BY id DESC LIMIT `+args.add(listLimit(q.Limit)), args...)
	out, err := scanAll(rows, err, scanAudit)
	if err != nil {
		return nil, fmt.Errorf("store: list audit: %w", err)
	}
	return out, nil
}
