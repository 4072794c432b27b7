package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"net/http"

	"github.com/healthcare-records/healthcare-records/connector"
)

// The notification types of the Subscriptions Backport.
const (
	notifyHandshake = "handshake"
	notifyHeartbeat = "heartbeat"
	notifyEvent     = "event-notification"
)

// authenticate compares the configured header with each secret in
// constant time (hashing both sides first, so neither length leaks).
func (r *Receiver) authenticate(h http.Header) error {
	got := h.Values(r.cfg.Header)
	if len(got) != 1 || got[0] == "" {
		return fmt.Errorf("%w: one %s header is required", ErrUnauthenticated, r.cfg.Header)
	}
	sum := sha256.Sum256([]byte(got[0]))
	ok := false
	for _, s := range r.cfg.Secrets {
		want := sha256.Sum256([]byte(s))
		if hmac.Equal(sum[:], want[:]) {
			ok = true
		}
	}
	if !ok {
		return fmt.Errorf("%w: %s does not match", ErrUnauthenticated, r.cfg.Header)
	}
	return nil
}

// fhirFormat authenticates notifications by their header alone, before the
// body is read, and normalizes them.
func (r *Receiver) fhirFormat() wireFormat {
	return wireFormat{
		headers: func(req *http.Request) error { return r.authenticate(req.Header) },
		decode:  r.decodeFHIR,
	}
}

// decodeFHIR normalizes one authenticated notification, using the
// subscription's tracked state to turn gaps and silences into reconciles.
func (r *Receiver) decodeFHIR(_ *http.Request, body []byte) (decoded, error) {
	var d decoded
	n, err := parseNotification(body)
	if err != nil {
		return d, wrapProblem(http.StatusBadRequest, outcomeMalformed, "the body is not a subscription notification", err)
	}
	now := r.cfg.Now()
	sub := n.Subscription
	d.id = n.eventID()
	lo, hi, counted := n.eventRange()

	switch n.Type {
	case notifyHandshake:
		d.outcome = outcomeHandshake
		d.commit = func() { r.subs.reset(sub, n.EventsSinceStart, n.stamp(), now) }
		return d, nil
	case notifyHeartbeat, notifyEvent:
	default:
		d.outcome = outcomeIgnored
		return d, nil
	}

	st := r.subs.check(sub, lo, counted, now, r.cfg.HeartbeatPeriod)
	// A subscription in error may have dropped events, as a gap shows.
	reconcile := st.gap || st.silent || n.Status == "error"
	d.commit = func() { r.subs.seen(sub, hi, counted, now) }

	if n.Type == notifyHeartbeat {
		if !reconcile {
			d.outcome = outcomeHeartbeat
			return d, nil
		}
		// A heartbeat names no event, so the handshake this process saw
		// names the numbering: a gap or an error at the same count after
		// a new handshake is not taken for this one, while the same
		// finding in the next heartbeat is.
		d.id = withStamp(fmt.Sprintf("%s#%s@%d", sub, st.reason(n.Status), max(hi, 0)), st.numbering)
		if st.silent && !st.gap && n.Status != "error" {
			d.id = silenceID(sub, st.heard)
		}
		d.event = &connector.Event{ID: d.id, Reconcile: true}
		return d, nil
	}

	changes, complete := n.changes(r.cfg.Source)
	d.event = &connector.Event{ID: d.id, Changes: changes, Reconcile: reconcile || !complete}
	return d, nil
}
