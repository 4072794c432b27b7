package mockphp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Faults is the misbehaviour the server shows. Every decision is a pure
// function of Config.Seed, the kind of fault and a counter (the request
// number, the event number), so a sequential client sees the same faults
// on every run. Rates are probabilities in [0, 1]; the zero value
// misbehaves in no way. Change faults at run time with SetFaults or the
// admin endpoint PUT /admin/faults.
type Faults struct {
	// Latency delays requests by route before anything else happens. Keys
	// are an interaction ("read", "vread", "search", "create", "update",
	// "delete", "history"), optionally with ":Type" ("search:DocumentReference"),
	// or "token", "metadata", "smart-configuration", or "*" for every route.
	// The most specific key wins.
	Latency map[string]time.Duration `json:"latency,omitempty"`
	// ErrorRate answers a request with 500, 502 or 503 and an
	// OperationOutcome, without doing it.
	ErrorRate float64 `json:"error_rate,omitempty"`
	// RateLimitRate answers 429 with a Retry-After of RetryAfter.
	RateLimitRate float64 `json:"rate_limit_rate,omitempty"`
	// RetryAfter is the delay the 429 asks for, rounded up to whole seconds
	// (zero means one second).
	RetryAfter time.Duration `json:"retry_after,omitempty"`
	// TimeoutRate holds a request without answering for Hang (or until the
	// client gives up or the server closes), then answers 504.
	TimeoutRate float64 `json:"timeout_rate,omitempty"`
	// Hang is how long a timed-out request is held (zero means 30s).
	Hang time.Duration `json:"hang,omitempty"`
	// CutRate sends a response's status, headers and half its body, then
	// breaks the connection, as a proxy that dies mid-transfer does.
	CutRate float64 `json:"cut_rate,omitempty"`

	// LastUpdatedSkew is added to the meta.lastUpdated of every write: a
	// server clock that runs early or late.
	LastUpdatedSkew time.Duration `json:"last_updated_skew,omitempty"`
	// LateCommitRate makes a write carry a meta.lastUpdated LateCommitBy in
	// the past, so it can appear behind a timestamp already served: the
	// shape of a transaction that committed late.
	LateCommitRate float64 `json:"late_commit_rate,omitempty"`
	// LateCommitBy is how far back a late commit is stamped (zero means 5s).
	LateCommitBy time.Duration `json:"late_commit_by,omitempty"`

	// DropRate loses a notification: it is never sent, but it still counts
	// in the Subscriptions Backport's events-since-subscription-start.
	DropRate float64 `json:"drop_rate,omitempty"`
	// DuplicateRate sends a notification twice, with the same webhook id.
	DuplicateRate float64 `json:"duplicate_rate,omitempty"`
	// ReorderRate sends a notification after the one that follows it.
	ReorderRate float64 `json:"reorder_rate,omitempty"`
	// DelayRate holds a notification for Delay before sending it.
	DelayRate float64 `json:"delay_rate,omitempty"`
	// Delay is how long a delayed notification waits (zero means 1s).
	Delay time.Duration `json:"delay,omitempty"`
}

func (f Faults) validate() error {
	rates := map[string]float64{
		"error_rate": f.ErrorRate, "rate_limit_rate": f.RateLimitRate, "timeout_rate": f.TimeoutRate,
		"cut_rate": f.CutRate, "late_commit_rate": f.LateCommitRate, "drop_rate": f.DropRate,
		"duplicate_rate": f.DuplicateRate, "reorder_rate": f.ReorderRate, "delay_rate": f.DelayRate,
	}
	for k, v := range rates {
		if v < 0 || v > 1 || math.IsNaN(v) {
			return fmt.Errorf("fault %s %v is not a probability", k, v)
		}
	}
	for k, v := range f.Latency {
		if v < 0 {
			return fmt.Errorf("latency %s is negative", k)
		}
	}
	return nil
}

// faultsJSON is Faults with durations as Go duration strings ("250ms").
type faultsJSON struct {
	Latency         map[string]string `json:"latency,omitempty"`
	ErrorRate       float64           `json:"error_rate,omitempty"`
	RateLimitRate   float64           `json:"rate_limit_rate,omitempty"`
	RetryAfter      string            `json:"retry_after,omitempty"`
	TimeoutRate     float64           `json:"timeout_rate,omitempty"`
	Hang            string            `json:"hang,omitempty"`
	CutRate         float64           `json:"cut_rate,omitempty"`
	LastUpdatedSkew string            `json:"last_updated_skew,omitempty"`
	LateCommitRate  float64           `json:"late_commit_rate,omitempty"`
	LateCommitBy    string            `json:"late_commit_by,omitempty"`
	DropRate        float64           `json:"drop_rate,omitempty"`
	DuplicateRate   float64           `json:"duplicate_rate,omitempty"`
	ReorderRate     float64           `json:"reorder_rate,omitempty"`
	DelayRate       float64           `json:"delay_rate,omitempty"`
	Delay           string            `json:"delay,omitempty"`
}

