package main

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// maxRepeatKeys bounds the messages a rate limiter remembers; past it,
// keys idle for a whole interval are forgotten.
const maxRepeatKeys = 1024

// rateLimited returns log with repeated entries thinned: the first entry of
// a given message and level (from one logger, its attributes aside) passes,
// then at most one per every; the one that passes after a pause carries
// "suppressed", the count of those dropped meanwhile. every <= 0 returns
// log unchanged.
//
// It is for components that log the same failure in a loop, such as the
// job engine while the database is down (some fifty entries a second).
func rateLimited(log *slog.Logger, every time.Duration, now func() time.Time) *slog.Logger {
	if every <= 0 {
		return log
	}
	if now == nil {
		now = time.Now
	}
	return slog.New(&repeatHandler{next: log.Handler(), every: every, now: now,
		state: &repeatState{seen: map[repeatKey]*repeatEntry{}}})
}

// repeatHandler is rateLimited's slog.Handler. Handlers derived by
// WithAttrs and WithGroup share its state but key their entries apart.
type repeatHandler struct {
	next  slog.Handler
	every time.Duration
	now   func() time.Time
	scope string // the derivation, so that two components' entries differ
	state *repeatState
}

type repeatState struct {
	mu   sync.Mutex
	seen map[repeatKey]*repeatEntry
}

type repeatKey struct {
	scope string
	level slog.Level
	msg   string
}

type repeatEntry struct {
	passed     time.Time
	suppressed int
}

func (h *repeatHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *repeatHandler) Handle(ctx context.Context, r slog.Record) error {
	now := h.now()
	k := repeatKey{h.scope, r.Level, r.Message}
	h.state.mu.Lock()
	e := h.state.seen[k]
	switch {
	case e == nil:
		h.forget(now)
		h.state.seen[k] = &repeatEntry{passed: now}
	case now.Sub(e.passed) < h.every:
		e.suppressed++
		h.state.mu.Unlock()
		return nil
	default:
		if e.suppressed > 0 {
			r = r.Clone()
			r.AddAttrs(slog.Int("suppressed", e.suppressed))
		}
		e.passed, e.suppressed = now, 0
	}
	h.state.mu.Unlock()
	return h.next.Handle(ctx, r)
}

// forget drops idle keys when there are too many. Call with mu held.
func (h *repeatHandler) forget(now time.Time) {
	if len(h.state.seen) < maxRepeatKeys {
		return
	}
	for k, e := range h.state.seen {
		if now.Sub(e.passed) >= h.every && e.suppressed == 0 {
			delete(h.state.seen, k)
		}
	}
}

func (h *repeatHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(as)
	c.scope = h.scope + "\x00" + slog.GroupValue(as...).String()
	return &c
}

func (h *repeatHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	c.scope = h.scope + "\x00g:" + name
	return &c
}
