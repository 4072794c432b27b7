package connector

import (
	"context"
	"fmt"

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
				ops[i] = ReconcileOp{Source: op.Source, Patient: r.ID, Full: op.Full, Action: op.Action, Run: uuid.NewString(),
					Coalesce: op.Action == ActionPoll || op.Action == ActionAutomaticUpdate}
			}
			_, err = tx.Enqueue(ctx, ops...)
			return err
		})
	}

	patient := Ref{System: op.Source, Type: PatientType, ID: op.Patient}
	var (
		patientID int64
		cursor    string
		started   bool
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
		cursor, err = tx.Cursor(ctx, op.Source, op.Patient)
		return err
	})
	if err != nil {
		return fmt.Errorf("reconcile %s: %w", patient, err)
	}
	if !started {
		if err := e.listPages(ctx, src, op, patient, patientID, cursor); err != nil {
			return err
		}
	}
	var prog Progress
	err = job.Complete(ctx, []Op{op}, func(tx Tx) (err error) {
		prog, err = e.advance(ctx, tx, op.Run, patientID, RunDelta{Phase: PhaseFetching})
		if err != nil {
			return err
		}
		return tx.AppendLog(ctx, LogEntry{
			PatientID: patientID, Action: op.Action, Status: StatusSuccess, Timestamp: e.cfg.Now(),
			Details: fmt.Sprintf("listed %d documents from %s", prog.Total, op.Source),
		})
	})
	if err != nil {
		return fmt.Errorf("reconcile %s: %w", patient, err)
	}
	e.hub.Publish(prog)
	return nil
}

// listPages walks the Source's listing from cursor to its end.
func (e *Engine) listPages(ctx context.Context, src Source, op ReconcileOp, patient Ref, patientID int64, cursor string) error {
	for {
		var page Page
		err := e.call(ctx, func(ctx context.Context) (err error) {
			page, err = src.ListDocuments(ctx, patient, cursor)
			return err
		})
		if err != nil {
			return fmt.Errorf("reconcile %s: list: %w", patient, err)
		}
		ops := make([]Op, len(page.Items))
		for i, it := range page.Items {
			it.Ref.System = op.Source
			ops[i] = PullOp{Ref: it.Ref, Version: it.Version, Delete: it.Deleted, Event: op.Run, Action: op.Action, Run: op.Run}
		}
		var prog Progress
		err = e.cfg.Store.Update(ctx, func(tx Tx) error {
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
			return tx.SaveCursor(ctx, op.Source, op.Patient, page.Cursor)
		})
		if err != nil {
			return fmt.Errorf("reconcile %s: %w", patient, err)
		}
		e.hub.Publish(prog)
		if !page.More {
			return nil
		}
		if page.Cursor == cursor {
			return fmt.Errorf("%w: reconcile %s: source returned the same cursor with more pages", ErrPermanent, patient)
		}
		cursor = page.Cursor
	}
}
