package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/healthcare-records/healthcare-records/webhook"
)

// readyTimeout bounds the database check of /readyz: a probe must answer
// even when the database does not.
const readyTimeout = 2 * time.Second

// newMetrics returns the registry /metrics serves: the Go runtime and
// process collectors, and the server's own; the webhook receivers add
// theirs to it.
func newMetrics() (*prometheus.Registry, *serverMetrics) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &serverMetrics{
		reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "healthcare_records", Name: "reconciles_total",
			Help: "Periodic reconciliations of a source, by outcome (enqueued or error).",
		}, []string{"source", "outcome"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "healthcare_records", Name: "sync_runs_finished_total",
			Help: "Per-patient sync runs that finished listing and pulling, by whether any document failed for good.",
		}, []string{"result"}),
		workers: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "healthcare_records", Name: "workers_running",
			Help: "1 while the store's job workers run.",
		}),
	}
	reg.MustRegister(m.reconciles, m.runs, m.workers)
	return reg, m
}

type serverMetrics struct {
	reconciles *prometheus.CounterVec
	runs       *prometheus.CounterVec
	workers    prometheus.Gauge
}

// newHandler routes the server's endpoints:
//
//	/webhooks/{source}  the webhook receivers
//	/healthz            200 while the process serves
//	/readyz             200 when the database answers, its schema is
//	                    migrated and the workers run; else 503
//	/metrics            Prometheus
func newHandler(db *database, receivers []*webhook.Receiver, reg *prometheus.Registry, m *serverMetrics, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	if len(receivers) > 0 {
		mux.Handle("/webhooks/{source}", webhook.BySource(receivers...))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		checks := map[string]string{"database": "ok", "workers": "ok"}
		ready := true
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := db.ping(ctx); err != nil {
			checks["database"], ready = "unavailable", false
			log.WarnContext(ctx, "readiness: database check failed", "err", err)
		}
		running := db.workersRunning()
		if !running {
			checks["workers"], ready = "stopped", false
		}
		m.workers.Set(map[bool]float64{true: 1}[running])
		status, code := "ready", http.StatusOK
		if !ready {
			status, code = "not ready", http.StatusServiceUnavailable
		}
		writeJSON(w, code, map[string]any{"status": status, "checks": checks})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// newHTTPServer bounds every phase of a request, so a slow client cannot
// hold a connection forever.
func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.With("component", "http").Handler(), slog.LevelWarn),
	}
}
