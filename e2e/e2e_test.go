package e2e_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// End to end, each part its own process on loopback: the server on
// PostgreSQL backfills 100 patients × 10 documents from the mock provider
// into the fake Carepatron, then 500 changes arrive by webhook. The fake
// then holds exactly the latest version of every document, once, and the
// sync log records every step: the backfill's pull, the webhook's pull and
// the delivery of the latest version of each document, and each patient's
// pull and delivery.
func TestEndToEnd(t *testing.T) {
	skipShort(t)
	ctx := context.Background()
	db := postgresURL(t)
	m := startMock(t, 100, 10, 1)
	f := startFake(t)
	patients, err := m.patientIDs(ctx)
	require.NoError(t, err)
	require.Len(t, patients, 100)
	secret := newSecret()
	s := newServer(t, m, f, db, secret, patients,
		// Webhooks alone: the sync log must show each change's webhook
		// pull, which a reconcile or a sweep could have done first.
		"POLL_INTERVAL=0", "SWEEP_INTERVAL=0", "CAREPATRON_RATE=0", "PULL_WORKERS=4", "DELIVER_WORKERS=8")
	_, err = m.subscribe(ctx, s.hookURL(), secret)
	require.NoError(t, err)

	start := time.Now()
	s.start(t)
	initial, err := m.dataSet(ctx)
	require.NoError(t, err)
	require.Len(t, initial.live, 1000)
	waitMirror(t, m, f, 3*time.Minute)
	t.Logf("backfill: %d documents of %d patients in %s", len(initial.live), len(patients), time.Since(start).Round(time.Millisecond))

	// 500 changes at 100 a second, each told by webhook.
	start = time.Now()
	made := 0
	for made < 500 {
		cs, err := m.touch(ctx, 10)
		require.NoError(t, err)
		made += 10
		_ = cs
		time.Sleep(100 * time.Millisecond)
	}
	ds := waitMirror(t, m, f, 3*time.Minute)
	t.Logf("500 changes (%d documents changed, %d deleted) mirrored %s after the first", len(ds.changed), len(ds.deleted), time.Since(start).Round(time.Millisecond))

	st, err := f.stats(ctx)
	require.NoError(t, err)
	for key, n := range st.Stats.Creates {
		assert.Equal(t, 1, n, "creates with Idempotency-Key %s", key)
	}

	checkSyncLog(t, db, initial, ds)

	assert.Equal(t, 0, s.p.stop(t, 30*time.Second), "exit code after SIGTERM")
}

// waitMirror waits until the fake mirrors the mock, and returns the
// mock's data set.
func waitMirror(t testing.TB, m *mockPHP, f *fakeCP, timeout time.Duration) dataSet {
	t.Helper()
	var ds dataSet
	err := eventually(context.Background(), timeout, 500*time.Millisecond, func(ctx context.Context) error {
		var err error
		if ds, err = m.dataSet(ctx); err != nil {
			return err
		}
		ex, err := f.export(ctx)
		if err != nil {
			return err
		}
		_, err = mirror(ds, ex, false)
		return err
	})
	require.NoError(t, err)
	return ds
}

// checkSyncLog checks that synchronization_log holds an entry for each
// step each document and patient went through.
func checkSyncLog(t *testing.T, databaseURL string, initial, final dataSet) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, databaseURL)
	require.NoError(t, err)
	defer conn.Close(ctx)

	rows, err := conn.Query(ctx, `
		SELECT d.source_id, coalesce(d.version, ''), d.deleted,
			coalesce(bool_or(l.action = 'manual_sync' AND l.status = 'success' AND l.details = 'stored version 1'), false),
			coalesce(bool_or(l.action = 'webhook' AND l.status = 'success'
				AND (l.details = 'stored version ' || d.version OR l.details = 'deleted at source')), false),
			coalesce(bool_or(l.action = 'delivery' AND (
				(l.status = 'success' AND l.details IN ('delivered version ' || d.version || ' to carepatron', 'deleted from carepatron'))
				OR (d.deleted AND l.status = 'skipped' AND l.details = 'carepatron never had the document'))), false)
		FROM healthcare_documents d LEFT JOIN synchronization_log l ON l.document_id = d.id
		WHERE d.source_type = 'DocumentReference'
		GROUP BY d.id, d.source_id, d.version, d.deleted`)
	require.NoError(t, err)
	type docLog struct {
		version                       string
		deleted                       bool
		backfill, webhook, deliveries bool
	}
	local := map[string]docLog{}
	for rows.Next() {
		var id string
		var l docLog
		require.NoError(t, rows.Scan(&id, &l.version, &l.deleted, &l.backfill, &l.webhook, &l.deliveries))
		local[id] = l
	}
	require.NoError(t, rows.Err())

	var problems []string
	report := func(format string, args ...any) {
		if len(problems) < 10 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	for id, v := range final.live {
		l, ok := local[id]
		switch {
		case !ok:
			report("document %s: no local copy", id)
			continue
		case l.version != v || l.deleted:
			report("document %s: local version %s (deleted %v), want %s", id, l.version, l.deleted, v)
		}
	}
	for id, l := range local {
		_, initially := initial.live[id]
		if initially && !l.backfill {
			report("document %s: no backfill pull logged", id)
		}
		if final.changed[id] && !l.webhook {
			report("document %s: changed by webhook, no webhook pull of version %s logged", id, l.version)
		}
		if !l.deliveries {
			report("document %s: no delivery of version %s logged", id, l.version)
		}
		if final.deleted[id] && !l.deleted {
			report("document %s: deleted at the mock, not locally", id)
		}
	}
	assert.Empty(t, problems, "sync log")

	var patients, pulled, delivered int
	err = conn.QueryRow(ctx, `
		SELECT count(*), count(*) FILTER (WHERE pulled), count(*) FILTER (WHERE delivered) FROM (
			SELECT p.id,
				coalesce(bool_or(l.action = 'manual_sync' AND l.status = 'success' AND l.details LIKE 'stored patient version %'), false) AS pulled,
				coalesce(bool_or(l.action = 'delivery' AND l.status = 'success' AND l.details LIKE 'patient version % in carepatron'), false) AS delivered
			FROM patients p LEFT JOIN synchronization_log l ON l.patient_id = p.id AND l.document_id IS NULL
			GROUP BY p.id) AS x`).Scan(&patients, &pulled, &delivered)
	require.NoError(t, err)
	assert.Equal(t, len(final.patients), patients, "local patients")
	assert.Equal(t, patients, pulled, "patients with their pull logged")
	assert.Equal(t, patients, delivered, "patients with their delivery logged")
	t.Logf("sync log: %d documents and %d patients, each step logged", len(local), patients)
}
