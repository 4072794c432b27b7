package postgres_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/internal/pgtest"
	"github.com/healthcare-records/healthcare-records/store/postgres"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

// Two stores on one database stand for two processes: each has its own
// pool, so its own sessions, as far as PostgreSQL can tell.
func twoStores(t *testing.T) (a, b *postgres.Store) {
	t.Helper()
	db := pgtest.Database(t)
	var err error
	a, err = postgres.Open(context.Background(), db, storetest.FastConfig())
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	b, err = postgres.Open(context.Background(), db, storetest.FastConfig())
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	return a, b
}

func TestProgressAcrossProcesses(t *testing.T) {
	a, b := twoStores(t)
	all, stopAll := a.Progress().Subscribe(0)
	defer stopAll()
	seven, stopSeven := b.Progress().Subscribe(7)
	defer stopSeven()

	// The bus listens on a connection it opens in the background: publish
	// until the first snapshot gets across.
	p := connector.Progress{Run: "r1", PatientID: 7, Phase: connector.PhaseFetching, Total: 10}
	deadline := time.Now().Add(10 * time.Second)
	for got := false; !got; {
		require.True(t, time.Now().Before(deadline), "no progress crossed over")
		a.Progress().Publish(p)
		select {
		case q := <-seven:
			assert.Equal(t, p, q)
			got = true
		case <-time.After(100 * time.Millisecond):
		}
	}
	// The publisher's own subscribers have it at once.
	select {
	case q := <-all:
		assert.Equal(t, p, q)
	default:
		t.Fatal("local subscriber missed the snapshot")
	}
	// And the other way: each bus listens on a connection of its own, so
	// that a's listener is up is not known from b's.
	p0 := connector.Progress{Run: "r0", PatientID: 8, Phase: connector.PhaseFetching, Total: 1}
	deadline = time.Now().Add(10 * time.Second)
	for got := false; !got; {
		require.True(t, time.Now().Before(deadline), "no progress crossed back")
		b.Progress().Publish(p0)
		wait := time.After(100 * time.Millisecond)
		for waiting := true; waiting && !got; {
			select {
			case q := <-all:
				got = q.Run == p0.Run
			case <-wait:
				waiting = false
			}
		}
	}
	for len(all) > 0 {
		<-all
	}
	for len(seven) > 0 {
		<-seven
	}

	// In order, filtered by patient, both ways.
	for done := 1; done <= 10; done++ {
		a.Progress().Publish(connector.Progress{Run: "r1", PatientID: 7, Phase: connector.PhaseFetching, Done: done, Total: 10})
	}
	b.Progress().Publish(connector.Progress{Run: "r2", PatientID: 8, Phase: connector.PhaseDone})
	for want := 1; want <= 10; want++ {
		select {
		case q := <-seven:
			assert.Equal(t, want, q.Done)
		case <-time.After(5 * time.Second):
			t.Fatalf("snapshot %d never arrived", want)
		}
	}
	for {
		select {
		case q := <-all:
			if q.Run != "r2" {
				continue
			}
			assert.Equal(t, int64(8), q.PatientID)
		case <-time.After(5 * time.Second):
			t.Fatal("snapshot of another process's run never arrived")
		}
		break
	}
	select {
	case q := <-seven:
		t.Fatalf("patient 7's subscriber got %+v", q)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestJobWakeUp: a job inserted through one process starts at once on
// another, woken by River's LISTEN/NOTIFY rather than found by polling.
func TestJobWakeUp(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Database(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	src := connectortest.NewSource(connectortest.SourceConfig{Name: "php"})
	_, err := src.Fill(1, 3)
	require.NoError(t, err)
	sink := connectortest.NewSink(connectortest.SinkConfig{})

	inserter, err := postgres.Open(ctx, db, storetest.FastConfig())
	require.NoError(t, err)
	defer inserter.Close()
	front, err := connector.New(connector.Config{Store: inserter, Sources: map[string]connector.Source{"php": src}, Logger: quiet})
	require.NoError(t, err)

	const poll = 10 * time.Second
	cfg := storetest.FastConfig()
	cfg.FetchPollInterval = poll
	worker, err := postgres.Open(ctx, db, cfg)
	require.NoError(t, err)
	defer worker.Close()
	e, err := connector.New(connector.Config{Store: worker, Sources: map[string]connector.Source{"php": src},
		Sinks: map[string]connector.Sink{"cp": sink}, Retry: storetest.FastRetry, Logger: quiet})
	require.NoError(t, err)
	require.NoError(t, worker.Start(ctx, e))
	defer worker.Stop(ctx)
	time.Sleep(time.Second) // let the worker's listener connect

	// The patient is known first: the first sight of a patient brings its
	// reconcile, whose burst of jobs outruns River's notifications.
	patient := src.Patients()[0]
	_, err = front.Ingest(ctx, connector.Event{ID: "patient", Source: "php", Changes: []connector.Change{
		{Kind: connector.ChangeUpsert, Ref: src.PatientRef(patient.Ref.ID)}}})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(sink.Patients()) == 1 }, 3*poll, 10*time.Millisecond)

	for i, d := range src.Documents() {
		// River notifies a queue at most once per fetch cooldown (20ms):
		// a job inserted sooner after another is found by the next poll,
		// which in service is 50ms away, not 10s. Space the events out so
		// that each job is announced.
		time.Sleep(100 * time.Millisecond)
		begin := time.Now()
		_, err := front.Ingest(ctx, connector.Event{ID: d.Ref.ID, Source: "php", Changes: []connector.Change{
			{Kind: connector.ChangeUpsert, Ref: src.DocumentRef(d.Ref.ID), Version: d.Version}}})
		require.NoError(t, err)
		for len(sink.Documents()) <= i {
			require.Less(t, time.Since(begin), poll/2, "job waited for a poll")
			time.Sleep(5 * time.Millisecond)
		}
		t.Logf("document %d delivered %s after its event was ingested on the other process", i+1, time.Since(begin).Round(time.Millisecond))
	}
}