func durString(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// MarshalJSON writes durations as strings such as "250ms".
func (f Faults) MarshalJSON() ([]byte, error) {
	j := faultsJSON{
		ErrorRate: f.ErrorRate, RateLimitRate: f.RateLimitRate, RetryAfter: durString(f.RetryAfter),
		TimeoutRate: f.TimeoutRate, Hang: durString(f.Hang), CutRate: f.CutRate,
		LastUpdatedSkew: durString(f.LastUpdatedSkew), LateCommitRate: f.LateCommitRate,
		LateCommitBy: durString(f.LateCommitBy), DropRate: f.DropRate, DuplicateRate: f.DuplicateRate,
		ReorderRate: f.ReorderRate, DelayRate: f.DelayRate, Delay: durString(f.Delay),
	}
	if len(f.Latency) > 0 {
		j.Latency = map[string]string{}
		for k, v := range f.Latency {
			j.Latency[k] = v.String()
		}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (f *Faults) UnmarshalJSON(b []byte) error {
	var j faultsJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("faults: %w", err)
	}
	var err error
	parse := func(s string) time.Duration {
		if s == "" || err != nil {
			return 0
		}
		var d time.Duration
		d, err = time.ParseDuration(s)
		return d
	}
	out := Faults{
		ErrorRate: j.ErrorRate, RateLimitRate: j.RateLimitRate, RetryAfter: parse(j.RetryAfter),
		TimeoutRate: j.TimeoutRate, Hang: parse(j.Hang), CutRate: j.CutRate,
		LastUpdatedSkew: parse(j.LastUpdatedSkew), LateCommitRate: j.LateCommitRate,
		LateCommitBy: parse(j.LateCommitBy), DropRate: j.DropRate, DuplicateRate: j.DuplicateRate,
		ReorderRate: j.ReorderRate, DelayRate: j.DelayRate, Delay: parse(j.Delay),
	}
	if len(j.Latency) > 0 {
		out.Latency = map[string]time.Duration{}
		for k, v := range j.Latency {
			out.Latency[k] = parse(v)
		}
	}
	if err != nil {
		return fmt.Errorf("faults: %w", err)
	}
	*f = out
	return nil
}

// SetFaults replaces the current faults; requests and notifications from
// now on follow them.
func (s *Server) SetFaults(f Faults) error {
	if err := f.validate(); err != nil {
		return fmt.Errorf("mockphp: %w", err)
	}
	if f.Latency != nil {
		m := make(map[string]time.Duration, len(f.Latency))
		for k, v := range f.Latency {
			m[k] = v
		}
		f.Latency = m
	}
	s.faults.Store(&f)
	s.log.Info("faults changed")
	return nil
}

// Faults returns the faults in force.
func (s *Server) Faults() Faults { return *s.faults.Load() }

// roll returns a number in [0, 1) fixed by the seed, the kind of decision
// and n.
func (s *Server) roll(kind string, n uint64) float64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(kind))
	x := h.Sum64() ^ uint64(s.cfg.Seed)*0x9e3779b97f4a7c15 ^ n*0xbf58476d1ce4e5b9
	// splitmix64 finaliser
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}

func latencyFor(m map[string]time.Duration, route string) time.Duration {
	if d, ok := m[route]; ok {
		return d
	}
	if i := strings.IndexByte(route, ':'); i >= 0 {
		if d, ok := m[route[:i]]; ok {
			return d
		}
	}
	return m["*"]
}

// withFaults runs h for route after applying the faults in force.
func (s *Server) withFaults(w http.ResponseWriter, r *http.Request, route string, h http.HandlerFunc) {
	f := s.faults.Load()
	n := s.reqs.Add(1)
	if d := latencyFor(f.Latency, route); d > 0 {
		if !s.sleep(r, d) {
			return
		}
	}
	switch {
	case f.TimeoutRate > 0 && s.roll("timeout", n) < f.TimeoutRate:
		hang := f.Hang
		if hang == 0 {
			hang = 30 * time.Second
		}
		s.log.Info("fault: holding request", "route", route, "request", n)
		if s.sleep(r, hang) {
			writeOutcome(w, http.StatusGatewayTimeout, "timeout", "injected fault: timeout")
		}
		return
	case f.RateLimitRate > 0 && s.roll("429", n) < f.RateLimitRate:
		ra := f.RetryAfter
		if ra <= 0 {
			ra = time.Second
		}
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(ra.Seconds()))))
		writeOutcome(w, http.StatusTooManyRequests, "throttled", "injected fault: rate limited")
		return
	case f.ErrorRate > 0 && s.roll("5xx", n) < f.ErrorRate:
		codes := []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}
		status := codes[int(s.roll("5xx-code", n)*3)]
		writeOutcome(w, status, "transient", "injected fault: server error")
		return
	case f.CutRate > 0 && s.roll("cut", n) < f.CutRate:
		rec := &bufferedWriter{header: http.Header{}, status: http.StatusOK}
		h(rec, r)
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		body := rec.body.Bytes()
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.status)
		_, _ = w.Write(body[:len(body)/2])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		s.log.Info("fault: cutting response", "route", route, "request", n)
		panic(http.ErrAbortHandler)
	}
	h(w, r)
}

// sleep waits d, or less if the client goes away or the server closes; it
// reports whether the full time passed.
func (s *Server) sleep(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.done:
		return false
	}
}

// bufferedWriter collects a response so a fault can cut it.
type bufferedWriter struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }
func (b *bufferedWriter) WriteHeader(code int) {
	if !b.wrote {
		b.status, b.wrote = code, true
	}
}
func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.wrote = true
	return b.body.Write(p)
}
