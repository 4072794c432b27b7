package practice

import (
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Sign-in limits. Failures count per account (the email as typed, in
// lower case, whether or not it has an account, so that the limit does
// not tell which do) and attempts per client address (an IPv6 address by
// its /64, which one client usually holds whole). A success clears the
// account's failures. The limits live in each process: with N server
// processes behind a balancer an attacker gets up to N times as many
// tries, still far too few to guess a 12-character password.
//
// A locked account refuses even the right password until the window
// passes: that is what stops a guesser, and it means someone who knows
// an email can keep its owner out for as long as they keep failing, a
// trade every per-account lockout makes.
const (
	// LoginFailuresPerAccount failed sign-ins within LoginFailureWindow
	// lock the account until the oldest of them is a window old.
	LoginFailuresPerAccount = 5
	LoginFailureWindow      = 15 * time.Minute
	// LoginAttemptsPerAddr sign-ins from one client address within
	// LoginAddrWindow are allowed; more wait for the next window.
	LoginAttemptsPerAddr = 20
	LoginAddrWindow      = time.Minute

	// maxTracked bounds the accounts and addresses each limit tracks;
	// past it, stale entries are swept and, if too few are, arbitrary
	// ones are forgotten, so that memory stays bounded under a spray of
	// emails or addresses.
	maxTracked = 1 << 16
)

// loginLimiter holds the sign-in limits' counts.
type loginLimiter struct {
	mu sync.Mutex
	// failures are each account's recent failure times, oldest first.
	failures map[string][]time.Time
	// attempts are each address's count in its current window.
	attempts map[string]addrWindow
}

type addrWindow struct {
	start time.Time
	n     int
}

func newLoginLimiter() *loginLimiter {
	return &loginLimiter{failures: map[string][]time.Time{}, attempts: map[string]addrWindow{}}
}

// allow counts an attempt from addr for account at now, and returns how
// long to wait if either limit is reached (zero if it may go on).
func (l *loginLimiter) allow(account, addr string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	if f := l.recentFailures(account, now); len(f) >= LoginFailuresPerAccount {
		wait = f[0].Add(LoginFailureWindow).Sub(now)
	}
	if addr != "" {
		w := l.attempts[addr]
		if now.Sub(w.start) >= LoginAddrWindow || now.Before(w.start) {
			w = addrWindow{start: now}
		}
		if w.n >= LoginAttemptsPerAddr {
			wait = max(wait, w.start.Add(LoginAddrWindow).Sub(now))
		} else {
			w.n++
		}
		if _, ok := l.attempts[addr]; !ok && len(l.attempts) >= maxTracked {
			l.sweep(now)
		}
		l.attempts[addr] = w
	}
	if wait > 0 && wait < time.Second {
		wait = time.Second
	}
	return wait
}

// fail records a failed sign-in of account at now.
func (l *loginLimiter) fail(account string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.recentFailures(account, now)
	if len(f) >= LoginFailuresPerAccount {
		f = f[len(f)-LoginFailuresPerAccount+1:]
	}
	if _, ok := l.failures[account]; !ok && len(l.failures) >= maxTracked {
		l.sweep(now)
	}
	l.failures[account] = append(f, now)
}

// succeed clears account's failures.
func (l *loginLimiter) succeed(account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, account)
}

// recentFailures drops account's failures older than the window.
func (l *loginLimiter) recentFailures(account string, now time.Time) []time.Time {
	f := l.failures[account]
	i := 0
	for i < len(f) && now.Sub(f[i]) >= LoginFailureWindow {
		i++
	}
	f = f[i:]
	if len(f) == 0 {
		delete(l.failures, account)
	} else {
		l.failures[account] = f
	}
	return f
}

// sweep forgets what no longer counts and, if the maps are still full,
// arbitrary entries down to 15/16 of maxTracked, so that a spray of new
// keys sweeps once per maxTracked/16 of them rather than at each.
func (l *loginLimiter) sweep(now time.Time) {
	for k, f := range l.failures {
		if len(f) == 0 || now.Sub(f[len(f)-1]) >= LoginFailureWindow {
			delete(l.failures, k)
		}
	}
	for k, w := range l.attempts {
		if now.Sub(w.start) >= LoginAddrWindow {
			delete(l.attempts, k)
		}
	}
	const keep = maxTracked - maxTracked/16
	for k := range l.failures {
		if len(l.failures) <= keep {
			break
		}
		delete(l.failures, k)
	}
	for k := range l.attempts {
		if len(l.attempts) <= keep {
			break
		}
		delete(l.attempts, k)
	}
}

// accountKey is the key of an account's failures.
func accountKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// addrKey is the key of a client address's attempts: the IP without its
// port, an IPv6 address as its /64. An address that does not parse is
// its own key; an empty one is not limited (a caller in the process).
func addrKey(addr string) string {
	if addr == "" {
		return ""
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		ap, perr := netip.ParseAddrPort(addr)
		if perr != nil {
			return addr
		}
		ip = ap.Addr()
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
