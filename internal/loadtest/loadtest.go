// Package loadtest drives a call at a fixed concurrency and measures its
// rate and latency, for the benchmarks that compare the store's ingest with
// the database's own ceiling.
package loadtest

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Result is what one run measured.
type Result struct {
	Calls    int
	Elapsed  time.Duration
	P50, P99 time.Duration
}

// Rate is calls per second.
func (r Result) Rate() float64 { return float64(r.Calls) / r.Elapsed.Seconds() }

func (r Result) String() string {
	return fmt.Sprintf("%8.0f/s  p50 %6.2f ms  p99 %6.2f ms", r.Rate(),
		float64(r.P50.Microseconds())/1000, float64(r.P99.Microseconds())/1000)
}

// Run calls fn(i) for i in [0, n) from concurrency goroutines. It stops at
// the first error and returns it.
func Run(n, concurrency int, fn func(i int) error) (Result, error) {
	lat := make([]time.Duration, n)
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
		failed  atomic.Bool
	)
	begin := time.Now()
	for range concurrency {
		wg.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				t := time.Now()
				if err := fn(i); err != nil {
					errOnce.Do(func() { first = err })
					failed.Store(true)
					return
				}
				lat[i] = time.Since(t)
			}
		})
	}
	wg.Wait()
	if first != nil {
		return Result{}, first
	}
	r := Result{Calls: n, Elapsed: time.Since(begin)}
	slices.Sort(lat)
	r.P50, r.P99 = lat[n/2], lat[n*99/100]
	return r, nil
}
