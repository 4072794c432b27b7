package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

// Backend is what a database package provides to the shared store: River's
// driver for it and its transactions.
type Backend[TTx any] interface {
	// Driver is River's driver over the same database.
	Driver() riverdriver.Driver[TTx]
	// InTx runs fn in one transaction, committing when fn returns nil.
	InTx(ctx context.Context, fn func(tx TTx, q Querier) error) error
	// Close releases the database.
	Close() error
}

// Reader is implemented by a Backend that runs read-only transactions
// apart from its writers, so that a read never queues behind the job
// workers' writes: SQLite reads through a pool of its own in WAL mode,
// PostgreSQL in READ ONLY transactions. Store.Read and SearchDocuments use
// it; without it they run in an ordinary transaction, rolled back.
type Reader interface {
	// InReadTx runs fn in one read-only transaction that sees the data
	// committed when it began and does not wait for a writer. A statement
	// that writes fails in it.
	InReadTx(ctx context.Context, fn func(q Querier) error) error
}

// Config tunes the job engine. Zero values take the documented defaults.
type Config struct {
	// PullWorkers and DeliverWorkers bound concurrent jobs per queue (each
	// sink has its own delivery queue). Defaults 4 and 4.
	PullWorkers, DeliverWorkers int
	// MaxAttempts before an op becomes a dead letter. Default 12.
	MaxAttempts int
	// DeadLetterRetention is how long dead letters stay listed before
	// River's cleaner removes them. Default 7 days.
	DeadLetterRetention time.Duration
	// FetchPollInterval is how often idle workers look for jobs when the
	// database cannot notify them. Default 50ms.
	FetchPollInterval time.Duration
	// JobTimeout bounds one attempt of a batch. Default 5 minutes.
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before it is taken
	// for crashed and retried. Default JobTimeout + 1 minute.
	RescueAfter time.Duration
	// Periodic are the tasks the cluster runs on a schedule, once per
	// interval across all handles on the database (see Periodic). Open
	// every handle with the same tasks. The store adds its own pruning
	// task (see Retention).
	Periodic []Periodic
	// Retention is how long ingested event ids and the keys of done ops
	// are kept, which is how long a resent event or a repeated op is
	// recognized as a duplicate (see Store.Prune). Default 30 days;
	// negative keeps them for ever.
	Retention time.Duration
	// PruneEvery is how often what is older than Retention is deleted.
	// Default 1 hour.
	PruneEvery time.Duration
	// PruneBatch is how many rows one pruning transaction deletes.
	// Default 1000.
	PruneBatch int
	// CarepatronSink is the sink whose id of a patient the store keeps in
	// patients.carepatron_patient_id (practice.Patient's
	// CarepatronPatientID), updated whenever the engine saves the
	// patient's mapping for that sink. Default "carepatron", the name
	// migration 00006 backfills the column from; a store configured with
	// another name fills it as the sink's patients are delivered again.
	CarepatronSink string
	// Email sends one email of the notifications' outbox (practice.Outbox's
	// Send): the worker of each email job calls it, retrying an error with
	// the engine's backoff, for about a day, unless it is permanent
	// (connector.IsPermanent), which makes the job a dead letter at once.
	// Default none: the jobs wait, retried, until a handle with one runs
	// them.
	Email func(ctx context.Context, e practice.Email) error
	// Logger for the job engine. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// DefaultRetention is Config.Retention's default.
const DefaultRetention = 30 * 24 * time.Hour

// DefaultCarepatronSink is Config.CarepatronSink's default.
const DefaultCarepatronSink = "carepatron"

func (c *Config) defaults() {
	if c.PullWorkers <= 0 {
		c.PullWorkers = 4
	}
	if c.DeliverWorkers <= 0 {
		c.DeliverWorkers = 4
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 12
	}
	if c.DeadLetterRetention <= 0 {
		c.DeadLetterRetention = 7 * 24 * time.Hour
	}
	if c.FetchPollInterval <= 0 {
		c.FetchPollInterval = 50 * time.Millisecond
	}
	if c.JobTimeout <= 0 {
		c.JobTimeout = 5 * time.Minute
	}
	if c.RescueAfter <= c.JobTimeout {
		c.RescueAfter = c.JobTimeout + time.Minute
	}
	if c.Retention == 0 {
		c.Retention = DefaultRetention
	}
	if c.PruneEvery <= 0 {
		c.PruneEvery = time.Hour
	}
	if c.PruneBatch <= 0 {
		c.PruneBatch = 1000
	}
	if c.CarepatronSink == "" {
		c.CarepatronSink = DefaultCarepatronSink
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Store persists the engine's state in one database and runs its ops as
// River jobs in the same database, so an op and the state change that
// decided it commit together. It implements connector.Store.
type Store[TTx any] struct {
	backend Backend[TTx]
	river   *river.Client[TTx]
	cfg     Config

	mu     sync.Mutex
	engine *connector.Engine

	// periodic are the periodic tasks by name.
	periodic map[string]Periodic

	// retryAfter carries a server's requested delay from a failed attempt
	// to River's retry policy, keyed by job id.
	retryAfter sync.Map

	// owners caches patients' dieticians (tx.PatientOwner).
	owners ownerCache
}

// Queue names. Each sink's deliveries have their own queue, so that a slow
// sink never holds up intake or another sink. What the product layer asks
// of a provider (write-backs of patient edits, document requests) has a
// queue of its own too, so that a slow provider holds up neither intake
// nor deliveries.
const (
	QueuePull      = "hr_pull"
	QueueReconcile = "hr_reconcile"
	QueueProvider  = "hr_provider"
	queueDeliver   = "hr_deliver_"
)

// QueueDeliver is the queue of deliveries to one sink.
func QueueDeliver(sink string) string { return queueDeliver + sink }

// New wraps a backend whose schema is migrated. Jobs are inserted at once;
// they run once Start is called.
func New[TTx any](b Backend[TTx], cfg Config) (*Store[TTx], error) {
	cfg.defaults()
	s := &Store[TTx]{backend: b, cfg: cfg}
	workers := river.NewWorkers()
	river.AddWorker(workers, &worker[TTx, connector.PullOp]{s: s})
	river.AddWorker(workers, &worker[TTx, connector.DeliverOp]{s: s})
	river.AddWorker(workers, &worker[TTx, connector.ReconcileOp]{s: s})
	river.AddWorker(workers, &worker[TTx, connector.WriteBackOp]{s: s})
	river.AddWorker(workers, &worker[TTx, connector.RequestOp]{s: s})
	river.AddWorker(workers, &periodicWorker[TTx]{s: s})
	river.AddWorker(workers, &emailWorker[TTx]{s: s})
	tasks := cfg.Periodic
	if cfg.Retention > 0 {
		tasks = append(tasks[:len(tasks):len(tasks)], s.prunePeriodic())
	}
	byName, periodic, err := periodicJobs(tasks)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	s.periodic = byName
	client, err := river.NewClient(b.Driver(), &river.Config{
		FetchCooldown:        fetchCooldown(cfg),
		FetchPollInterval:    cfg.FetchPollInterval,
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.RescueAfter,
		MaxAttempts:          cfg.MaxAttempts,
		// Cancelled jobs are the permanent failures: keep them as long as
		// the exhausted (discarded) ones.
		CancelledJobRetentionPeriod: cfg.DeadLetterRetention,
		DiscardedJobRetentionPeriod: cfg.DeadLetterRetention,
		Logger:                      cfg.Logger.With("component", "river"),
		RetryPolicy:                 retryPolicy[TTx]{s},
		Queues: map[string]river.QueueConfig{
			QueuePull:      {MaxWorkers: cfg.PullWorkers},
			QueueReconcile: {MaxWorkers: 2},
			QueueProvider:  {MaxWorkers: 2},
			QueuePeriodic:  {MaxWorkers: 2},
			QueueEmail:     {MaxWorkers: 2},
		},
		// Only the elected leader enqueues these, so each runs once per
		// interval in the cluster, not once per process.
		PeriodicJobs: periodic,
		Workers:      workers,
	})
	if err != nil {
		return nil, fmt.Errorf("store: job client: %w", err)
	}
	s.river = client
	return s, nil
}

// fetchCooldown is the least time between two fetches of a queue's jobs.
func fetchCooldown(cfg Config) time.Duration { return min(cfg.FetchPollInterval, 20*time.Millisecond) }

// River returns the job client, for dead-letter tooling and tests.
func (s *Store[TTx]) River() *river.Client[TTx] { return s.river }

// Update implements connector.Store.
func (s *Store[TTx]) Update(ctx context.Context, fn func(connector.Tx) error) error {
	return s.inTx(ctx, func(t *tx) error { return fn(t) })
}

// inTx runs fn in a transaction and, before it commits, inserts the jobs
// for the ops fn enqueued.
func (s *Store[TTx]) inTx(ctx context.Context, fn func(*tx) error) error {
	return s.backend.InTx(ctx, func(ttx TTx, q Querier) error {
		t := s.newTx(q)
		if err := fn(t); err != nil {
			return err
		}
		if len(t.emails) > 0 {
			if _, err := s.river.InsertManyTx(ctx, ttx, emailParams(t.emails)); err != nil {
				return fmt.Errorf("enqueue %d emails: %w", len(t.emails), err)
			}
		}
		return s.flush(ctx, ttx, t.enqueued)
	})
}

func (s *Store[TTx]) newTx(q Querier) *tx {
	searcher, _ := s.backend.(Searcher)
	return &tx{q: q, now: s.cfg.Now, searcher: searcher, carepatronSink: s.cfg.CarepatronSink, read: s.readQuerier,
		owners: &s.owners}
}

// readQuerier runs fn in a read-only transaction of its own.
func (s *Store[TTx]) readQuerier(ctx context.Context, fn func(Querier) error) error {
	return s.inReadTx(ctx, func(t *tx) error { return fn(t.q) })
}

// Start runs the engine's ops on workers until Stop. Each sink named gets
// its delivery queue.
func (s *Store[TTx]) Start(ctx context.Context, e *connector.Engine) error {
	s.mu.Lock()
	s.engine = e
	s.mu.Unlock()
	for _, sink := range e.SinkNames() {
		err := s.river.Queues().Add(QueueDeliver(sink), river.QueueConfig{MaxWorkers: s.cfg.DeliverWorkers})
		if err != nil && !errors.Is(err, &river.QueueAlreadyAddedError{}) {
			return fmt.Errorf("store: queue for sink %s: %w", sink, err)
		}
	}
	if err := s.river.Start(ctx); err != nil {
		return fmt.Errorf("store: start workers: %w", err)
	}
	return nil
}

// Stop stops fetching new jobs and waits for running ones until ctx ends;
// then it cancels them, and River retries them on the next start.
func (s *Store[TTx]) Stop(ctx context.Context) error {
	err := s.river.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return s.river.StopAndCancel(context.WithoutCancel(ctx))
	}
	return err
}

// Close releases the database. Call Stop first if Start was called.
func (s *Store[TTx]) Close() error { return s.backend.Close() }

func (s *Store[TTx]) currentEngine() *connector.Engine {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.engine
}
