package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/store"
)

// observer counts every op's outcome, per kind and source or sink, so that
// a sink that fails every delivery shows in the metrics while the runs
// that list and pull succeed. It is the engine's connector.Observer.
type observer struct {
	attempts, failures, dead *prometheus.CounterVec
	log                      *slog.Logger
}

func newObserver(reg prometheus.Registerer, log *slog.Logger) *observer {
	o := &observer{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "healthcare_records", Name: "op_attempts_total",
			Help: "Attempts of ops (pull, deliver, reconcile) by kind and source or sink.",
		}, []string{"kind", "system"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "healthcare_records", Name: "op_failures_total",
			Help: "Failed attempts of ops by kind, source or sink, and class (transient, permanent, busy, ...).",
		}, []string{"kind", "system", "class"}),
		dead: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "healthcare_records", Name: "dead_letters_total",
			Help: "Ops that failed for good and became dead letters, by kind and source or sink.",
		}, []string{"kind", "system"}),
		log: log,
	}
	reg.MustRegister(o.attempts, o.failures, o.dead)
	return o
}

// Observe implements connector.Observer.
func (o *observer) Observe(out connector.Outcome) {
	o.attempts.WithLabelValues(out.Kind, out.System).Inc()
	if out.Class == "" {
		return
	}
	o.failures.WithLabelValues(out.Kind, out.System, out.Class).Inc()
	if out.Final {
		o.dead.WithLabelValues(out.Kind, out.System).Inc()
		// The run that enqueued the op has already reported: this is
		// where a failed delivery is told.
		o.log.Warn("op failed for good: see the dead letters", "kind", out.Kind, "system", out.System, "class", out.Class)
	}
}

// backlogTimeout bounds the queue query of one scrape.
const backlogTimeout = 2 * time.Second

// backlogCollector reports each queue's pending jobs and the age of its
// oldest, read from the database at scrape time. The queues the server
// knows are always reported, at 0 when empty; when the database does not
// answer in time the queue gauges are left out and backlog_up is 0.
type backlogCollector struct {
	backlog func(ctx context.Context) ([]store.Backlog, error)
	queues  []string
	now     func() time.Time
	log     *slog.Logger

	pending, oldest, up *prometheus.Desc
}

func newBacklogCollector(backlog func(context.Context) ([]store.Backlog, error), queues []string, log *slog.Logger) *backlogCollector {
	return &backlogCollector{
		backlog: backlog, queues: queues, now: time.Now, log: log,
		pending: prometheus.NewDesc("healthcare_records_queue_pending_jobs",
			"Jobs of the queue not yet finished: available, scheduled, retrying or running.", []string{"queue"}, nil),
		oldest: prometheus.NewDesc("healthcare_records_queue_oldest_pending_seconds",
			"Age of the queue's oldest unfinished job; 0 when none.", []string{"queue"}, nil),
		up: prometheus.NewDesc("healthcare_records_backlog_up",
			"1 when the queue gauges could be read from the database for this scrape.", nil, nil),
	}
}

func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.pending
	ch <- c.oldest
	ch <- c.up
}

func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), backlogTimeout)
	defer cancel()
	got, err := c.backlog(ctx)
	if err != nil {
		c.log.Warn("metrics: queue backlog unavailable", "err", err)
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	seen := map[string]bool{}
	now := c.now()
	for _, b := range got {
		seen[b.Queue] = true
		age := 0.0
		if !b.Oldest.IsZero() {
			age = max(0, now.Sub(b.Oldest).Seconds())
		}
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(b.Pending), b.Queue)
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age, b.Queue)
	}
	for _, q := range c.queues {
		if !seen[q] {
			ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, 0, q)
			ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, 0, q)
		}
	}
}
