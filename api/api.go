package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/healthcare-records/healthcare-records/practice"
)

// Config wires the API. Zero values take the documented defaults.
type Config struct {
	// Service is the practice the API serves. Required.
	Service *practice.Service
	// Logger receives request ids, operations and failures, never patient
	// data. Default slog.Default().
	Logger *slog.Logger
	// BasePath is where the API is mounted: every route is under it, and
	// the URLs it answers (Location, the url members) start with it.
	// Default "/api/v1". The handler reads the full path, so mount it at
	// BasePath + "/" without http.StripPrefix.
	BasePath string
	// MaxBody bounds a JSON request body; a larger one is answered 413.
	// Default 1 MiB.
	MaxBody int64
	// MaxUpload bounds an uploaded file. Set it to the practice's
	// MaxUpload, which the service enforces on the file itself; a
	// multipart body may exceed it by MultipartOverhead before it is
	// answered 413 unread. Default 20 MiB, the practice's default.
	MaxUpload int64
	// Heartbeat is how often an idle event stream sends a comment line,
	// so that proxies keep it open. Default 15 seconds.
	Heartbeat time.Duration
	// ClientAddr names the client of a request, for the audit log and the
	// service's rate limits. Default: the host of r.RemoteAddr. Behind a
	// reverse proxy, read the proxy's header here, and only the proxy's.
	ClientAddr func(*http.Request) string
	// Now is the clock, for expires_in. Default time.Now.
	Now func() time.Time
}

// MultipartOverhead is what an upload's body may hold beyond the file:
// the part headers, boundaries and the other form fields.
const MultipartOverhead = 64 << 10

func (c *Config) defaults() error {
	if c.Service == nil {
		return errors.New("api: config has no service")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.BasePath == "" {
		c.BasePath = "/api/v1"
	}
	c.BasePath = strings.TrimSuffix(c.BasePath, "/")
	if !strings.HasPrefix(c.BasePath, "/") {
		return fmt.Errorf("api: base path %q does not start with a slash", c.BasePath)
	}
	if c.MaxBody <= 0 {
		c.MaxBody = 1 << 20
	}
	if c.MaxUpload <= 0 {
		c.MaxUpload = 20 << 20
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = 15 * time.Second
	}
	if c.ClientAddr == nil {
		c.ClientAddr = remoteHost
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// New returns the API as an http.Handler: the routes of openapi/api.yaml
// under cfg.BasePath, each request validated against the spec before the
// handler of its operation runs.
//
// A request passes, in order: the request id (X-Request-ID, echoed),
// recovery from panics, the body size limit, authentication (the bearer
// token, if any, verified by the service) and validation against the spec
// (which also refuses operations that need a token when none was valid).
// Every refusal on the way, and every error of the service, is answered as
// an RFC 9457 problem.
func New(cfg Config) (http.Handler, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	return newHandler(cfg, cfg.Service.Authenticate)
}

// authenticator verifies an access token: Service.Authenticate, or in
// tests a stand-in.
type authenticator func(ctx context.Context, c practice.Client, token string) (practice.Actor, error)

func newHandler(cfg Config, authn authenticator) (http.Handler, error) {
	spec, err := loadSpec(cfg.BasePath)
	if err != nil {
		return nil, err
	}
	s := &server{cfg: cfg, svc: cfg.Service, log: cfg.Logger, spec: spec, authn: authn, jsonBase: jsonBase(cfg.BasePath),
		escapedBase: (&url.URL{Path: cfg.BasePath}).EscapedPath()}

	mux := http.NewServeMux()
	HandlerWithOptions(
		NewStrictHandlerWithOptions(s, []StrictMiddlewareFunc{withRequest}, StrictHTTPServerOptions{
			RequestErrorHandlerFunc:  s.requestError,
			ResponseErrorHandlerFunc: s.responseError,
		}),
		StdHTTPServerOptions{BaseURL: cfg.BasePath, BaseRouter: mux, ErrorHandlerFunc: s.requestError},
	)
	// The validator answers unknown routes and methods before the mux
	// sees them; this is for a route the spec has and the mux does not,
	// which regenerating the server prevents.
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeProblem(w, r, &problem{Status: http.StatusNotFound, Detail: "nothing is served at this path"})
	}))

	var h http.Handler = mux
	h = s.validator()(h)
	h = s.authenticate(h)
	h = s.limitBody(h)
	h = s.recoverPanics(h)
	h = s.requestID(h)
	return h, nil
}

// server implements the generated StrictServerInterface over the
// practice service. Each method parses its request object, calls one
// service method with the request's actor and encodes what it returns.
type server struct {
	cfg  Config
	svc  *practice.Service
	log  *slog.Logger
	spec *spec
	// authn verifies bearer tokens.
	authn authenticator
	// jsonBase is cfg.BasePath escaped once for the hand-encoded pages.
	jsonBase string
	// escapedBase is cfg.BasePath as it begins an escaped path.
	escapedBase string
}

var _ StrictServerInterface = (*server)(nil)
