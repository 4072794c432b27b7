package loadtest_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/internal/loadtest"
)

func TestRun(t *testing.T) {
	var calls atomic.Int64
	r, err := loadtest.Run(200, 8, func(int) error { calls.Add(1); time.Sleep(time.Millisecond); return nil })
	require.NoError(t, err)
	assert.EqualValues(t, 200, calls.Load())
	assert.Equal(t, 200, r.Calls)
	assert.GreaterOrEqual(t, r.P50, time.Millisecond)
	assert.GreaterOrEqual(t, r.P99, r.P50)
	assert.Positive(t, r.Rate())
	assert.Contains(t, r.String(), "CPU/call")

	boom := errors.New("boom")
	_, err = loadtest.Run(100, 4, func(i int) error {
		if i == 10 {
			return boom
		}
		return nil
	})
	assert.ErrorIs(t, err, boom)
}

// TestMerge: merged runs add up, and their percentiles are those of all
// the calls: here 99 fast calls and one slow one in each of two runs.
func TestMerge(t *testing.T) {
	run := func(slow time.Duration) loadtest.Result {
		r, err := loadtest.Run(100, 1, func(i int) error {
			if i == 99 {
				time.Sleep(slow)
			}
			return nil
		})
		require.NoError(t, err)
		return r
	}
	a, b := run(20*time.Millisecond), run(40*time.Millisecond)
	m := loadtest.Merge(a, b)
	assert.Equal(t, 200, m.Calls)
	assert.Equal(t, a.Elapsed+b.Elapsed, m.Elapsed)
	assert.Equal(t, a.ProcessCPU+b.ProcessCPU, m.ProcessCPU)
	assert.Less(t, m.P50, time.Millisecond)
	assert.GreaterOrEqual(t, m.P99, 20*time.Millisecond, "the 198th of 200 calls")
	assert.Less(t, m.P99, 40*time.Millisecond)
	assert.Equal(t, loadtest.Result{}, loadtest.Merge())
}
