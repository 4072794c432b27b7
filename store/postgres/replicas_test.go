package postgres_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/internal/pgtest"
	"github.com/healthcare-records/healthcare-records/store/postgres"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

// A replica is this test binary re-executed as one server process of the
// service: an engine on the shared database, taking events over loopback
// HTTP, with the Source and Sink bridged back to the parent.
const (
	envChild  = "HR_PG_CHILD_DB"
	envBridge = "HR_PG_CHILD_BRIDGE"
)

// replica is a running child process.
type replica struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{}
}

func startReplica(t *testing.T, db, bridgeURL string) *replica {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"="+db, envBridge+"="+bridgeURL)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	r := &replica{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(r.done) }()
	t.Cleanup(func() { r.kill() })
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err, "replica did not report its address")
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "ADDR ")
	require.True(t, ok, "replica said %q", line)
	r.addr = addr
	go io.Copy(io.Discard, out)
	return r
}

func (r *replica) kill() {
	r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.done
}

// stop asks for a graceful shutdown and reports whether it exited cleanly.
func (r *replica) stop(t *testing.T) {
	require.NoError(t, r.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-r.done:
		assert.True(t, r.cmd.ProcessState.Success(), "replica exit: %s", r.cmd.ProcessState)
	case <-time.After(30 * time.Second):
		t.Error("replica did not stop on SIGTERM")
		r.kill()
	}
}

// TestReplicas runs three server processes on one database, ingests 5,000
// changes (and 10% more, duplicated) round-robin through them, kills one
// with SIGKILL mid-run and restarts it: every document reaches the sink
// exactly once per idempotency key, and no job is left behind.
func TestReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	t.Parallel()
	const patients, each = 50, 100
	ctx := context.Background()
	db := pgtest.Database(t)
	// Migrate once up front; the replicas would serialize on the
	// migration lock otherwise.
	s, err := postgres.Open(ctx, db, storetest.FastConfig())
	require.NoError(t, err)
	defer s.Close()

	src := connectortest.NewSource(connectortest.SourceConfig{Name: "php", PageSize: 50})
	_, err = src.Fill(patients, each)
	require.NoError(t, err)
	sink := connectortest.NewSink(connectortest.SinkConfig{})
	br := httptest.NewServer(storetest.Bridge(src, sink))
	defer br.Close()

	var mu sync.Mutex
	replicas := []*replica{startReplica(t, db, br.URL), startReplica(t, db, br.URL), startReplica(t, db, br.URL)}
	target := func(i int) string {
		mu.Lock()
		defer mu.Unlock()
		return replicas[i%len(replicas)].addr
	}

	var events []connector.Event
	for i, d := range src.Documents() {
		ev := connector.Event{ID: "chg-" + d.Ref.ID + "@" + d.Version, Source: "php", Action: connector.ActionWebhook,
			Changes: []connector.Change{{Kind: connector.ChangeUpsert, Ref: src.DocumentRef(d.Ref.ID), Version: d.Version}}}
		events = append(events, ev)
		switch i % 20 {
		case 0: // resent under its id
			events = append(events, ev)
		case 10: // sent again under another id, as a second sender would
			again := ev
			again.ID += "-again"
			events = append(events, again)
		}
	}
	total := len(src.Documents())
	require.Equal(t, patients*each, total)

	var (
		sent    atomic.Int64
		retries atomic.Int64
		killed  = make(chan struct{})
		wg      sync.WaitGroup
		work    = make(chan int)
	)
	client := &http.Client{Timeout: 10 * time.Second}
	for range 16 {
		wg.Go(func() {
			for i := range work {
				// A sender retries on another replica until one
				// acknowledges, as a webhook sender behind a load
				// balancer would.
				for try := 0; ; try++ {
					if err := post(client, target(i+try), events[i]); err == nil {
						break
					}
					retries.Add(1)
					time.Sleep(10 * time.Millisecond)
				}
				if sent.Add(1) == int64(len(events)/2) {
					close(killed)
				}
			}
		})
	}
	go func() {
		for i := range events {
			work <- i
		}
		close(work)
	}()

	// Halfway through the events, SIGKILL one replica and start it again.
	<-killed
	mu.Lock()
	victim := replicas[1]
	mu.Unlock()
	victim.kill()
	t.Logf("killed replica 1 with %d of %d events acknowledged, %d of %d documents in the sink",
		sent.Load(), len(events), len(sink.Documents()), total)
	restarted := startReplica(t, db, br.URL)
	mu.Lock()
	replicas[1] = restarted
	mu.Unlock()
	wg.Wait()

	begin := time.Now()
	deadline := begin.Add(3 * time.Minute)
	for len(sink.Documents()) < total {
		if time.Now().After(deadline) {
			logJobs(t, s)
			t.Fatalf("sink holds %d of %d documents", len(sink.Documents()), total)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("all %d documents delivered %s after the last event; %d sends retried on another replica",
		total, time.Since(begin).Round(time.Millisecond), retries.Load())
	storetest.WaitIdle(t, s, time.Minute, nil)
	for _, r := range replicas {
		r.stop(t)
	}

	require.NoError(t, sink.Check(), "exactly once per idempotency key")
	for _, d := range src.Documents() {
		got, ok := sink.Document(d.Ref)
		if assert.True(t, ok, "%s missing", d.Ref) {
			assert.Equal(t, d.Version, got.Document.Version)
		}
	}
	assert.Len(t, sink.Patients(), patients)
	dead, err := s.DeadLetters(ctx, 10)
	require.NoError(t, err)
	assert.Empty(t, dead)
	var unfinished int
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state <> 'completed'`).Scan(&unfinished))
	assert.Zero(t, unfinished, "jobs not completed")
	var recorded int
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*) FROM ingested_events`).Scan(&recorded))
	assert.Equal(t, total+total/20, recorded, "each distinct event id recorded once")
}

