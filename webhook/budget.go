package webhook

import "sync"

// budget is a semaphore of bytes: the bytes of request bodies a Receiver
// holds at once, across all its connections. A request takes what its body
// may need before it reads a byte of it, and gives it back when it has been
// answered; when the budget cannot cover it the request is refused at once
// (503) rather than queued, so that slow senders cannot make memory grow,
// nor make requests wait behind them.
type budget struct {
	mu   sync.Mutex
	free int64
	max  int64
	// inUse, when set, is told the bytes taken after every change.
	inUse func(int64)
}

func newBudget(max int64, inUse func(int64)) *budget {
	return &budget{free: max, max: max, inUse: inUse}
}

// take reserves n bytes, or reports false and reserves nothing.
func (b *budget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n > b.free {
		return false
	}
	b.free -= n
	b.report()
	return true
}

// give returns n bytes taken before.
func (b *budget) give(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.free += n
	b.report()
}

func (b *budget) report() {
	if b.inUse != nil {
		b.inUse(b.max - b.free)
	}
}
