package carepatrontest

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/routers"
	"golang.org/x/time/rate"
)

// Config configures a fake Carepatron. The zero value is usable: it accepts
// the key DefaultAPIKey, has no rate limit and injects no fault.
type Config struct {
	// APIKeys are the keys the fake accepts in cp-api-key. Default
	// {DefaultAPIKey}.
	APIKeys []string
	// ProviderID is the one provider (workspace) the keys may access.
	// Default DefaultProviderID.
	ProviderID string
	// RateLimit caps the requests answered per second, as a token bucket of
	// Burst tokens; past it the fake answers 429 with Retry-After. Zero
	// means no limit. Burst defaults to 1.
	RateLimit float64
	Burst     int
	// MaxUploadBytes bounds a request body; past it the fake answers 413.
	// Default 10 MiB.
	MaxUploadBytes int64
	// Faults start as these; see Server.SetFaults.
	Faults Faults
	// ValidateResponses checks every response against the spec too, and
	// counts those that break it in Stats.InvalidResponses.
	ValidateResponses bool
	// Seed makes injected faults reproducible.
	Seed uint64
	// Logger receives request ids, operations and statuses. Default: a
	// logger that discards.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Defaults of Config.
const (
	DefaultAPIKey     = "cp-test-key"
	DefaultProviderID = "provider-1"
)

// Faults make the fake misbehave like a real service on a bad day. Rates
// are probabilities in [0, 1], drawn per request.
type Faults struct {
	// ErrorRate is the chance that a request fails with a 500 or a 503
	// before it does anything.
	ErrorRate float64
	// ThrottleRate is the chance that a request is refused with 429 before
	// it does anything.
	ThrottleRate float64
	// RetryAfter is the Retry-After of injected 429s and 503s, rounded up
	// to whole seconds (0 asks for none).
	RetryAfter time.Duration
	// LostResponseRate is the chance that a write that succeeded loses its
	// response: the write is applied, then the client gets a 502 or the
	// connection is closed.
	LostResponseRate float64
	// Latency delays every request.
	Latency time.Duration
}

// Server is a fake Carepatron: an http.Handler serving the routes of
// openapi/carepatron.yaml from memory. It is safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	router  routers.Router
	handler http.Handler
	limiter *rate.Limiter
	keys    [][]byte
	valid   *validator
	idem    idempotency

	fmu    sync.Mutex
	faults Faults
	rnd    *rand.Rand

	mu    sync.Mutex
	data  data
	stats Stats
}

// NewServer returns a fake Carepatron with an empty workspace.
func NewServer(cfg Config) *Server {
	if len(cfg.APIKeys) == 0 {
		cfg.APIKeys = []string{DefaultAPIKey}
	}
	if cfg.ProviderID == "" {
		cfg.ProviderID = DefaultProviderID
	}
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = 10 << 20
	}
	if cfg.Burst < 1 {
		cfg.Burst = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	limit := rate.Inf
	if cfg.RateLimit > 0 {
		limit = rate.Limit(cfg.RateLimit)
	}
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		limiter: rate.NewLimiter(limit, cfg.Burst),
		valid:   mustValidator(),
		faults:  cfg.Faults,
		rnd:     rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		data:    newData(),
		stats:   newStats(),
	}
	s.router = s.valid.router
	for _, k := range cfg.APIKeys {
		s.keys = append(s.keys, []byte(k))
	}
	s.handler = HandlerWithOptions(
		NewStrictHandlerWithOptions(&api{s: s}, nil, StrictHTTPServerOptions{
			RequestErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
				writeProblem(w, badRequest(err.Error()))
			},
			ResponseErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
				var p *problem
				if !errors.As(err, &p) {
					p = &problem{status: http.StatusInternalServerError, code: "internal", detail: err.Error()}
				}
				writeProblem(w, p)
			},
		}),
		StdHTTPServerOptions{ErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			writeProblem(w, badRequest(err.Error()))
		}},
	)
	return s
}

// SetFaults replaces the faults injected from now on.
func (s *Server) SetFaults(f Faults) {
	s.fmu.Lock()
	s.faults = f
	s.fmu.Unlock()
}

func (s *Server) currentFaults() Faults {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	return s.faults
}

// draw reports whether an event of probability p happens.
func (s *Server) draw(p float64) bool {
	if p <= 0 {
		return false
	}
	s.fmu.Lock()
	defer s.fmu.Unlock()
	return s.rnd.Float64() < p
}

// StatePath serves a JSON summary of the fake's contents and counters,
// outside the spec and without authentication, for demos.
const StatePath = "/_fake/state"

