package practice

import (
	"errors"
	"log/slog"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
)

// Config wires the service. Zero values take the documented defaults.
type Config struct {
	// Store persists the practice's records. Required.
	Store Store
	// Engine syncs patients and documents; its Store must be Store.
	// Required.
	Engine *connector.Engine
	// Provider is the name (in the engine) of the Source patients are
	// matched at and synced from. Required.
	Provider string
	// ProviderSource is that Source, for matching new patients.
	// Required.
	ProviderSource connector.Source
	// CarepatronSink is the sink whose id of a patient is shown as its
	// carepatron_patient_id. Default "carepatron".
	CarepatronSink string
	// Tokens configures sign-in.
	Tokens TokenConfig
	// MaxUpload bounds an uploaded document. Default 20 MiB.
	MaxUpload int64
	// SyncEvery is the least time between two manual syncs of one
	// patient. Default 10 seconds.
	SyncEvery time.Duration
	// Notifier, when set, notifies what the service records (a document
	// shared with a practitioner) in the transaction that records it; the
	// engine's Config.Notifier should be the same. Default none.
	Notifier *Notifier
	// Inquiries, when set, is told of each new inquiry in the
	// transaction that stores it (see InquiryNotifier).
	Inquiries InquiryNotifier
	// Logger receives ids and outcomes, never patient data. Default
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// TokenConfig configures the tokens the service issues and accepts.
type TokenConfig struct {
	// Issuer and Audience are the iss and aud of access tokens. Default
	// "healthcare-records" for both.
	Issuer, Audience string
	// AccessTTL is an access token's lifetime. Default 15 minutes.
	AccessTTL time.Duration
	// RefreshTTL is a refresh token's lifetime. Default 7 days.
	RefreshTTL time.Duration
	// SessionTTL bounds a session however often it is refreshed. Default
	// 30 days.
	SessionTTL time.Duration
	// OIDC, when set, also accepts tokens of an external OpenID Connect
	// issuer.
	OIDC *OIDCConfig
}

// OIDCConfig accepts access tokens of an external OpenID Connect issuer:
// the user is the one whose email is the token's email claim.
type OIDCConfig struct {
	Issuer   string
	JWKSURL  string
	Audience string
	// EmailClaim names the claim holding the user's email. Default
	// "email".
	EmailClaim string
}

// Service is the practice's use cases. It is safe for concurrent use.
type Service struct {
	cfg      Config
	log      *slog.Logger
	auditLog *auditLog
	syncs    *syncLimiter
	// inquiries limits the public inquiries.
	inquiries *inquiryLimiter
	// auth is sign-in's state: keys, limits and the session cache.
	auth *authState
}

// New validates cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("practice: config has no store")
	case cfg.Engine == nil:
		return nil, errors.New("practice: config has no engine")
	case cfg.Provider == "" || cfg.ProviderSource == nil:
		return nil, errors.New("practice: config has no provider")
	}
	if cfg.CarepatronSink == "" {
		cfg.CarepatronSink = "carepatron"
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = 20 << 20
	}
	if cfg.SyncEvery <= 0 {
		cfg.SyncEvery = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Tokens.defaults()
	auth, err := newAuthState(cfg)
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, log: cfg.Logger, syncs: newSyncLimiter(cfg.SyncEvery), auth: auth,
		inquiries: newInquiryLimiter()}
	s.auditLog = newAuditLog(s)
	return s, nil
}

// Close stops the service's background work: it writes the audit entries
// still queued and stops refreshing an external OIDC issuer's keys. Call
// it once the servers using the service have stopped.
func (s *Service) Close() error {
	s.auditLog.close()
	if s.auth.oidc != nil {
		return s.auth.oidc.close()
	}
	return nil
}

func (c *TokenConfig) defaults() {
	if c.Issuer == "" {
		c.Issuer = "healthcare-records"
	}
	if c.Audience == "" {
		c.Audience = "healthcare-records"
	}
	if c.AccessTTL <= 0 {
		c.AccessTTL = 15 * time.Minute
	}
	if c.RefreshTTL <= 0 {
		c.RefreshTTL = 7 * 24 * time.Hour
	}
	if c.SessionTTL <= 0 {
		c.SessionTTL = 30 * 24 * time.Hour
	}
	if c.OIDC != nil && c.OIDC.EmailClaim == "" {
		c.OIDC.EmailClaim = "email"
	}
}

// List is one page of a listing. Next, when not empty, is the cursor of
// the page after it.
type List[T any] struct {
	Items []T
	Next  string
}

// Client describes where a request comes from, for the audit log and rate
// limits.
type Client struct {
	Addr      string
	RequestID string
}
