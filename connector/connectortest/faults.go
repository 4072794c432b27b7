package connectortest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
)

// ErrInjected is the cause of every failure a Faults setting injects, so a
// test can tell injected failures from real ones with errors.Is. Injected
// errors are transient (no error class), except those a RetryAfterRate
// produces, which also carry a connector.RetryAfterError.
var ErrInjected = errors.New("connectortest: injected fault")

// Faults makes the in-memory Source and Sink misbehave like a remote system.
// The zero Faults injects nothing. Rates are probabilities in [0, 1].
//
// Faults are deterministic given Seed: whether a call fails is drawn from
// the seed, the operation, the call's identity (the idempotency key of a
// Sink write, the ref of a Source read) and how many calls with that
// identity came before. Concurrent calls therefore meet the same faults
// whatever the goroutine schedule, and a retry draws anew.
type Faults struct {
	// ErrorRate is the chance that a call fails with a transient error
	// before it has any effect.
	ErrorRate float64
	// RetryAfterRate is the chance that a call fails before it has any
	// effect with a connector.RetryAfter error asking for RetryAfter.
	RetryAfterRate float64
	// RetryAfter is the delay RetryAfterRate failures ask for.
	RetryAfter time.Duration
	// LostResponseRate is the chance that a Sink write takes effect and
	// then fails with a transient error, as when the response is lost on
	// the way back. The Source ignores it.
	LostResponseRate float64
	// Latency delays every call. A context that ends first ends the call
	// with the context's error.
	Latency time.Duration
	// Seed selects one reproducible sequence of faults.
	Seed int64
}

// injector applies Faults; it is safe for concurrent use.
type injector struct {
	mu     sync.Mutex
	faults Faults
	// seen counts the calls per operation and identity.
	seen map[string]int
	// injected counts the failures injected.
	injected int
}

func (in *injector) set(f Faults) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.faults = f
}

func (in *injector) get() Faults {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.faults
}

func (in *injector) count() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.injected
}

// begin decides the fate of one call of op on id after waiting the
// latency. A non-nil error means the call must fail now without effect;
// lost means the call must take effect and then fail with lostError.
func (in *injector) begin(ctx context.Context, op, id string) (lost bool, err error) {
	in.mu.Lock()
	f := in.faults
	var n int
	if f.ErrorRate > 0 || f.RetryAfterRate > 0 || f.LostResponseRate > 0 {
		// Counted only while faults are on: a long run without them
		// must not grow with every call.
		if in.seen == nil {
			in.seen = make(map[string]int)
		}
		n = in.seen[op+"\x00"+id]
		in.seen[op+"\x00"+id] = n + 1
	}
	in.mu.Unlock()

	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	if f.Latency > 0 {
		timer := time.NewTimer(f.Latency)
		select {
		case <-ctx.Done():
			timer.Stop()
			return false, fmt.Errorf("%s: %w", op, ctx.Err())
		case <-timer.C:
		}
	}
	switch {
	case roll(f.Seed, op, id, n, 'e') < f.ErrorRate:
		err = fmt.Errorf("%s: %w", op, ErrInjected)
	case roll(f.Seed, op, id, n, 'r') < f.RetryAfterRate:
		err = connector.RetryAfter(f.RetryAfter, fmt.Errorf("%s: %w", op, ErrInjected))
	case roll(f.Seed, op, id, n, 'l') < f.LostResponseRate:
		lost = true
	}
	if err != nil || lost {
		in.mu.Lock()
		in.injected++
		in.mu.Unlock()
	}
	return lost, err
}

// lostError is what a write whose response was lost returns.
func lostError(op string) error {
	return fmt.Errorf("%s: response lost after the write: %w", op, ErrInjected)
}

// roll returns a number in [0, 1) determined by its arguments.
func roll(seed int64, op, id string, n int, salt byte) float64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	h.Write(b[:])
	h.Write([]byte(op))
	h.Write([]byte{0})
	h.Write([]byte(id))
	binary.LittleEndian.PutUint64(b[:], uint64(n))
	h.Write(b[:])
	h.Write([]byte{salt})
	return float64(mix(h.Sum64())>>11) / (1 << 53)
}

// mix is the splitmix64 finalizer: it spreads FNV's bits so that nearby
// inputs give unrelated outputs.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
