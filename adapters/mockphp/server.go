package mockphp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server is the mock provider: an http.Handler serving the FHIR routes, the
// SMART token endpoint and the admin endpoints, plus the emitter that sends
// change notifications. Its methods are safe for concurrent use.
type Server struct {
	cfg Config
	log *slog.Logger

	mu        sync.RWMutex // guards st, rng, publicURL
	st        *store
	rng       *rand.Rand // randomness of changes made after generation
	publicURL string
	writes    uint64 // numbers writes for the late-commit fault
	personas  map[string]*persona

	faults atomic.Pointer[Faults]
	reqs   atomic.Uint64 // numbers requests for fault decisions

	auth  *authority
	em    *emitter
	tasks *taskQueue

	runMu   sync.Mutex
	started bool
	closed  bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	done    chan struct{} // closed by Close; ends hung requests
}

// New generates the data set described by cfg and returns a server ready
// to serve HTTP. Notifications and document requests wait for Start.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if cfg.Patients < 0 || cfg.DocsPerPatient < 0 {
		return nil, fmt.Errorf("mockphp: negative size %d patients, %d documents", cfg.Patients, cfg.DocsPerPatient)
	}
	if err := cfg.Faults.validate(); err != nil {
		return nil, fmt.Errorf("mockphp: %w", err)
	}
	auth, err := newAuthority(cfg.Clients)
	if err != nil {
		return nil, fmt.Errorf("mockphp: %w", err)
	}
	s := &Server{
		cfg:       cfg,
		log:       cfg.Logger.With("component", "mockphp"),
		st:        newStore(cfg.Seed, cfg.Server.UUIDVersions),
		rng:       rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6d6f636b706870)), //nolint:gosec // synthetic data, not secrets
		publicURL: strings.TrimSuffix(cfg.PublicURL, "/"),
		auth:      auth,
		done:      make(chan struct{}),
	}
	f := cfg.Faults
	s.faults.Store(&f)
	s.em = newEmitter(s)
	s.tasks = newTaskQueue(s)
	if s.personas, err = generate(s.st, cfg); err != nil {
		return nil, fmt.Errorf("mockphp: generate: %w", err)
	}
	return s, nil
}

// Start runs the notification workers and the document-request scheduler
// until ctx ends or Close is called. Starting twice is an error.
func (s *Server) Start(ctx context.Context) error {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	if s.closed {
		return errors.New("mockphp: start after close")
	}
	if s.started {
		return errors.New("mockphp: already started")
	}
	s.started = true
	ctx, s.cancel = context.WithCancel(ctx)
	s.em.start(ctx, &s.wg)
	s.tasks.start(ctx, &s.wg)
	return nil
}

// Close stops the background work, ends requests held by the timeout
// fault, and waits for in-flight deliveries to finish their current attempt.
// Notifications still queued are dropped. Close is idempotent.
func (s *Server) Close() error {
	s.runMu.Lock()
	if s.closed {
		s.runMu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	if s.cancel != nil {
		s.cancel()
	}
	s.runMu.Unlock()
	s.wg.Wait()
	return nil
}

// SetPublicURL sets the origin (scheme://host:port) the server is reached
// at, once the listener is known; see Config.PublicURL.
func (s *Server) SetPublicURL(origin string) {
	s.mu.Lock()
	s.publicURL = strings.TrimSuffix(origin, "/")
	s.mu.Unlock()
}

// BaseURL is the absolute FHIR base ("http://host:port/fhir/R4"), or just
// the base path while no public URL is known.
func (s *Server) BaseURL() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.publicURL + s.cfg.BasePath
}

// TokenURL is the absolute token endpoint, or its path while no public URL
// is known.
func (s *Server) TokenURL() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.publicURL + TokenPath
}

// origin is the public URL, or the one this request came in on.
func (s *Server) origin(r *http.Request) string {
	s.mu.RLock()
	o := s.publicURL
	s.mu.RUnlock()
	if o != "" {
		return o
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) now() time.Time { return s.cfg.Clock().UTC() }

// ServeHTTP routes a request: the token endpoint, the admin endpoints, and
// everything under the FHIR base.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case path == TokenPath:
		s.withFaults(w, r, "token", s.handleToken)
	case strings.HasPrefix(path, AdminPath):
		s.handleAdmin(w, r)
	case path == s.cfg.BasePath || strings.HasPrefix(path, s.cfg.BasePath+"/"):
		rest := strings.Trim(strings.TrimPrefix(path, s.cfg.BasePath), "/")
		s.serveFHIR(w, r, rest)
	default:
		writeOutcome(w, http.StatusNotFound, "not-found", "no route for "+r.Method+" "+path)
	}
}
