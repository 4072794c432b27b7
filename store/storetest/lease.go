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
	src := connectortest.NewSource(connectortest.SourceConfig{Name: "php"})
	_, err := src.Fill(1, 1)
	require.NoError(t, err)
	p, d := src.Patients()[0], src.Documents()[0]
	update(t, s, func(tx connector.Tx) error {
		id, err := tx.SavePatient(ctx, connector.StoredPatient{Patient: p, Fingerprint: p.Fingerprint()})
		if err != nil {
			return err
		}
		_, err = tx.SaveDocument(ctx, connector.StoredDocument{PatientID: id, Document: d, Fingerprint: d.Fingerprint()})
		return err
	})
	sink := &heldSink{Sink: connectortest.NewSink(connectortest.SinkConfig{}), entered: make(chan struct{}), release: make(chan struct{})}
	e, err := connector.New(connector.Config{Store: s, Sources: map[string]connector.Source{"php": src},
		Sinks: map[string]connector.Sink{"cp": sink}, Retry: FastRetry})
	require.NoError(t, err)

	ownDelivery := []connector.Op{connector.DeliverOp{Sink: "cp", Ref: p.Ref, Version: p.Version, Action: connector.ActionDelivery}}
	docDelivery := []connector.Op{connector.DeliverOp{Sink: "cp", Ref: d.Ref, Version: d.Version, Action: connector.ActionDelivery}}
	first := make(chan error, 1)
	go func() { first <- e.Run(ctx, updateJob{"a", s}, ownDelivery) }()
	select {
	case <-sink.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the patient's delivery never reached the sink")
	}
	err = e.Run(ctx, updateJob{"b", s}, docDelivery)
	assert.ErrorIs(t, err, connector.ErrBusy, "the patient is being written by job a")
	assert.Equal(t, 1, sink.upserts(), "one write of the patient at a time")

	close(sink.release)
	require.NoError(t, <-first)
	require.NoError(t, e.Run(ctx, updateJob{"b", s}, docDelivery))
	assert.Equal(t, 1, sink.upserts(), "the patient's sink id was kept, so it is not written again")
	_, ok := sink.Document(d.Ref)
	assert.True(t, ok, "the document reached the sink")
	require.NoError(t, sink.Check())
}

// heldSink holds its first UpsertPatient until release is closed.
type heldSink struct {
	*connectortest.Sink
	entered, release chan struct{}
	mu               sync.Mutex
	n                int
}

func (h *heldSink) UpsertPatient(ctx context.Context, w connector.PatientWrite) (string, error) {
	h.mu.Lock()
	h.n++
	n := h.n
	h.mu.Unlock()
	if n == 1 {
		close(h.entered)
		select {
		case <-h.release:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	return h.Sink.UpsertPatient(ctx, w)
}

func (h *heldSink) upserts() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

// updateJob is a connector.Job outside the job queue: it completes in a
// plain transaction.
type updateJob struct {
	id string
	s  Store
}

func (j updateJob) ID() string   { return j.id }
func (j updateJob) Attempt() int { return 1 }
func (j updateJob) Final() bool  { return false }
func (j updateJob) Complete(ctx context.Context, _ []connector.Op, fn func(connector.Tx) error) error {
	return j.s.Update(ctx, fn)
}
