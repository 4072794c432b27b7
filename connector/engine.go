package connector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Config configures an Engine. Zero values of the optional fields take the
// documented defaults.
type Config struct {
	// Store persists the local copies and runs the ops. Required.
	Store Store
	// Sources by name; the name is Ref.System of their resources. Required.
	Sources map[string]Source
	// Sinks by name; every document is delivered to each.
	Sinks map[string]Sink
	// Logger receives ids and outcomes, never patient data. Default:
	// slog.Default().
	Logger *slog.Logger
	// LeaseTTL bounds how long one delivery may hold a patient or document
	// before another may take over (after a crash). Default 2 minutes; it
	// must exceed CallTimeout.
	LeaseTTL time.Duration
	// CallTimeout bounds each Source and Sink call. Default 1 minute.
	CallTimeout time.Duration
	// Retry shapes the delay between attempts of a failed op.
	Retry Backoff
	// Progress carries progress snapshots to subscribers. Default: an
	// in-process Hub; a store shared by several processes may provide
	// one that reaches subscribers in every process.
	Progress ProgressBus
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// MaxPages bounds the pages one reconcile lists: a longer listing goes
	// on from its saved cursor at the next reconcile, so a Source whose
	// next links never end cannot hold a worker forever. Default 1000.
	MaxPages int
	// CatchUpAfter is how long after a copy is kept locally a reconcile
	// delivers it again to a sink that still lacks it (its first delivery
	// having died, say in a long outage of the sink). It should exceed
	// the time a delivery's attempts span. Default 1 hour.
	CatchUpAfter time.Duration
	// Observer, when set, is told the outcome of every op of every
	// attempt, for metrics.
	Observer Observer
	// BatchBytes bounds the content and raw bytes one batch holds in
	// memory: a pull batch keeps what it fetched once it holds that much,
	// and a delivery batch leaves the ops past it for its next run, so a
	// batch of large documents runs in parts. Default 32 MiB.
	BatchBytes int
	// StreamAbove is the size above which content is streamed rather than
	// held: read from the Source into a spool file while it is hashed,
	// kept by the store in parts, and read back as a stream by deliveries
	// (see Body). Default 4 MiB.
	StreamAbove int64
	// SpoolDir holds the spool files of streamed content while a pull
	// batch keeps it (mode 0600, removed once kept). Default os.TempDir().
	SpoolDir string
	// ExtractText, when set, returns the words of a document's content for
	// the store's text search (such as present.Text: a PDF's or a C-CDA
	// narrative's). It runs in the pull, before the document's
	// transaction, on content held in memory (streamed content is
	// searchable by its title), bounded by ExtractTimeout. An error keeps
	// the document without its text.
	ExtractText func(ctx context.Context, contentType string, content []byte) (string, error)
	// ExtractTimeout bounds one ExtractText call. Default 10 s.
	ExtractTimeout time.Duration
	// Notifier, when set, is told of runs done, failures, write-back and
	// request outcomes and what the pull kept, inside the transactions
	// that record them (see Notifier). Default none.
	Notifier Notifier
}

// Engine holds the sync logic: it turns events into ops, and runs each op
// the Store schedules. It is safe for concurrent use.
type Engine struct {
	cfg Config
	log *slog.Logger
	hub ProgressBus
	// knownPatients maps the refs of patients the store has committed to
	// their local ids, sparing each pull a lookup of its patient.
	knownPatients sync.Map
	// streaks is what the Notifier's attempt notices need remembered.
	streaks streaks
}

