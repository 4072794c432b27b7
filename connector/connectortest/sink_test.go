package connectortest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
)

// sinkFixture writes a patient to sink and returns its sink id and a
// document of that patient at a version.
func sinkFixture(t *testing.T, sink *Sink) (string, func(version string) connector.DocumentWrite) {
	t.Helper()
	p := connector.Patient{Ref: connector.Ref{System: "php", Type: connector.PatientType, ID: "p1"}, Name: "Synthetic", Version: "1"}
	pid, err := sink.UpsertPatient(t.Context(), connector.PatientWrite{Key: "patient-key", Patient: p})
	require.NoError(t, err)
	return pid, func(version string) connector.DocumentWrite {
		d := connector.Document{
			Ref:     connector.Ref{System: "php", Type: "DocumentReference", ID: "d1"},
			Patient: p.Ref, Type: connector.DocumentLabResult, Version: version,
			Content: []byte("content " + version),
		}
		return connector.DocumentWrite{Key: connector.IdempotencyKey("sink", d.Ref, version, "", false), PatientSinkID: pid, Document: d}
	}
}

func TestSinkLostResponseAppliesOnce(t *testing.T) {
	sink := NewSink(SinkConfig{Faults: Faults{LostResponseRate: 1}})
	sink.SetFaults(Faults{})
	_, doc := sinkFixture(t, sink)
	w := doc("1")

	sink.SetFaults(Faults{LostResponseRate: 1})
	_, err := sink.PutDocument(t.Context(), w)
	require.ErrorIs(t, err, ErrInjected)
	assert.False(t, connector.IsPermanent(err))
	got, ok := sink.Document(w.Document.Ref)
	require.True(t, ok, "a lost response comes after the write")
	assert.Equal(t, "1", got.Document.Version)

	// The retry finds the key and writes nothing.
	sink.SetFaults(Faults{})
	id, err := sink.PutDocument(t.Context(), w)
	require.NoError(t, err)
	assert.Equal(t, got.ID, id)
	assert.Equal(t, 2, sink.CallsFor(w.Key))
	assert.Equal(t, 1, sink.AppliedFor(w.Key))
	st := sink.Stats()
	assert.Equal(t, SinkStats{Calls: 3, Applied: 2, Replays: 1, Injected: 1}, st)
	assert.Len(t, sink.Documents(), 1)
	assert.NoError(t, sink.Check())
}

func TestSinkFailuresBeforeTheWrite(t *testing.T) {
	sink := NewSink(SinkConfig{})
	_, doc := sinkFixture(t, sink)
	w := doc("1")

	sink.SetFaults(Faults{ErrorRate: 1})
	_, err := sink.PutDocument(t.Context(), w)
	assert.ErrorIs(t, err, ErrInjected)

	sink.SetFaults(Faults{RetryAfterRate: 1, RetryAfter: 5 * time.Second})
	_, err = sink.PutDocument(t.Context(), w)
	delay, ok := connector.RetryDelay(err)
	assert.True(t, ok, "want a RetryAfter error, got %v", err)
	assert.Equal(t, 5*time.Second, delay)

	sink.SetFaults(Faults{Latency: time.Minute})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	_, err = sink.PutDocument(ctx, w)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	assert.Equal(t, 0, sink.AppliedFor(w.Key))
	assert.Equal(t, 0, sink.Count(w.Document.Ref))
	assert.Equal(t, 3, sink.CallsFor(w.Key))
}

func TestSinkRefusesBadWrites(t *testing.T) {
	sink := NewSink(SinkConfig{})
	_, doc := sinkFixture(t, sink)

	w := doc("1")
	w.Key = ""
	_, err := sink.PutDocument(t.Context(), w)
	assert.ErrorIs(t, err, connector.ErrInvalid, "no key")

	w = doc("1")
	w.PatientSinkID = "contact-999"
	_, err = sink.PutDocument(t.Context(), w)
	assert.ErrorIs(t, err, connector.ErrNotFound, "unknown patient")

	w = doc("1")
	w.Document.Type = "x-ray"
	_, err = sink.PutDocument(t.Context(), w)
	assert.True(t, connector.IsPermanent(err), "an invalid document is permanent: %v", err)

	// A key reused for another request is a conflict, not a replay.
	w = doc("1")
	_, err = sink.PutDocument(t.Context(), w)
	require.NoError(t, err)
	other := doc("2")
	other.Key = w.Key
	_, err = sink.PutDocument(t.Context(), other)
	assert.ErrorIs(t, err, connector.ErrConflict)
	assert.Equal(t, "1", sink.HeldVersion(w.Document.Ref))
}

func TestSinkRecordsHistoryAndRegressions(t *testing.T) {
	sink := NewSink(SinkConfig{})
	pid, doc := sinkFixture(t, sink)
	ctx := t.Context()

	v2 := doc("2")
	id, err := sink.PutDocument(ctx, v2)
	require.NoError(t, err)
	require.NoError(t, sink.DeleteDocument(ctx, connector.DocumentDelete{Key: "del", SinkID: id, PatientSinkID: pid, Ref: v2.Document.Ref}))
	assert.Equal(t, 0, sink.Count(v2.Document.Ref))
	assert.Empty(t, sink.HeldVersion(v2.Document.Ref))

	// The document comes back, but older than what the sink had: a
	// regression, which Check reports.
	v1 := doc("1")
	back, err := sink.PutDocument(ctx, v1)
	require.NoError(t, err)
	assert.NotEqual(t, id, back, "a deleted document is created anew")

	assert.Equal(t, []Write{{Key: v2.Key, Version: "2"}, {Key: "del", Deleted: true}, {Key: v1.Key, Version: "1"}}, sink.History(v2.Document.Ref))
	require.Len(t, sink.Regressions(), 1)
	assert.Equal(t, "php/DocumentReference/d1: version 1 written after version 2", sink.Regressions()[0].String())
	err = sink.Check()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "version 1 written after version 2")
}

