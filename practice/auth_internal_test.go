package practice

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

var testNow = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// forgetUser drops every cached session and OIDC user of the user and
// nothing else, so that user management's changes take effect in its
// process at once.
func TestForgetUser(t *testing.T) {
	svc := &Service{auth: &authState{sessions: sessionCache{bySID: map[string]cachedSession{}}}}
	c := &svc.auth.sessions
	c.bySID["a1"] = cachedSession{session: Session{ID: "a1", UserID: 1}, user: User{ID: 1}, at: testNow}
	c.bySID["a2"] = cachedSession{session: Session{ID: "a2", UserID: 1}, missing: true, at: testNow}
	c.bySID["b1"] = cachedSession{session: Session{ID: "b1", UserID: 2}, user: User{ID: 2}, at: testNow}
	c.byEmail = map[string]cachedUser{"a@example.org": {user: User{ID: 1}, at: testNow},
		"b@example.org": {user: User{ID: 2}, at: testNow}}
	svc.forgetUser(1)
	assert.Equal(t, []string{"b1"}, slices.Collect(mapKeys(c.bySID)))
	assert.Equal(t, []string{"b@example.org"}, slices.Collect(mapKeys(c.byEmail)))
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// The limiter's memory stays bounded whatever is sprayed at it, and what
// is stale goes first.
func TestLimiterBounded(t *testing.T) {
	l := newLoginLimiter()
	for i := range maxTracked + 100 {
		n := strconv.Itoa(i)
		l.allow(n+"@example.org", addrKey("2001:db8:"+strconv.FormatInt(int64(i), 16)+"::1"), testNow)
		l.fail(n+"@example.org", testNow)
	}
	assert.LessOrEqual(t, len(l.failures), maxTracked)
	assert.LessOrEqual(t, len(l.attempts), maxTracked)

	l = newLoginLimiter()
	for i := range maxTracked {
		l.fail(strconv.Itoa(i)+"@example.org", testNow)
	}
	l.fail("new@example.org", testNow.Add(LoginFailureWindow))
	assert.Len(t, l.failures, 1)
}

func TestAddrKey(t *testing.T) {
	for in, want := range map[string]string{
		"":                          "",
		"192.0.2.1":                 "192.0.2.1",
		"192.0.2.1:443":             "192.0.2.1",
		"[::ffff:192.0.2.1]:443":    "192.0.2.1",
		"2001:db8:1:2:3:4:5:6":      "2001:db8:1:2::/64",
		"[2001:db8:1:2::9%eth0]:80": "2001:db8:1:2::/64",
		"unix socket":               "unix socket",
	} {
		assert.Equal(t, want, addrKey(in), in)
	}
}
