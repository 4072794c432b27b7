package fhir

import "sync"

// memo is a bounded map of ids, safe for concurrent use. Past its size it
// starts over; what it forgets the next listing puts back.
type memo struct {
	mu   sync.Mutex
	size int
	m    map[string]string
}

func newMemo(size int) *memo { return &memo{size: size, m: map[string]string{}} }

func (m *memo) put(k, v string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.m) >= m.size {
		m.m = map[string]string{}
	}
	m.m[k] = v
}

func (m *memo) get(k string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[k]
	return v, ok
}
