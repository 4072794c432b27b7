package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/provider"
	"github.com/healthcare-records/healthcare-records/store/storeurl"
	"github.com/healthcare-records/healthcare-records/webhook"
)

// Config is everything the server is configured with. Each field comes from
// a flag, else from an environment variable, else from its default; see
// settings.
type Config struct {
	DatabaseURL     string
	ListenAddr      string
	LogLevel        slog.Level
	ShutdownTimeout time.Duration

	// Source is the name the provider is registered under: the {source}
	// of /webhooks/{source} and the system of every ref it gives.
	Source       string
	FHIRBaseURL  string
	ProviderName string
	SMARTClient  string
	SMARTKeyFile string
	SMARTKeyID   string
	SMARTToken   string // token endpoint URL; empty: discovered
	SMARTScope   string
	BearerToken  string // secret

	WebhookFormat    string // a webhook.Format, or "none"
	WebhookSecrets   []string
	WebhookHeader    string
	WebhookHeartbeat time.Duration
	WebhookMaxBody   int64
	// WebhookMaxBuffered bounds the bytes of webhook bodies read but not
	// yet verified, across all connections.
	WebhookMaxBuffered int64
	// MaxConns bounds the connections the listener holds at once.
	MaxConns int
	// StreamAbove is connector.Config.StreamAbove: content larger is
	// streamed, never held whole.
	StreamAbove int64
	// SpoolDir holds streamed content while it is kept
	// (connector.Config.SpoolDir).
	SpoolDir string
	// MaxDocument bounds one document's content from the provider
	// (provider.Config.MaxContentBytes).
	MaxDocument int64

	CarepatronURL  string
	CarepatronKey  string // secret
	CarepatronRate float64
	// CarepatronProviderID is the workspace the API key is checked
	// against at start and by /readyz; empty: the key alone is checked.
	CarepatronProviderID string

	// CheckInterval is how often the provider's and Carepatron's
	// credentials are checked again for /readyz.
	CheckInterval time.Duration
	// LogRepeatInterval thins repeated entries of the job engine's log to
	// one per interval; 0: off.
	LogRepeatInterval time.Duration

	PollInterval time.Duration
	// SweepInterval is how often every known patient's documents are
	// checked for deletions the webhooks did not tell; 0: never.
	SweepInterval time.Duration
	// Retention is how long ingested event ids and done op keys are kept
	// for duplicate detection; 0: for ever.
	Retention      time.Duration
	Overlap        time.Duration
	PullWorkers    int
	DeliverWorkers int
	SyncPatients   []string
	// JobTimeout bounds one attempt of a job; RescueAfter is how long a
	// job may stay running (its process killed) before another takes it.
	JobTimeout  time.Duration
	RescueAfter time.Duration

	// AdminEmail and AdminPasswordFile create the first admin at start
	// when no user has that email.
	AdminEmail        string
	AdminPasswordFile string
	// AccessTTL and RefreshTTL are the lifetimes of the API's tokens.
	AccessTTL, RefreshTTL time.Duration
	// OIDC* accept tokens of an external OpenID Connect issuer.
	OIDCIssuer, OIDCJWKSURL, OIDCAudience, OIDCEmailClaim string
	// MaxUpload bounds a document uploaded through the API.
	MaxUpload int64
	// RequestRefreshInterval is how often the status of open document
	// requests is read from the provider.
	RequestRefreshInterval time.Duration

	// NotifyAlertAfter is how many failures running of the provider or
	// Carepatron alert the admins (practice.NotifierConfig.AlertAfter).
	NotifyAlertAfter int
	// SupportContact is offered with failures a dietician cannot fix: a
	// mailto: address or a URL; empty: none.
	SupportContact string
	// PublicURL is the service's URL as users reach it, for the links
	// emails carry; empty: http:// and the address LISTEN_ADDR listens on,
	// as this host reaches it.
	PublicURL string
	// EmailPatientNames opts the practice into patients' names in the body
	// of notification emails (never the subject).
	EmailPatientNames bool
	// SMTPURL and SMTPFrom send the service's email; PracticeName is
	// its sender's name. InquirySMTPAddr, when set, runs the inquiry
	// listener for the addresses InquirySMTPRcpt (see mail.go).
	SMTPURL, SMTPFrom, PracticeName string
	InquirySMTPAddr                 string
	InquirySMTPRcpt                 []string

	Demo bool
	// DemoDatabase is the database -demo fills; empty: a fresh SQLite
	// file in a temporary directory, removed at exit.
	DemoDatabase   string
	DemoPatients   int
	DemoDocs       int
	DemoTouchEvery time.Duration
	DemoSeed       int64

	// explicit names the settings (by env name, or "-flag" for a flag
	// with no variable) given by flag or environment rather than left at
	// their defaults.
	explicit map[string]bool
	// notes are warnings found while loading, logged once the logger
	// exists.
	notes []string
}

