package connector

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// WriteBackStatus is where the write-back of a patient edit to its Source
// stands (the seed's two-way update).
type WriteBackStatus string

// The write-back states. An edit starts pending; it ends written, in
// conflict (the Source's record changed since the version the edit was
// made on: RetryWriteBack writes the edit over the Source's current
// version) or failed.
const (
	WriteBackPending  WriteBackStatus = "pending"
	WriteBackWritten  WriteBackStatus = "written"
	WriteBackConflict WriteBackStatus = "conflict"
	WriteBackFailed   WriteBackStatus = "failed"
)

// Unsettled reports whether the local edit is not at the Source yet
// (pending, conflict or failed): pulled copies of the patient then leave
// the local record as it is.
func (s WriteBackStatus) Unsettled() bool {
	return s == WriteBackPending || s == WriteBackConflict || s == WriteBackFailed
}

// WriteBack is the state of the write-back of a patient's last edit.
type WriteBack struct {
	Status WriteBackStatus
	// Base is the Source's version the edit is written over.
	Base string
	// Detail says, readably and without patient data, why a write-back is
	// in conflict or failed.
	Detail string
	// At is when the state was last recorded.
	At time.Time
}

// WriteBackOp writes the local copy of an edited patient back to its
// Source, over the version Base (see Engine.EditPatient).
type WriteBackOp struct {
	Patient Ref    `json:"patient"`
	Base    string `json:"base,omitempty"`
	// Edit names the edit or retry that enqueued the op: each has its
	// own, so an edit that brings a record back to an earlier state is
	// written too.
	Edit string `json:"edit"`
}

// Kind implements Op.
func (WriteBackOp) Kind() string { return "write_back" }

// UniqueKey implements Op: one write-back per edit or retry.
func (o WriteBackOp) UniqueKey() string { return key("write-back", o.Patient.String(), o.Edit) }

// current reports whether the op is the write-back the patient waits
// for: over the recorded base, not settled by a write or a conflict. A
// failed one is current, so that replaying its dead letter writes it.
func (o WriteBackOp) current(w WriteBack) bool {
	return w.Base == o.Base && (w.Status == WriteBackPending || w.Status == WriteBackFailed)
}

// EditPatient saves a patient edited here, in the caller's transaction:
// p is the stored patient (by p.ID) with the edited fields, its Version the
// Source's version the edit was made on. The local record takes the
// fields (its version stays what the Source last had), a delivery to
// every sink is enqueued, and, when the patient's Source is a
// PatientWriter, a write-back: the write-back state becomes pending over
// that version (Tx.SaveWriteBack) and a WriteBackOp follows. The op
// writes the latest local copy with WritePatient:
//
//   - written: the local record takes the Source's new version, and the
//     sync log has an ActionWriteBack success;
//   - ErrConflict: the state becomes conflict with a detail, the sync
//     log an error, and the op ends (RetryWriteBack writes the edit over
//     the Source's current version);
//   - any other error is retried with the engine's backoff; the last
//     failure, or a permanent one, makes the state failed with the
//     error as its detail.
//
// A Source that is no PatientWriter makes the state failed at once. While
// the state is pending, conflict or failed, pulls of the patient leave
// the local record alone (logged as skipped). A patient whose system is
// no Source (one only known here) is saved and delivered, and has no
// write-back.
func (e *Engine) EditPatient(ctx context.Context, tx Tx, p StoredPatient) error {
	old, err := tx.PatientByID(ctx, p.ID)
	if err != nil {
		return fmt.Errorf("edit patient %d: %w", p.ID, err)
	}
	base := p.Version
	if base == "" {
		base = old.Version
	}
	next := StoredPatient{ID: old.ID, Patient: p.Patient}
	next.Ref, next.Version, next.UpdatedAt = old.Ref, old.Version, old.UpdatedAt
	next.Fingerprint = next.Patient.Fingerprint()
	if _, err := tx.SavePatient(ctx, next); err != nil {
		return fmt.Errorf("edit patient %d: %w", p.ID, err)
	}
	if err := e.enqueueDeliveries(ctx, tx, "", next.Ref, next.Version, next.Fingerprint, false); err != nil {
		return fmt.Errorf("edit patient %d: %w", p.ID, err)
	}
	src, ok := e.cfg.Sources[next.Ref.System]
	if !ok {
		return nil
	}
	now := e.cfg.Now()
	if _, ok := src.(PatientWriter); !ok {
		detail := notWriter(next.Ref.System)
		if err := e.saveWriteBack(ctx, tx, old.ID, WriteBack{Status: WriteBackFailed, Base: base, Detail: detail, At: now}); err != nil {
			return fmt.Errorf("edit patient %d: %w", p.ID, err)
		}
		return tx.AppendLog(ctx, LogEntry{PatientID: old.ID, Action: ActionWriteBack, Status: StatusError, Details: detail, Timestamp: now})
	}
	return e.enqueueWriteBack(ctx, tx, old.ID, WriteBackOp{Patient: next.Ref, Base: base, Edit: uuid.NewString()})
}

