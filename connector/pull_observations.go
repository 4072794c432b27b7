package connector

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
)

// observes reports whether ref is an observation its Source gives as data
// (ObservationSource): the engine pulls it into the local copy instead of
// routing or fetching it as a document.
func (e *Engine) observes(ref Ref) bool {
	if ref.Type != ObservationType {
		return false
	}
	_, ok := e.cfg.Sources[ref.System].(ObservationSource)
	return ok
}

// pulledObservation is a fetched observation waiting to be kept.
type pulledObservation struct {
	op  PullOp
	obs *Observation
	// patient is the observation's patient when the store does not know it.
	patient *Patient
	// routed are pulls of the documents a change outside a reconcile
	// affects (the lab report that lists the observation), and the log
	// entry that says so.
	routed []Op
	entry  *LogEntry
}

// pullObservations fetches the observations ops name and, in one
// transaction that completes the ops, keeps each that is newer than the
// local copy and differs from it, as pullAll does documents. A change of
// an observation outside a reconcile (a webhook) also pulls the documents
// the Source routes it to, when it is a Router: a lab report shows its
// results.
func (e *Engine) pullObservations(ctx context.Context, job Job, ops []PullOp) []failure {
	var (
		failed []failure
		got    []pulledObservation
		found  = map[Ref]*Patient{}
	)
	for _, op := range ops {
		if ctx.Err() != nil {
			failed = append(failed, failure{op, fmt.Errorf("pull %s: the batch ran out of time: %w", op.Ref, ErrBusy)})
			continue
		}
		p, err := e.prepareObservation(ctx, op, found)
		if err != nil {
			failed = append(failed, failure{op, fmt.Errorf("pull %s: %w", op.Ref, err)})
			continue
		}
		got = append(got, p)
	}
	if len(got) == 0 {
		return failed
	}
	// One order for every batch, as keepAll: concurrent batches sharing
	// patients wait for each other rather than deadlock.
	slices.SortStableFunc(got, func(a, b pulledObservation) int {
		return cmp.Or(compareRefs(a.obs.Patient, b.obs.Patient), compareRefs(a.op.Ref, b.op.Ref))
	})
	done := make([]Op, len(got))
	for i, p := range got {
		done[i] = p.op
	}
	return append(failed, e.completeBatch(ctx, job, done, func(tx Tx, runs *runTally) error {
		otx, ok := tx.(ObservationTx)
		if !ok {
			return fmt.Errorf("%w: the store does not keep observations (connector.ObservationTx)", ErrPermanent)
		}
		kept := map[int64]*[2]int{} // per patient: stored, unchanged
		var patients []int64
		for _, p := range got {
			patientID, stored, err := e.keepObservation(ctx, tx, otx, p)
			if err != nil {
				return fmt.Errorf("pull %s: %w", p.op.Ref, err)
			}
			// A poll that finds nothing new logs nothing, as for documents.
			if patientID != 0 && (stored || p.op.Action != ActionPoll) {
				if kept[patientID] == nil {
					kept[patientID] = &[2]int{}
					patients = append(patients, patientID)
				}
				if stored {
					kept[patientID][0]++
				} else {
					kept[patientID][1]++
				}
			}
			if len(p.routed) > 0 || p.entry != nil {
				if _, err := tx.Enqueue(ctx, p.routed...); err != nil {
					return err
				}
				if err := tx.AppendLog(ctx, *p.entry); err != nil {
					return err
				}
			}
			runs.add(p.op.Run, patientID)
		}
		for _, id := range patients {
			entry := LogEntry{PatientID: id, Action: got[0].op.Action, Timestamp: e.cfg.Now(), Status: StatusSuccess,
				Details: fmt.Sprintf("stored %d observations, %d unchanged", kept[id][0], kept[id][1])}
			if kept[id][0] == 0 {
				entry.Status = StatusSkipped
			}
			if err := tx.AppendLog(ctx, entry); err != nil {
				return err
			}
		}
		return nil
	})...)
}

