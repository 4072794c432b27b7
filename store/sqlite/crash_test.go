package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

// The crash test runs the engine in a child process (this test binary
// re-executed) that it kills with SIGKILL. The Source and Sink live in the
// parent, reached over loopback HTTP, so what the sink received outlives
// every child.
// The child streams content above crashStreamAbove; crashLarge is the
// size of the documents it keeps in parts (of 1 MiB).
const (
	crashStreamAbove = 512 << 10
	crashLarge       = 1<<20 + 512<<10
)

const (
	envChild  = "HR_CRASH_CHILD_DB"
	envBridge = "HR_CRASH_BRIDGE"
	envIngest = "HR_CRASH_INGEST"
)

func TestMain(m *testing.M) {
	if db := os.Getenv(envChild); db != "" {
		os.Exit(runChild(db, os.Getenv(envBridge), os.Getenv(envIngest) != ""))
	}
	os.Exit(m.Run())
}

func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	src := connectortest.NewSource(connectortest.SourceConfig{Name: "php", PageSize: 25})
	_, err := src.Fill(20, 20)
	require.NoError(t, err)
	// Some documents are above the child's streaming threshold: kept in
	// parts, so that a kill may land while a batch writes them. (Small
	// enough to cross the JSON bridge within the child's call timeout.)
	large := map[connector.Ref]bool{}
	for i, d := range src.Documents() {
		if i%50 == 0 {
			_, err := src.UpdateDocument(d.Ref.ID, func(d *connector.Document) {
				d.Content = bytes.Repeat([]byte{byte(i)}, crashLarge)
			})
			require.NoError(t, err)
			large[d.Ref] = true
		}
	}
	sink := connectortest.NewSink(connectortest.SinkConfig{WriteRate: 60, WriteBurst: 1,
		Faults: connectortest.Faults{ErrorRate: 0.05, LostResponseRate: 0.05, Seed: 3}})
	bridge := httptest.NewServer(storetest.Bridge(src, sink))
	defer bridge.Close()
	db := filepath.Join(t.TempDir(), "crash.db")
	total := len(src.Documents())

	child := func(ingest bool) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envChild+"="+db, envBridge+"="+bridge.URL)
		if ingest {
			cmd.Env = append(cmd.Env, envIngest+"=1")
		}
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		require.NoError(t, cmd.Start())
		t.Cleanup(func() {
			// Ends a child the test left running when it failed.
			if cmd.ProcessState == nil {
				cmd.Process.Kill()
				cmd.Wait()
			}
		})
		return cmd
	}
	waitFor := func(n int, within time.Duration) {
		deadline := time.Now().Add(within)
		for len(sink.Documents()) < n {
			if time.Now().After(deadline) {
				dumpJobs(t, db)
				t.Fatalf("sink holds %d of %d documents", len(sink.Documents()), n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	cmd := child(true)
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(db + ".ingested"); err == nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "the child did not ingest within 2 minutes")
	}
	for _, frac := range []int{25, 60} {
		waitFor(total*frac/100, time.Minute)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
		t.Logf("killed the child with %d of %d documents in the sink", len(sink.Documents()), total)
		cmd = child(false)
	}
	// The survivor finishes the work; the killed runs' jobs are rescued.
	waitFor(total, 4*time.Minute)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "clean exit on SIGTERM")

	require.NoError(t, sink.Check())
	for _, d := range src.Documents() {
		got, ok := sink.Document(d.Ref)
		if assert.True(t, ok, "%s missing", d.Ref) {
			assert.Equal(t, d.Version, got.Document.Version)
			assert.Equal(t, d.ContentHash, got.Document.ContentHash, "%s content", d.Ref)
		}
	}
	assert.Len(t, sink.Patients(), len(src.Patients()))

	s, err := sqlite.Open(context.Background(), db, storetest.FastConfig())
	require.NoError(t, err)
	defer s.Close()
	dead, err := s.DeadLetters(context.Background(), 10)
	require.NoError(t, err)
	assert.Empty(t, dead)
	// Every large document whole in its parts, and no part of a write a
	// kill cut short.
	parts := 0
	for ref := range large {
		n, err := s.ContentParts(context.Background(), ref)
		require.NoError(t, err)
		assert.Equal(t, crashLarge>>20+1, n, "%s parts", ref)
		parts += n
	}
	db2, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	require.NoError(t, err)
	defer db2.Close()
	var all int
	require.NoError(t, db2.QueryRow(`SELECT count(*) FROM content_chunks`).Scan(&all))
	assert.Equal(t, parts, all, "parts that belong to no whole document")
}

// runChild syncs every patient of the bridged Source into the bridged Sink
// until SIGTERM (or SIGKILL).
func runChild(db, bridge string, ingest bool) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := storetest.FastConfig()
	cfg.JobTimeout, cfg.RescueAfter = 5*time.Second, 6*time.Second
	s, err := sqlite.Open(ctx, db, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	defer s.Close()
	r := storetest.Remote{URL: bridge}
	e, err := connector.New(connector.Config{
		Store: s, Sources: map[string]connector.Source{"php": r}, Sinks: map[string]connector.Sink{"cp": r},
		// Retries span longer than River's 30 s rescue pass, so that an op
		// waiting on a killed child's work outlasts it.
		Retry: connector.Backoff{Initial: 10 * time.Millisecond, Max: 3 * time.Second}, Logger: log,
		CallTimeout: 2 * time.Second, LeaseTTL: 5 * time.Second, StreamAbove: crashStreamAbove,
	})
	if err == nil {
		err = s.Start(ctx, e)
	}
	if err == nil && ingest {
		if err = ingestAll(ctx, e, r); err == nil {
			// Tell the parent that the provider's events are all in: a
			// kill before that would lose events no one resends.
			err = os.WriteFile(db+".ingested", nil, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Stop(sctx); err != nil {
		fmt.Fprintln(os.Stderr, "child: stop:", err)
		return 1
	}
	return 0
}

func ingestAll(ctx context.Context, e *connector.Engine, r storetest.Remote) error {
	ids, err := r.PatientIDs(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		_, err := e.Ingest(ctx, connector.Event{ID: "p-" + id, Source: "php",
			Changes: []connector.Change{{Kind: connector.ChangeUpsert, Ref: connector.Ref{System: "php", Type: connector.PatientType, ID: id}}}})
		if err != nil {
			return err
		}
		if _, err := e.Sync(ctx, "php", id, connector.ActionManualSync, false); err != nil {
			return err
		}
	}
	return nil
}

// dumpJobs logs the state of every unfinished job, to tell a stuck sync
// from a slow one.
func dumpJobs(t *testing.T, path string) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Logf("dump: %v", err)
		return
	}
	defer db.Close()
	rows, err := db.Query(`SELECT id, kind, state, attempt, max_attempts, scheduled_at, errors FROM river_job WHERE state NOT IN ('completed') ORDER BY id`)
	if err != nil {
		t.Logf("dump: %v", err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var id, attempt, maxAttempts int64
		var kind, state string
		var scheduled, errs any
		if err := rows.Scan(&id, &kind, &state, &attempt, &maxAttempts, &scheduled, &errs); err != nil {
			t.Logf("dump: %v", err)
			return
		}
		e := fmt.Sprint(errs)
		if len(e) > 300 {
			e = e[len(e)-300:]
		}
		t.Logf("job %d %s %s attempt %d/%d scheduled %v: %s", id, kind, state, attempt, maxAttempts, scheduled, e)
	}
}
