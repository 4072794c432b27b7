package connector

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// pullAll fetches each resource from its Source and, in one transaction
// that completes the fetched ops, keeps each local copy that is newer and
// differs, enqueuing its deliveries. Network calls happen before the
// transaction, so no transaction waits on a Source.
//
// What a batch holds in memory is bounded by Config.BatchBytes: once the
// fetched documents reach it, they are kept (committed) before the next is
// fetched.
func (e *Engine) pullAll(ctx context.Context, job Job, ops []PullOp) []failure {
	var (
		failed  []failure
		fetched []pulled
		held    int
		found   = map[Ref]*Patient{}
		obs     []PullOp
	)
	for _, op := range ops {
		if ctx.Err() != nil {
			// The attempt ran out of time, not the op.
			failed = append(failed, failure{op, fmt.Errorf("pull %s: the batch ran out of time: %w", op.Ref, ErrBusy)})
			continue
		}
		if op.Ref.Type == PatientType {
			if err := e.pullPatient(ctx, job, op); err != nil {
				failed = append(failed, failure{op, err})
			}
			continue
		}
		if e.observes(op.Ref) {
			obs = append(obs, op)
			continue
		}
		if r, ok := e.router(op.Ref); ok {
			if err := e.route(ctx, job, r, op); err != nil {
				failed = append(failed, failure{op, err})
			}
			continue
		}
		p, err := e.prepare(ctx, op, found)
		if err != nil {
			failed = append(failed, failure{op, fmt.Errorf("pull %s: %w", op.Ref, err)})
			continue
		}
		fetched = append(fetched, p)
		if p.doc != nil {
			held += heldBytes(p.doc)
		}
		if held >= e.cfg.BatchBytes {
			failed = append(failed, e.keepAll(ctx, job, fetched)...)
			fetched, held = nil, 0
		}
	}
	failed = append(failed, e.keepAll(ctx, job, fetched)...)
	return append(failed, e.pullObservations(ctx, job, obs)...)
}

// keepAll keeps the fetched documents, in one transaction that completes
// their ops.
func (e *Engine) keepAll(ctx context.Context, job Job, fetched []pulled) []failure {
	var failed []failure
	if len(fetched) == 0 {
		return nil
	}
	defer func() {
		for _, p := range fetched {
			if p.release != nil {
				p.release()
			}
		}
	}()
	// Rows are written patient by patient, in one order for every batch,
	// so that concurrent batches that share patients wait for each other
	// instead of deadlocking.
	slices.SortStableFunc(fetched, func(a, b pulled) int {
		return cmp.Or(compareRefs(a.doc.Patient, b.doc.Patient), compareRefs(a.op.Ref, b.op.Ref))
	})
	done := make([]Op, len(fetched))
	for i, p := range fetched {
		done[i] = p.op
	}
	return append(failed, e.completeBatch(ctx, job, done, func(tx Tx, runs *runTally) error {
		for _, p := range fetched {
			patientID, err := e.keepDocument(ctx, tx, p.op, p.doc, p.patient)
			if err != nil {
				return fmt.Errorf("pull %s: %w", p.op.Ref, err)
			}
			runs.add(p.op.Run, patientID)
		}
		return nil
	})...)
}

// completeBatch completes a batch's ops in one transaction with what keep
// writes, advancing the sync runs keep counts, and publishes the runs'
// progress once committed. A failed transaction fails every op.
func (e *Engine) completeBatch(ctx context.Context, job Job, done []Op, keep func(tx Tx, runs *runTally) error) []failure {
	var progress []Progress
	cctx, cancel := commitContext(ctx)
	defer cancel()
	err := job.Complete(cctx, done, func(tx Tx) error {
		progress = progress[:0]
		var runs runTally
		if err := keep(tx, &runs); err != nil {
			return err
		}
		for _, id := range runs.order {
			prog, err := e.advance(ctx, tx, id, runs.runs[id].patientID, RunDelta{Done: runs.runs[id].done})
			if err != nil {
				return err
			}
			progress = append(progress, prog)
		}
		return nil
	})
	if err != nil {
		failed := make([]failure, len(done))
		for i, op := range done {
			failed[i] = failure{op, err}
		}
		return failed
	}
	for _, p := range progress {
		e.hub.Publish(p)
	}
	return nil
}