// New validates cfg and returns an Engine.
func New(cfg Config) (*Engine, error) {
	if cfg.Store == nil {
		return nil, errors.New("connector: config has no store")
	}
	if len(cfg.Sources) == 0 {
		return nil, errors.New("connector: config has no source")
	}
	for name, s := range cfg.Sources {
		if name == "" || s == nil {
			return nil, fmt.Errorf("connector: source %q is unnamed or nil", name)
		}
	}
	for name, s := range cfg.Sinks {
		if name == "" || s == nil {
			return nil, fmt.Errorf("connector: sink %q is unnamed or nil", name)
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = time.Minute
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 2 * time.Minute
	}
	if cfg.LeaseTTL <= cfg.CallTimeout {
		return nil, fmt.Errorf("connector: lease ttl %s must exceed call timeout %s", cfg.LeaseTTL, cfg.CallTimeout)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxPages <= 0 {
		cfg.MaxPages = 1000
	}
	if cfg.CatchUpAfter <= 0 {
		cfg.CatchUpAfter = time.Hour
	}
	if cfg.BatchBytes <= 0 {
		cfg.BatchBytes = 32 << 20
	}
	if cfg.ExtractTimeout <= 0 {
		cfg.ExtractTimeout = 10 * time.Second
	}
	if cfg.StreamAbove <= 0 {
		cfg.StreamAbove = DefaultStreamAbove
	}
	if cfg.Progress == nil {
		cfg.Progress = new(Hub)
	}
	return &Engine{cfg: cfg, log: cfg.Logger, hub: cfg.Progress}, nil
}

// Backoff returns the retry delays the engine was configured with.
func (e *Engine) Backoff() Backoff { return e.cfg.Retry }

// SinkNames returns the names of the registered sinks, sorted.
func (e *Engine) SinkNames() []string { return slices.Sorted(maps.Keys(e.cfg.Sinks)) }

// Progress returns the bus that publishes sync progress.
func (e *Engine) Progress() ProgressBus { return e.hub }

// IngestResult says what Ingest did with an event.
type IngestResult struct {
	// Duplicate is true when the event id was ingested before; nothing was
	// enqueued.
	Duplicate bool
	// Enqueued counts new ops; ops already queued are not counted.
	Enqueued int
}

// Ingest records the event and enqueues its ops in one transaction: once
// it returns nil, the work is durable. A repeated event id enqueues nothing.
// A malformed event is refused with ErrInvalid and nothing is recorded.
func (e *Engine) Ingest(ctx context.Context, ev Event) (IngestResult, error) {
	ops, err := e.Ops(ev)
	if err != nil {
		return IngestResult{}, err
	}
	var res IngestResult
	err = e.cfg.Store.Update(ctx, func(tx Tx) error {
		fresh, err := tx.RecordEvent(ctx, ev.Source, ev.ID)
		if err != nil || !fresh {
			res.Duplicate = !fresh
			return err
		}
		skipped, err := tx.Enqueue(ctx, ops...)
		res.Enqueued = len(ops) - skipped
		return err
	})
	if err != nil {
		return IngestResult{}, fmt.Errorf("ingest event %s: %w", ev.ID, err)
	}
	e.log.DebugContext(ctx, "event ingested", "event", ev.ID, "source", ev.Source, "duplicate", res.Duplicate, "enqueued", res.Enqueued)
	return res, nil
}

// Ops validates ev and returns the ops it asks for, for a Store that
// ingests events in its own batches.
func (e *Engine) Ops(ev Event) ([]Op, error) {
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	if _, ok := e.cfg.Sources[ev.Source]; !ok {
		return nil, fmt.Errorf("%w: event %q names unknown source %q", ErrInvalid, ev.ID, ev.Source)
	}
	action := ev.Action
	if action == "" {
		action = ActionAutomaticUpdate
	}
	ops := make([]Op, 0, len(ev.Changes)+1)
	for _, c := range ev.Changes {
		op := PullOp{Ref: c.Ref, Version: c.Version, Delete: c.Kind == ChangeDelete, Action: action}
		if c.Version == "" {
			op.Event = ev.ID // only a hint's key needs it
		}
		ops = append(ops, op)
	}
	if ev.Reconcile {
		// Requests within one minute share a run, so a burst of gap
		// reports reconciles the source once.
		run := fmt.Sprintf("auto:%s:%d", ev.Source, e.cfg.Now().Unix()/60)
		ops = append(ops, ReconcileOp{Source: ev.Source, Action: action, Run: run})
	}
	return ops, nil
}

// Sync enqueues a reconcile of one patient of a source (or of every patient
// when patient is empty) and returns the run id its progress is published
// under. Full lists everything instead of what changed since the last sync.
func (e *Engine) Sync(ctx context.Context, source, patient string, action Action, full bool) (string, error) {
	return e.enqueueReconcile(ctx, ReconcileOp{Source: source, Patient: patient, Full: full, Action: action})
}

// Sweep enqueues a deletion check of every known patient of a source (see
// ReconcileOp.Sweep) and returns its run id. It costs one full listing per
// patient, so it runs less often than the incremental reconcile.
func (e *Engine) Sweep(ctx context.Context, source string) (string, error) {
	return e.enqueueReconcile(ctx, ReconcileOp{Source: source, Full: true, Sweep: true, Action: ActionPoll})
}

func (e *Engine) enqueueReconcile(ctx context.Context, op ReconcileOp) (string, error) {
	source, patient := op.Source, op.Patient
	if _, ok := e.cfg.Sources[source]; !ok {
		return "", fmt.Errorf("%w: unknown source %q", ErrInvalid, source)
	}
	op.Run = uuid.NewString()
	err := e.cfg.Store.Update(ctx, func(tx Tx) error {
		_, err := tx.Enqueue(ctx, op)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("sync %s patient %s: %w", source, patient, err)
	}
	return op.Run, nil
}

// Run performs a batch of ops for the Store's job runner. Each op's effects
// commit with its completion (Job.Complete), so when some ops fail the
// others stay done and a retry runs only the failed ones. The returned
// error joins the failures: ErrBusy alone asks the runner to try again
// shortly without counting an attempt; an error that IsPermanent makes the
// job a dead letter; anything else is retried with backoff.
func (e *Engine) Run(ctx context.Context, job Job, ops []Op) error {
	var (
		pulls    []PullOp
		delivers []DeliverOp
		failed   []failure
	)
	for _, op := range ops {
		switch op := op.(type) {
		case PullOp:
			pulls = append(pulls, op)
		case DeliverOp:
			delivers = append(delivers, op)
		case ReconcileOp:
			if err := e.reconcile(ctx, job, op); err != nil {
				failed = append(failed, failure{op, err})
			}
		case WriteBackOp:
			if err := e.writeBack(ctx, job, op); err != nil {
				failed = append(failed, failure{op, err})
			}
		case RequestOp:
			if err := e.request(ctx, job, op); err != nil {
				failed = append(failed, failure{op, err})
			}
		default:
			failed = append(failed, failure{op, fmt.Errorf("%w: unknown op %T", ErrPermanent, op)})
		}
	}
	failed = append(failed, e.pullAll(ctx, job, pulls)...)
	failed = append(failed, e.deliverAll(ctx, job, delivers)...)
	e.observe(job, ops, failed)
	e.notifyAttempt(ctx, job, ops, failed)
	return e.settle(ctx, job, failed)
}

// failure is one op of a batch that failed.
type failure struct {
	op  Op
	err error
}

// settle turns a batch's failures into the job's outcome, recording those
// that failed for good.
func (e *Engine) settle(ctx context.Context, job Job, failed []failure) error {
	if len(failed) == 0 {
		return nil
	}
	var busy, transient, permanent []error
	for _, f := range failed {
		switch {
		case errors.Is(f.err, ErrBusy):
			busy = append(busy, f.err)
		case IsPermanent(f.err):
			permanent = append(permanent, f.err)
		default:
			transient = append(transient, f.err)
		}
	}
	if len(transient)+len(permanent) == 0 {
		return errors.Join(busy...)
	}
	if !job.Final() {
		// Every failed attempt is seen, not only the last: ids, the
		// error's class and message (no patient data), the attempt.
		for _, f := range failed {
			if !errors.Is(f.err, ErrBusy) && !IsPermanent(f.err) {
				ref, _ := refOf(f.op)
				e.log.WarnContext(ctx, "op attempt failed; retrying", "op", f.op.Kind(), "ref", ref.String(), "key", f.op.UniqueKey(),
					"job", job.ID(), "attempt", job.Attempt(), "class", Class(f.err), "err", f.err)
			}
		}
	}
	if len(transient)+len(busy) == 0 || job.Final() {
		for _, f := range failed {
			if !errors.Is(f.err, ErrBusy) {
				e.recordFailure(ctx, f.op, f.err, job.Attempt())
			}
		}
	}
	if len(transient)+len(busy) == 0 {
		return errors.Join(permanent...)
	}
	// Retry the batch: the busy ops get their turn, and its permanent
	// failures meet the same end on the last attempt. The error must not
	// read as permanent (nor as busy) to the runner.
	if len(busy) > 0 {
		transient = append(transient, fmt.Errorf("%d ops waited for a lease", len(busy)))
	}
	for _, err := range permanent {
		transient = append(transient, errors.New(err.Error()))
	}
	return errors.Join(transient...)
}

// recordFailure logs an op that failed for good, where the dietician sees
// it, and counts it against its run.
func (e *Engine) recordFailure(ctx context.Context, op Op, cause error, attempts int) {
	var run string
	delta := RunDelta{Errors: 1}
	switch op := op.(type) {
	case PullOp:
		run = op.Run
		if op.Reconcile {
			// The enrolling pull lists nothing: its run is over.
			delta.Phase = PhaseFetching
		}
	case ReconcileOp:
		// A dead listing lists no more: the run is over once what it
		// listed is pulled.
		run, delta.Phase = op.Run, PhaseFetching
	case DeliverOp:
		run, delta = op.Run, RunDelta{DeliveryErrors: 1}
	}
	ctx = context.WithoutCancel(ctx)
	e.log.ErrorContext(ctx, "op failed for good", "op", op.Kind(), "key", op.UniqueKey(), "err", cause)
	var prog *Progress
	err := e.cfg.Store.Update(ctx, func(tx Tx) error {
		entry := LogEntry{Action: actionOf(op), Status: StatusError, Details: fmt.Sprintf("%s failed: %v", op.Kind(), cause), Timestamp: e.cfg.Now()}
		if ref, ok := refOf(op); ok {
			e.locate(ctx, tx, ref, &entry)
		}
		if err := tx.AppendLog(ctx, entry); err != nil {
			return err
		}
		if err := e.failedFor(ctx, tx, op, cause); err != nil {
			return err
		}
		err := e.notify(ctx, tx, FailedNotice{Op: op, System: systemOf(op), Err: cause, Attempts: attempts,
			PatientID: entry.PatientID, DocumentID: entry.DocumentID})
		if err != nil {
			return err
		}
		if run != "" {
			p, err := e.advance(ctx, tx, run, entry.PatientID, delta)
			prog = &p
			return err
		}
		return nil
	})
	if err != nil {
		e.log.ErrorContext(ctx, "recording failure", "op", op.Kind(), "err", err)
		return
	}
	if prog != nil {
		e.hub.Publish(*prog)
	}
}

// advance updates a run's counters and moves it to done once every listed
// document is accounted for.
func (e *Engine) advance(ctx context.Context, tx Tx, run string, patientID int64, d RunDelta) (Progress, error) {
	p, err := tx.UpdateRun(ctx, run, patientID, d)
	if err == nil && p.Finished() && p.Phase != PhaseDone {
		if p, err = tx.UpdateRun(ctx, run, patientID, RunDelta{Phase: PhaseDone}); err == nil {
			err = e.notify(ctx, tx, RunNotice{Progress: p})
		}
	}
	return p, err
}

// locate fills the local patient and document ids of ref into a log entry.
func (e *Engine) locate(ctx context.Context, tx Tx, ref Ref, entry *LogEntry) {
	if ref.Type == PatientType {
		if p, err := tx.Patient(ctx, ref); err == nil {
			entry.PatientID = p.ID
		}
		return
	}
	if d, err := tx.Document(ctx, ref); err == nil {
		entry.PatientID, entry.DocumentID = d.PatientID, d.ID
	}
}

// failedFor records, beside the log entry, what an op that failed for
// good leaves behind: a failed write-back or document request.
func (e *Engine) failedFor(ctx context.Context, tx Tx, op Op, cause error) error {
	switch op := op.(type) {
	case WriteBackOp:
		return e.writeBackFailed(ctx, tx, op, cause)
	case RequestOp:
		return e.requestFailed(ctx, tx, op, cause)
	}
	return nil
}

func actionOf(op Op) Action {
	switch op := op.(type) {
	case PullOp:
		return op.Action
	case DeliverOp:
		return ActionDelivery
	case ReconcileOp:
		return op.Action
	case WriteBackOp:
		return ActionWriteBack
	case RequestOp:
		return ActionRequest
	}
	return ""
}

func refOf(op Op) (Ref, bool) {
	switch op := op.(type) {
	case PullOp:
		return op.Ref, true
	case DeliverOp:
		return op.Ref, true
	case WriteBackOp:
		return op.Patient, true
	case RequestOp:
		return op.Patient, true
	}
	return Ref{}, false
}

func (e *Engine) source(name string) (Source, error) {
	s, ok := e.cfg.Sources[name]
	if !ok {
		return nil, fmt.Errorf("%w: unknown source %q", ErrPermanent, name)
	}
	return s, nil
}

// commitContext is the context that commits a batch's results: it outlives
// the attempt's deadline, so that work done just before it is kept, for a
// bounded time.
func commitContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}

// errUnsettled marks a call that failed as its context ended: the request
// may still be running at the other end.
var errUnsettled = errors.New("the call may still land")

// call bounds one adapter call by CallTimeout. An error from a call whose
// context ended wraps errUnsettled.
func (e *Engine) call(ctx context.Context, fn func(context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, e.cfg.CallTimeout)
	defer cancel()
	err := fn(cctx)
	if err != nil && cctx.Err() != nil {
		return fmt.Errorf("%w: %w", errUnsettled, err)
	}
	return err
}
