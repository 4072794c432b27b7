package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/adapters/mockphp"
)

// Latency from a change at the provider to the document written in the
// fake Carepatron, at 100 changes a second, with no injected latency:
//
//	go test -run '^$' -bench Latency -benchtime 1x ./e2e/
//
// A change's clock starts when the mock commits it, just before it sends
// the webhook, so the figure includes the webhook's trip and is an upper
// bound of "webhook accepted → document written"; it stops at the fake's
// updatedAt of that version. Only a document's last change in the run is
// measured (an earlier one may be overtaken by the next), and only
// creations and updates of documents (deletions write nothing to time).
// HR_E2E_LATENCY_SECONDS sets how long changes are made (default 10).
func BenchmarkLatency(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		benchLatency(b, filepath.Join(b.TempDir(), "bench.db"))
	})
	b.Run("postgres", func(b *testing.B) {
		benchLatency(b, postgresURL(b))
	})
}

func benchLatency(b *testing.B, databaseURL string) {
	ctx := context.Background()
	seconds := envInt("HR_E2E_LATENCY_SECONDS", 10)
	const perSecond = 100
	m := startMock(b, 100, 10, 3)
	f := startFake(b)
	patients, err := m.patientIDs(ctx)
	require.NoError(b, err)
	secret := newSecret()
	s := newServer(b, m, f, databaseURL, secret, patients,
		"POLL_INTERVAL=0", "SWEEP_INTERVAL=0", "CAREPATRON_RATE=0", "PULL_WORKERS=8", "DELIVER_WORKERS=8")
	_, err = m.subscribe(ctx, s.hookURL(), secret)
	require.NoError(b, err)
	s.start(b)
	waitMirror(b, m, f, 3*time.Minute)

	b.ResetTimer()
	type sample struct {
		version string
		at      time.Time
	}
	last := map[string]sample{}
	tick := time.NewTicker(time.Second / perSecond)
	start := time.Now()
	made := 0
	for made < seconds*perSecond {
		<-tick.C
		cs, err := m.touch(ctx, 1)
		require.NoError(b, err)
		made++
		for _, c := range cs {
			if c.ResourceType != "DocumentReference" {
				continue
			}
			if c.Type == mockphp.ChangeDeleted {
				delete(last, c.ID)
				continue
			}
			last[c.ID] = sample{c.VersionID, c.At}
		}
	}
	tick.Stop()
	rate := float64(made) / time.Since(start).Seconds()
	waitMirror(b, m, f, 2*time.Minute)
	b.StopTimer()

	ex, err := f.export(ctx)
	require.NoError(b, err)
	var lat []time.Duration
	for _, d := range ex.Documents {
		id := d.ExternalReference[len(source+"/DocumentReference/"):]
		if s, ok := last[id]; ok && s.version == d.SourceVersion {
			lat = append(lat, d.UpdatedAt.Sub(s.at))
		}
	}
	require.NotEmpty(b, lat)
	slices.Sort(lat)
	p50, p99 := lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
	b.ReportMetric(ms(p50), "p50-ms")
	b.ReportMetric(ms(p99), "p99-ms")
	b.ReportMetric(rate, "changes/s")
	fmt.Printf("latency %s: %d changes at %.0f/s, %d documents timed: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		b.Name(), made, rate, len(lat), ms(p50), ms(p99), ms(lat[len(lat)-1]))
}

// A 10,000-document backfill (100 patients × 100 documents) into a fake
// Carepatron that answers at most R requests a second (429 past it), with
// the server's own limit set to R too:
//
//	go test -run '^$' -bench Backfill -benchtime 1x ./e2e/
//
// It reports the documents written per second, from the first to the
// last, as a ratio to R (target ≥ 0.9), and the same over the whole run
// from the server's start. HR_E2E_BACKFILL_RATE sets R (default 200),
// HR_E2E_BACKFILL_DB=sqlite runs it on SQLite instead of PostgreSQL.
func BenchmarkBackfill(b *testing.B) {
	ctx := context.Background()
	r := envInt("HR_E2E_BACKFILL_RATE", 200)
	databaseURL := filepath.Join(b.TempDir(), "bench.db")
	if os.Getenv("HR_E2E_BACKFILL_DB") != "sqlite" {
		databaseURL = postgresURL(b)
	}
	m := startMock(b, 100, 100, 5)
	f := startFake(b, "-rate", strconv.Itoa(r), "-burst", strconv.Itoa(r))
	patients, err := m.patientIDs(ctx)
	require.NoError(b, err)
	s := newServer(b, m, f, databaseURL, newSecret(), patients,
		// No webhooks; no periodic reconcile within the run (the server
		// refuses to hear of no change at all).
		"WEBHOOK_FORMAT=none", "POLL_INTERVAL=24h",
		"CAREPATRON_RATE="+strconv.Itoa(r), "PULL_WORKERS=4", "DELIVER_WORKERS=4")

	b.ResetTimer()
	start := time.Now()
	s.start(b)
	ds := waitMirror(b, m, f, 10*time.Minute)
	total := time.Since(start)
	b.StopTimer()

	ex, err := f.export(ctx)
	require.NoError(b, err)
	first, lastAt := ex.Documents[0].CreatedAt, ex.Documents[0].CreatedAt
	for _, d := range ex.Documents {
		if d.CreatedAt.Before(first) {
			first = d.CreatedAt
		}
		if d.CreatedAt.After(lastAt) {
			lastAt = d.CreatedAt
		}
	}
	st, err := f.stats(ctx)
	require.NoError(b, err)
	window := lastAt.Sub(first).Seconds()
	docsPerSec := float64(len(ex.Documents)-1) / window
	whole := float64(len(ds.live)) / total.Seconds()
	b.ReportMetric(docsPerSec, "docs/s")
	b.ReportMetric(docsPerSec/float64(r), "xR")
	b.ReportMetric(whole/float64(r), "xR-whole")
	fmt.Printf("backfill %s: %d documents, R = %d/s: %.0f docs/s from first to last write (%.2f R); %.0f docs/s over %.1f s from start (%.2f R); fake: %d requests, %d answered 429\n",
		b.Name(), len(ds.live), r, docsPerSec, docsPerSec/float64(r), whole, total.Seconds(), whole/float64(r),
		st.Stats.Requests, st.Stats.Throttled)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}
