package mockphp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// reorderWindow is how long a notification picked to be reordered waits
// for a later one to overtake it.
const reorderWindow = 250 * time.Millisecond

type deliveryKind int

const (
	kindEvent deliveryKind = iota
	kindHandshake
	kindHeartbeat
)

// delivery is one notification queued for one endpoint.
type delivery struct {
	kind        deliveryKind
	change      Change
	eventNumber uint64 // Backport: this event's number for the subscription
	msgID       string // Standard Webhooks webhook-id, stable across retries
	reorder     bool
	duplicate   bool
	delay       time.Duration
}

// endpointState is an endpoint with its queue and counters.
type endpointState struct {
	ep   Endpoint
	n    uint64 // endpoint number, mixed into fault decisions
	wake chan struct{}
	stop chan struct{}

	mu     sync.Mutex
	queue  []*delivery
	events uint64 // events-since-subscription-start

	delivered atomic.Uint64
	failed    atomic.Uint64
}

func (st *endpointState) push(d *delivery) {
	st.mu.Lock()
	st.queue = append(st.queue, d)
	st.mu.Unlock()
	select {
	case st.wake <- struct{}{}:
	default:
	}
}

// emitter fans committed changes out to the endpoints, one worker
// goroutine per endpoint sending in commit order.
type emitter struct {
	s        *Server
	instance string // distinguishes this process's webhook ids from a restart's

	mu      sync.Mutex
	eps     map[string]*endpointState
	order   []string
	nextN   uint64
	seq     uint64
	log     []Change // every change, without bodies
	pending atomic.Int64
	ctx     context.Context
	wg      *sync.WaitGroup
}

func newEmitter(s *Server) *emitter {
	return &emitter{s: s, instance: newUUID()[:8], eps: map[string]*endpointState{}}
}

func (e *emitter) start(ctx context.Context, wg *sync.WaitGroup) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ctx, e.wg = ctx, wg
	for _, id := range e.order {
		e.run(e.eps[id])
	}
}

// run starts st's worker; e.mu is held.
func (e *emitter) run(st *endpointState) {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.work(e.ctx, st)
	}()
}

func (e *emitter) add(ep Endpoint) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if old := e.eps[ep.ID]; old != nil {
		e.dropLocked(ep.ID)
	}
	e.nextN++
	st := &endpointState{ep: ep, n: e.nextN, wake: make(chan struct{}, 1), stop: make(chan struct{})}
	e.eps[ep.ID] = st
	e.order = append(e.order, ep.ID)
	if ep.Format == FormatFHIRSubscription {
		e.pending.Add(1)
		st.push(&delivery{kind: kindHandshake})
	}
	if e.ctx != nil {
		e.run(st)
	}
}

func (e *emitter) remove(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.eps[id] == nil {
		return false
	}
	e.dropLocked(id)
	return true
}

func (e *emitter) dropLocked(id string) {
	st := e.eps[id]
	close(st.stop)
	st.mu.Lock()
	e.pending.Add(-int64(len(st.queue)))
	st.queue = nil
	st.mu.Unlock()
	delete(e.eps, id)
	for i, v := range e.order {
		if v == id {
			e.order = append(e.order[:i], e.order[i+1:]...)
			break
		}
	}
}

func (e *emitter) list() []Endpoint {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Endpoint, 0, len(e.order))
	for _, id := range e.order {
		out = append(out, e.eps[id].ep)
	}
	return out
}

// publish queues c for every endpoint that wants it, deciding its faults
// now so the decisions depend only on the seed and the change's number.
// The store lock is held, so changes are queued in commit order.
func (e *emitter) publish(c Change) Change {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seq++
	c.Seq = e.seq
	logged := c
	logged.body = nil
	e.log = append(e.log, logged)
	f := e.s.faults.Load()
	for _, id := range e.order {
		st := e.eps[id]
		if !st.ep.wants(c.ResourceType) {
			continue
		}
		st.mu.Lock()
		st.events++
		num := st.events
		st.mu.Unlock()
		key := c.Seq<<16 | st.n
		if f.DropRate > 0 && e.s.roll("drop", key) < f.DropRate {
			e.s.log.Info("fault: dropping notification", "endpoint", id, "seq", c.Seq, "ref", c.Ref())
			continue
		}
		d := &delivery{
			kind: kindEvent, change: c, eventNumber: num,
			msgID:     fmt.Sprintf("msg_%s_%d", e.instance, c.Seq),
			duplicate: f.DuplicateRate > 0 && e.s.roll("duplicate", key) < f.DuplicateRate,
			reorder:   f.ReorderRate > 0 && e.s.roll("reorder", key) < f.ReorderRate,
		}
		if f.DelayRate > 0 && e.s.roll("delay", key) < f.DelayRate {
			d.delay = f.Delay
			if d.delay == 0 {
				d.delay = time.Second
			}
		}
		e.pending.Add(1)
		st.push(d)
	}
	return c
}

