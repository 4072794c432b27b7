package practice

import (
	"sync"
	"time"
)

// inquiryLimiter counts inquiries per sender email and per client
// address in fixed windows of InquiryWindow, within maxTracked keys of
// each, as the sign-in limits do.
type inquiryLimiter struct {
	mu     sync.Mutex
	emails map[string]addrWindow
	addrs  map[string]addrWindow
}

func newInquiryLimiter() *inquiryLimiter {
	return &inquiryLimiter{emails: map[string]addrWindow{}, addrs: map[string]addrWindow{}}
}

// take counts an inquiry from email and addr (empty: not limited) at
// now, unless either is at its limit, and returns how long to wait then
// (zero when it was counted).
func (l *inquiryLimiter) take(email, addr string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	we, wait := window(l.emails, email, InquiriesPerEmail, now)
	wa, waitAddr := window(l.addrs, addr, InquiriesPerAddr, now)
	wait = max(wait, waitAddr)
	if wait > 0 {
		return max(wait, time.Second)
	}
	keep(l.emails, email, we, now)
	keep(l.addrs, addr, wa, now)
	return 0
}

// giveBack uncounts an inquiry take counted that was not stored, so that
// a sender retrying through an outage is not limited for it.
func (l *inquiryLimiter) giveBack(email, addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range []struct {
		m   map[string]addrWindow
		key string
	}{{l.emails, email}, {l.addrs, addr}} {
		if w, ok := c.m[c.key]; ok && w.n > 0 {
			w.n--
			c.m[c.key] = w
		}
	}
}

// window returns key's window at now counting one more, and how long to
// wait if it is full already.
func window(m map[string]addrWindow, key string, limit int, now time.Time) (addrWindow, time.Duration) {
	if key == "" {
		return addrWindow{}, 0
	}
	w := m[key]
	if now.Sub(w.start) >= InquiryWindow || now.Before(w.start) {
		w = addrWindow{start: now}
	}
	if w.n >= limit {
		return w, w.start.Add(InquiryWindow).Sub(now)
	}
	w.n++
	return w, 0
}

func keep(m map[string]addrWindow, key string, w addrWindow, now time.Time) {
	if key == "" {
		return
	}
	if _, ok := m[key]; !ok && len(m) >= maxTracked {
		for k, old := range m {
			if now.Sub(old.start) >= InquiryWindow || len(m) >= maxTracked-maxTracked/16 {
				delete(m, k)
			}
		}
	}
	m[key] = w
}
