package mockphp_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/adapters/mockphp"
)

// BenchmarkSearchDocumentReference measures the search a sync makes for
// each patient, DocumentReference?patient=…&_count=100, over HTTP on
// loopback against 1,000 patients with 10 documents each, and reports
// requests per second.
func BenchmarkSearchDocumentReference(b *testing.B) {
	benchOnce.Do(func() {
		t0 := time.Now()
		srv, err := mockphp.New(mockphp.Config{Seed: 1, Patients: 1000, DocsPerPatient: 10})
		require.NoError(b, err)
		b.Logf("generated 1000 patients x 10 documents in %s", time.Since(t0).Round(time.Millisecond))
		// Shared by every run of the benchmark; it lives until the test
		// binary exits.
		ts := httptest.NewServer(srv)
		for _, p := range srv.Patients() {
			benchURLs = append(benchURLs, ts.URL+"/fhir/R4/DocumentReference?patient="+p.ID+"&_count=100")
		}
	})
	urls := benchURLs
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			resp, err := client.Get(urls[i%len(urls)])
			if err != nil {
				b.Error(err)
				return
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK || n == 0 {
				b.Errorf("status %d, %d bytes", resp.StatusCode, n)
				return
			}
			i += 7
		}
	})
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "requests/s")
	require.Len(b, urls, 1000)
}

var (
	benchOnce sync.Once
	benchURLs []string
)
