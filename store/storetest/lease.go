package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
)

// testPatientLease: a document delivery that must first write its patient
// to the sink leases the patient itself, so that while another job writes
// the patient it waits (ErrBusy) instead of writing the patient too.
func testPatientLease(t *testing.T, open Opener) {
	ctx := context.Background()
	s := openClosed(t, open)
	p, docs := leaseFixture(t, s, 1)
	d := docs[0]
	entered, release := make(chan struct{}), make(chan struct{})
	sink := &hookSink{Sink: connectortest.NewSink(connectortest.SinkConfig{})}
	sink.beforeUpsert = func(ctx context.Context, n int) error {
		if n > 1 {
			return nil
		}
		close(entered)
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	e := leaseEngine(t, s, sink, connector.Config{})

	first := make(chan error, 1)
	go func() { first <- e.Run(ctx, updateJob{id: "a", s: s}, deliverOp(p.Ref, p.Version)) }()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the patient's delivery never reached the sink")
	}
	err := e.Run(ctx, updateJob{id: "b", s: s}, deliverOp(d.Ref, d.Version))
	assert.ErrorIs(t, err, connector.ErrBusy, "the patient is being written by job a")
	assert.Equal(t, 1, sink.upserts(), "one write of the patient at a time")

	close(release)
	require.NoError(t, <-first)
	require.NoError(t, e.Run(ctx, updateJob{id: "b", s: s}, deliverOp(d.Ref, d.Version)))
	assert.Equal(t, 1, sink.upserts(), "the patient's sink id was kept, so it is not written again")
	_, ok := sink.Document(d.Ref)
	assert.True(t, ok, "the document reached the sink")
	require.NoError(t, sink.Check())
}

