package connector

import (
	"context"
	"errors"
	"fmt"
)

// Deliveries of one patient or document to one sink never overlap: each
// holds a lease on the sink mapping while it writes, so an older version
// never overwrites a newer one. Whichever delivery runs first writes the
// latest local version, and the others find nothing left to do.
//
// A lease belongs to one attempt of a job and lasts until the mapping is
// saved or released. A call cut short by its timeout may still land at the
// sink, so its lease is not released: it runs out, and until then no other
// delivery, not even the job's next attempt, writes that ref.

// deliverAll writes the latest local copies the ops name to their sinks.
func (e *Engine) deliverAll(ctx context.Context, job Job, ops []DeliverOp) []failure {
	bySink := map[string][]DeliverOp{}
	var order []string
	for _, op := range ops {
		if _, ok := bySink[op.Sink]; !ok {
			order = append(order, op.Sink)
		}
		bySink[op.Sink] = append(bySink[op.Sink], op)
	}
	var failed []failure
	for _, name := range order {
		failed = append(failed, e.deliverTo(ctx, job, name, bySink[name])...)
	}
	return failed
}

// delivery is one op of a batch on its way to a sink.
type delivery struct {
	op       DeliverOp
	doc      StoredDocument // for a document
	patient  *batchPatient
	m        Mapping // the document's mapping, leased
	next     Mapping // the mapping after the write
	entry    LogEntry
	leased   bool
	patientW bool // the op is the patient's own delivery
	// unsettled: the document's call ended with its context and may
	// still land at the sink.
	unsettled bool
	// patientSinkID is the sink's id of a deleted document's patient,
	// read without a lease: a deletion writes no patient, but the sink
	// finds the document under it.
	patientSinkID string
}

// batchPatients indexes a batch's patients by ref and by local id.
type batchPatients struct {
	byRef map[Ref]*batchPatient
	byID  map[int64]*batchPatient
}

// batchPatient is a patient that deliveries in one batch share.
type batchPatient struct {
	p StoredPatient
	m Mapping
	// leased: this batch holds the patient's lease (to write it).
	leased bool
	// written: the mapping changed and must be saved.
	written bool
	err     error
}

