package connector

import (
	"sync"
	"time"
)

// Phase is where a sync run stands.
type Phase string

// The phases of a sync run.
const (
	PhaseListing  Phase = "listing"
	PhaseFetching Phase = "fetching"
	PhaseDone     Phase = "done"
)

// Progress is a snapshot of one sync run for one patient: what a progress
// bar shows. Done counts listed documents that were pulled or found
// unchanged; Errors counts those that failed for good. DeliveryErrors
// counts the deliveries of what the run pulled that failed for good: they
// run after the pulls, on each sink's queue, so they may arrive after the
// run is done.
type Progress struct {
	Run            string    `json:"run"`
	PatientID      int64     `json:"patient_id"`
	Phase          Phase     `json:"phase"`
	Done           int       `json:"done"`
	Total          int       `json:"total"`
	Errors         int       `json:"errors"`
	DeliveryErrors int       `json:"delivery_errors"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Finished reports whether every listed document is accounted for.
func (p Progress) Finished() bool {
	return p.Phase != PhaseListing && p.Done+p.Errors >= p.Total
}

// ProgressBus carries progress snapshots from the engine to subscribers.
// Publish must not block. Subscribe returns a channel of snapshots for one
// local patient id (0 for all) and a function that ends the subscription
// and closes the channel.
type ProgressBus interface {
	Publish(p Progress)
	Subscribe(patientID int64) (<-chan Progress, func())
}

// Hub is the in-process ProgressBus: it fans progress out to subscribers
// without ever blocking the engine. A subscriber that falls more than hubBuffer snapshots behind loses the
// oldest ones, never the latest. The zero Hub is ready to use.
type Hub struct {
	mu   sync.Mutex
	subs map[*subscription]struct{}
}

const hubBuffer = 64

type subscription struct {
	patientID int64
	ch        chan Progress
}

// Subscribe returns a channel of progress for one local patient id (0 for
// all patients) and a function that ends the subscription and closes the
// channel.
func (h *Hub) Subscribe(patientID int64) (<-chan Progress, func()) {
	s := &subscription{patientID: patientID, ch: make(chan Progress, hubBuffer)}
	h.mu.Lock()
	if h.subs == nil {
		h.subs = make(map[*subscription]struct{})
	}
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs, s)
			h.mu.Unlock()
			close(s.ch)
		})
	}
}

// Publish delivers p to the subscribers of its patient without blocking.
func (h *Hub) Publish(p Progress) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if s.patientID != 0 && s.patientID != p.PatientID {
			continue
		}
		select {
		case s.ch <- p:
		default:
			// Make room by dropping the oldest snapshot.
			select {
			case <-s.ch:
			default:
			}
			s.ch <- p
		}
	}
}
