package webhook

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics holds the collectors; a nil *metrics records nothing.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	missed   *prometheus.CounterVec
	buffered *prometheus.GaugeVec
}

// newMetrics registers the collectors on reg, reusing the ones another
// Receiver already registered there. A nil reg gives nil metrics.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "webhook",
			Name:      "requests_total",
			Help:      "Inbound webhook requests by source, format and outcome.",
		}, []string{"source", "format", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "webhook",
			Name:      "request_duration_seconds",
			Help:      "Time to answer an inbound webhook request, ingest included.",
			Buckets:   []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"source", "format", "outcome"}),
		missed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "webhook",
			Name:      "missed_heartbeats_total",
			Help:      "FHIR subscriptions found silent past two heartbeat periods, each turned into a reconcile.",
		}, []string{"source"}),
		buffered: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "webhook",
			Name:      "buffered_bytes",
			Help:      "Bytes of request bodies taken from the receiver's MaxBuffered budget, by source.",
		}, []string{"source"}),
	}
	var err error
	if m.requests, err = register(reg, m.requests); err != nil {
		return nil, err
	}
	if m.latency, err = register(reg, m.latency); err != nil {
		return nil, err
	}
	if m.missed, err = register(reg, m.missed); err != nil {
		return nil, err
	}
	if m.buffered, err = register(reg, m.buffered); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the equal collector already there.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	if err != nil {
		return c, fmt.Errorf("register metrics: %w", err)
	}
	return c, nil
}

func (m *metrics) observe(source string, f Format, o outcome, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(source, string(f), string(o)).Inc()
	m.latency.WithLabelValues(source, string(f), string(o)).Observe(d.Seconds())
}

func (m *metrics) observeMissedHeartbeat(source string) {
	if m == nil {
		return
	}
	m.missed.WithLabelValues(source).Inc()
}

func (m *metrics) observeBuffered(source string, n int64) {
	if m == nil {
		return
	}
	m.buffered.WithLabelValues(source).Set(float64(n))
}
