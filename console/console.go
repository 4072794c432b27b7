package console

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/healthcare-records/healthcare-records/practice"
)

// Config wires the console. Zero values take the documented defaults.
type Config struct {
	// Service is the practice the console shows. Required.
	Service *practice.Service
	// Logger receives request paths, user ids and failures, never
	// patient data. Default slog.Default().
	Logger *slog.Logger
	// BasePath is where the console is mounted; every link starts with
	// it. Default "/console". Mount the handler at BasePath + "/"
	// without http.StripPrefix.
	BasePath string
	// IdleTimeout ends a session no request renewed for this long.
	// Default 15 minutes.
	IdleTimeout time.Duration
	// MaxAge ends a session this long after sign-in, however active.
	// Default 8 hours.
	MaxAge time.Duration
	// WarnBefore is how long before the idle timeout a page warns and
	// offers to stay signed in. Default 2 minutes, at most half of
	// IdleTimeout.
	WarnBefore time.Duration
	// MaxUpload bounds an uploaded file. Set it to the practice's
	// MaxUpload. Default 20 MiB.
	MaxUpload int64
	// Heartbeat is how often an idle progress stream sends a comment.
	// Default 15 seconds.
	Heartbeat time.Duration
	// ClientAddr names the client of a request, for the audit log and
	// the sign-in rate limits. Default: the host of r.RemoteAddr.
	ClientAddr func(*http.Request) string
	// Now is the clock of the console's sessions. Default time.Now.
	Now func() time.Time
}

func (c *Config) defaults() error {
	if c.Service == nil {
		return errors.New("console: config has no service")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.BasePath == "" {
		c.BasePath = "/console"
	}
	c.BasePath = strings.TrimSuffix(c.BasePath, "/")
	if !strings.HasPrefix(c.BasePath, "/") {
		return fmt.Errorf("console: base path %q does not start with a slash", c.BasePath)
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 15 * time.Minute
	}
	if c.MaxAge <= 0 {
		c.MaxAge = 8 * time.Hour
	}
	if c.WarnBefore <= 0 {
		c.WarnBefore = 2 * time.Minute
	}
	c.WarnBefore = min(c.WarnBefore, c.IdleTimeout/2)
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

// Console is the web console: an http.Handler serving every page under
// Config.BasePath.
type Console struct {
	cfg      Config
	svc      *practice.Service
	log      *slog.Logger
	sessions *sessions
	pages    *pages
	assets   *assets
	handler  http.Handler
}

// New validates cfg and returns the console.
func New(cfg Config) (*Console, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	a, err := newAssets(cfg.BasePath + "/assets/")
	if err != nil {
		return nil, err
	}
	c := &Console{cfg: cfg, svc: cfg.Service, log: cfg.Logger, sessions: newSessions(), assets: a}
	if c.pages, err = parsePages(c); err != nil {
		return nil, err
	}
	c.handler = c.secure(c.routes())
	return c, nil
}

// ServeHTTP serves the console's pages, actions and assets.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.handler.ServeHTTP(w, r) }

// Close ends the console's sessions held in this process; the practice's
// sessions behind them stay until they expire.
func (c *Console) Close() { c.sessions.clear() }

// path is a URL of the console: BasePath followed by the parts.
func (c *Console) path(parts ...any) string {
	var b strings.Builder
	b.WriteString(c.cfg.BasePath)
	for _, p := range parts {
		b.WriteByte('/')
		fmt.Fprint(&b, p)
	}
	return b.String()
}