// runTally counts the ops a batch completes per sync run, in the order
// the runs first appear.
type runTally struct {
	runs  map[string]*runCount
	order []string
}

type runCount struct {
	patientID int64
	done      int
}

// add counts one op of run (none when run is empty) of the patient.
func (t *runTally) add(run string, patientID int64) {
	if run == "" {
		return
	}
	if t.runs == nil {
		t.runs = map[string]*runCount{}
	}
	if t.runs[run] == nil {
		t.runs[run] = &runCount{patientID: patientID}
		t.order = append(t.order, run)
	}
	t.runs[run].done++
}

// compareRefs orders refs by system, type and id.
func compareRefs(a, b Ref) int {
	return cmp.Or(strings.Compare(a.System, b.System), strings.Compare(a.Type, b.Type), strings.Compare(a.ID, b.ID))
}

// pulled is a fetched document waiting to be kept.
type pulled struct {
	op  PullOp
	doc *Document
	// patient is the document's patient when the store does not know it.
	patient *Patient
	// release drops the spool of the document's content, once kept.
	release func()
}

// prepare fetches what op names and, for a document of a patient the store
// does not know, the patient; found memoizes patients within a batch.
func (e *Engine) prepare(ctx context.Context, op PullOp, found map[Ref]*Patient) (pulled, error) {
	src, err := e.source(op.Ref.System)
	if err != nil {
		return pulled{}, err
	}
	doc, release, err := e.fetch(ctx, src, op)
	if err != nil || doc.Deleted {
		return pulled{op: op, doc: doc, release: release}, err
	}
	e.ExtractText(ctx, doc)
	p, ok := found[doc.Patient]
	if !ok {
		if p, err = e.unknownPatient(ctx, src, doc.Patient); err != nil {
			release()
			return pulled{}, err
		}
		found[doc.Patient] = p
	}
	return pulled{op: op, doc: doc, patient: p, release: release}, nil
}

// fetch returns the document op names as the Source has it now, sealed
// (see seal), and the release of its spool; a document the Source no
// longer has comes back marked Deleted. A deletion is always read at the
// Source, even when the op reports one: a webhook is a hint, and only the
// Source's own answer (ErrNotFound) deletes.
func (e *Engine) fetch(ctx context.Context, src Source, op PullOp) (*Document, func(), error) {
	nothing := func() {}
	gone := &Document{Ref: op.Ref, Version: op.Version, Deleted: true}
	var doc *Document
	release := nothing
	err := e.call(ctx, func(ctx context.Context) (err error) {
		doc, err = src.FetchDocument(ctx, op.Ref)
		if err != nil || doc == nil || doc.Deleted {
			return err
		}
		// Within the call: a Body may read the response the fetch
		// opened, and the call's timeout bounds the reading too.
		release, err = e.seal(ctx, doc)
		if err != nil {
			return fmt.Errorf("content: %w", err)
		}
		return nil
	})
	switch {
	case errors.Is(err, ErrNotFound):
		return gone, nothing, nil
	case err != nil:
		return nil, nothing, fmt.Errorf("fetch %s: %w", op.Ref, err)
	case doc == nil:
		return nil, nothing, fmt.Errorf("%w: fetch %s returned no document", ErrPermanent, op.Ref)
	}
	doc.Ref = op.Ref
	if doc.Patient.System == "" {
		doc.Patient.System = op.Ref.System
	}
	if doc.Patient.Type == "" {
		doc.Patient.Type = PatientType
	}
	if err := doc.Validate(); err != nil {
		release()
		return nil, nothing, fmt.Errorf("fetch %s: %w", op.Ref, err)
	}
	return doc, release, nil
}

