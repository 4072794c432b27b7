package mockphp

import (
	"log/slog"
	"net/http"
	"time"
)

// Defaults for the zero values of Config.
const (
	DefaultPatients       = 10
	DefaultDocsPerPatient = 5
	DefaultBasePath       = "/fhir/R4"
	DefaultTokenTTL       = 5 * time.Minute
	DefaultTaskDelay      = 2 * time.Second
	// TokenPath is where the SMART token endpoint listens, outside the FHIR base.
	TokenPath = "/auth/token"
	// AdminPath prefixes the admin endpoints (faults, subscriptions, changes).
	AdminPath = "/admin/"
)

// DefaultEpoch anchors the synthetic data: every generated date lies in
// the years before it, so the data set does not depend on when it is made.
var DefaultEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Config describes a mock provider. The zero value is usable: ten patients
// with five documents each, seed 0, no authentication, no faults.
type Config struct {
	// Seed makes the data set and every fault decision reproducible: the
	// same seed and sizes give byte-identical resources.
	Seed int64
	// Patients is how many patients to generate (0 means DefaultPatients).
	Patients int
	// DocsPerPatient is how many DocumentReferences each patient gets
	// (0 means DefaultDocsPerPatient). Lab reports among them also get a
	// DiagnosticReport and its Observations.
	DocsPerPatient int
	// BasePath is the FHIR base under which resources are served
	// (empty means DefaultBasePath).
	BasePath string
	// PublicURL is the origin clients reach the server at, such as
	// "http://127.0.0.1:8091". Links in responses use it; webhook payloads
	// use it for absolute references. When empty, responses use the
	// request's Host and webhooks use relative references. SetPublicURL
	// changes it after the listener is known.
	PublicURL string
	// Epoch anchors generated dates (zero means DefaultEpoch).
	Epoch time.Time

	// Clients are the SMART Backend Services clients allowed to ask for
	// tokens.
	Clients []Client
	// RequireAuth makes every FHIR route except metadata and the SMART
	// configuration demand a bearer token from the token endpoint.
	RequireAuth bool
	// TokenTTL is the lifetime of issued access tokens (0 means
	// DefaultTokenTTL).
	TokenTTL time.Duration

	// Server selects stricter behaviours real FHIR servers have (the zero
	// value is lenient); see ServerBehaviour and StrictAll. It is fixed
	// for the server's life.
	Server ServerBehaviour

	// Faults is the initial misbehaviour; SetFaults changes it at run time.
	Faults Faults
	// Clock stamps meta.lastUpdated, checks assertion and token expiry, and
	// dates events (nil means time.Now). Waiting (latency, retries,
	// heartbeats, task delays) always uses real time.
	Clock func() time.Time
	// TaskDelay is how long after its creation a document-request Task is
	// fulfilled (0 means DefaultTaskDelay).
	TaskDelay time.Duration
	// Webhooks tunes delivery of change notifications.
	Webhooks WebhookConfig
	// AdminToken, when set, is the bearer token the admin endpoints demand.
	AdminToken string
	// Logger receives structured logs with ids only (nil means slog.Default()).
	Logger *slog.Logger
}

// WebhookConfig tunes how notifications are sent. Zero values pick the
// defaults named on each field.
type WebhookConfig struct {
	// MaxAttempts is how often one notification is tried before it is given
	// up (default 6).
	MaxAttempts int
	// InitialBackoff is the wait after the first failure, doubled after each
	// further one (default 100ms).
	InitialBackoff time.Duration
	// MaxBackoff caps the wait, including a receiver's Retry-After
	// (default 5s).
	MaxBackoff time.Duration
	// Timeout bounds one delivery attempt (default 10s).
	Timeout time.Duration
	// Client sends the requests (default: a client with no proxy).
	Client *http.Client
}

func (c Config) withDefaults() Config {
	if c.Patients == 0 {
		c.Patients = DefaultPatients
	}
	if c.DocsPerPatient == 0 {
		c.DocsPerPatient = DefaultDocsPerPatient
	}
	if c.BasePath == "" {
		c.BasePath = DefaultBasePath
	}
	if c.BasePath[0] != '/' {
		c.BasePath = "/" + c.BasePath
	}
	for len(c.BasePath) > 1 && c.BasePath[len(c.BasePath)-1] == '/' {
		c.BasePath = c.BasePath[:len(c.BasePath)-1]
	}
	if c.Epoch.IsZero() {
		c.Epoch = DefaultEpoch
	}
	if c.TokenTTL == 0 {
		c.TokenTTL = DefaultTokenTTL
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.TaskDelay == 0 {
		c.TaskDelay = DefaultTaskDelay
	}
	w := &c.Webhooks
	if w.MaxAttempts == 0 {
		w.MaxAttempts = 6
	}
	if w.InitialBackoff == 0 {
		w.InitialBackoff = 100 * time.Millisecond
	}
	if w.MaxBackoff == 0 {
		w.MaxBackoff = 5 * time.Second
	}
	if w.Timeout == 0 {
		w.Timeout = 10 * time.Second
	}
	if w.Client == nil {
		w.Client = &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4}}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}
