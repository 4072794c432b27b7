package connector

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// reconcile lists what changed for one patient since the saved cursor and
// enqueues a pull for each listed document, page by page: each page's
// pulls, the run's progress and the advanced cursor commit together, so a
// reconcile cut short resumes after the last committed page. Without a
// patient it fans out to every known patient of the source.
func (e *Engine) reconcile(ctx context.Context, job Job, op ReconcileOp) error {
	src, err := e.source(op.Source)
	if err != nil {
		return err
	}
	if op.Patient == "" {
		return job.Complete(ctx, []Op{op}, func(tx Tx) error {
			refs, err := tx.PatientRefs(ctx, op.Source)
			if err != nil {
				return err
			}
			ops := make([]Op, len(refs))
			for i, r := range refs {
				// Automatic reconciles of a patient coalesce, so that a
				// slow or failing source does not pile them up.
				ops[i] = ReconcileOp{Source: op.Source, Patient: r.ID, Full: op.Full, Sweep: op.Sweep, Action: op.Action,
					Run: uuid.NewString(), Coalesce: op.Action == ActionPoll || op.Action == ActionAutomaticUpdate}
			}
			_, err = tx.Enqueue(ctx, ops...)
			return err
		})
	}

	patient := Ref{System: op.Source, Type: PatientType, ID: op.Patient}
	if op.Sweep {
		return e.sweep(ctx, job, src, op, patient)
	}
	var (
		patientID       int64
		cursor, obsCurs string
		started         bool
	)
	err = e.cfg.Store.Update(ctx, func(tx Tx) error {
		p, err := tx.Patient(ctx, patient)
		if err != nil {
			return err
		}
		patientID = p.ID
		prog, err := tx.UpdateRun(ctx, op.Run, patientID, RunDelta{})
		if err != nil {
			return err
		}
		// A run already past listing was interrupted after its last page.
		started = prog.Phase != "" && prog.Phase != PhaseListing
		if op.Full && prog.Total == 0 {
			return nil
		}
		if cursor, err = tx.Cursor(ctx, op.Source, op.Patient); err != nil {
			return err
		}
		obsCurs, err = tx.Cursor(ctx, op.Source, observationCursor(op.Patient))
		return err
	})
	if err != nil {
		return fmt.Errorf("reconcile %s: %w", patient, err)
	}
	if !started {
		if err := e.listPages(ctx, src.ListDocuments, op, patient, patientID, cursor, op.Patient); err != nil {
			return err
		}
		if os, ok := src.(ObservationSource); ok {
			err := e.listPages(ctx, os.ListObservations, op, patient, patientID, obsCurs, observationCursor(op.Patient))
			if err != nil {
				return err
			}
		}
	}
	listed := "documents"
	if _, ok := src.(ObservationSource); ok {
		listed = "documents and observations"
	}
	var prog Progress
	err = job.Complete(ctx, []Op{op}, func(tx Tx) (err error) {
		prog, err = e.advance(ctx, tx, op.Run, patientID, RunDelta{Phase: PhaseFetching})
		if err != nil {
			return err
		}
		if err := e.catchUp(ctx, tx, patient); err != nil {
			return err
		}
		return tx.AppendLog(ctx, LogEntry{
			PatientID: patientID, Action: op.Action, Status: StatusSuccess, Timestamp: e.cfg.Now(),
			Details: fmt.Sprintf("listed %d %s from %s", prog.Total, listed, op.Source),
		})
	})
	if err != nil {
		return fmt.Errorf("reconcile %s: %w", patient, err)
	}
	e.hub.Publish(prog)
	return nil
}

// listPages walks a listing of the Source (its documents' or its
// observations') from cursor to its end, or for at most MaxPages pages:
// the next reconcile goes on from the cursor saved under key. Each page's
// pulls, the run's progress and the next cursor commit together.
func (e *Engine) listPages(ctx context.Context, list listFunc, op ReconcileOp, patient Ref, patientID int64, cursor, key string) error {
	complete, err := e.walk(ctx, list, patient, cursor, func(page Page) error {
		ops := make([]Op, len(page.Items))
		for i, it := range page.Items {
			it.Ref.System = op.Source
			ops[i] = PullOp{Ref: it.Ref, Version: it.Version, Delete: it.Deleted, Event: op.Run, Action: op.Action, Run: op.Run}
		}
		var prog Progress
		err := e.cfg.Store.Update(ctx, func(tx Tx) error {
			skipped, err := tx.Enqueue(ctx, ops...)
			if err != nil {
				return err
			}
			// A pull already done for this version will not run again:
			// count it as done now.
			prog, err = tx.UpdateRun(ctx, op.Run, patientID, RunDelta{Total: len(ops), Done: skipped, Phase: PhaseListing})
			if err != nil {
				return err
			}
			return tx.SaveCursor(ctx, op.Source, key, page.Cursor)
		})
		if err != nil {
			return fmt.Errorf("reconcile %s: %w", patient, err)
		}
		e.hub.Publish(prog)
		return nil
	})
	if err == nil && !complete {
		e.log.WarnContext(ctx, "reconcile stopped at the page limit; the next one goes on from here",
			"source", op.Source, "patient_id", patientID, "run", op.Run, "pages", e.cfg.MaxPages)
	}
	return err
}

