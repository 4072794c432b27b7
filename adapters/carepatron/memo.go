package carepatron

import "sync"

// memo remembers the results of the most recent successful writes by
// idempotency key, so that a repeated key with the same request is
// answered without a call. It forgets the oldest first. Carepatron's own
// idempotency records cover what it forgot, or what another process wrote.
type memo struct {
	mu    sync.Mutex
	size  int
	byKey map[string]memoEntry
	order []string
	next  int
}

type memoEntry struct{ print, id string }

func newMemo(size int) *memo {
	if size < 0 {
		size = 0
	}
	return &memo{size: size, byKey: make(map[string]memoEntry, size), order: make([]string, size)}
}

// get returns the id written for key, if the request printed print.
func (m *memo) get(key, print string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.byKey[key]
	if !ok || e.print != print {
		return "", false
	}
	return e.id, true
}

func (m *memo) put(key, print, id string) {
	if m.size == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byKey[key]; !ok {
		if old := m.order[m.next]; old != "" {
			delete(m.byKey, old)
		}
		m.order[m.next] = key
		m.next = (m.next + 1) % m.size
	}
	m.byKey[key] = memoEntry{print: print, id: id}
}