// testUnsettledLease: a sink call cut short by its timeout may still land,
// so its lease is kept until it runs out, even from the job's next attempt.
func testUnsettledLease(t *testing.T, open Opener) {
	ctx := context.Background()
	s, clock := openClocked(t, open)
	_, docs := leaseFixture(t, s, 1)
	d := docs[0]
	sink := &hookSink{Sink: connectortest.NewSink(connectortest.SinkConfig{})}
	sink.beforePut = func(ctx context.Context, n int) error {
		if n == 1 { // the sink stalls past the call's timeout
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}
	const ttl = time.Minute
	e := leaseEngine(t, s, sink, connector.Config{CallTimeout: 50 * time.Millisecond, LeaseTTL: ttl, Now: clock.now})

	op := deliverOp(d.Ref, d.Version)
	err := e.Run(ctx, updateJob{id: "a", attempt: 1, s: s}, op)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotErrorIs(t, err, connector.ErrBusy)
	assert.ErrorIs(t, e.Run(ctx, updateJob{id: "a", attempt: 2, s: s}, op), connector.ErrBusy,
		"the job's next attempt waits while the first call may still land")
	assert.ErrorIs(t, e.Run(ctx, updateJob{id: "b", attempt: 1, s: s}, op), connector.ErrBusy, "so does another job")

	clock.advance(ttl + time.Second)
	require.NoError(t, e.Run(ctx, updateJob{id: "a", attempt: 2, s: s}, op), "the lease ran out")
	_, ok := sink.Document(d.Ref)
	assert.True(t, ok, "the document reached the sink")
	assert.Equal(t, 2, sink.puts())
	assert.Equal(t, 1, sink.upserts(), "the patient, written by the first attempt, was kept")
	require.NoError(t, sink.Check())
}

// testRenewWritten: a batch keeps renewing the lease of a patient it has
// written, since the patient's mapping is saved only when the batch
// completes; meanwhile no other job writes the patient again.
func testRenewWritten(t *testing.T, open Opener) {
	ctx := context.Background()
	s, clock := openClocked(t, open)
	p, docs := leaseFixture(t, s, 2)

	const ttl, call = 10 * time.Second, 2 * time.Second
	var e *connector.Engine
	var otherJob error
	sink := &hookSink{Sink: connectortest.NewSink(connectortest.SinkConfig{})}
	sink.beforePut = func(ctx context.Context, n int) error {
		switch n {
		case 1: // past the renewal point: the second delivery renews
			clock.advance(ttl/2 + time.Second)
		case 2: // past the first lease's end, before the batch completes
			clock.advance(ttl/2 + time.Second)
			otherJob = e.Run(ctx, updateJob{id: "b", s: s}, deliverOp(p.Ref, p.Version))
		}
		return nil
	}
	e = leaseEngine(t, s, sink, connector.Config{CallTimeout: call, LeaseTTL: ttl, Now: clock.now})

	ops := append(deliverOp(docs[0].Ref, docs[0].Version), deliverOp(docs[1].Ref, docs[1].Version)...)
	require.NoError(t, e.Run(ctx, updateJob{id: "a", s: s}, ops))
	assert.ErrorIs(t, otherJob, connector.ErrBusy, "the written patient's lease was renewed")
	assert.Equal(t, 1, sink.upserts(), "the patient was written once")
	require.NoError(t, sink.Check())
}

// leaseEngine returns an engine on s that delivers to sink as "cp".
func leaseEngine(t *testing.T, s Store, sink connector.Sink, cfg connector.Config) *connector.Engine {
	cfg.Store, cfg.Retry = s, FastRetry
	cfg.Sources = map[string]connector.Source{"php": connectortest.NewSource(connectortest.SourceConfig{Name: "php"})}
	cfg.Sinks = map[string]connector.Sink{"cp": sink}
	e, err := connector.New(cfg)
	require.NoError(t, err)
	return e
}

// openClocked opens a store whose clock the test sets.
func openClocked(t *testing.T, open Opener) (Store, *clock) {
	c := newClock()
	cfg := FastConfig()
	cfg.Now = c.now
	s := open(t, cfg)
	t.Cleanup(func() { s.Close() })
	return s, c
}

// leaseFixture stores one patient with n documents, none in the sink.
func leaseFixture(t *testing.T, s Store, n int) (connector.Patient, []connector.Document) {
	ctx := context.Background()
	src := connectortest.NewSource(connectortest.SourceConfig{Name: "php"})
	_, err := src.Fill(1, n)
	require.NoError(t, err)
	p, docs := src.Patients()[0], src.Documents()
	update(t, s, func(tx connector.Tx) error {
		id, err := tx.SavePatient(ctx, connector.StoredPatient{Patient: p, Fingerprint: p.Fingerprint()})
		if err != nil {
			return err
		}
		for _, d := range docs {
			if _, err := tx.SaveDocument(ctx, connector.StoredDocument{PatientID: id, Document: d, Fingerprint: d.Fingerprint()}); err != nil {
				return err
			}
		}
		return nil
	})
	return p, docs
}

func deliverOp(ref connector.Ref, version string) []connector.Op {
	return []connector.Op{connector.DeliverOp{Sink: "cp", Ref: ref, Version: version, Action: connector.ActionDelivery}}
}

// hookSink runs a hook, given the call's number, before each UpsertPatient
// and PutDocument; an error from the hook fails the call.
type hookSink struct {
	*connectortest.Sink
	beforeUpsert, beforePut func(ctx context.Context, n int) error
	mu                      sync.Mutex
	nUpsert, nPut           int
}

func (h *hookSink) UpsertPatient(ctx context.Context, w connector.PatientWrite) (string, error) {
	if err := h.before(ctx, &h.nUpsert, h.beforeUpsert); err != nil {
		return "", err
	}
	return h.Sink.UpsertPatient(ctx, w)
}

func (h *hookSink) PutDocument(ctx context.Context, w connector.DocumentWrite) (string, error) {
	if err := h.before(ctx, &h.nPut, h.beforePut); err != nil {
		return "", err
	}
	return h.Sink.PutDocument(ctx, w)
}

func (h *hookSink) before(ctx context.Context, count *int, hook func(context.Context, int) error) error {
	h.mu.Lock()
	*count++
	n := *count
	h.mu.Unlock()
	if hook == nil {
		return nil
	}
	return hook(ctx, n)
}

func (h *hookSink) upserts() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.nUpsert
}

func (h *hookSink) puts() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.nPut
}

// clock is a settable clock for engine and store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// updateJob is a connector.Job outside the job queue: it completes in a
// plain transaction.
type updateJob struct {
	id      string
	attempt int // 0 reads as 1
	s       Store
}

func (j updateJob) ID() string   { return j.id }
func (j updateJob) Attempt() int { return max(j.attempt, 1) }
func (j updateJob) Final() bool  { return false }
func (j updateJob) Complete(ctx context.Context, _ []connector.Op, fn func(connector.Tx) error) error {
	return j.s.Update(ctx, fn)
}
