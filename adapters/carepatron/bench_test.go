package carepatron_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	adapter "github.com/healthcare-records/healthcare-records/adapters/carepatron"
	"github.com/healthcare-records/healthcare-records/carepatron"
	"github.com/healthcare-records/healthcare-records/carepatron/carepatrontest"
	"github.com/healthcare-records/healthcare-records/connector"
)

// BenchmarkSinkThroughput delivers 5,000 new documents, then the same
// 5,000 again, into a fake Carepatron limited to R requests a second, and
// reports:
//
//   - docs/s/R: new documents delivered per second as a fraction of R
//     (target 0.9);
//   - calls/new-doc: requests per new document (target 1, the upload);
//   - calls/unchanged-doc: requests per repeated delivery of an unchanged
//     document, same key (target 0).
//
// Run with: go test -run '^$' -bench SinkThroughput ./adapters/carepatron/
func BenchmarkSinkThroughput(b *testing.B) {
	const (
		rate      = 1000 // R, requests a second
		documents = 5000
		patients  = 50
		workers   = 64
	)
	for b.Loop() {
		fake := carepatrontest.NewServer(carepatrontest.Config{RateLimit: rate, Burst: rate / 10})
		srv := httptest.NewServer(fake)
		c, err := carepatron.New(srv.URL, carepatrontest.DefaultAPIKey,
			carepatron.WithRateLimit(rate, 1), carepatron.WithLogger(quiet))
		require.NoError(b, err)
		sink, err := adapter.New(adapter.Config{Client: c, Logger: quiet, Remember: 2 * documents})
		require.NoError(b, err)
		ctx := context.Background()

		pids := make([]string, patients)
		for i := range patients {
			p := patient(fmt.Sprintf("p%d", i), "1")
			pids[i], err = sink.UpsertPatient(ctx, connector.PatientWrite{Key: key(p.Ref, "1"), Patient: p})
			require.NoError(b, err)
		}
		writes := make([]connector.DocumentWrite, documents)
		for i := range writes {
			d := document(fmt.Sprintf("p%d", i%patients), fmt.Sprintf("d%d", i), "1", fmt.Sprintf("synthetic document %d", i))
			writes[i] = connector.DocumentWrite{Key: key(d.Ref, "1"), PatientSinkID: pids[i%patients], Document: d}
		}
		deliver := func() time.Duration {
			work := make(chan int)
			var wg sync.WaitGroup
			start := time.Now()
			for range workers {
				wg.Go(func() {
					for i := range work {
						id, err := sink.PutDocument(ctx, writes[i])
						if err != nil {
							b.Error(err)
							continue
						}
						writes[i].SinkID = id
					}
				})
			}
			for i := range writes {
				work <- i
			}
			close(work)
			wg.Wait()
			return time.Since(start)
		}

		before := fake.Stats().Requests
		elapsed := deliver()
		afterNew := fake.Stats().Requests
		// The same deliveries again, as after a crash before their
		// completion was recorded: same keys, now with their SinkIDs.
		for i := range writes {
			writes[i].SinkID = ""
		}
		deliver()
		afterSame := fake.Stats().Requests
		srv.Close()

		b.ReportMetric(float64(documents)/elapsed.Seconds()/rate, "docs/s/R")
		b.ReportMetric(float64(afterNew-before)/documents, "calls/new-doc")
		b.ReportMetric(float64(afterSame-afterNew)/documents, "calls/unchanged-doc")
		b.ReportMetric(float64(fake.Stats().Throttled), "429s")
	}
}
