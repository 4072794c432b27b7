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
