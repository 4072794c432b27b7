package connector

import (
	"context"
	"fmt"
)

// deliver writes the latest local copy of a document to one sink. Deliveries
// of one document (and the first write of its patient) are serialized by a
// lease on the sink mapping, so an older version never overwrites a newer
// one; whichever delivery runs first writes the latest version and the
// others find nothing left to do.
func (e *Engine) deliver(ctx context.Context, job Job, op DeliverOp) error {
	sink, ok := e.cfg.Sinks[op.Sink]
	if !ok {
		return fmt.Errorf("%w: unknown sink %q", ErrPermanent, op.Sink)
	}
	if op.Ref.Type == PatientType {
		return e.deliverPatient(ctx, job, sink, op)
	}
	holder := job.ID()
	var (
		doc     StoredDocument
		patient StoredPatient
		dm, pm  Mapping
		claimed []Ref
	)
	err := e.cfg.Store.Update(ctx, func(tx Tx) (err error) {
		claimed = claimed[:0]
		if doc, err = tx.Document(ctx, op.Ref); err != nil {
			return err
		}
		if patient, err = tx.PatientByID(ctx, doc.PatientID); err != nil {
			return err
		}
		if dm, err = e.claim(ctx, tx, op.Sink, doc.Ref, holder); err != nil {
			return err
		}
		claimed = append(claimed, doc.Ref)
		if pm, err = tx.Mapping(ctx, op.Sink, patient.Ref); err != nil || pm.SinkID != "" || doc.Deleted {
			return err
		}
		pm, err = e.claim(ctx, tx, op.Sink, patient.Ref, holder)
		claimed = append(claimed, patient.Ref)
		return err
	})
	if err != nil {
		return fmt.Errorf("deliver %s to %s: %w", op.Ref, op.Sink, err)
	}

	if !doc.Deleted && pm.SinkID == "" {
		if pm, err = e.writePatient(ctx, sink, pm, patient, nil); err != nil {
			e.release(ctx, op.Sink, holder, claimed...)
			return err
		}
	}

	entry := LogEntry{Action: ActionDelivery, Timestamp: e.cfg.Now(), PatientID: doc.PatientID, DocumentID: doc.ID}
	next := dm
	next.Version, next.Fingerprint, next.Deleted = doc.Version, doc.Fingerprint, doc.Deleted
	switch {
	case dm.Fingerprint == doc.Fingerprint:
		entry.Status, entry.Details = StatusSkipped, fmt.Sprintf("%s already has version %s", op.Sink, dm.Version)
		next.Version = dm.Version
	case doc.Deleted && (dm.SinkID == "" || dm.Deleted):
		entry.Status, entry.Details = StatusSkipped, fmt.Sprintf("%s never had the document", op.Sink)
	case doc.Deleted:
		err = e.call(ctx, func(ctx context.Context) error {
			return sink.DeleteDocument(ctx, DocumentDelete{
				Key: IdempotencyKey(op.Sink, doc.Ref, doc.Version, true), SinkID: dm.SinkID, PatientSinkID: pm.SinkID, Ref: doc.Ref,
			})
		})
		entry.Status, entry.Details = StatusSuccess, fmt.Sprintf("deleted from %s", op.Sink)
	default:
		w := DocumentWrite{Key: IdempotencyKey(op.Sink, doc.Ref, doc.Version, false), PatientSinkID: pm.SinkID, Document: doc.Document}
		if !dm.Deleted {
			w.SinkID = dm.SinkID
		}
		err = e.call(ctx, func(ctx context.Context) (err error) {
			next.SinkID, err = sink.PutDocument(ctx, w)
			return err
		})
		entry.Status, entry.Details = StatusSuccess, fmt.Sprintf("delivered version %s to %s", doc.Version, op.Sink)
	}
	if err != nil {
		e.release(ctx, op.Sink, holder, doc.Ref)
		return fmt.Errorf("deliver %s to %s: %w", op.Ref, op.Sink, err)
	}
	return job.Complete(ctx, func(tx Tx) error {
		if err := tx.SaveMapping(ctx, next); err != nil {
			return err
		}
		return tx.AppendLog(ctx, entry)
	})
}

// deliverPatient writes the latest local copy of a patient to one sink.
func (e *Engine) deliverPatient(ctx context.Context, job Job, sink Sink, op DeliverOp) error {
	holder := job.ID()
	var patient StoredPatient
	var pm Mapping
	err := e.cfg.Store.Update(ctx, func(tx Tx) (err error) {
		if patient, err = tx.Patient(ctx, op.Ref); err != nil {
			return err
		}
		pm, err = e.claim(ctx, tx, op.Sink, op.Ref, holder)
		return err
	})
	if err != nil {
		return fmt.Errorf("deliver %s to %s: %w", op.Ref, op.Sink, err)
	}
	if pm.SinkID != "" && pm.Fingerprint == patient.Fingerprint {
		return job.Complete(ctx, func(tx Tx) error { return tx.SaveMapping(ctx, pm) })
	}
	if _, err := e.writePatient(ctx, sink, pm, patient, job); err != nil {
		e.release(ctx, op.Sink, holder, op.Ref)
		return err
	}
	return nil
}

// writePatient upserts the patient into the sink and saves the mapping,
// releasing its lease. With done set, the save also completes that job.
func (e *Engine) writePatient(ctx context.Context, sink Sink, pm Mapping, patient StoredPatient, done Job) (Mapping, error) {
	w := PatientWrite{Key: IdempotencyKey(pm.Sink, patient.Ref, patient.Version, false), SinkID: pm.SinkID, Patient: patient.Patient}
	var id string
	err := e.call(ctx, func(ctx context.Context) (err error) {
		id, err = sink.UpsertPatient(ctx, w)
		return err
	})
	if err != nil {
		return pm, fmt.Errorf("deliver %s to %s: %w", patient.Ref, pm.Sink, err)
	}
	pm.SinkID, pm.Version, pm.Fingerprint = id, patient.Version, patient.Fingerprint
	save := func(tx Tx) error {
		if err := tx.SaveMapping(ctx, pm); err != nil {
			return err
		}
		return tx.AppendLog(ctx, LogEntry{
			Action: ActionDelivery, Status: StatusSuccess, Timestamp: e.cfg.Now(), PatientID: patient.ID,
			Details: fmt.Sprintf("delivered patient version %s to %s", patient.Version, pm.Sink),
		})
	}
	if done != nil {
		err = done.Complete(ctx, save)
	} else {
		err = e.cfg.Store.Update(ctx, save)
	}
	return pm, err
}

// claim leases the (sink, ref) mapping to holder or reports ErrBusy.
func (e *Engine) claim(ctx context.Context, tx Tx, sink string, ref Ref, holder string) (Mapping, error) {
	m, ok, err := tx.ClaimMapping(ctx, sink, ref, holder, e.cfg.Now().Add(e.cfg.LeaseTTL))
	if err != nil {
		return m, err
	}
	if !ok {
		return m, fmt.Errorf("%s on %s: %w", ref, sink, ErrBusy)
	}
	return m, nil
}

// release drops holder's leases after a failed write, so that the retry or
// another version's delivery need not wait for the lease to expire. If it
// fails the lease simply expires.
func (e *Engine) release(ctx context.Context, sink, holder string, refs ...Ref) {
	ctx = context.WithoutCancel(ctx)
	err := e.cfg.Store.Update(ctx, func(tx Tx) error {
		for _, ref := range refs {
			if err := tx.ReleaseMapping(ctx, sink, ref, holder); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.log.WarnContext(ctx, "releasing lease", "sink", sink, "holder", holder, "err", err)
	}
}
