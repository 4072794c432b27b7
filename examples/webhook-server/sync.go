package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
)

// reconcileEvery enqueues a reconcile of every known patient of source each
// interval until ctx ends, so that changes whose webhooks were lost still
// arrive. Each patient's reconcile lists only what changed since its
// cursor (minus the overlap), so an idle provider costs one search per
// patient and no sink call.
//
// Every replica of the server runs its own ticker. The reconciles are
// idempotent, so several replicas cost extra searches, never extra writes;
// a River periodic job with leader election would run one per cluster.
func reconcileEvery(ctx context.Context, e *connector.Engine, source string, interval time.Duration, m *serverMetrics, log *slog.Logger) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			run, err := e.Sync(ctx, source, "", connector.ActionPoll, false)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				m.reconciles.WithLabelValues(source, "error").Inc()
				log.ErrorContext(ctx, "periodic reconcile not enqueued", "source", source, "err", err)
				continue
			}
			m.reconciles.WithLabelValues(source, "enqueued").Inc()
			log.InfoContext(ctx, "periodic reconcile enqueued", "source", source, "run", run)
		}
	}
}

// enroll makes patients of source known to the store and reconciles each:
// their documents are listed, pulled and delivered. A patient becomes known
// by pulling it from the source; its reconcile waits for that, within
// timeout. Patients already known are only reconciled.
func enroll(ctx context.Context, e *connector.Engine, db *database, source string, patients []string, timeout time.Duration, log *slog.Logger) error {
	if len(patients) == 0 {
		return nil
	}
	stamp := strconv.FormatInt(time.Now().UnixNano(), 36)
	changes := make([]connector.Change, len(patients))
	for i, id := range patients {
		changes[i] = connector.Change{Kind: connector.ChangeUpsert, Ref: connector.Ref{System: source, Type: connector.PatientType, ID: id}}
	}
	// A fresh event id each start: enrolling again pulls the patients
	// again, which is cheap and catches up a patient whose pull failed.
	ev := connector.Event{ID: "enroll-" + stamp, Source: source, Action: connector.ActionManualSync, Changes: changes}
	if _, err := e.Ingest(ctx, ev); err != nil {
		return fmt.Errorf("enroll patients: %w", err)
	}
	deadline := time.Now().Add(timeout)
	pending := append([]string(nil), patients...)
	for len(pending) > 0 {
		var waiting []string
		for _, id := range pending {
			known, err := patientKnown(ctx, db, source, id)
			if err != nil {
				return fmt.Errorf("enroll patient %s: %w", id, err)
			}
			if !known {
				waiting = append(waiting, id)
				continue
			}
			run, err := e.Sync(ctx, source, id, connector.ActionManualSync, false)
			if err != nil {
				return fmt.Errorf("sync patient %s: %w", id, err)
			}
			log.InfoContext(ctx, "patient sync enqueued", "source", source, "patient", id, "run", run)
		}
		if pending = waiting; len(pending) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("enroll: %d patients not pulled from %s within %s (first: %s); see the dead letters", len(pending), source, timeout, pending[0])
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

func patientKnown(ctx context.Context, db *database, source, id string) (bool, error) {
	err := db.Update(ctx, func(tx connector.Tx) error {
		_, err := tx.Patient(ctx, connector.Ref{System: source, Type: connector.PatientType, ID: id})
		return err
	})
	if errors.Is(err, connector.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// logProgress logs each finished per-patient sync run until ctx ends: the
// run, the local patient id and its counts, never patient data.
func logProgress(ctx context.Context, e *connector.Engine, m *serverMetrics, log *slog.Logger) {
	ch, stop := e.Progress().Subscribe(0)
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return
		case p, ok := <-ch:
			if !ok {
				return
			}
			if p.Phase != connector.PhaseDone {
				log.DebugContext(ctx, "sync progress", "run", p.Run, "patient_id", p.PatientID, "phase", string(p.Phase), "done", p.Done, "total", p.Total, "errors", p.Errors)
				continue
			}
			result := "ok"
			if p.Errors > 0 {
				result = "with_errors"
			}
			m.runs.WithLabelValues(result).Inc()
			log.InfoContext(ctx, "sync run finished", "run", p.Run, "patient_id", p.PatientID, "done", p.Done, "total", p.Total, "errors", p.Errors)
		}
	}
}