// unknownPatient returns the patient from the Source when the store does
// not know it yet, nil when it does. The lookup happens outside the job's
// transaction so that no transaction waits on the network.
func (e *Engine) unknownPatient(ctx context.Context, src Source, ref Ref) (*Patient, error) {
	if _, ok := e.knownPatients.Load(ref); ok {
		return nil, nil
	}
	err := e.cfg.Store.Update(ctx, func(tx Tx) error {
		p, err := tx.Patient(ctx, ref)
		if err == nil {
			// Local patients are never deleted, so this stays true.
			e.knownPatients.Store(ref, p.ID)
		}
		return err
	})
	if err == nil {
		return nil, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	p, err := e.findPatient(ctx, src, ref)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: patient %s of a document is not found at the source", ErrPermanent, ref)
	}
	return p, err
}

func (e *Engine) findPatient(ctx context.Context, src Source, ref Ref) (*Patient, error) {
	var p *Patient
	err := e.call(ctx, func(ctx context.Context) (err error) {
		p, err = src.FindPatient(ctx, PatientQuery{ID: ref.ID})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("find patient %s: %w", ref, err)
	}
	if p == nil {
		return nil, fmt.Errorf("%w: find patient %s returned none", ErrPermanent, ref)
	}
	p.Ref = ref
	return p, nil
}

// keepDocument stores doc if it is newer than the local copy and differs
// from it, and enqueues its deliveries. It returns the local patient id.
func (e *Engine) keepDocument(ctx context.Context, tx Tx, op PullOp, doc *Document, patient *Patient) (int64, error) {
	old, err := tx.Document(ctx, doc.Ref)
	found := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return 0, err
	}
	entry := LogEntry{Action: op.Action, Timestamp: e.cfg.Now(), PatientID: old.PatientID, DocumentID: old.ID}
	if op.Delete && !doc.Deleted {
		// A deletion the Source does not confirm: forged, or the resource
		// was re-created since. What the Source has now is kept below.
		e.log.WarnContext(ctx, "deletion not confirmed by the source; kept", "ref", doc.Ref.String(), "action", op.Action)
	}
	if !changed(found, &old, doc, e.sequential(doc.Ref.System)) {
		if op.Action == ActionPoll {
			return old.PatientID, nil
		}
		entry.Status, entry.Details = StatusSkipped, "unchanged: local version "+old.Version
		if op.Delete && !doc.Deleted {
			entry.Details = "deletion not confirmed: the source still has version " + doc.Version
		}
		return old.PatientID, tx.AppendLog(ctx, entry)
	}

	next := StoredDocument{ID: old.ID, PatientID: old.PatientID, Document: *doc}
	if doc.Deleted {
		// Keep what the sinks need to find the document again.
		next.Document, next.Document.Deleted = old.Document, true
		if doc.Version != "" {
			next.Version = doc.Version
		}
		if !doc.UpdatedAt.IsZero() {
			next.UpdatedAt = doc.UpdatedAt
		}
	}
	if !found {
		if next.PatientID, err = e.localPatient(ctx, tx, doc.Patient, patient, op); err != nil {
			return 0, err
		}
	}
	next.Fingerprint = next.Document.Fingerprint()
	if next.ID, err = tx.SaveDocument(ctx, next); err != nil {
		return 0, err
	}
	if err := e.enqueueDeliveries(ctx, tx, op.Run, next.Ref, next.Version, next.Fingerprint, next.Deleted); err != nil {
		return 0, err
	}
	if err := e.notify(ctx, tx, DocumentNotice{Old: old, New: next, Action: op.Action, Run: op.Run}); err != nil {
		return 0, err
	}
	entry.PatientID, entry.DocumentID = next.PatientID, next.ID
	entry.Status, entry.Details = StatusSuccess, "stored version "+next.Version
	if next.Deleted {
		entry.Details = "deleted at source"
	}
	return next.PatientID, tx.AppendLog(ctx, entry)
}

