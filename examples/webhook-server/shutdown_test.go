package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// HTTP and the workers share one deadline: when HTTP uses it all, the
// workers are stopped at once rather than given a deadline of their own.
func TestShutdownSharesOneDeadline(t *testing.T) {
	const timeout = 300 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	var workersDeadline time.Time
	t0 := time.Now()
	// A client that never finishes its request, and workers whose jobs run
	// until they are cancelled.
	hold := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	httpErr, workersErr := drain(ctx, hold, func() {}, func(ctx context.Context) error {
		workersDeadline, _ = ctx.Deadline()
		return hold(ctx)
	})
	took := time.Since(t0)
	assert.ErrorIs(t, httpErr, context.DeadlineExceeded)
	assert.ErrorIs(t, workersErr, context.DeadlineExceeded)
	assert.Equal(t, deadline, workersDeadline, "the workers get what is left of the one deadline")
	assert.Less(t, took, timeout+timeout/2, "not a second SHUTDOWN_TIMEOUT")
}