func TestSinkDetectsOverlappingCalls(t *testing.T) {
	sink := NewSink(SinkConfig{})
	_, doc := sinkFixture(t, sink)
	sink.SetFaults(Faults{Latency: 50 * time.Millisecond})
	var wg sync.WaitGroup
	for _, v := range []string{"1", "2"} {
		wg.Go(func() {
			_, err := sink.PutDocument(t.Context(), doc(v))
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Equal(t, 1, sink.Stats().Overlaps)
	err := sink.Check()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "overlapping calls")
}

func TestSinkWriteRate(t *testing.T) {
	sink := NewSink(SinkConfig{WriteRate: 100})
	_, doc := sinkFixture(t, sink) // takes the first token
	start := time.Now()
	for i := range 5 {
		_, err := sink.PutDocument(t.Context(), doc(fmt.Sprint(i+1)))
		require.NoError(t, err)
	}
	assert.GreaterOrEqual(t, time.Since(start), 40*time.Millisecond, "5 writes at 100/s take about 50ms")

	// At one write a second, a call that cannot wait a second fails at
	// once; without a limit the same calls go through.
	sink.SetWriteRate(1, 1)
	short, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	// The first write may find the one token a second brings, or not.
	_, _ = sink.PutDocument(short, doc("20"))
	_, err := sink.PutDocument(short, doc("21"))
	require.Error(t, err, "a call that would wait past its deadline")
	sink.SetWriteRate(0, 0)
	for i := range 50 {
		_, err := sink.PutDocument(short, doc(fmt.Sprint(i+30)))
		require.NoError(t, err, "no limit")
	}
}

// TestFaultsAreDeterministic checks that faults depend on the seed and the
// calls, not on the goroutine schedule, and that rates hold.
func TestFaultsAreDeterministic(t *testing.T) {
	outcomes := func(seed int64, concurrent bool) map[string]string {
		sink := NewSink(SinkConfig{})
		_, doc := sinkFixture(t, sink)
		sink.SetFaults(Faults{ErrorRate: 0.2, RetryAfterRate: 0.05, LostResponseRate: 0.05, Seed: seed})
		var mu sync.Mutex
		out := make(map[string]string)
		call := func(i int) {
			w := doc(fmt.Sprint(i))
			w.Document.Ref.ID = fmt.Sprintf("d%d", i)
			w.Key = fmt.Sprintf("key-%d", i)
			_, err := sink.PutDocument(t.Context(), w)
			_, retryAfter := connector.RetryDelay(err)
			outcome := "ok"
			switch {
			case retryAfter:
				outcome = "retry-after"
			case err != nil && sink.AppliedFor(w.Key) == 1:
				outcome = "lost"
			case err != nil:
				outcome = "error"
			}
			mu.Lock()
			out[w.Key] = outcome
			mu.Unlock()
		}
		var wg sync.WaitGroup
		for i := range 2000 {
			if concurrent {
				wg.Go(func() { call(i) })
			} else {
				call(i)
			}
		}
		wg.Wait()
		return out
	}
	sequential := outcomes(7, false)
	assert.Equal(t, sequential, outcomes(7, true), "same seed, another schedule")
	assert.NotEqual(t, sequential, outcomes(8, false), "another seed")

	counts := make(map[string]int)
	for _, o := range sequential {
		counts[o]++
	}
	assert.InDelta(t, 0.20*2000, counts["error"], 60)
	assert.InDelta(t, 0.80*0.05*2000, counts["retry-after"], 30)
	assert.InDelta(t, 0.80*0.95*0.05*2000, counts["lost"], 30)
}

func TestSinkPatientsAndDocuments(t *testing.T) {
	sink := NewSink(SinkConfig{})
	pid, doc := sinkFixture(t, sink)
	w := doc("1")
	id, err := sink.PutDocument(t.Context(), w)
	require.NoError(t, err)

	patients := sink.Patients()
	require.Len(t, patients, 1)
	assert.Equal(t, pid, patients[0].ID)
	assert.Equal(t, "p1", patients[0].Patient.Ref.ID)
	docs := sink.Documents()
	require.Len(t, docs, 1)
	assert.Equal(t, SinkDocument{ID: id, ContactID: pid, Document: docs[0].Document}, docs[0])
	assert.Equal(t, w.Document.Content, docs[0].Document.Content)
	assert.Equal(t, int64(len(w.Document.Content)), docs[0].Document.Size, "the Sink seals what it stores")

	docs[0].Document.Content[0] = 'X'
	again, _ := sink.Document(w.Document.Ref)
	assert.Equal(t, w.Document.Content, again.Document.Content, "a caller's edit leaked into the Sink")
}