// next takes the delivery to send, honouring a reorder mark by letting
// the following delivery go first.
func (st *endpointState) next(ctx context.Context, heartbeat <-chan time.Time) (*delivery, bool) {
	for {
		st.mu.Lock()
		if len(st.queue) > 0 {
			d := st.queue[0]
			if d.reorder && len(st.queue) == 1 {
				st.mu.Unlock()
				select {
				case <-st.wake:
				case <-time.After(reorderWindow):
					st.mu.Lock()
					if len(st.queue) > 0 && st.queue[0] == d {
						d.reorder = false
					}
					st.mu.Unlock()
				case <-ctx.Done():
					return nil, false
				case <-st.stop:
					return nil, false
				}
				continue
			}
			if d.reorder {
				d.reorder = false
				st.queue[0], st.queue[1] = st.queue[1], st.queue[0]
				d = st.queue[0]
			}
			st.queue = st.queue[1:]
			st.mu.Unlock()
			return d, true
		}
		st.mu.Unlock()
		select {
		case <-st.wake:
		case <-heartbeat:
			return &delivery{kind: kindHeartbeat}, true
		case <-ctx.Done():
			return nil, false
		case <-st.stop:
			return nil, false
		}
	}
}

func (e *emitter) work(ctx context.Context, st *endpointState) {
	var heartbeat <-chan time.Time
	if st.ep.Format == FormatFHIRSubscription && st.ep.HeartbeatPeriod > 0 {
		t := time.NewTicker(st.ep.HeartbeatPeriod)
		defer t.Stop()
		heartbeat = t.C
	}
	for {
		d, ok := st.next(ctx, heartbeat)
		if !ok {
			return
		}
		if d.delay > 0 {
			e.s.log.Info("fault: delaying notification", "endpoint", st.ep.ID, "seq", d.change.Seq)
			select {
			case <-time.After(d.delay):
			case <-ctx.Done():
				return
			case <-st.stop:
				return
			}
		}
		e.deliver(ctx, st, d)
		if d.duplicate {
			e.s.log.Info("fault: duplicating notification", "endpoint", st.ep.ID, "seq", d.change.Seq)
			e.deliver(ctx, st, d)
		}
		if d.kind != kindHeartbeat {
			e.pending.Add(-1)
		}
	}
}

// deliver POSTs d, retrying non-2xx answers with exponential backoff (or
// the receiver's Retry-After) up to MaxAttempts.
func (e *emitter) deliver(ctx context.Context, st *endpointState, d *delivery) {
	cfg := e.s.cfg.Webhooks
	wait := cfg.InitialBackoff
	for attempt := 1; attempt <= cfg.MaxAttempts; attempt++ {
		status, retryAfter, err := e.attempt(ctx, st, d)
		if err == nil && status/100 == 2 {
			st.delivered.Add(1)
			return
		}
		if ctx.Err() != nil {
			return
		}
		e.s.log.Info("notification failed", "endpoint", st.ep.ID, "seq", d.change.Seq,
			"attempt", attempt, "status", status, "error", err)
		if attempt == cfg.MaxAttempts {
			break
		}
		pause := wait
		if retryAfter > 0 {
			pause = retryAfter
		}
		pause = min(pause, cfg.MaxBackoff)
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return
		case <-st.stop:
			return
		}
		wait = min(wait*2, cfg.MaxBackoff)
	}
	st.failed.Add(1)
	e.s.log.Warn("notification given up", "endpoint", st.ep.ID, "seq", d.change.Seq)
}

func (e *emitter) attempt(ctx context.Context, st *endpointState, d *delivery) (int, time.Duration, error) {
	body, header, err := e.render(st, d)
	if err != nil {
		return 0, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, e.s.cfg.Webhooks.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, st.ep.URL, bytes.NewReader(body))
	if err != nil {
		return 0, 0, fmt.Errorf("build request: %w", err)
	}
	req.Header = header
	resp, err := e.s.cfg.Webhooks.Client.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("post: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	var ra time.Duration
	if v := resp.Header.Get("Retry-After"); v != "" {
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 && !math.IsInf(secs, 0) {
			ra = time.Duration(secs * float64(time.Second))
		} else if t, err := http.ParseTime(v); err == nil {
			ra = time.Until(t)
		}
	}
	return resp.StatusCode, ra, nil
}

// WaitIdle blocks until every queued notification has been sent or given
// up, or ctx ends. It is for tests and demos that want to observe the
// effect of a change.
func (s *Server) WaitIdle(ctx context.Context) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for s.em.pending.Load() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("mockphp: wait idle: %w", ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// EndpointStats counts what one endpoint was sent.
type EndpointStats struct {
	// Delivered counts notifications a receiver answered 2xx, duplicates
	// and heartbeats included.
	Delivered uint64 `json:"delivered"`
	// Failed counts notifications given up after MaxAttempts.
	Failed uint64 `json:"failed"`
	// Events is the Backport events-since-subscription-start: every event
	// meant for the endpoint, dropped ones included.
	Events uint64 `json:"events"`
}

// Stats reports on endpoint id.
func (s *Server) Stats(id string) (EndpointStats, bool) {
	s.em.mu.Lock()
	st := s.em.eps[id]
	s.em.mu.Unlock()
	if st == nil {
		return EndpointStats{}, false
	}
	st.mu.Lock()
	events := st.events
	st.mu.Unlock()
	return EndpointStats{Delivered: st.delivered.Load(), Failed: st.failed.Load(), Events: events}, true
}

// since returns the logged changes numbered after seq.
func (e *emitter) since(seq uint64) []Change {
	e.mu.Lock()
	defer e.mu.Unlock()
	if seq >= uint64(len(e.log)) {
		return nil
	}
	return append([]Change(nil), e.log[seq:]...)
}