// changed decides whether doc, as the Source has it now, replaces the local
// copy old: unless it is older (fetched before old was kept), whenever
// what the sinks show of it differs. The same version may differ too, when
// the adapter maps it anew.
func changed(found bool, old *StoredDocument, doc *Document, sequential bool) bool {
	switch {
	case !found:
		return !doc.Deleted
	case doc.Deleted:
		return !old.Deleted
	case CompareRevisions(doc.Revision(), old.Revision(), sequential) == Older:
		return false
	}
	return doc.Fingerprint() != old.Fingerprint
}

// localPatient returns the local id of the patient, saving the one fetched
// from the Source when the store does not have it. A patient seen for the
// first time is reconciled at once, so that the rest of its documents
// follow the one that named it without waiting for the next poll.
func (e *Engine) localPatient(ctx context.Context, tx Tx, ref Ref, fetched *Patient, op PullOp) (int64, error) {
	if id, ok := e.knownPatients.Load(ref); ok {
		return id.(int64), nil
	}
	p, err := tx.Patient(ctx, ref)
	if err == nil {
		return p.ID, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return 0, err
	}
	if fetched == nil {
		// The patient was deleted locally since the lookup: retry finds it.
		return 0, fmt.Errorf("patient %s vanished during pull", ref)
	}
	fp := fetched.Fingerprint()
	id, err := tx.SavePatient(ctx, StoredPatient{Patient: *fetched, Fingerprint: fp})
	if err != nil {
		return 0, err
	}
	if err := e.enqueueDeliveries(ctx, tx, op.Run, ref, fetched.Version, fp, false); err != nil {
		return 0, err
	}
	if op.Run != "" {
		// Already part of a reconcile of the patient.
		return id, nil
	}
	_, err = tx.Enqueue(ctx, ReconcileOp{Source: ref.System, Patient: ref.ID, Action: ActionAutomaticUpdate,
		Run: "first-sight:" + ref.String(), Coalesce: true})
	return id, err
}

