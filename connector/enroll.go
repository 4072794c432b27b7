package connector

import (
	"context"
	"fmt"

	"github.com/google/uuid"
)

// Enroll starts the first sync of a patient the caller has just stored,
// in the caller's transaction, and returns the run id its progress is
// published under. The caller inserts the patient's row in tx first (its
// ref the Source's; the practice's own columns as it likes: the engine
// never writes those). Enroll enqueues the patient's pull, which keeps the
// Source's copy of the patient and then enqueues a reconcile of its
// documents under the same run.
//
// The run counts the patient's pull as one of its items, and stays in
// PhaseListing until the listing ends, so its Progress is Finished only
// once the patient and every listed document are pulled or failed. A
// patient the Source does not have, or whose pull fails for good, ends
// the run with that error and lists nothing.
func (e *Engine) Enroll(ctx context.Context, tx Tx, patient Ref, action Action) (string, error) {
	if err := patient.Validate(); err != nil {
		return "", fmt.Errorf("enroll: %w", err)
	}
	if patient.Type != PatientType {
		return "", fmt.Errorf("%w: enroll: %s is not a patient", ErrInvalid, patient)
	}
	if _, ok := e.cfg.Sources[patient.System]; !ok {
		return "", fmt.Errorf("%w: enroll: unknown source %q", ErrInvalid, patient.System)
	}
	if action == "" {
		action = ActionManualSync
	}
	p, err := tx.Patient(ctx, patient)
	if err != nil {
		return "", fmt.Errorf("enroll %s: %w", patient, err)
	}
	run := uuid.NewString()
	if _, err := tx.UpdateRun(ctx, run, p.ID, RunDelta{Total: 1, Phase: PhaseListing}); err != nil {
		return "", fmt.Errorf("enroll %s: %w", patient, err)
	}
	op := PullOp{Ref: patient, Event: "enroll:" + run, Action: action, Run: run, Reconcile: true}
	if _, err := tx.Enqueue(ctx, op); err != nil {
		return "", fmt.Errorf("enroll %s: %w", patient, err)
	}
	return run, nil
}