// listFunc is one of a Source's listings: ListDocuments,
// ListObservations.
type listFunc func(ctx context.Context, patient Ref, cursor string) (Page, error)

// walk calls each with every page of the patient's listing from cursor,
// until the listing ends (complete) or MaxPages pages were listed.
func (e *Engine) walk(ctx context.Context, list listFunc, patient Ref, cursor string, each func(Page) error) (complete bool, err error) {
	for pages := 1; ; pages++ {
		var page Page
		err := e.call(ctx, func(ctx context.Context) (err error) {
			page, err = list(ctx, patient, cursor)
			return err
		})
		if err != nil {
			return false, fmt.Errorf("list %s: %w", patient, err)
		}
		if err := each(page); err != nil {
			return false, err
		}
		switch {
		case !page.More:
			return true, nil
		case page.Cursor == cursor:
			return false, fmt.Errorf("%w: list %s: source returned the same cursor with more pages", ErrPermanent, patient)
		case pages >= e.cfg.MaxPages:
			return false, nil
		}
		cursor = page.Cursor
	}
}

// sweep is a reconcile's deletion check (ReconcileOp.Sweep): it lists the
// patient's documents from the beginning and asks the Source about each
// local document the listing no longer names, and about nothing else:
// changes are the incremental reconcile's. A pull confirms a deletion by
// reading the document, so a listing that merely leaves one out deletes
// nothing. A listing cut short by MaxPages checks nothing.
func (e *Engine) sweep(ctx context.Context, job Job, src Source, op ReconcileOp, patient Ref) error {
	listed := map[Ref]bool{}
	complete, err := e.walk(ctx, src.ListDocuments, patient, "", func(page Page) error {
		for _, it := range page.Items {
			it.Ref.System = op.Source
			listed[it.Ref] = !it.Deleted
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !complete {
		e.log.WarnContext(ctx, "deletion check skipped: the listing is longer than the page limit",
			"source", op.Source, "patient", patient.ID, "pages", e.cfg.MaxPages)
		return job.Complete(ctx, []Op{op}, func(Tx) error { return nil })
	}
	// Keyed by the day, so that a document still unlisted is asked about
	// again by the next day's check.
	event := "sweep:" + e.cfg.Now().UTC().Format(time.DateOnly)
	return job.Complete(ctx, []Op{op}, func(tx Tx) error {
		p, err := tx.Patient(ctx, patient)
		if err != nil {
			return err
		}
		local, err := tx.LiveDocuments(ctx, patient)
		if err != nil {
			return err
		}
		var ops []Op
		for _, c := range local {
			// A document made here (Engine.SaveLocal) is no Source's to
			// confirm gone.
			if c.Ref.System == op.Source && !listed[c.Ref] {
				ops = append(ops, PullOp{Ref: c.Ref, Delete: true, Event: event, Action: op.Action})
			}
		}
		if len(ops) == 0 {
			return nil
		}
		if _, err := tx.Enqueue(ctx, ops...); err != nil {
			return err
		}
		return tx.AppendLog(ctx, LogEntry{PatientID: p.ID, Action: op.Action, Status: StatusSuccess, Timestamp: e.cfg.Now(),
			Details: fmt.Sprintf("deletion check: %d local documents no longer listed by %s; asking it about each", len(ops), op.Source)})
	})
}

// catchUp enqueues a delivery of every local copy of the patient that a
// sink does not hold as it is, whatever happened to the delivery first
// enqueued for it: the sink mapping, not a job's fate, says what a sink
// lacks. So a delivery that died in a long outage of a sink is made good
// by a reconcile once the sink is back. A copy kept less than
// CatchUpAfter ago is left to its first delivery, which may still be
// retrying; catch-ups are keyed by the hour, one an hour for each copy
// still missing.
func (e *Engine) catchUp(ctx context.Context, tx Tx, patient Ref) error {
	now := e.cfg.Now()
	hour := now.UTC().Format("2006-01-02T15")
	var ops []Op
	for _, sink := range e.SinkNames() {
		// Only the copies old enough: during a backfill, every copy kept
		// is on its first delivery, and listing them all would hold as
		// many as the patient has documents.
		copies, err := tx.Undelivered(ctx, sink, patient, now.Add(-e.cfg.CatchUpAfter))
		if err != nil {
			return err
		}
		for _, c := range copies {
			ops = append(ops, DeliverOp{Sink: sink, Ref: c.Ref, Version: c.Version, Fingerprint: c.Fingerprint,
				Deleted: c.Deleted, Action: ActionDelivery, CatchUp: hour})
		}
	}
	_, err := tx.Enqueue(ctx, ops...)
	return err
}