// deliverTo leases what the ops name, writes each to the sink outside any
// transaction, then saves the mappings and completes the written ops in
// one transaction.
func (e *Engine) deliverTo(ctx context.Context, job Job, name string, ops []DeliverOp) []failure {
	sink, ok := e.cfg.Sinks[name]
	if !ok {
		return failAll(ops, fmt.Errorf("%w: unknown sink %q", ErrPermanent, name))
	}
	holder := fmt.Sprintf("%s/%d", job.ID(), job.Attempt())
	leasedAt := e.cfg.Now()
	var (
		items    []*delivery
		failed   []failure
		patients batchPatients
	)
	err := e.cfg.Store.Update(ctx, func(tx Tx) error {
		items, failed = items[:0], failed[:0]
		patients = batchPatients{byRef: map[Ref]*batchPatient{}, byID: map[int64]*batchPatient{}}
		held := 0
		for _, op := range ops {
			if held >= e.cfg.BatchBytes {
				// What a batch holds is bounded: the rest waits its turn
				// without spending an attempt.
				failed = append(failed, failure{op, fmt.Errorf("deliver %s: the batch holds %d bytes: %w", op.Ref, held, ErrBusy)})
				continue
			}
			d, err := e.lease(ctx, tx, name, holder, op, &patients)
			if d != nil {
				held += heldBytes(&d.doc.Document)
			}
			switch {
			case errors.Is(err, ErrBusy):
				failed = append(failed, failure{op, err})
			case errors.Is(err, ErrNotFound):
				// Deliveries are enqueued with what they deliver.
				failed = append(failed, failure{op, fmt.Errorf("%w: deliver %s: %w", ErrPermanent, op.Ref, err)})
			case err != nil:
				return err
			default:
				items = append(items, d)
			}
		}
		return nil
	})
	if err != nil {
		return failAll(ops, fmt.Errorf("deliver to %s: %w", name, err))
	}

	var done []*delivery
	for _, d := range items {
		err = nil
		if ctx.Err() != nil {
			// The attempt ran out of time, not the op: what is left goes
			// back to the queue without spending an attempt.
			err = fmt.Errorf("deliver %s to %s: the batch ran out of time: %w", d.op.Ref, name, ErrBusy)
		} else if e.cfg.Now().Sub(leasedAt) > (e.cfg.LeaseTTL-e.cfg.CallTimeout)/2 {
			// A batch to a rate-limited sink can outlast its leases:
			// renew them while a whole call's worth of lease is left.
			if err = e.renew(ctx, name, holder, items, &patients); err == nil {
				leasedAt = e.cfg.Now()
			}
		}
		if err == nil {
			err = e.write(ctx, sink, d)
		}
		if err != nil {
			failed = append(failed, failure{d.op, err})
			continue
		}
		done = append(done, d)
	}

	doneOps := make([]Op, len(done))
	completed := make(map[*delivery]bool, len(done))
	for i, d := range done {
		doneOps[i] = d.op
		completed[d] = true
	}
	cctx, cancel := commitContext(ctx)
	defer cancel()
	err = job.Complete(cctx, doneOps, func(tx Tx) error {
		for _, d := range done {
			if !d.patientW {
				if err := tx.SaveMapping(ctx, d.next, holder); err != nil {
					return err
				}
			}
			if err := tx.AppendLog(ctx, d.entry); err != nil {
				return err
			}
		}
		for _, p := range patients.byRef {
			if p.written {
				if err := tx.SaveMapping(ctx, p.m, holder); err != nil {
					return err
				}
			}
		}
		return releaseAll(ctx, tx, name, holder, releasable(items, &patients, completed))
	})
	if err != nil {
		// Nothing was saved: drop every lease but the unsettled ones.
		e.release(ctx, name, holder, releasable(items, &patients, nil))
		for _, d := range done {
			failed = append(failed, failure{d.op, fmt.Errorf("deliver %s to %s: %w", d.op.Ref, name, err)})
		}
	}
	return failed
}

func failAll(ops []DeliverOp, err error) []failure {
	f := make([]failure, len(ops))
	for i, op := range ops {
		f[i] = failure{op, err}
	}
	return f
}

// lease loads what op delivers and leases its mapping, and the patient's
// when the patient is not in the sink yet. A lease another job holds
// yields ErrBusy.
func (e *Engine) lease(ctx context.Context, tx Tx, sink, holder string, op DeliverOp, patients *batchPatients) (*delivery, error) {
	d := &delivery{op: op, patientW: op.Ref.Type == PatientType}
	patientRef := op.Ref
	var patientID int64
	if !d.patientW {
		doc, err := tx.Document(ctx, op.Ref)
		if err != nil {
			return nil, err
		}
		d.doc = doc
		patientRef, patientID = Ref{}, doc.PatientID
		if doc.Deleted {
			if doc.PatientID != 0 {
				p, err := tx.PatientByID(ctx, doc.PatientID)
				if err != nil {
					return nil, err
				}
				pm, err := tx.Mapping(ctx, sink, p.Ref)
				if err != nil {
					return nil, err
				}
				d.patientSinkID = pm.SinkID
			}
			patientID = 0 // a deletion writes no patient to the sink
		}
	}
	if !patientRef.IsZero() || patientID != 0 {
		// A redelivery writes the patient again too: the sink may have
		// lost it with the documents.
		bp, err := e.leasePatient(ctx, tx, sink, holder, patientRef, patientID, d.patientW || op.Redelivery != "", patients)
		if err != nil {
			return nil, err
		}
		d.patient = bp
	}
	if d.patientW {
		return d, nil
	}
	m, err := e.claim(ctx, tx, sink, op.Ref, holder)
	if err != nil {
		return nil, err
	}
	d.m, d.leased = m, true
	return d, nil
}

