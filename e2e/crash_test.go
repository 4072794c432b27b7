package e2e_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Kill -9 at random moments, with faults everywhere: while the server on
// PostgreSQL syncs 1,000 documents (100 patients × 10) and the mock keeps
// changing them, both the mock and the fake Carepatron answer 10% of
// requests 5xx and 5% 429, the mock duplicates 10% of its webhooks,
// reorders 10% and drops 5%; the server is killed with SIGKILL five times
// and started again each time. It converges: every document the mock
// holds is in the fake once, at its current version; no create was made
// twice for one idempotency key; no job is left unfinished or dead.
//
// The reconcile interval is short, so that lost webhooks are repaired
// soon, and so are JOB_TIMEOUT and JOB_RESCUE_AFTER, so that the jobs a
// killed process held are run again within a minute.
func TestCrashAndRestart(t *testing.T) {
	skipShort(t)
	ctx := context.Background()
	db := postgresURL(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	m := startMock(t, 100, 10, int64(seed%1000))
	f := startFake(t, "-error-rate", "0.1", "-throttle-rate", "0.05", "-retry-after", "1s", "-seed", "7")
	patients, err := m.patientIDs(ctx)
	require.NoError(t, err)
	secret := newSecret()
	s := newServer(t, m, f, db, secret, patients,
		"POLL_INTERVAL=5s", "POLL_OVERLAP=30s", "CAREPATRON_RATE=0", "PULL_WORKERS=4", "DELIVER_WORKERS=8",
		"JOB_TIMEOUT=10s", "JOB_RESCUE_AFTER=12s", "SHUTDOWN_TIMEOUT=5s", "LOG_LEVEL=info")
	sub, err := m.subscribe(ctx, s.hookURL(), secret)
	require.NoError(t, err)
	require.NoError(t, m.setFaults(ctx, map[string]any{
		"error_rate": 0.1, "rate_limit_rate": 0.05, "retry_after": "1s",
		"duplicate_rate": 0.1, "reorder_rate": 0.1, "drop_rate": 0.05,
	}))

	start := time.Now()
	s.start(t)

	// The mock changes documents while the server is killed and started.
	changes, stopChanges := context.WithCancel(ctx)
	var wg sync.WaitGroup
	made := 0
	wg.Go(func() {
		for made < 200 && changes.Err() == nil {
			if _, err := m.touch(changes, 2); err == nil {
				made += 2
			}
			select {
			case <-changes.Done():
			case <-time.After(150 * time.Millisecond):
			}
		}
	})
	for kill := 1; kill <= 5; kill++ {
		time.Sleep(time.Second + time.Duration(rng.Int64N(int64(5*time.Second))))
		s.p.kill()
		t.Logf("kill %d: SIGKILL at %s", kill, time.Since(start).Round(time.Millisecond))
		s.start(t)
	}
	stopChanges()
	wg.Wait()
	t.Logf("%d changes made at the mock; last restart at %s", made, time.Since(start).Round(time.Millisecond))

	var ds dataSet
	var staleDeletes, reports int
	lastLog := time.Now()
	// Six minutes: each reconcile lists the patients' observations too
	// (some 3,000 of them, three times the documents), which the periodic
	// reconciles of 100 patients on two workers feel.
	err = eventually(ctx, 6*time.Minute, time.Second, func(ctx context.Context) error {
		var err error
		if ds, err = m.dataSet(ctx); err != nil {
			return err
		}
		ex, err := f.export(ctx)
		if err != nil {
			return err
		}
		reports = 0
		for _, d := range ex.Documents {
			if strings.HasPrefix(d.ExternalReference, source+"/DiagnosticReport/") {
				reports++
			}
		}
		staleDeletes, err = mirror(ds, ex, true)
		if err != nil && time.Since(lastLog) > 20*time.Second {
			lastLog = time.Now()
			t.Logf("%s: %v", time.Since(start).Round(time.Second), err)
		}
		return err
	})
	require.NoError(t, err)
	t.Logf("converged %s after start: %d live documents, %d deleted (%d of those still held: their deletion was told only by a lost webhook); "+
		"%d lab reports held as DiagnosticReports, their DocumentReference deleted",
		time.Since(start).Round(time.Millisecond), len(ds.live), len(ds.deleted), staleDeletes, reports)

	// The observations converge too, each at the mock's version: kept
	// once, whatever the kills, faults, duplicates and reordering.
	conn, err := pgx.Connect(ctx, db)
	require.NoError(t, err)
	defer conn.Close(ctx)
	// They wait behind the documents' pulls (a lower job priority), some
	// thousands of them, under the same faults.
	var observations int
	lastLog = time.Now()
	err = eventually(ctx, 6*time.Minute, time.Second, func(ctx context.Context) error {
		var want map[string]string
		if err := call(ctx, "GET", m.admin+"/versions?type=Observation", nil, &want); err != nil {
			return err
		}
		got, err := observationVersions(ctx, conn)
		if err != nil {
			return err
		}
		observations = len(want)
		for id, v := range want {
			if got[id] != v {
				err := errorf("observation %s: version %q here, %q at the mock (%d of %d held)", id, got[id], v, len(got), len(want))
				if time.Since(lastLog) > 20*time.Second {
					lastLog = time.Now()
					t.Logf("%s: %v", time.Since(start).Round(time.Second), err)
				}
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)
	t.Logf("%d observations held at the mock's versions", observations)

	st, err := f.stats(ctx)
	require.NoError(t, err)
	for key, n := range st.Stats.Creates {
		assert.Equal(t, 1, n, "creates with Idempotency-Key %s", key)
	}
	var hooks map[string]any
	_ = call(ctx, "GET", m.admin+"/subscriptions/"+sub, nil, &hooks)
	t.Logf("fake Carepatron: %d requests, %d injected faults, %d throttled, %d replays; mock webhooks: %v",
		st.Stats.Requests, st.Stats.Injected, st.Stats.Throttled, st.Stats.Replays, hooks)

	// No stuck jobs: a last server, with no periodic reconcile to add
	// more, finishes every job left, and none became a dead letter. The
	// faults go off first: under them, reconciling 100 patients every few
	// seconds on two reconcile workers leaves a backlog of reconciles
	// that takes minutes to drain (each is idempotent and, by now, finds
	// nothing to do).
	require.NoError(t, m.setFaults(ctx, map[string]any{}))
	require.NoError(t, call(ctx, "PUT", f.url+"/_fake/faults", map[string]any{}, nil))
	s.p.stop(t, 30*time.Second)
	s.env = append(s.env, "POLL_INTERVAL=0", "SYNC_PATIENTS=")
	s.start(t)
	var unfinished []string
	err = eventually(ctx, 2*time.Minute, time.Second, func(ctx context.Context) error {
		unfinished, err = jobStates(ctx, conn, "state NOT IN ('completed', 'discarded', 'cancelled')")
		if err != nil {
			return err
		}
		if len(unfinished) > 0 {
			return errorf("jobs not finished: %s", strings.Join(unfinished, ", "))
		}
		return nil
	})
	require.NoError(t, err)
	dead, err := jobStates(ctx, conn, "state IN ('discarded', 'cancelled')")
	require.NoError(t, err)
	if !assert.Empty(t, dead, "dead letters") {
		// Why each died: its last attempt's error (refs and classes, no
		// patient data), for a failure that will not come back on demand.
		rows, err := conn.Query(ctx, `SELECT kind || ' ' || id || ': ' || coalesce(errors[array_length(errors, 1)]->>'error', '')
			FROM river_job WHERE state IN ('discarded', 'cancelled') ORDER BY id`)
		require.NoError(t, err)
		why, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		t.Logf("dead jobs:\n%s", strings.Join(why, "\n"))
	}
	assert.Equal(t, 0, s.p.stop(t, 30*time.Second))
	t.Logf("%d server processes, done in %s", s.starts, time.Since(start).Round(time.Millisecond))
}

// observationVersions reads the version of each observation the store
// keeps live, by id.
func observationVersions(ctx context.Context, conn *pgx.Conn) (map[string]string, error) {
	rows, err := conn.Query(ctx, `SELECT source_id, COALESCE(version, '') FROM observations WHERE NOT deleted`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, v string
		if err := rows.Scan(&id, &v); err != nil {
			return nil, err
		}
		out[id] = v
	}
	return out, rows.Err()
}

// jobStates counts River's jobs matching where, as "state kind: n".
func jobStates(ctx context.Context, conn *pgx.Conn, where string) ([]string, error) {
	rows, err := conn.Query(ctx, `SELECT state::text || ' ' || kind || ': ' || count(*) FROM river_job WHERE `+where+` GROUP BY state, kind ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
