package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/adapters/mockphp"
	"github.com/healthcare-records/healthcare-records/carepatron/carepatrontest"
	"github.com/healthcare-records/healthcare-records/internal/pgtest"
	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/postgres"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

// world is a mock provider that knows one SMART client, and a fake
// Carepatron, on loopback.
type world struct {
	cfg Config // the settings a correct server has
}

func newWorld(t *testing.T) *world {
	t.Helper()
	key, err := mockphp.NewClientKey("ES384")
	require.NoError(t, err)
	pemBytes, err := key.PrivatePEM()
	require.NoError(t, err)
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	require.NoError(t, os.WriteFile(keyFile, pemBytes, 0o600))
	php, err := mockphp.New(mockphp.Config{Seed: 1, Patients: 1, DocsPerPatient: 1, RequireAuth: true,
		Clients: []mockphp.Client{{ID: "hr", JWKS: key.JWKS()}},
		Logger:  slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	phpSrv := httptest.NewServer(php)
	t.Cleanup(phpSrv.Close)
	t.Cleanup(func() { _ = php.Close() })
	php.SetPublicURL(phpSrv.URL)
	cp := httptest.NewServer(carepatrontest.NewServer(carepatrontest.Config{}))
	t.Cleanup(cp.Close)
	return &world{cfg: Config{
		FHIRBaseURL: php.BaseURL(), SMARTClient: "hr", SMARTKeyFile: keyFile, SMARTKeyID: key.Kid,
		CarepatronURL: cp.URL, CarepatronKey: carepatrontest.DefaultAPIKey,
		CheckInterval: time.Second,
	}}
}

// readyz checks once with cfg's probes (and extra ones) and returns what
// /readyz answers.
func readyz(t *testing.T, cfg Config, extra ...probe) (int, readyBody) {
	t.Helper()
	probes, err := newProbes(&cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	r := newReadiness(prometheus.NewRegistry(), slog.New(slog.DiscardHandler), nil, append(probes, extra...)...)
	r.checkAll(context.Background())
	return serveReadyz(t, r)
}

type readyBody struct {
	Status string                 `json:"status"`
	Checks map[string]checkResult `json:"checks"`
}

func serveReadyz(t *testing.T, r *readiness) (int, readyBody) {
	t.Helper()
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	var body readyBody
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
	return rec.Code, body
}

// Each dependency's state is named in /readyz: credentials refused fail
// it (503), an unreachable dependency degrades it (200), and the error
// says what the dependency answered.
func TestReadinessChecks(t *testing.T) {
	w := newWorld(t)
	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		return "http://" + ln.Addr().String()
	}()
	for _, tc := range []struct {
		name   string
		change func(c *Config)
		code   int
		status string
		checks map[string]string
		errs   map[string]string
	}{
		{name: "all good", change: func(*Config) {}, code: 200, status: stateOK,
			checks: map[string]string{"provider": stateOK, "carepatron": stateOK}},
		{name: "all good with the workspace", change: func(c *Config) { c.CarepatronProviderID = carepatrontest.DefaultProviderID },
			code: 200, status: stateOK, checks: map[string]string{"carepatron": stateOK}},
		{name: "carepatron unreachable", change: func(c *Config) { c.CarepatronURL = closed }, code: 200, status: stateDegraded,
			checks: map[string]string{"provider": stateOK, "carepatron": stateDegraded}, errs: map[string]string{"carepatron": "connect"}},
		{name: "carepatron key refused", change: func(c *Config) { c.CarepatronKey = "cp-wrong-key" }, code: 503, status: stateFailed,
			checks: map[string]string{"provider": stateOK, "carepatron": stateFailed}, errs: map[string]string{"carepatron": "401"}},
		{name: "carepatron workspace refused", change: func(c *Config) { c.CarepatronProviderID = "someone-else" }, code: 503, status: stateFailed,
			checks: map[string]string{"carepatron": stateFailed}, errs: map[string]string{"carepatron": "403"}},
		{name: "smart client refused", change: func(c *Config) { c.SMARTClient = "stranger" }, code: 503, status: stateFailed,
			checks: map[string]string{"provider": stateFailed, "carepatron": stateOK}, errs: map[string]string{"provider": "token"}},
		{name: "static token refused", change: func(c *Config) { c.SMARTClient, c.BearerToken = "", "bearer-wrong" }, code: 503, status: stateFailed,
			checks: map[string]string{"provider": stateFailed}, errs: map[string]string{"provider": "401"}},
		{name: "provider unreachable", change: func(c *Config) { c.FHIRBaseURL = closed + "/fhir" }, code: 200, status: stateDegraded,
			checks: map[string]string{"provider": stateDegraded, "carepatron": stateOK}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := w.cfg
			tc.change(&cfg)
			code, body := readyz(t, cfg)
			assert.Equal(t, tc.code, code, "%+v", body)
			assert.Equal(t, tc.status, body.Status)
			for name, want := range tc.checks {
				assert.Equal(t, want, body.Checks[name].Status, "%s: %+v", name, body.Checks[name])
			}
			for name, want := range tc.errs {
				assert.Contains(t, body.Checks[name].Error, want, name)
			}
			for _, c := range body.Checks {
				assert.NotContains(t, c.Error, "cp-wrong-key")
				assert.NotContains(t, c.Error, "bearer-wrong")
			}
		})
	}
}

// /readyz answers from the last checks at once, even while a dependency
// hangs; the hung check is bounded and reported as degraded.
func TestReadinessNeverWaits(t *testing.T) {
	w := newWorld(t)
	slow := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer slow.Close()
	cfg := w.cfg
	cfg.CarepatronURL = slow.URL
	cfg.CheckInterval = 300 * time.Millisecond
	probes, err := newProbes(&cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	r := newReadiness(prometheus.NewRegistry(), slog.New(slog.DiscardHandler), nil, probes...)

	t0 := time.Now()
	r.checkAll(context.Background())
	assert.Less(t, time.Since(t0), 2*time.Second, "a check is bounded by its interval")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.run(ctx)
	time.Sleep(400 * time.Millisecond) // a check is in flight now
	t0 = time.Now()
	code, body := serveReadyz(t, r)
	assert.Less(t, time.Since(t0), 100*time.Millisecond)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, stateDegraded, body.Checks["carepatron"].Status, "%+v", body)
}

// A database that refuses writes makes /readyz 503 at the next check,
// while one that answers reads alone would have passed the old check.
func TestReadinessDatabaseReadOnly(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Database(t)
	s, err := postgres.Open(ctx, url, storetest.FastConfig())
	require.NoError(t, err)
	defer s.Close()
	r := newReadiness(prometheus.NewRegistry(), slog.New(slog.DiscardHandler), nil, databaseProbe(s.CheckWritable))
	r.checkAll(ctx)
	code, body := serveReadyz(t, r)
	require.Equal(t, http.StatusOK, code, "%+v", body)

	_, err = s.Pool().Exec(ctx, `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET default_transaction_read_only = on', current_database()); END $$`)
	require.NoError(t, err)
	s.Pool().Reset()
	r.checkAll(ctx)
	code, body = serveReadyz(t, r)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, stateFailed, body.Checks["database"].Status)
	assert.Contains(t, body.Checks["database"].Error, "read-only")
}