// prepareObservation fetches what op names, the observation's patient
// when the store does not know it, and, for a change outside a reconcile,
// the documents the Source routes it to.
func (e *Engine) prepareObservation(ctx context.Context, op PullOp, found map[Ref]*Patient) (pulledObservation, error) {
	src, err := e.source(op.Ref.System)
	if err != nil {
		return pulledObservation{}, err
	}
	obs, err := e.fetchObservation(ctx, src.(ObservationSource), op)
	if err != nil {
		return pulledObservation{}, err
	}
	p := pulledObservation{op: op, obs: obs}
	if !obs.Deleted {
		pat, ok := found[obs.Patient]
		if !ok {
			if pat, err = e.unknownPatient(ctx, src, obs.Patient); err != nil {
				return pulledObservation{}, err
			}
			found[obs.Patient] = pat
		}
		p.patient = pat
	}
	if r, ok := e.router(op.Ref); ok && op.Run == "" {
		ops, entry, err := e.routes(ctx, r, op)
		if err != nil {
			return pulledObservation{}, err
		}
		if len(ops) > 0 {
			p.routed, p.entry = ops, &entry
		}
	}
	return p, nil
}

// fetchObservation returns the observation op names as the Source has it
// now; one the Source no longer has comes back marked Deleted. As for
// documents, only the Source's own answer deletes.
func (e *Engine) fetchObservation(ctx context.Context, src ObservationSource, op PullOp) (*Observation, error) {
	var obs *Observation
	err := e.call(ctx, func(ctx context.Context) (err error) {
		obs, err = src.FetchObservation(ctx, op.Ref)
		return err
	})
	switch {
	case errors.Is(err, ErrNotFound):
		return &Observation{Ref: op.Ref, Version: op.Version, Deleted: true}, nil
	case err != nil:
		return nil, fmt.Errorf("fetch %s: %w", op.Ref, err)
	case obs == nil:
		return nil, fmt.Errorf("%w: fetch %s returned no observation", ErrPermanent, op.Ref)
	}
	obs.Ref = op.Ref
	for _, r := range []*Ref{&obs.Patient, &obs.Report} {
		if !r.IsZero() && r.System == "" {
			r.System = op.Ref.System
		}
	}
	if obs.Patient.Type == "" {
		obs.Patient.Type = PatientType
	}
	if err := obs.Validate(); err != nil {
		return nil, fmt.Errorf("fetch %s: %w", op.Ref, err)
	}
	return obs, nil
}

// keepObservation stores the observation if it is newer than the local
// copy and differs from it; the store keeps the copy it replaces in the
// observation's history. It returns the local patient id (0 for a
// deletion of an observation never kept) and whether it stored.
func (e *Engine) keepObservation(ctx context.Context, tx Tx, otx ObservationTx, p pulledObservation) (int64, bool, error) {
	obs := p.obs
	old, err := otx.Observation(ctx, obs.Ref)
	found := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return 0, false, err
	}
	if p.op.Delete && !obs.Deleted {
		e.log.WarnContext(ctx, "deletion not confirmed by the source; kept", "ref", obs.Ref.String(), "action", p.op.Action)
	}
	var unchanged bool
	switch {
	case !found:
		unchanged = obs.Deleted
	case obs.Deleted:
		unchanged = old.Deleted
	case CompareRevisions(obs.Revision(), old.Revision(), e.sequential(obs.Ref.System)) == Older:
		unchanged = true
	default:
		unchanged = obs.Fingerprint() == old.Fingerprint
	}
	if unchanged {
		return old.PatientID, false, nil
	}
	next := StoredObservation{ID: old.ID, PatientID: old.PatientID, Observation: *obs}
	if obs.Deleted {
		next.Observation, next.Deleted = old.Observation, true
		if obs.Version != "" {
			next.Version = obs.Version
		}
	}
	if !found {
		if next.PatientID, err = e.localPatient(ctx, tx, obs.Patient, p.patient, p.op); err != nil {
			return 0, false, err
		}
	}
	next.Fingerprint = next.Observation.Fingerprint()
	if next.ID, err = otx.SaveObservation(ctx, next); err != nil {
		return 0, false, err
	}
	if err := e.notify(ctx, tx, ObservationNotice{Old: old, New: next, Action: p.op.Action, Run: p.op.Run}); err != nil {
		return 0, false, err
	}
	return next.PatientID, true, nil
}