// leasePatient returns the batch's view of a patient, named by ref or by
// local id, leasing its mapping when it must be written: for its own
// delivery, or when it is not in the sink yet.
func (e *Engine) leasePatient(ctx context.Context, tx Tx, sink, holder string, ref Ref, id int64, own bool, patients *batchPatients) (*batchPatient, error) {
	bp := patients.byRef[ref]
	if bp == nil {
		bp = patients.byID[id]
	}
	if bp == nil {
		var p StoredPatient
		var err error
		if id != 0 {
			p, err = tx.PatientByID(ctx, id)
		} else {
			p, err = tx.Patient(ctx, ref)
		}
		if err != nil {
			return nil, err
		}
		m, err := tx.Mapping(ctx, sink, p.Ref)
		if err != nil {
			return nil, err
		}
		bp = &batchPatient{p: p, m: m}
		patients.byRef[p.Ref], patients.byID[p.ID] = bp, bp
	}
	if bp.leased || (!own && bp.m.SinkID != "") {
		return bp, nil
	}
	// By the patient's ref, which the caller may not have had.
	m, err := e.claim(ctx, tx, sink, bp.p.Ref, holder)
	if err != nil {
		return nil, err
	}
	bp.m, bp.leased = m, true
	return bp, nil
}

// write makes the sink hold the leased copy, unless it already does.
func (e *Engine) write(ctx context.Context, sink Sink, d *delivery) error {
	redeliver := d.op.Redelivery != ""
	if bp := d.patient; bp != nil && (d.patientW || redeliver || bp.m.SinkID == "") {
		if err := e.writePatient(ctx, sink, bp, d.op.Redelivery); err != nil {
			return err
		}
		if d.patientW {
			d.entry = LogEntry{Action: ActionDelivery, Status: StatusSuccess, Timestamp: e.cfg.Now(), PatientID: bp.p.ID,
				Details: fmt.Sprintf("patient version %s in %s", bp.p.Version, d.op.Sink)}
			return nil
		}
	}
	doc, m := d.doc, d.m
	d.next = m
	d.next.Version, d.next.Fingerprint, d.next.Deleted = doc.Version, doc.Fingerprint, doc.Deleted
	d.entry = LogEntry{Action: ActionDelivery, Timestamp: e.cfg.Now(), PatientID: doc.PatientID, DocumentID: doc.ID}
	patientSinkID := d.patientSinkID
	if d.patient != nil {
		patientSinkID = d.patient.m.SinkID
	}
	var err error
	switch {
	case m.Fingerprint == doc.Fingerprint && !redeliver:
		d.entry.Status, d.entry.Details = StatusSkipped, fmt.Sprintf("%s already has version %s", d.op.Sink, m.Version)
		d.next.Version = m.Version
	case doc.Deleted && (m.SinkID == "" || m.Deleted):
		d.entry.Status, d.entry.Details = StatusSkipped, fmt.Sprintf("%s never had the document", d.op.Sink)
	case doc.Deleted:
		err = e.call(ctx, func(ctx context.Context) error {
			return sink.DeleteDocument(ctx, DocumentDelete{
				Key: writeKey(d.op.Sink, doc.Ref, doc.Version, doc.Fingerprint, true, d.op.Redelivery), SinkID: m.SinkID, PatientSinkID: patientSinkID, Ref: doc.Ref,
			})
		})
		d.entry.Status, d.entry.Details = StatusSuccess, fmt.Sprintf("deleted from %s", d.op.Sink)
	default:
		w := DocumentWrite{Key: writeKey(d.op.Sink, doc.Ref, doc.Version, doc.Fingerprint, false, d.op.Redelivery), PatientSinkID: patientSinkID, Document: doc.Document}
		if !m.Deleted && !redeliver {
			// A redelivery trusts no id the sink may have lost: the sink
			// finds the document by its ref, or creates it.
			w.SinkID = m.SinkID
		}
		err = e.call(ctx, func(ctx context.Context) (err error) {
			d.next.SinkID, err = sink.PutDocument(ctx, w)
			return err
		})
		d.entry.Status, d.entry.Details = StatusSuccess, fmt.Sprintf("delivered version %s to %s", doc.Version, d.op.Sink)
	}
	if err != nil {
		d.unsettled = errors.Is(err, errUnsettled)
		return fmt.Errorf("deliver %s to %s: %w", doc.Ref, d.op.Sink, err)
	}
	return nil
}