// Every op's outcome is counted per kind and system; a dead one is logged.
func TestObserverMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	var logs safeBuffer
	o := newObserver(reg, slog.New(slog.NewJSONHandler(&logs, nil)))
	o.Observe(outcome("pull", "php", "", false))
	o.Observe(outcome("deliver", "carepatron", "", false))
	o.Observe(outcome("deliver", "carepatron", "transient", false))
	o.Observe(outcome("deliver", "carepatron", "permanent", true))
	got := gather(t, reg)
	assert.Equal(t, 1.0, got[`healthcare_records_op_attempts_total{kind="pull",system="php"}`])
	assert.Equal(t, 3.0, got[`healthcare_records_op_attempts_total{kind="deliver",system="carepatron"}`])
	assert.Equal(t, 1.0, got[`healthcare_records_op_failures_total{class="transient",kind="deliver",system="carepatron"}`])
	assert.Equal(t, 1.0, got[`healthcare_records_op_failures_total{class="permanent",kind="deliver",system="carepatron"}`])
	assert.Equal(t, 1.0, got[`healthcare_records_dead_letters_total{kind="deliver",system="carepatron"}`])
	assert.Contains(t, logs.String(), `"msg":"op failed for good: see the dead letters","kind":"deliver","system":"carepatron","class":"permanent"`)
}

// The queue gauges come from the store at scrape time; a database that
// does not answer drops them for that scrape and says so.
func TestBacklogCollector(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var fail error
	c := newBacklogCollector(func(context.Context) ([]store.Backlog, error) {
		return []store.Backlog{{Queue: store.QueuePull, Pending: 7, Oldest: now.Add(-90 * time.Second)}}, fail
	}, []string{store.QueuePull, store.QueueDeliver("carepatron")}, slog.New(slog.DiscardHandler))
	c.now = func() time.Time { return now }
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	got := gather(t, reg)
	assert.Equal(t, 7.0, got[`healthcare_records_queue_pending_jobs{queue="hr_pull"}`])
	assert.Equal(t, 90.0, got[`healthcare_records_queue_oldest_pending_seconds{queue="hr_pull"}`])
	assert.Equal(t, 0.0, got[`healthcare_records_queue_pending_jobs{queue="hr_deliver_carepatron"}`])
	assert.Contains(t, got, `healthcare_records_queue_pending_jobs{queue="hr_deliver_carepatron"}`)
	assert.Equal(t, 1.0, got[`healthcare_records_backlog_up`])

	fail = context.DeadlineExceeded
	got = gather(t, reg)
	assert.Equal(t, 0.0, got[`healthcare_records_backlog_up`])
	assert.NotContains(t, got, `healthcare_records_queue_pending_jobs{queue="hr_pull"}`)
}
