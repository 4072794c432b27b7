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
	// ProcessCPU is the CPU time this process used during the run, and
	// MachineCPU the busy time of all cores (every process; zero where
	// it cannot be read): what a call costs, wherever it is spent.
	ProcessCPU, MachineCPU time.Duration
	lat                    []time.Duration // sorted
}

// Rate is calls per second.
func (r Result) Rate() float64 { return float64(r.Calls) / r.Elapsed.Seconds() }

// String renders the rate, the latencies and the CPU time per call (this
// process, and all processes).
func (r Result) String() string {
	perCall := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(max(r.Calls, 1)) }
	return fmt.Sprintf("%8.0f/s  p50 %6.2f ms  p99 %6.2f ms  CPU/call %4.0f us here, %4.0f us in all", r.Rate(),
		float64(r.P50.Microseconds())/1000, float64(r.P99.Microseconds())/1000,
		perCall(r.ProcessCPU), perCall(r.MachineCPU))
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
	proc0, machine0 := cpuNow()
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
	proc1, machine1 := cpuNow()
	r.ProcessCPU, r.MachineCPU = proc1-proc0, machine1-machine0
	r.lat = lat
	r.percentiles()
	return r, nil
}

// Merge sums runs as if they were one whose calls took the runs' times:
// calls, elapsed and CPU times add up, and the percentiles are those of
// all the calls.
func Merge(runs ...Result) Result {
	var m Result
	for _, r := range runs {
		m.Calls += r.Calls
		m.Elapsed += r.Elapsed
		m.ProcessCPU += r.ProcessCPU
		m.MachineCPU += r.MachineCPU
		m.lat = append(m.lat, r.lat...)
	}
	m.percentiles()
	return m
}

func (r *Result) percentiles() {
	if len(r.lat) == 0 {
		return
	}
	slices.Sort(r.lat)
	r.P50, r.P99 = r.lat[len(r.lat)/2], r.lat[len(r.lat)*99/100]
}