// pullPatient refreshes the local copy of a patient from its Source. A
// pull that is part of a run counts as one of its items; an enrolling
// pull (PullOp.Reconcile) then enqueues the patient's reconcile.
func (e *Engine) pullPatient(ctx context.Context, job Job, op PullOp) error {
	src, err := e.source(op.Ref.System)
	if err != nil {
		return err
	}
	var p *Patient
	if !op.Delete {
		p, err = e.findPatient(ctx, src, op.Ref)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	var prog *Progress
	err = job.Complete(ctx, []Op{op}, func(tx Tx) error {
		prog = nil
		id, err := e.keepPatient(ctx, tx, src, op, p)
		if err != nil || op.Run == "" {
			return err
		}
		delta := RunDelta{Done: 1}
		if p == nil {
			delta = RunDelta{Errors: 1}
			if op.Reconcile {
				// Nothing to list: the run ends here.
				delta.Phase = PhaseFetching
			}
		}
		pr, err := e.advance(ctx, tx, op.Run, id, delta)
		if err != nil {
			return err
		}
		prog = &pr
		if p == nil || !op.Reconcile {
			return nil
		}
		_, err = tx.Enqueue(ctx, ReconcileOp{Source: op.Ref.System, Patient: op.Ref.ID, Action: op.Action, Run: op.Run})
		return err
	})
	if err == nil && prog != nil {
		e.hub.Publish(*prog)
	}
	return err
}

// keepPatient keeps p, the patient as its Source has it now (nil if the
// Source does not have it), unless it is older than the local copy, no
// different, or the local copy holds an edit not written back yet. It
// returns the patient's local id (0 if it has none).
func (e *Engine) keepPatient(ctx context.Context, tx Tx, src Source, op PullOp, p *Patient) (int64, error) {
	old, err := tx.Patient(ctx, op.Ref)
	found := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return 0, err
	}
	var edit WriteBack
	if found {
		if edit, err = tx.WriteBack(ctx, old.ID); err != nil {
			return 0, err
		}
		if p != nil {
			keepPracticeFields(p, old.Patient)
		}
	}
	entry := LogEntry{Action: op.Action, Timestamp: e.cfg.Now(), PatientID: old.ID}
	switch {
	case p == nil:
		// Patients are not deleted here: their documents and the
		// dietician's record outlive the provider's.
		entry.Status, entry.Details = StatusIgnored, "patient deleted at source"
		return old.ID, tx.AppendLog(ctx, entry)
	case found && (CompareRevisions(p.Revision(), old.Revision(), HasSequentialVersions(src)) == Older || p.Fingerprint() == old.Fingerprint):
		if op.Action == ActionPoll {
			return old.ID, nil
		}
		entry.Status, entry.Details = StatusSkipped, "patient unchanged: local version "+old.Version
		return old.ID, tx.AppendLog(ctx, entry)
	case found && edit.Status == WriteBackWritten && p.Version != "" && p.Version == old.Version:
		// The version the write-back made: the local copy is what was
		// written, with the fields the Source may not keep.
		entry.Status, entry.Details = StatusSkipped, "patient version "+p.Version+" is the one written back"
		return old.ID, tx.AppendLog(ctx, entry)
	case found && edit.Status.Unsettled():
		entry.Status = StatusSkipped
		entry.Details = fmt.Sprintf("patient version %s not taken: the local edit is not written back (%s)", p.Version, edit.Status)
		return old.ID, tx.AppendLog(ctx, entry)
	}
	fp := p.Fingerprint()
	id, err := tx.SavePatient(ctx, StoredPatient{ID: old.ID, Patient: *p, Fingerprint: fp})
	if err != nil {
		return 0, err
	}
	if err := e.enqueueDeliveries(ctx, tx, op.Run, p.Ref, p.Version, fp, false); err != nil {
		return 0, err
	}
	err = e.notify(ctx, tx, PatientNotice{Old: old, New: StoredPatient{ID: id, Patient: *p, Fingerprint: fp}, Action: op.Action})
	if err != nil {
		return 0, err
	}
	entry.PatientID, entry.Status, entry.Details = id, StatusSuccess, "stored patient version "+p.Version
	return id, tx.AppendLog(ctx, entry)
}

// keepPracticeFields gives p the fields of the local copy that the Source
// left empty and that only the practice keeps: a FHIR Patient has no
// medical history or dietary preferences, and a pull must not erase what
// the dietician wrote there.
func keepPracticeFields(p *Patient, local Patient) {
	if p.MedicalHistory == "" {
		p.MedicalHistory = local.MedicalHistory
	}
	if p.DietaryPreferences == "" {
		p.DietaryPreferences = local.DietaryPreferences
	}
}

// enqueueDeliveries enqueues a delivery of ref's local copy to every sink,
// counted against run when it fails for good.
func (e *Engine) enqueueDeliveries(ctx context.Context, tx Tx, run string, ref Ref, version, fingerprint string, deleted bool) error {
	ops := make([]Op, 0, len(e.cfg.Sinks))
	for name := range e.cfg.Sinks {
		ops = append(ops, DeliverOp{Sink: name, Ref: ref, Version: version, Fingerprint: fingerprint, Deleted: deleted,
			Action: ActionDelivery, Run: run})
	}
	_, err := tx.Enqueue(ctx, ops...)
	return err
}

// sequential reports whether the named Source's version ids grow.
func (e *Engine) sequential(system string) bool {
	src, ok := e.cfg.Sources[system]
	return ok && HasSequentialVersions(src)
}
