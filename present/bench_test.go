package present

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"
)

// BenchmarkPDFText prints the PDF text extraction's throughput (MB/s, of
// the PDF's bytes) and peak heap above the heap before the run
// (peak-heap-MB, sampled every millisecond), on the largest example PDFs
// and on a generated one of about 30 MB.
//
//	go test -run '^$' -bench PDFText -benchtime 3x ./present/
func BenchmarkPDFText(b *testing.B) {
	big := buildPDF(pagesOf(8900), false)
	cases := []struct {
		name   string
		data   []byte
		limits Limits
	}{
		{"mock-long-438KB", readTestdata(b, "mock-long.pdf"), Limits{}},
		{"fhir-adi-dnr-45KB", readTestdata(b, "fhir-uscore-documentreference-adi-dnr.pdf"), Limits{}},
		{"generated-30MB/all-text", big, Limits{MaxPages: 10_000, MaxTextBytes: 64 << 20}},
		{"generated-30MB/default-limits", big, Limits{}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			var text string
			peak := peakHeap(func() {
				for b.Loop() {
					text, _ = Text(context.Background(), "application/pdf", c.data, c.limits)
				}
			})
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(len(c.data))/(1<<20), "pdf-MB")
			b.ReportMetric(float64(len(text))/(1<<20), "text-MB")
		})
	}
}

func pagesOf(n int) [][]string {
	pages := make([][]string, n)
	all := lines(60 * n)
	for i := range pages {
		pages[i] = all[i*60 : (i+1)*60]
	}
	return pages
}

// peakHeap runs f and returns the most heap in use while it ran, above
// what was in use before.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base := m.HeapAlloc
	var mu sync.Mutex
	peak := base
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		var s runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-t.C:
				runtime.ReadMemStats(&s)
				mu.Lock()
				peak = max(peak, s.HeapAlloc)
				mu.Unlock()
			}
		}
	})
	f()
	close(done)
	wg.Wait()
	return peak - base
}