// logJobs logs the jobs not completed, grouped by kind, state and
// attempt, with one job's last error for each group: what a delivery that
// never came was waiting for, for a failure that will not come back on
// demand.
func logJobs(t *testing.T, s *postgres.Store) {
	rows, err := s.Pool().Query(context.Background(), `SELECT format('%s %s attempt %s: %s jobs, scheduled %s to %s, a last error: %s',
			kind, state, attempt, count(*), min(scheduled_at), max(scheduled_at),
			coalesce(max(errors[array_length(errors, 1)]->>'error'), 'none'))
		FROM river_job WHERE state <> 'completed' GROUP BY kind, state, attempt ORDER BY kind, state, attempt`)
	if err != nil {
		t.Logf("jobs: %v", err)
		return
	}
	groups, err := pgx.CollectRows(rows, pgx.RowTo[string])
	t.Logf("jobs not completed at %s (err %v):\n%s", time.Now().UTC().Format(time.RFC3339), err, strings.Join(groups, "\n"))
}

func post(client *http.Client, addr string, ev connector.Event) error {
	body, _ := json.Marshal(ev)
	resp, err := client.Post("http://"+addr+"/ingest", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("ingest: %s", resp.Status)
	}
	return nil
}

// runChild is a replica's main: it serves POST /ingest until SIGTERM.
func runChild() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "replica:", err); return 1 }
	cfg := storetest.FastConfig()
	// River's rescuer runs every 30s; rescue what a killed replica held
	// on its first pass.
	cfg.JobTimeout, cfg.RescueAfter = 5*time.Second, 6*time.Second
	cfg.PullWorkers, cfg.DeliverWorkers = 8, 8
	s, err := postgres.Open(ctx, os.Getenv(envChild), cfg)
	if err != nil {
		return fail(err)
	}
	defer s.Close()
	r := storetest.Remote{URL: os.Getenv(envBridge)}
	e, err := connector.New(connector.Config{
		Store: s, Sources: map[string]connector.Source{"php": r}, Sinks: map[string]connector.Sink{"cp": r},
		Retry: storetest.FastRetry, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		CallTimeout: 2 * time.Second, LeaseTTL: 5 * time.Second, Progress: s.Progress(),
	})
	if err != nil {
		return fail(err)
	}
	if err := s.Start(ctx, e); err != nil {
		return fail(err)
	}
	// Events arrive through the grouped path the service uses.
	g := s.Ingester(e)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev connector.Event
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		res, err := g.Ingest(r.Context(), ev)
		switch {
		case errors.Is(err, connector.ErrInvalid):
			http.Error(w, err.Error(), http.StatusBadRequest)
		case err != nil:
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		default:
			json.NewEncoder(w).Encode(res)
		}
	})}
	go srv.Serve(l)
	fmt.Printf("ADDR %s\n", l.Addr())
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	if err := s.Stop(sctx); err != nil {
		return fail(err)
	}
	return 0
}