// formatNone turns webhooks off: the server then relies on reconciliation.
const formatNone = "none"

// setting is one configuration knob: a flag, the environment variable that
// provides its default (none for a flag that must be asked for on the
// command line), and how its text becomes a Config field. A setter of a
// secret must never put the value in its error.
type setting struct {
	flag, env string
	def       string
	usage     string
	secret    bool
	boolean   bool
	set       func(c *Config, v string) error
}

// name is how errors refer to the setting.
func (s setting) name() string {
	if s.env == "" {
		return "-" + s.flag
	}
	return fmt.Sprintf("%s (-%s)", s.env, s.flag)
}

// key is the setting's key in Config.explicit.
func (s setting) key() string {
	if s.env == "" {
		return "-" + s.flag
	}
	return s.env
}

// settings are the server's settings: those below, then mailSettings.
var settings = append([]setting{
	{flag: "database-url", env: "DATABASE_URL", def: "./healthcare-records.db", secret: true,
		usage: "database: postgres://user:password@host/db, or a SQLite file path (sqlite://PATH)",
		set:   func(c *Config, v string) error { c.DatabaseURL = v; return nonEmpty(v) }},
	{flag: "listen", env: "LISTEN_ADDR", def: "127.0.0.1:8080",
		usage: "HTTP listen address (\":8080\" for every interface)",
		set:   func(c *Config, v string) error { c.ListenAddr = v; return nonEmpty(v) }},
	{flag: "log-level", env: "LOG_LEVEL", def: "info",
		usage: "debug, info, warn or error",
		set: func(c *Config, v string) error {
			if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
				return fmt.Errorf("%q is not debug, info, warn or error", v)
			}
			return nil
		}},
	{flag: "shutdown-timeout", env: "SHUTDOWN_TIMEOUT", def: "30s",
		usage: "how long shutdown waits for in-flight requests and jobs",
		set:   durationSetter(func(c *Config) *time.Duration { return &c.ShutdownTimeout }, false)},

	{flag: "source", env: "SOURCE_NAME", def: "php",
		usage: "name of the provider source: webhooks arrive at /webhooks/NAME",
		set: func(c *Config, v string) error {
			if v == "" || strings.ContainsAny(v, "/ ?#%") {
				return fmt.Errorf("%q is not a plain name", v)
			}
			c.Source = v
			return nil
		}},
	{flag: "fhir-base-url", env: "FHIR_BASE_URL",
		usage: "the provider's FHIR R4 base URL (required)",
		set:   func(c *Config, v string) error { c.FHIRBaseURL = v; return absoluteURL(v) }},
	{flag: "provider-name", env: "PROVIDER_NAME", def: "Primary Healthcare Provider",
		usage: "shown as a document's source when the document names no custodian",
		set:   func(c *Config, v string) error { c.ProviderName = v; return nil }},
	{flag: "smart-client-id", env: "SMART_CLIENT_ID",
		usage: "SMART Backend Services client id",
		set:   func(c *Config, v string) error { c.SMARTClient = v; return nil }},
	{flag: "smart-key-file", env: "SMART_KEY_FILE",
		usage: "PEM private key of the SMART client (RSA >= 2048 bits or EC P-384)",
		set:   func(c *Config, v string) error { c.SMARTKeyFile = v; return nil }},
	{flag: "smart-key-id", env: "SMART_KEY_ID",
		usage: "kid of the SMART client's public key in its registered JWK Set",
		set:   func(c *Config, v string) error { c.SMARTKeyID = v; return nil }},
	{flag: "smart-token-url", env: "SMART_TOKEN_URL",
		usage: "SMART token endpoint (default: discovered from .well-known/smart-configuration)",
		set: func(c *Config, v string) error {
			c.SMARTToken = v
			if v == "" {
				return nil
			}
			return absoluteURL(v)
		}},
	{flag: "smart-scope", env: "SMART_SCOPE",
		usage: "SMART scopes to request (default: what the sync reads and writes)",
		set:   func(c *Config, v string) error { c.SMARTScope = v; return nil }},
	{flag: "fhir-bearer-token", env: "FHIR_BEARER_TOKEN", secret: true,
		usage: "static bearer token, for a provider without SMART (prefer the environment variable)",
		set:   func(c *Config, v string) error { c.BearerToken = v; return nil }},

	{flag: "webhook-format", env: "WEBHOOK_FORMAT", def: string(webhook.FormatStandardWebhooks),
		usage: "standard-webhooks, fhir-subscription (or its old name fhir-backport), medplum, or none (reconciliation only)",
		set: func(c *Config, v string) error {
			if v == "fhir-backport" {
				v = string(webhook.FormatFHIRSubscription)
			}
			switch v {
			case string(webhook.FormatStandardWebhooks), string(webhook.FormatFHIRSubscription), string(webhook.FormatMedplum), formatNone:
				c.WebhookFormat = v
				return nil
			}
			return fmt.Errorf("%q is not standard-webhooks, fhir-subscription, medplum or none", v)
		}},
	{flag: "webhook-secrets", env: "WEBHOOK_SECRETS", secret: true,
		usage: "comma-separated webhook secrets accepted (several while rotating; prefer the environment variable)",
		set: func(c *Config, v string) error {
			c.WebhookSecrets = nil
			for s := range strings.SplitSeq(v, ",") {
				if s = strings.TrimSpace(s); s != "" {
					c.WebhookSecrets = append(c.WebhookSecrets, s)
				}
			}
			return nil
		}},
	{flag: "webhook-header", env: "WEBHOOK_HEADER", def: webhook.DefaultAuthHeader,
		usage: "header a fhir-subscription sender authenticates with (its channel.header)",
		set:   func(c *Config, v string) error { c.WebhookHeader = v; return nonEmpty(v) }},
	{flag: "webhook-heartbeat", env: "WEBHOOK_HEARTBEAT", def: "0s",
		usage: "heartbeat period of the provider's FHIR subscriptions; silence past two periods triggers a reconcile (0: off)",
		set:   durationSetter(func(c *Config) *time.Duration { return &c.WebhookHeartbeat }, true)},
	{flag: "webhook-max-body", env: "WEBHOOK_MAX_BODY", def: strconv.Itoa(webhook.DefaultMaxBody),
		usage: "largest webhook body accepted, in bytes",
		set: func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return fmt.Errorf("%q is not a positive number of bytes", v)
			}
			c.WebhookMaxBody = n
			return nil
		}},
	{flag: "webhook-max-buffered", env: "WEBHOOK_MAX_BUFFERED", def: "0",
		usage: "bytes of webhook bodies held unverified at once, across all connections; past it senders get 503 with Retry-After (0: 32 MiB, or the largest body if larger)",
		set: func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return fmt.Errorf("%q is not a number of bytes", v)
			}
			c.WebhookMaxBuffered = n
			return nil
		}},
	{flag: "max-conns", env: "MAX_CONNS", def: strconv.Itoa(webhook.DefaultMaxConns),
		usage: "connections the HTTP listener holds at once; more wait to be accepted",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return fmt.Errorf("%q is not a positive number of connections", v)
			}
			c.MaxConns = n
			return nil
		}},

	{flag: "stream-above", env: "STREAM_ABOVE", def: strconv.Itoa(connector.DefaultStreamAbove),
		usage: "documents larger than this many bytes are streamed: spooled to SPOOL_DIR, kept in 1 MiB parts, uploaded as they are read",
		set:   bytesSetter(func(c *Config) *int64 { return &c.StreamAbove })},
	{flag: "spool-dir", env: "SPOOL_DIR",
		usage: "directory of the spool files of streamed documents while they are kept (default: the system's temporary directory)",
		set:   func(c *Config, v string) error { c.SpoolDir = v; return nil }},
	{flag: "max-document", env: "MAX_DOCUMENT_BYTES", def: strconv.Itoa(provider.DefaultMaxContentBytes),
		usage: "largest document content taken from the provider, in bytes; a larger one is refused",
		set:   bytesSetter(func(c *Config) *int64 { return &c.MaxDocument })},

	{flag: "carepatron-url", env: "CAREPATRON_BASE_URL",
		usage: "Carepatron API base URL (required)",
		set:   func(c *Config, v string) error { c.CarepatronURL = v; return absoluteURL(v) }},
	{flag: "carepatron-api-key", env: "CAREPATRON_API_KEY", secret: true,
		usage: "Carepatron API key (required; prefer the environment variable)",
		set:   func(c *Config, v string) error { c.CarepatronKey = v; return nil }},
	{flag: "carepatron-rate", env: "CAREPATRON_RATE", def: "10",
		usage: "requests per second sent to Carepatron at most (0: no limit)",
		set: func(c *Config, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 {
				return fmt.Errorf("%q is not a non-negative number", v)
			}
			c.CarepatronRate = f
			return nil
		}},
	{flag: "carepatron-provider-id", env: "CAREPATRON_PROVIDER_ID",
		usage: "Carepatron workspace (provider) id the API key must be valid for; checked at start and by /readyz (default: the key alone is checked)",
		set: func(c *Config, v string) error {
			if strings.ContainsAny(v, "/?#% ") {
				return fmt.Errorf("%q is not a plain id", v)
			}
			c.CarepatronProviderID = v
			return nil
		}},
	{flag: "check-interval", env: "CHECK_INTERVAL", def: "30s",
		usage: "how often the provider's and Carepatron's credentials are checked again for /readyz",
		set:   durationSetter(func(c *Config) *time.Duration { return &c.CheckInterval }, false)},
	{flag: "log-repeat-interval", env: "LOG_REPEAT_INTERVAL", def: "10s",
		usage: "the job engine logs a repeated message at most once per interval, with the count suppressed (0: every time)",
		set:   durationSetter(func(c *Config) *time.Duration { return &c.LogRepeatInterval }, true)},

	{flag: "poll-interval", env: "POLL_INTERVAL", def: "5m",
		usage: "how often every known patient is reconciled with the provider, repairing lost webhooks (0: never)",
		set:   durationSetter(func(c *Config) *time.Duration { return &c.PollInterval }, true)},
	{flag: "sweep-interval", env: "SWEEP_INTERVAL", def: "24h",
		usage: "how often every known patient's documents are checked for deletions at the provider, repairing lost delete webhooks (0: never)",
		set:   durationSetter(func(c *Config) *time.Duration { return &c.SweepInterval }, true)},
	{flag: "retention", env: "RETENTION", def: "720h",
		usage: "how long received webhook event ids and finished job keys are kept to recognize duplicates, then pruned (0: for ever)",
		set:   durationSetter(func(c *Config) *time.Duration { return &c.Retention }, true)},
	{flag: "overlap", env: "POLL_OVERLAP", def: "5m",
		usage: "how far before its cursor an incremental listing starts again (late commits, clock skew)",
		set:   durationSetter(func(c *Config) *time.Duration { return &c.Overlap }, false)},
	{flag: "pull-workers", env: "PULL_WORKERS", def: "4",
		usage: "concurrent fetches from the provider",
		set:   intSetter(func(c *Config) *int { return &c.PullWorkers })},
	{flag: "deliver-workers", env: "DELIVER_WORKERS", def: "4",
		usage: "concurrent deliveries to Carepatron",
		set:   intSetter(func(c *Config) *int { return &c.DeliverWorkers })},
	{flag: "job-timeout", env: "JOB_TIMEOUT", def: "5m",
		usage: "how long one attempt of a job (a batch of pulls or deliveries) may run before it is cancelled and retried",
		set:   durationSetter(func(c *Config) *time.Duration { return &c.JobTimeout }, false)},
	{flag: "job-rescue-after", env: "JOB_RESCUE_AFTER", def: "0s",
		usage: "how long a job may stay running before it is taken for crashed and run again (0: JOB_TIMEOUT + 1m); must exceed JOB_TIMEOUT",
		set:   durationSetter(func(c *Config) *time.Duration { return &c.RescueAfter }, true)},
	{flag: "sync-patients", env: "SYNC_PATIENTS",
		usage: "comma-separated provider patient ids to enroll and sync at start",
		set: func(c *Config, v string) error {
			c.SyncPatients = nil
			for s := range strings.SplitSeq(v, ",") {
				if s = strings.TrimSpace(s); s != "" {
					c.SyncPatients = append(c.SyncPatients, s)
				}
			}
			return nil
		}},

	{flag: "admin-email", env: "ADMIN_EMAIL",
		usage: "email of the first admin, created at start if no user has it (with ADMIN_PASSWORD_FILE)",
		set:   func(c *Config, v string) error { c.AdminEmail = v; return nil }},
	{flag: "admin-password-file", env: "ADMIN_PASSWORD_FILE",
		usage: "file holding the first admin's password (its first line)",
		set:   func(c *Config, v string) error { c.AdminPasswordFile = v; return nil }},
	{flag: "access-token-ttl", env: "ACCESS_TOKEN_TTL", def: "15m",
		usage: "lifetime of the API's access tokens",
		set:   durationSetter(func(c *Config) *time.Duration { return &c.AccessTTL }, false)},
	{flag: "refresh-token-ttl", env: "REFRESH_TOKEN_TTL", def: "168h",
		usage: "lifetime of the API's refresh tokens",
		set:   durationSetter(func(c *Config) *time.Duration { return &c.RefreshTTL }, false)},
	{flag: "oidc-issuer", env: "OIDC_ISSUER",
		usage: "accept access tokens of this OpenID Connect issuer too (with OIDC_JWKS_URL and OIDC_AUDIENCE)",
		set:   func(c *Config, v string) error { c.OIDCIssuer = v; return nil }},
	{flag: "oidc-jwks-url", env: "OIDC_JWKS_URL",
		usage: "the OpenID Connect issuer's JWK Set URL",
		set:   func(c *Config, v string) error { c.OIDCJWKSURL = v; return absoluteURL(v) }},
	{flag: "oidc-audience", env: "OIDC_AUDIENCE",
		usage: "the audience the OpenID Connect issuer's tokens must carry",
		set:   func(c *Config, v string) error { c.OIDCAudience = v; return nil }},
	{flag: "oidc-email-claim", env: "OIDC_EMAIL_CLAIM", def: "email",
		usage: "the claim of an OpenID Connect token naming the user by email",
		set:   func(c *Config, v string) error { c.OIDCEmailClaim = v; return nonEmpty(v) }},
	{flag: "max-upload", env: "MAX_UPLOAD", def: strconv.Itoa(20 << 20),
		usage: "largest document uploaded through the API, in bytes",
		set: func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return fmt.Errorf("%q is not a positive number of bytes", v)
			}
			c.MaxUpload = n
			return nil
		}},
	{flag: "request-refresh-interval", env: "REQUEST_REFRESH_INTERVAL", def: "1m",
		usage: "how often the status of open document requests is read from the provider",
		set:   durationSetter(func(c *Config) *time.Duration { return &c.RequestRefreshInterval }, false)},

	{flag: "notify-alert-after", env: "NOTIFY_ALERT_AFTER", def: "3",
		usage: "failed attempts running of the provider or Carepatron that alert the admins; a recovered notice follows",
		set:   intSetter(func(c *Config) *int { return &c.NotifyAlertAfter })},
	{flag: "support-contact", env: "SUPPORT_CONTACT",
		usage: "support contact offered with failures a dietician cannot fix: mailto:ADDRESS or an http(s) URL (default: none)",
		set: func(c *Config, v string) error {
			c.SupportContact = v
			if v == "" || strings.HasPrefix(v, "mailto:") && strings.Contains(v, "@") {
				return nil
			}
			return absoluteURL(v)
		}},
	{flag: "public-url", env: "PUBLIC_URL",
		usage: "the service's URL as users reach it, for links in emails (default: http:// and LISTEN_ADDR)",
		set:   func(c *Config, v string) error { c.PublicURL = v; return absoluteURL(v) }},
	{flag: "email-patient-names", env: "EMAIL_PATIENT_NAMES", def: "false", boolean: true,
		usage: "put the patient's name in the body of notification emails (never the subject); off, an email holds a statement and a link behind sign-in",
		set: func(c *Config, v string) (err error) {
			if c.EmailPatientNames, err = strconv.ParseBool(v); err != nil {
				return fmt.Errorf("%q is not true or false", v)
			}
			return nil
		}},

	// Flags only: no environment, however generic, turns a production
	// configuration into the demo.
	{flag: "demo", def: "false", boolean: true,
		usage: "run with the mock provider and a fake Carepatron in-process, on loopback, in a throwaway database (flag only)",
		set: func(c *Config, v string) (err error) {
			c.Demo, err = strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%q is not true or false", v)
			}
			return nil
		}},
	{flag: "demo-database", secret: true,
		usage: "demo: the database to fill instead of a fresh temporary SQLite file (flag only; DATABASE_URL is refused with -demo)",
		set:   func(c *Config, v string) error { c.DemoDatabase = v; return nil }},
	{flag: "demo-patients", env: "DEMO_PATIENTS", def: "5",
		usage: "demo: patients of the mock provider",
		set:   intSetter(func(c *Config) *int { return &c.DemoPatients })},
	{flag: "demo-docs", env: "DEMO_DOCS", def: "4",
		usage: "demo: documents per patient",
		set:   intSetter(func(c *Config) *int { return &c.DemoDocs })},
	{flag: "demo-touch-every", env: "DEMO_TOUCH_EVERY", def: "5s",
		usage: "demo: how often the mock provider changes a document or patient (0: never)",
		set:   durationSetter(func(c *Config) *time.Duration { return &c.DemoTouchEvery }, true)},
	{flag: "demo-seed", env: "DEMO_SEED", def: "1",
		usage: "demo: seed of the synthetic data",
		set: func(c *Config, v string) (err error) {
			if c.DemoSeed, err = strconv.ParseInt(v, 10, 64); err != nil {
				return fmt.Errorf("%q is not an integer", v)
			}
			return nil
		}},
}, mailSettings...)