// writePatient upserts a leased patient into the sink once per batch,
// unless the sink already holds this version and this is no redelivery.
func (e *Engine) writePatient(ctx context.Context, sink Sink, bp *batchPatient, redelivery string) error {
	if bp.err != nil {
		return bp.err
	}
	if bp.written || (redelivery == "" && bp.m.SinkID != "" && bp.m.Fingerprint == bp.p.Fingerprint) {
		return nil
	}
	w := PatientWrite{Key: writeKey(bp.m.Sink, bp.p.Ref, bp.p.Version, bp.p.Fingerprint, false, redelivery), SinkID: bp.m.SinkID, Patient: bp.p.Patient}
	if redelivery != "" {
		w.SinkID = "" // trusts no id the sink may have lost: found by its ref, or created
	}
	var id string
	err := e.call(ctx, func(ctx context.Context) (err error) {
		id, err = sink.UpsertPatient(ctx, w)
		return err
	})
	if err != nil {
		bp.err = fmt.Errorf("deliver %s to %s: %w", bp.p.Ref, bp.m.Sink, err)
		return bp.err
	}
	bp.m.SinkID, bp.m.Version, bp.m.Fingerprint = id, bp.p.Version, bp.p.Fingerprint
	bp.written = true
	return nil
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

// renew extends every lease the batch holds, written or not: a mapping is
// saved only when the batch completes. A lease that another job took
// meanwhile yields ErrBusy.
func (e *Engine) renew(ctx context.Context, sink, holder string, items []*delivery, patients *batchPatients) error {
	return e.cfg.Store.Update(ctx, func(tx Tx) error {
		for _, d := range items {
			if d.leased {
				if _, err := e.claim(ctx, tx, sink, d.op.Ref, holder); err != nil {
					return err
				}
			}
		}
		for ref, p := range patients.byRef {
			if p.leased {
				if _, err := e.claim(ctx, tx, sink, ref, holder); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// releasable lists the leases a batch drops as it ends: those whose
// mapping it does not save, where completed holds the deliveries it
// saves (nil if it saves none). Leases of calls that may still land at
// the sink are left to run out.
func releasable(items []*delivery, patients *batchPatients, completed map[*delivery]bool) []Ref {
	var refs []Ref
	for _, d := range items {
		if d.leased && !completed[d] && !d.unsettled {
			refs = append(refs, d.op.Ref)
		}
	}
	for ref, p := range patients.byRef {
		if p.leased && !(completed != nil && p.written) && !errors.Is(p.err, errUnsettled) {
			refs = append(refs, ref)
		}
	}
	return refs
}

// releaseAll drops holder's leases on refs.
func releaseAll(ctx context.Context, tx Tx, sink, holder string, refs []Ref) error {
	for _, ref := range refs {
		if err := tx.ReleaseMapping(ctx, sink, ref, holder); err != nil {
			return err
		}
	}
	return nil
}

// release drops the leases of a batch whose completion failed. If it
// fails too, the leases run out.
func (e *Engine) release(ctx context.Context, sink, holder string, refs []Ref) {
	ctx = context.WithoutCancel(ctx)
	err := e.cfg.Store.Update(ctx, func(tx Tx) error { return releaseAll(ctx, tx, sink, holder, refs) })
	if err != nil {
		e.log.WarnContext(ctx, "releasing leases", "sink", sink, "holder", holder, "err", err)
	}
}
