package webhook

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
)

// subscriptions tracks, per FHIR subscription, the highest event number
// seen and when the subscription was last heard from.
//
// The state is in memory: after a restart the first notification of each
// subscription sets its baseline again, so events lost while the process was
// down are not seen as a gap here. The periodic reconciliation (a poll of
// the Source with a cursor) repairs those; a persistent tracker in the store
// would close the window.
type subscriptions struct {
	mu sync.Mutex
	m  map[string]*subState
}

type subState struct {
	// last is the highest event number committed; known says whether
	// there is one yet.
	last  int64
	known bool
	// heard is when the subscription last delivered something that was
	// committed.
	heard time.Time
	// reported is true once the silence since heard was turned into a
	// reconcile, so that it is reported once.
	reported bool
	// numbering names the count since the last handshake this process
	// saw (its stamp), empty before one.
	numbering string
}

func newSubscriptions() *subscriptions {
	return &subscriptions{m: make(map[string]*subState)}
}

func (s *subscriptions) state(sub string) *subState {
	st := s.m[sub]
	if st == nil {
		st = &subState{}
		s.m[sub] = st
	}
	return st
}

// status is what check found about an incoming notification.
type status struct {
	gap, silent bool
	heard       time.Time
	// numbering is the subscription's current numbering, as subState.
	numbering string
}

func (st status) reason(subStatus string) string {
	if st.gap {
		return "gap"
	}
	return subStatus
}

// check compares a notification whose lowest event number is lo (when
// counted) with what was seen: a gap is an event number beyond the next one
// expected; silence is a subscription not heard from for more than two
// heartbeat periods that was not reported yet.
func (s *subscriptions) check(sub string, lo int64, counted bool, now time.Time, period time.Duration) status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.m[sub]
	if !ok {
		return status{}
	}
	out := status{numbering: st.numbering}
	out.gap = counted && st.known && lo > st.last+1
	if period > 0 && !st.heard.IsZero() && !st.reported && now.Sub(st.heard) > 2*period {
		out.silent = true
		out.heard = st.heard
	}
	return out
}

// seen commits a notification: hi is the highest event number it carried
// (or its events-since-subscription-start).
func (s *subscriptions) seen(sub string, hi int64, counted bool, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.state(sub)
	if counted && (!st.known || hi > st.last) {
		st.last, st.known = hi, true
	}
	if now.After(st.heard) {
		st.heard, st.reported = now, false
	}
}

// reset starts a subscription's count again, as a handshake does; numbering
// names the new count.
func (s *subscriptions) reset(sub string, since int64, numbering string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.state(sub)
	st.last, st.known = max(since, 0), since >= 0
	st.numbering = numbering
	st.heard, st.reported = now, false
}

// silent lists the subscriptions not heard from for more than two periods
// and not reported yet, with when each was last heard, sorted.
func (s *subscriptions) silent(now time.Time, period time.Duration) []silence {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []silence
	for sub, st := range s.m {
		if !st.heard.IsZero() && !st.reported && now.Sub(st.heard) > 2*period {
			out = append(out, silence{sub: sub, heard: st.heard})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].sub < out[j].sub })
	return out
}

type silence struct {
	sub   string
	heard time.Time
}

// markReported records that the silence since heard was reported, unless
// the subscription was heard from again meanwhile.
func (s *subscriptions) markReported(sub string, heard time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.m[sub]; st != nil && st.heard.Equal(heard) {
		st.reported = true
	}
}

// silenceID is the event id of the reconcile a silence triggers: the same
// whether a late notification or CheckHeartbeats finds it first.
func silenceID(sub string, heard time.Time) string {
	return fmt.Sprintf("%s#silent-since@%d", sub, heard.UnixNano())
}

// CheckHeartbeats ingests a reconcile of the source for each FHIR
// subscription that has missed a heartbeat: one not heard from for more
// than twice Config.HeartbeatPeriod since its last notification. Each
// silence is reported once. It does nothing for other formats or without a
// HeartbeatPeriod. Errors of several subscriptions are joined; a failed one
// is tried again on the next call.
func (r *Receiver) CheckHeartbeats(ctx context.Context) error {
	if r.subs == nil || r.cfg.HeartbeatPeriod <= 0 {
		return nil
	}
	var errs []error
	for _, s := range r.subs.silent(r.cfg.Now(), r.cfg.HeartbeatPeriod) {
		ev := connector.Event{ID: silenceID(s.sub, s.heard), Source: r.cfg.Source, Action: connector.ActionWebhook, Reconcile: true}
		res, err := r.ing.Ingest(ctx, ev)
		if err != nil {
			r.log.ErrorContext(ctx, "missed heartbeat not ingested", "event", clip(ev.ID, maxLoggedID), "subscription", clip(s.sub, maxLoggedID), "err", clip(err.Error(), maxLoggedErr))
			errs = append(errs, fmt.Errorf("subscription %s: %w", s.sub, err))
			continue
		}
		r.subs.markReported(s.sub, s.heard)
		r.metrics.observeMissedHeartbeat(r.cfg.Source)
		r.log.WarnContext(ctx, "missed heartbeat: reconcile enqueued", "event", clip(ev.ID, maxLoggedID), "subscription", clip(s.sub, maxLoggedID), "last_heard", s.heard, "duplicate", res.Duplicate)
	}
	return errors.Join(errs...)
}

// Run calls CheckHeartbeats every half HeartbeatPeriod until ctx is done,
// then returns nil. Without a HeartbeatPeriod, or for a format other than
// FormatFHIRSubscription, it returns nil at once. Errors are logged and
// retried on the next tick.
func (r *Receiver) Run(ctx context.Context) error {
	if r.subs == nil || r.cfg.HeartbeatPeriod <= 0 {
		return nil
	}
	t := time.NewTicker(max(r.cfg.HeartbeatPeriod/2, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			_ = r.CheckHeartbeats(ctx) // logged inside; retried next tick
		}
	}
}