// LoadConfig reads the flags in args, then the environment through
// lookup, then the defaults. It reports every invalid setting at once,
// naming each and never quoting a secret. Requirements that the demo
// fills in are checked later, by Config.Validate.
func LoadConfig(args []string, lookup func(string) (string, bool), usageOut io.Writer) (*Config, error) {
	fs := flag.NewFlagSet("webhook-server", flag.ContinueOnError)
	fs.SetOutput(usageOut)
	fs.Usage = func() {
		fmt.Fprintln(usageOut, "Usage: webhook-server [flags]\n\nEvery flag defaults to its environment variable. Flags:")
		fs.PrintDefaults()
	}
	raws := make([]*rawValue, len(settings))
	for i, s := range settings {
		raws[i] = &rawValue{def: s.def, secret: s.secret, boolean: s.boolean}
		usage := fmt.Sprintf("%s (env %s)", s.usage, s.env)
		if s.env == "" {
			usage = s.usage
		}
		fs.Var(raws[i], s.flag, usage)
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (settings are flags such as -listen, or environment variables)", fs.Arg(0))
	}
	c := &Config{explicit: map[string]bool{}}
	var errs []error
	for i, s := range settings {
		v, given := raws[i].val, raws[i].set
		if !given {
			if e, ok := lookup(s.env); ok && e != "" && s.env != "" {
				v, given = e, true
			} else {
				v = s.def
			}
		}
		c.explicit[s.key()] = given
		if err := s.set(c, strings.TrimSpace(v)); err != nil {
			if s.secret {
				err = errors.New("invalid value")
			}
			errs = append(errs, fmt.Errorf("%s: %w", s.name(), err))
		}
	}
	switch {
	case c.Demo && c.explicit["DATABASE_URL"]:
		// The demo writes synthetic patients into its database and
		// expects it empty: never the one a production setting names.
		errs = append(errs, fmt.Errorf("-demo refuses %s (set to %s): the demo fills a throwaway database of its own; unset it, or name the database to fill with -demo-database",
			settingName("DATABASE_URL"), storeurl.Redact(c.DatabaseURL)))
	case !c.Demo && c.DemoDatabase != "":
		errs = append(errs, errors.New("-demo-database needs -demo"))
	}
	if v, ok := lookup("DEMO"); ok && v != "" {
		c.notes = append(c.notes, "DEMO is set in the environment and ignored: the demo runs only with the -demo flag")
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// Validate checks what a running server needs beyond each setting being
// well formed: the provider, its credentials, the webhook secrets and
// Carepatron.
func (c *Config) Validate() error {
	var errs []error
	missing := func(env string) {
		errs = append(errs, fmt.Errorf("%s is required", settingName(env)))
	}
	if c.FHIRBaseURL == "" {
		missing("FHIR_BASE_URL")
	}
	switch {
	case c.SMARTClient != "" && c.SMARTKeyFile == "":
		missing("SMART_KEY_FILE")
	case c.SMARTClient == "" && c.SMARTKeyFile != "":
		missing("SMART_CLIENT_ID")
	case c.SMARTClient == "" && c.BearerToken == "":
		errs = append(errs, fmt.Errorf("provider credentials are required: set %s and %s, or %s",
			settingName("SMART_CLIENT_ID"), settingName("SMART_KEY_FILE"), settingName("FHIR_BEARER_TOKEN")))
	}
	if c.WebhookFormat != formatNone && len(c.WebhookSecrets) == 0 {
		errs = append(errs, fmt.Errorf("%s is required with %s=%s (or set %s=none to rely on reconciliation alone)",
			settingName("WEBHOOK_SECRETS"), "WEBHOOK_FORMAT", c.WebhookFormat, "WEBHOOK_FORMAT"))
	}
	if c.WebhookFormat == string(webhook.FormatStandardWebhooks) && len(c.WebhookSecrets) > 0 {
		// Checked here too, so a bad secret stops the server before it
		// touches the database. The error names the secret's position.
		if _, err := webhook.NewVerifier(c.WebhookSecrets, webhook.DefaultTolerance); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", settingName("WEBHOOK_SECRETS"), err))
		}
	}
	if c.WebhookFormat != formatNone {
		for i, s := range c.WebhookSecrets {
			if n, ok := secretKeyLen(webhook.Format(c.WebhookFormat), s); ok && n < minSecretBytes {
				errs = append(errs, fmt.Errorf("%s: secret %d holds %d bytes of key, fewer than %d: a short key can be guessed; generate a random one",
					settingName("WEBHOOK_SECRETS"), i+1, n, minSecretBytes))
			}
		}
	}
	if (c.AdminEmail == "") != (c.AdminPasswordFile == "") {
		errs = append(errs, fmt.Errorf("%s and %s go together: set both to create the first admin, or neither",
			settingName("ADMIN_EMAIL"), settingName("ADMIN_PASSWORD_FILE")))
	}
	if c.OIDCIssuer != "" && (c.OIDCJWKSURL == "" || c.OIDCAudience == "") {
		errs = append(errs, fmt.Errorf("%s needs %s and %s", settingName("OIDC_ISSUER"),
			settingName("OIDC_JWKS_URL"), settingName("OIDC_AUDIENCE")))
	}
	if c.CarepatronURL == "" {
		missing("CAREPATRON_BASE_URL")
	}
	if c.CarepatronKey == "" {
		missing("CAREPATRON_API_KEY")
	}
	if c.RescueAfter != 0 && c.RescueAfter <= c.JobTimeout {
		errs = append(errs, fmt.Errorf("%s (%s) must exceed %s (%s): a job still running would be run twice",
			settingName("JOB_RESCUE_AFTER"), c.RescueAfter, settingName("JOB_TIMEOUT"), c.JobTimeout))
	}
	// The cluster's scheduler (River's) runs periodic work at a second's
	// resolution at best.
	for env, d := range map[string]time.Duration{"POLL_INTERVAL": c.PollInterval, "SWEEP_INTERVAL": c.SweepInterval} {
		if d > 0 && d < time.Second {
			errs = append(errs, fmt.Errorf("%s (%s) must be 0 or at least 1s", settingName(env), d))
		}
	}
	if c.Retention > 0 && c.Retention < time.Hour {
		errs = append(errs, fmt.Errorf("%s (%s) must be 0 or at least 1h: a sender's retry must still be known as a duplicate",
			settingName("RETENTION"), c.Retention))
	}
	errs = append(errs, c.validateMail()...)
	if c.WebhookFormat == formatNone && c.PollInterval == 0 {
		errs = append(errs, fmt.Errorf("%s=none and %s=0 would never hear of a change: enable one",
			"WEBHOOK_FORMAT", settingName("POLL_INTERVAL")))
	}
	return errors.Join(errs...)
}

// settingName is how errors name the setting of an environment variable.
func settingName(env string) string {
	for _, s := range settings {
		if s.env == env {
			return s.name()
		}
	}
	return env
}

// rawValue holds a flag's text until every source of settings is known.
// A secret's String is empty, so -help never prints one.
type rawValue struct {
	val, def        string
	set             bool
	secret, boolean bool
}

func (r *rawValue) String() string {
	if r == nil || r.secret {
		return ""
	}
	return r.def
}

func (r *rawValue) Set(v string) error { r.val, r.set = v, true; return nil }

func (r *rawValue) IsBoolFlag() bool { return r.boolean }

func nonEmpty(v string) error {
	if v == "" {
		return errors.New("must not be empty")
	}
	return nil
}

func absoluteURL(v string) error {
	if v == "" {
		return nil // required-ness is Validate's business
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", provider.RedactURL(v))
	}
	return nil
}

func durationSetter(field func(*Config) *time.Duration, zeroOK bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || (d == 0 && !zeroOK) {
			return fmt.Errorf("%q is not a positive duration such as 30s or 5m", v)
		}
		*field(c) = d
		return nil
	}
}

func intSetter(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a positive integer", v)
		}
		*field(c) = n
		return nil
	}
}

// bytesSetter sets a positive number of bytes.
func bytesSetter(field func(*Config) *int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a positive number of bytes", v)
		}
		*field(c) = n
		return nil
	}
}
