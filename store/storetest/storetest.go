package storetest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/store"
)

// Store is what the suite needs of a store.
type Store interface {
	connector.Store
	Start(ctx context.Context, e *connector.Engine) error
	Stop(ctx context.Context) error
	Close() error
	Idle(ctx context.Context) (bool, error)
	DeadLetters(ctx context.Context, limit int) ([]store.DeadLetter, error)
	Replay(ctx context.Context, jobID int64) error
	Prune(ctx context.Context, before time.Time) (store.Pruned, error)
}

// Opener returns a new, empty, migrated store. The suite closes it.
type Opener func(t *testing.T, cfg store.Config) Store

// Run runs the whole suite against the stores open returns.
func Run(t *testing.T, open Opener) {
	t.Run("Events", func(t *testing.T) { testEvents(t, open) })
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, open) })
	t.Run("Leases", func(t *testing.T) { testLeases(t, open) })
	t.Run("PatientLease", func(t *testing.T) { testPatientLease(t, open) })
	t.Run("UnsettledLease", func(t *testing.T) { testUnsettledLease(t, open) })
	t.Run("RenewWritten", func(t *testing.T) { testRenewWritten(t, open) })
	t.Run("Runs", func(t *testing.T) { testRuns(t, open) })
	t.Run("Sync", func(t *testing.T) { testSync(t, open) })
	t.Run("DeadLetters", func(t *testing.T) { testDeadLetters(t, open) })
	t.Run("ExactlyOnce", func(t *testing.T) { testExactlyOnce(t, open) })
	t.Run("Observations", func(t *testing.T) { testObservations(t, open) })
	t.Run("ObservationsExactlyOnce", func(t *testing.T) { testObservationsExactlyOnce(t, open) })
	t.Run("Search", func(t *testing.T) { testSearch(t, open) })
	t.Run("OpaqueVersions", func(t *testing.T) { testOpaqueVersions(t, open) })
	t.Run("DeleteConfirmed", func(t *testing.T) { testDeleteConfirmed(t, open) })
	t.Run("Routing", func(t *testing.T) { testRouting(t, open) })
	t.Run("FirstSight", func(t *testing.T) { testFirstSight(t, open) })
	t.Run("Sweep", func(t *testing.T) { testSweep(t, open) })
	t.Run("PageLimit", func(t *testing.T) { testPageLimit(t, open) })
	t.Run("Redeliver", func(t *testing.T) { testRedeliver(t, open) })
	t.Run("CatchUp", func(t *testing.T) { testCatchUp(t, open) })
	t.Run("BatchBytes", func(t *testing.T) { testBatchBytes(t, open) })
	t.Run("ExtractText", func(t *testing.T) { testExtractText(t, open) })
	t.Run("Streamed", func(t *testing.T) { testStreamed(t, open) })
	t.Run("StreamRefused", func(t *testing.T) { testStreamRefused(t, open) })
	t.Run("StreamAborted", func(t *testing.T) { testStreamAborted(t, open) })
	t.Run("Versions", func(t *testing.T) { testVersions(t, open) })
	t.Run("DeadLetterDetail", func(t *testing.T) { testDeadLetterDetail(t, open) })
	t.Run("Prune", func(t *testing.T) { testPrune(t, open) })
	t.Run("Backlog", func(t *testing.T) { testBacklog(t, open) })
	t.Run("Product", func(t *testing.T) { testProduct(t, open) })
	t.Run("Auth", func(t *testing.T) { testAuth(t, open) })
	t.Run("Practice", func(t *testing.T) { testPractice(t, open) })
	t.Run("Outbox", func(t *testing.T) { testOutbox(t, open) })
	t.Run("NotifierHook", func(t *testing.T) { testNotifierHook(t, open) })
}

// FastConfig is a store configuration for tests: short polls and quick
// rescue of jobs whose process died.
func FastConfig() store.Config {
	return store.Config{
		FetchPollInterval: 20 * time.Millisecond,
		PullWorkers:       4,
		DeliverWorkers:    4,
		JobTimeout:        20 * time.Second,
		RescueAfter:       25 * time.Second,
		MaxAttempts:       25,
		Logger:            slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// FastRetry is an engine backoff for tests.
var FastRetry = connector.Backoff{Initial: 10 * time.Millisecond, Max: 200 * time.Millisecond}

// WaitIdle waits until s has no pending op and done reports true, failing
// the test after timeout.
func WaitIdle(t testing.TB, s Store, timeout time.Duration, done func() bool) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	for {
		idle, err := s.Idle(ctx)
		if err != nil {
			t.Fatalf("idle: %v", err)
		}
		if idle && (done == nil || done()) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("store not idle after %s", timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
