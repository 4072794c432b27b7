package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/store"
)

// periodicTasks is the server's scheduled work, which the store runs as
// River periodic jobs: River's elected leader enqueues each once per
// interval for the whole cluster, however many replicas share the
// database, and any one replica works it.
//
//   - reconcile, every POLL_INTERVAL: a reconcile of every known patient of
//     source, so that changes whose webhooks were lost still arrive. Each
//     patient's reconcile lists only what changed since its cursor (minus
//     the overlap), so an idle provider costs one search per patient and no
//     sink call.
//   - sweep, every SWEEP_INTERVAL: a deletion check of every known patient,
//     which lists each patient's documents in full and has the provider
//     confirm the deletion of any local document it no longer lists. An
//     incremental listing never names a deleted resource, so this is what
//     repairs a lost or forged delete webhook. It costs a full listing per
//     patient, hence the slower schedule.
//
// A zero interval leaves the task out. The store adds its own pruning
// (RETENTION).
func periodicTasks(cfg *Config, m *serverMetrics, log *slog.Logger) []store.Periodic {
	source := cfg.Source
	return []store.Periodic{
		{Name: "reconcile", Every: cfg.PollInterval, Run: func(ctx context.Context, e *connector.Engine) error {
			run, err := e.Sync(ctx, source, "", connector.ActionPoll, false)
			if err != nil {
				m.reconciles.WithLabelValues(source, "error").Inc()
				return fmt.Errorf("periodic reconcile of %s: %w", source, err)
			}
			m.reconciles.WithLabelValues(source, "enqueued").Inc()
			log.InfoContext(ctx, "periodic reconcile enqueued", "source", source, "run", run)
			return nil
		}},
		{Name: "document-requests", Every: cfg.RequestRefreshInterval, Run: func(ctx context.Context, e *connector.Engine) error {
			if err := e.RefreshRequests(ctx); err != nil {
				return fmt.Errorf("document request status: %w", err)
			}
			return nil
		}},
		{Name: "sweep", Every: cfg.SweepInterval, Run: func(ctx context.Context, e *connector.Engine) error {
			run, err := e.Sweep(ctx, source)
			if err != nil {
				return fmt.Errorf("deletion sweep of %s: %w", source, err)
			}
			log.InfoContext(ctx, "deletion sweep enqueued", "source", source, "run", run)
			return nil
		}},
	}
}

// retention is the store's Config.Retention for the RETENTION setting, in
// which 0 means for ever.
func retention(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
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
// run, the local patient id and its counts, never patient data; and each
// delivery of a finished run's documents that failed for good after it.
func logProgress(ctx context.Context, e *connector.Engine, m *serverMetrics, log *slog.Logger) {
	ch, stop := e.Progress().Subscribe(0)
	defer stop()
	// finished remembers the runs logged as finished, so that a later
	// snapshot (a delivery failed) is told as that; bounded.
	finished := map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			return
		case p, ok := <-ch:
			if !ok {
				return
			}
			if p.Phase != connector.PhaseDone {
				log.DebugContext(ctx, "sync progress", "run", p.Run, "patient_id", p.PatientID, "phase", string(p.Phase), "done", p.Done, "total", p.Total, "pull_errors", p.Errors)
				continue
			}
			if finished[p.Run] {
				// The run's deliveries go on after it, on each sink's
				// queue: one of them failed for good.
				log.WarnContext(ctx, "sync run delivery failed for good", "run", p.Run, "patient_id", p.PatientID,
					"delivery_errors", p.DeliveryErrors)
				continue
			}
			if len(finished) >= 10000 {
				clear(finished)
			}
			finished[p.Run] = true
			result := "ok"
			if p.Errors+p.DeliveryErrors > 0 {
				result = "with_errors"
			}
			m.runs.WithLabelValues(result).Inc()
			log.InfoContext(ctx, "sync run finished", "run", p.Run, "patient_id", p.PatientID, "done", p.Done, "total", p.Total,
				"pull_errors", p.Errors, "delivery_errors", p.DeliveryErrors)
		}
	}
}
