package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/healthcare-records/healthcare-records/webhook"
)

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
			Help: "Per-patient sync runs that finished listing and pulling, by whether any pull or delivery had failed for good by then (later ones: see dead_letters_total).",
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
//	/webhooks/{source}  the webhook receivers; a problem (404) for any
//	                    other path under /webhooks/ and anywhere else
//	/healthz            200 while the process serves
//	/readyz             the readiness checks (see readiness): 200 when
//	                    each is ok or degraded, 503 when one failed
//	/metrics            Prometheus
//	/api/v1/            the REST API (see docs/api.md)
//	/.well-known/jwks.json  the keys that verify the API's tokens
//	/console/           the web console (see docs/console.md)
func newHandler(ready *readiness, receivers []*webhook.Receiver, reg *prometheus.Registry, p *product) http.Handler {
	mux := http.NewServeMux()
	if p != nil {
		mux.Handle(apiBase+"/", p.api)
		mux.Handle("/.well-known/jwks.json", p.jwks)
		mux.Handle(consoleBase+"/", p.console)
		mux.Handle("GET "+consoleBase, http.RedirectHandler(consoleBase+"/", http.StatusMovedPermanently))
	}
	if len(receivers) > 0 {
		mux.Handle("/webhooks/{source...}", webhook.BySource(receivers...))
	}
	mux.Handle("/", webhook.NotFoundHandler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.Handle("GET /readyz", ready)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux
}

// workersCheck is the readiness of the store's workers, which the process
// knows without asking anyone.
func workersCheck(db *database, m *serverMetrics) func() map[string]checkResult {
	return func() map[string]checkResult {
		running := db.workersRunning()
		res := checkResult{Status: stateOK}
		if !running {
			res = checkResult{Status: stateFailed, Error: "the job workers stopped"}
		}
		m.workers.Set(map[bool]float64{true: 1}[running])
		return map[string]checkResult{"workers": res}
	}
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
