package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcare-records/healthcare-records/carepatron"
	"github.com/healthcare-records/healthcare-records/provider"
)

// The states of a readiness check, from best to worst.
const (
	// stateOK: the dependency answers and accepts the server.
	stateOK = "ok"
	// stateDegraded: the dependency is unreachable or failing (a timeout,
	// a 5xx, a 429). Work waits in the queue and is retried; intake goes
	// on, so /readyz still answers 200.
	stateDegraded = "degraded"
	// stateFailed: nothing will succeed until an operator acts: the
	// database refuses writes, the workers stopped, or credentials were
	// refused. /readyz answers 503.
	stateFailed = "failed"
)

var stateRank = map[string]int{stateOK: 0, stateDegraded: 1, stateFailed: 2}

// checkTimeout bounds one check of a dependency; dbCheckEvery is how
// often the database is checked (more often than credentials: a full disk
// must turn the server unready quickly).
const (
	checkTimeout = 5 * time.Second
	dbCheckEvery = 5 * time.Second
)

// checkResult is one check's last outcome, as /readyz shows it.
type checkResult struct {
	Status string `json:"status"`
	// Error is the dependency's answer, for an operator: no secret is in
	// it (the clients never put their keys in errors).
	Error string `json:"error,omitempty"`
}

// probe checks one dependency: check returns the state and, unless ok,
// the error that explains it.
type probe struct {
	name  string
	every time.Duration
	check func(ctx context.Context) (state string, err error)
}

// readiness keeps the last outcome of each probe, which the probes update
// in the background: /readyz reads them and never waits on the network.
// Instant checks of the process itself (local) are made per request.
type readiness struct {
	probes []probe
	local  func() map[string]checkResult
	log    *slog.Logger
	gauge  *prometheus.GaugeVec

	mu      sync.RWMutex
	results map[string]checkResult
}

func newReadiness(reg prometheus.Registerer, log *slog.Logger, local func() map[string]checkResult, probes ...probe) *readiness {
	r := &readiness{probes: probes, local: local, log: log, results: map[string]checkResult{},
		gauge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "healthcare_records", Name: "readiness_check_state",
			Help: "State of each readiness check: 0 ok, 1 degraded, 2 failed.",
		}, []string{"check"})}
	reg.MustRegister(r.gauge)
	return r
}

// checkAll runs every probe once, concurrently, and returns when all are
// done: at start, so that the first /readyz and the logs tell at once.
func (r *readiness) checkAll(ctx context.Context) {
	var wg sync.WaitGroup
	for _, p := range r.probes {
		wg.Go(func() { r.checkOne(ctx, p) })
	}
	wg.Wait()
}

// run re-checks each probe on its interval until ctx ends.
func (r *readiness) run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, p := range r.probes {
		wg.Go(func() {
			t := time.NewTicker(p.every)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					r.checkOne(ctx, p)
				}
			}
		})
	}
	wg.Wait()
}

func (r *readiness) checkOne(ctx context.Context, p probe) {
	cctx, cancel := context.WithTimeout(ctx, min(checkTimeout, p.every))
	defer cancel()
	start := time.Now()
	state, err := p.check(cctx)
	if ctx.Err() != nil {
		return // shutting down: keep the last outcome
	}
	res := checkResult{Status: state}
	if err != nil {
		res.Error = err.Error()
	}
	r.mu.Lock()
	prev, seen := r.results[p.name]
	r.results[p.name] = res
	r.mu.Unlock()
	r.gauge.WithLabelValues(p.name).Set(float64(stateRank[state]))
	if seen && prev == res {
		return
	}
	attrs := []any{"check", p.name, "status", state, "took_ms", time.Since(start).Milliseconds()}
	switch state {
	case stateOK:
		r.log.InfoContext(ctx, "readiness check ok", attrs...)
	case stateDegraded:
		r.log.WarnContext(ctx, "readiness check degraded", append(attrs, "err", res.Error)...)
	default:
		r.log.ErrorContext(ctx, "readiness check failed", append(attrs, "err", res.Error)...)
	}
}

// report is /readyz's answer: the worst state of all checks, 503 when it
// is failed.
func (r *readiness) report() (int, map[string]any) {
	checks := map[string]checkResult{}
	r.mu.RLock()
	for _, p := range r.probes {
		res, ok := r.results[p.name]
		if !ok {
			res = checkResult{Status: stateDegraded, Error: "not checked yet"}
		}
		checks[p.name] = res
	}
	r.mu.RUnlock()
	if r.local != nil {
		for k, v := range r.local() {
			checks[k] = v
		}
	}
	worst := stateOK
	for _, c := range checks {
		if stateRank[c.Status] > stateRank[worst] {
			worst = c.Status
		}
	}
	code := http.StatusOK
	if worst == stateFailed {
		code = http.StatusServiceUnavailable
	}
	return code, map[string]any{"status": worst, "checks": checks}
}

func (r *readiness) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	code, body := r.report()
	writeJSON(w, code, body)
}

// databaseProbe fails while the database refuses a write.
func databaseProbe(check func(context.Context) error) probe {
	return probe{name: "database", every: dbCheckEvery, check: func(ctx context.Context) (string, error) {
		if err := check(ctx); err != nil {
			return stateFailed, err
		}
		return stateOK, nil
	}}
}

// probePatient is the id the provider probe reads: no patient has it, so
// the answer is a 404 once the credentials are accepted.
const probePatient = "hr-readiness-probe"

// providerProbe reads a patient no one has, with the sync's credentials: a
// SMART token is requested (when none is cached) and the FHIR API is
// asked with it. A 404 or 410 means both accepted the server.
func providerProbe(c *provider.Client, every time.Duration) probe {
	return probe{name: "provider", every: every, check: func(ctx context.Context) (string, error) {
		_, err := c.Read(ctx, "Patient", probePatient)
		switch code := provider.StatusCode(err); {
		case err == nil, code == http.StatusNotFound, code == http.StatusGone:
			return stateOK, nil
		case errors.Is(err, provider.ErrAuth), code == http.StatusUnauthorized, code == http.StatusForbidden:
			return stateFailed, err
		}
		return stateDegraded, err
	}}
}

// carepatronProbe calls Carepatron's secure ping with the API key. Without
// a workspace id it pings a workspace that does not exist: then only a
// 401 (the key is unknown) fails, and a 403 or 404 (a known key, another
// workspace) is as good as a pong.
func carepatronProbe(c *carepatron.Client, providerID string, every time.Duration) probe {
	return probe{name: "carepatron", every: every, check: func(ctx context.Context) (string, error) {
		id := providerID
		if id == "" {
			id = "hr-readiness-probe"
		}
		err := c.SecurePing(ctx, id)
		var ce *carepatron.Error
		switch {
		case err == nil:
			return stateOK, nil
		case !errors.As(err, &ce):
			return stateDegraded, err // not reached
		case ce.StatusCode == http.StatusUnauthorized:
			return stateFailed, err
		case ce.StatusCode == http.StatusForbidden, ce.StatusCode == http.StatusNotFound:
			if providerID == "" {
				return stateOK, nil
			}
			return stateFailed, err
		case ce.StatusCode >= 500 || ce.StatusCode == http.StatusTooManyRequests:
			return stateDegraded, err
		}
		return stateFailed, err
	}}
}
