package connector

import (
	"time"

	"github.com/cenkalti/backoff/v4"
)

// Backoff shapes the delay before each retry of a failed op: exponential
// from Initial, doubling, capped at Max, each delay randomized by ±Jitter.
// The zero Backoff means Initial 1s, Max 10m, Jitter 0.5.
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
	// Jitter is the randomization factor in [0, 1).
	Jitter float64
}

// Delay returns how long to wait after the given failed attempt (counting
// from 1). A RetryAfter error lengthens the delay to at least the server's
// request.
func (b Backoff) Delay(attempt int, err error) time.Duration {
	eb := backoff.NewExponentialBackOff()
	eb.InitialInterval = orDefault(b.Initial, time.Second)
	eb.MaxInterval = orDefault(b.Max, 10*time.Minute)
	eb.RandomizationFactor = b.Jitter
	if b.Jitter <= 0 || b.Jitter >= 1 {
		eb.RandomizationFactor = 0.5
	}
	eb.MaxElapsedTime = 0
	eb.Reset()
	d := eb.NextBackOff()
	for i := 1; i < attempt; i++ {
		d = eb.NextBackOff()
	}
	if ra, ok := RetryDelay(err); ok && ra > d {
		d = ra
	}
	return d
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