// ServeHTTP answers one request: it finds the operation, then applies in
// turn latency, authentication, the rate limit, injected refusals, request
// validation, idempotency and the operation itself, and may lose the
// response of a successful write.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == StatePath {
		s.serveState(w, r)
		return
	}
	route, params, err := s.router.FindRoute(r)
	op := "unknown"
	if err == nil {
		op = route.Operation.OperationID
	}
	s.count(func(st *Stats) { st.Requests++; st.Calls[op]++ })
	if err != nil {
		p := &problem{status: http.StatusNotFound, code: "not_found", detail: "no such route"}
		if errors.Is(err, routers.ErrMethodNotAllowed) {
			p = &problem{status: http.StatusMethodNotAllowed, code: "method_not_allowed", detail: "method not allowed"}
		}
		writeProblem(w, p)
		return
	}
	f := s.currentFaults()
	if f.Latency > 0 {
		sleep(r.Context(), f.Latency)
		if r.Context().Err() != nil {
			return
		}
	}
	if op != "ping" && !s.authorized(r.Header.Get("cp-api-key")) {
		writeProblem(w, &problem{status: http.StatusUnauthorized, code: "invalid_api_key",
			detail: "the cp-api-key header is missing or holds a key this workspace does not know"})
		return
	}
	if res := s.limiter.Reserve(); res.Delay() > 0 {
		delay := res.Delay()
		res.Cancel()
		s.count(func(st *Stats) { st.Throttled++ })
		writeProblem(w, tooMany(delay))
		return
	}
	switch {
	case s.draw(f.ThrottleRate):
		s.count(func(st *Stats) { st.Throttled++; st.Injected++ })
		writeProblem(w, tooMany(f.RetryAfter))
		return
	case s.draw(f.ErrorRate):
		s.count(func(st *Stats) { st.Injected++ })
		p := &problem{status: http.StatusInternalServerError, code: "internal", detail: "injected failure"}
		if s.draw(0.5) {
			p = &problem{status: http.StatusServiceUnavailable, code: "unavailable", detail: "injected outage", retryAfter: f.RetryAfter}
		}
		writeProblem(w, p)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxUploadBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeProblem(w, &problem{status: http.StatusRequestEntityTooLarge, code: "too_large",
				detail: fmt.Sprintf("the request is larger than the %d bytes Carepatron accepts", s.cfg.MaxUploadBytes)})
			return
		}
		writeProblem(w, badRequest("reading the body: "+err.Error()))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if p := s.valid.request(r, route, params); p != nil {
		s.count(func(st *Stats) {
			st.InvalidRequests++
			st.Invalid = append(st.Invalid, op+": "+p.detail)
		})
		s.log.Debug("invalid request", "op", op, "status", p.status)
		writeProblem(w, p)
		return
	}

	rec := newRecorder()
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.idempotent(rec, r, body, func(w http.ResponseWriter) {
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.handler.ServeHTTP(w, r)
	})
	if s.cfg.ValidateResponses {
		r.Body = io.NopCloser(bytes.NewReader(body))
		if msg := s.valid.response(r, route, params, rec); msg != "" {
			s.count(func(st *Stats) {
				st.InvalidResponses++
				st.Invalid = append(st.Invalid, op+" response: "+msg)
			})
		}
	}
	if r.Method != http.MethodGet && rec.status/100 == 2 && s.draw(f.LostResponseRate) {
		s.count(func(st *Stats) { st.LostResponses++ })
		s.log.Debug("losing response", "op", op, "status", rec.status)
		s.lose(w)
		return
	}
	rec.writeTo(w)
}

func (s *Server) authorized(key string) bool {
	ok := false
	for _, k := range s.keys {
		if subtle.ConstantTimeCompare([]byte(key), k) == 1 {
			ok = true
		}
	}
	return ok
}

// lose drops a response: half the time by closing the connection, else by
// answering 502 as a proxy whose upstream vanished would.
func (s *Server) lose(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok && s.draw(0.5) {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	writeProblem(w, &problem{status: http.StatusBadGateway, code: "bad_gateway", detail: "injected lost response"})
}

func tooMany(delay time.Duration) *problem {
	return &problem{status: http.StatusTooManyRequests, code: "rate_limited",
		detail: "too many requests; retry after the delay in Retry-After", retryAfter: delay}
}

// retryAfterSeconds renders a delay as Retry-After's whole seconds.
func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(int(math.Ceil(d.Seconds())))
}

// recorder keeps a response to inspect before sending it.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) writeTo(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	if r.status == 0 {
		r.status = http.StatusOK
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body.Bytes())
}

// count updates the counters under the lock.
func (s *Server) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
