package bench_test

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/bench"
	"github.com/healthcare-records/healthcare-records/internal/pgtest"
	"github.com/healthcare-records/healthcare-records/webhook"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var requests = flag.Int("requests", 50000, "requests of BenchmarkWebhookIngest, resends included")

// BenchmarkWebhookIngest is the ingest target of DESIGN.md: 64 connections
// on loopback send 50,000 signed Standard Webhooks requests, 10% of them
// resends, to a webhook.Receiver over the store's grouped Ingester, on
// SQLite and on PostgreSQL, beside a bare handler and the database's own
// single-row insert rate measured in the same run; then it checks the
// counts.
//
//	go test -run '^$' -bench WebhookIngest -benchtime 1x -timeout 30m ./bench/
func BenchmarkWebhookIngest(b *testing.B) {
	cfg := bench.WebhookConfig{Requests: *requests, DupEvery: 10, Concurrency: 64}
	run := func(b *testing.B, open func() (*bench.Backend, error)) {
		for b.Loop() {
			be, err := open()
			require.NoError(b, err)
			rep, err := bench.RunWebhook(context.Background(), be, cfg)
			require.NoError(b, be.Close())
			require.NoError(b, err)
			// To stdout: a benchmark's log is cut at ten lines.
			fmt.Print(rep.String())
			b.ReportMetric(rep.Receiver.Rate(), "events/s")
			b.ReportMetric(float64(rep.Receiver.P50.Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(rep.Receiver.P99.Microseconds())/1000, "p99-ms")
			b.ReportMetric(rep.Receiver.Rate()/rep.BareCeiling(), "x-bare")
			b.ReportMetric(rep.Receiver.Rate()/rep.DBCeiling(), "x-db")
			b.ReportMetric(rep.MedianRatio(), "x-db-median")
			require.NoError(b, rep.Check())
		}
	}
	b.Run("SQLite", func(b *testing.B) {
		run(b, func() (*bench.Backend, error) { return bench.OpenSQLite(context.Background(), b.TempDir()) })
	})
	b.Run("PostgreSQL", func(b *testing.B) {
		run(b, func() (*bench.Backend, error) {
			return bench.OpenPostgres(context.Background(), pgtest.Database(b), cfg.Concurrency)
		})
	})
}

// TestWebhookIngestSmall runs the benchmark's generator at a small scale on
// SQLite and checks that every unique event, and no resend, was committed
// once with its pull op.
func TestWebhookIngestSmall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	be, err := bench.OpenSQLite(ctx, t.TempDir())
	require.NoError(t, err)
	rep, err := bench.RunWebhook(ctx, be, bench.WebhookConfig{Requests: 500, DupEvery: 10, Concurrency: 64, Warmup: 100})
	require.NoError(t, be.Close())
	require.NoError(t, err)
	t.Log("\n" + rep.String())
	require.Equal(t, 450, rep.Unique)
	require.NoError(t, rep.Check())
	require.Len(t, rep.Rounds, 5, "the default rounds")
	for _, rd := range rep.Rounds {
		require.Equal(t, 100, rd.Receiver.Calls)
		require.Equal(t, 100, rd.Ceiling.Calls)
	}
	require.Equal(t, 500, rep.Receiver.Calls)
	require.Equal(t, 500, rep.Ceiling.Calls)
}

func TestRequests(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	reqs, err := bench.Requests("t", 100, 10, now)
	require.NoError(t, err)
	require.Len(t, reqs, 100)
	require.Equal(t, 90, bench.Unique(reqs))
	first := map[string][]byte{}
	for i, r := range reqs {
		require.Equal(t, (i+1)%10 == 0, r.Resend, "request %d", i)
		if !r.Resend {
			require.NotContains(t, first, r.ID)
			first[r.ID] = r.Body
			continue
		}
		// A resend repeats an event sent before it: same id and body,
		// signed again later.
		require.Contains(t, first, r.ID)
		require.Equal(t, first[r.ID], r.Body)
		require.Equal(t, "1800000001", r.Header.Get("webhook-timestamp"))
	}
}

// TestClient: the generator's client reuses its connections, opens a new
// one after the server closes one, reports any other answer as an error,
// and refuses a URL it cannot send to.
func TestClient(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(webhook.HeaderID) == "close" {
			w.Header().Set("Connection", "close")
		}
		if r.Header.Get(webhook.HeaderID) == "bad" {
			http.Error(w, "no", http.StatusTeapot)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	// One connection and one sender, so that the count is the client's
	// doing alone: with two, whether the sender whose connection closed
	// needs another depends on the scheduling (seen under load).
	c, err := bench.NewClient(srv.URL, 1)
	require.NoError(t, err)
	defer c.Close()

	reqs, err := bench.Requests("c", 20, 0, time.Now())
	require.NoError(t, err)
	reqs[10].Header.Set(webhook.HeaderID, "close")
	sent, err := bench.Send(context.Background(), c, reqs, 1)
	require.NoError(t, err)
	require.Equal(t, 20, sent.Accepted)
	require.EqualValues(t, 2, conns.Load(), "one connection for 20 requests, and one more after the server closed it")

	reqs[0].Header.Set(webhook.HeaderID, "bad")
	_, err = bench.Send(context.Background(), c, reqs[:1], 1)
	require.ErrorContains(t, err, "418")

	_, err = bench.NewClient("https://127.0.0.1:1/", 1)
	require.Error(t, err)
}