// RetryWriteBack writes the patient's last edit again, over the version
// its Source has now: it reads that version (FindPatient), makes the
// write-back pending over it and enqueues a new WriteBackOp. It is for an
// edit in conflict or failed (or pending too long); a patient with no
// edit waiting is refused with ErrInvalid, as is one whose Source takes
// no edits.
func (e *Engine) RetryWriteBack(ctx context.Context, patientID int64) error {
	var p StoredPatient
	err := e.cfg.Store.Update(ctx, func(tx Tx) error {
		var err error
		if p, err = tx.PatientByID(ctx, patientID); err != nil {
			return err
		}
		w, err := tx.WriteBack(ctx, patientID)
		if err == nil && !w.Status.Unsettled() {
			err = fmt.Errorf("%w: patient %d has no edit waiting to be written back", ErrInvalid, patientID)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("retry write-back: %w", err)
	}
	src, ok := e.cfg.Sources[p.Ref.System]
	if !ok {
		return fmt.Errorf("%w: retry write-back: patient %d is of no source", ErrInvalid, patientID)
	}
	if _, ok := src.(PatientWriter); !ok {
		return fmt.Errorf("%w: retry write-back: %s", ErrInvalid, notWriter(p.Ref.System))
	}
	cur, err := e.findPatient(ctx, src, p.Ref)
	if err != nil {
		return fmt.Errorf("retry write-back: %w", err)
	}
	err = e.cfg.Store.Update(ctx, func(tx Tx) error {
		return e.enqueueWriteBack(ctx, tx, patientID, WriteBackOp{Patient: p.Ref, Base: cur.Version, Edit: "retry:" + uuid.NewString()})
	})
	if err != nil {
		return fmt.Errorf("retry write-back: %w", err)
	}
	return nil
}

// enqueueWriteBack makes the patient's write-back pending over op.Base
// and enqueues op.
func (e *Engine) enqueueWriteBack(ctx context.Context, tx Tx, patientID int64, op WriteBackOp) error {
	if err := e.saveWriteBack(ctx, tx, patientID, WriteBack{Status: WriteBackPending, Base: op.Base, At: e.cfg.Now()}); err != nil {
		return err
	}
	_, err := tx.Enqueue(ctx, op)
	return err
}

func notWriter(source string) string {
	return fmt.Sprintf("%s does not accept patient edits: the edit is kept here only", source)
}

// writeBack runs a WriteBackOp: it writes the latest local copy of the
// patient to its Source over op.Base, unless a newer edit or retry took
// over. A conflict ends the op; other errors go back to the job runner.
func (e *Engine) writeBack(ctx context.Context, job Job, op WriteBackOp) error {
	src, err := e.source(op.Patient.System)
	if err != nil {
		return err
	}
	var (
		p StoredPatient
		w WriteBack
	)
	err = e.cfg.Store.Update(ctx, func(tx Tx) error {
		var err error
		if p, err = tx.Patient(ctx, op.Patient); err != nil {
			return err
		}
		w, err = tx.WriteBack(ctx, p.ID)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: write back %s: %w", ErrPermanent, op.Patient, err)
	}
	if err != nil {
		return fmt.Errorf("write back %s: %w", op.Patient, err)
	}
	if !op.current(w) {
		// Settled meanwhile, or superseded by a newer edit or retry.
		e.log.DebugContext(ctx, "write-back superseded", "patient_id", p.ID, "edit", op.Edit)
		return job.Complete(ctx, []Op{op}, func(Tx) error { return nil })
	}
	pw, ok := src.(PatientWriter)
	if !ok {
		detail := notWriter(op.Patient.System)
		return job.Complete(ctx, []Op{op}, func(tx Tx) error {
			return e.settleWriteBack(ctx, tx, p.ID, op, WriteBack{Status: WriteBackFailed, Base: op.Base, Detail: detail},
				LogEntry{Status: StatusError, Details: detail})
		})
	}
	edit := p.Patient
	edit.Version = op.Base
	var version string
	err = e.call(ctx, func(ctx context.Context) (err error) {
		version, err = pw.WritePatient(ctx, edit)
		return err
	})
	switch {
	case err == nil:
		return e.written(ctx, job, op, p.Fingerprint, version)
	case errors.Is(err, ErrConflict) && !IsPermanent(err):
		// The op ends here: writing again over the same base cannot
		// succeed, and over another is the dietician's call.
		e.log.WarnContext(ctx, "write-back conflict", "patient_id", p.ID, "base", op.Base, "err", err)
		detail := fmt.Sprintf("the record at %s changed since version %s, which the edit was made on: retry to write this edit over it",
			op.Patient.System, op.Base)
		cctx, cancel := commitContext(ctx)
		defer cancel()
		return job.Complete(cctx, []Op{op}, func(tx Tx) error {
			return e.settleWriteBack(ctx, tx, p.ID, op, WriteBack{Status: WriteBackConflict, Base: op.Base, Detail: detail},
				LogEntry{Status: StatusError, Details: fmt.Sprintf("conflict: %s (%v)", detail, err)})
		})
	}
	return fmt.Errorf("write back %s: %w", op.Patient, err)
}

// settleWriteBack records the outcome of op, unless another write of the
// edit landed first or a newer one took over.
func (e *Engine) settleWriteBack(ctx context.Context, tx Tx, patientID int64, op WriteBackOp, w WriteBack, entry LogEntry) error {
	cur, err := tx.WriteBack(ctx, patientID)
	if err != nil || !op.current(cur) {
		return err
	}
	now := e.cfg.Now()
	w.At = now
	if err := e.saveWriteBack(ctx, tx, patientID, w); err != nil {
		return err
	}
	entry.PatientID, entry.Action, entry.Timestamp = patientID, ActionWriteBack, now
	return tx.AppendLog(ctx, entry)
}

// written records a successful write of the local copy with fingerprint
// wrote: the local record takes the Source's new version. An edit saved
// while the write was on its way is written next, over that version.
func (e *Engine) written(ctx context.Context, job Job, op WriteBackOp, wrote, version string) error {
	cctx, cancel := commitContext(ctx)
	defer cancel()
	return job.Complete(cctx, []Op{op}, func(tx Tx) error {
		p, err := tx.Patient(ctx, op.Patient)
		if err != nil {
			return err
		}
		w, err := tx.WriteBack(ctx, p.ID)
		if err != nil {
			return err
		}
		now := e.cfg.Now()
		entry := LogEntry{PatientID: p.ID, Action: ActionWriteBack, Status: StatusSuccess, Timestamp: now,
			Details: fmt.Sprintf("wrote the edit to %s over version %s: now version %s", op.Patient.System, op.Base, version)}
		if w.Base != op.Base {
			// A retry rebased the write-back meanwhile; it follows.
			return tx.AppendLog(ctx, entry)
		}
		p.Version = version
		if _, err := tx.SavePatient(ctx, p); err != nil {
			return err
		}
		next := WriteBack{Status: WriteBackWritten, Base: op.Base, At: now}
		if p.Fingerprint != wrote {
			next = WriteBack{Status: WriteBackPending, Base: version, At: now}
			if _, err := tx.Enqueue(ctx, WriteBackOp{Patient: op.Patient, Base: version, Edit: op.Edit + ">" + version}); err != nil {
				return err
			}
			entry.Details += "; a later edit follows"
		}
		if err := e.saveWriteBack(ctx, tx, p.ID, next); err != nil {
			return err
		}
		return tx.AppendLog(ctx, entry)
	})
}

// writeBackFailed records a write-back that failed for good, in the
// transaction that logs the failure.
func (e *Engine) writeBackFailed(ctx context.Context, tx Tx, op WriteBackOp, cause error) error {
	p, err := tx.Patient(ctx, op.Patient)
	if err != nil {
		return err
	}
	w, err := tx.WriteBack(ctx, p.ID)
	if err != nil || !op.current(w) {
		return err
	}
	return e.saveWriteBack(ctx, tx, p.ID, WriteBack{Status: WriteBackFailed, Base: op.Base, At: e.cfg.Now(),
		Detail: fmt.Sprintf("writing the edit to %s failed: %v", op.Patient.System, cause)})
}
