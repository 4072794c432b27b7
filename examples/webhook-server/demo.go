package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/healthcare-records/healthcare-records/adapters/mockphp"
	"github.com/healthcare-records/healthcare-records/carepatron/carepatrontest"
	"github.com/healthcare-records/healthcare-records/mail/mailtest"
	"github.com/healthcare-records/healthcare-records/store/storeurl"
	"github.com/healthcare-records/healthcare-records/webhook"
)

// demoClientID is the SMART client the demo registers with the mock
// provider.
const demoClientID = "healthcare-records-demo"

// ListingPath serves the fake Carepatron's contacts and documents as a
// table of ids and references (no names, no contents), for a person.
const ListingPath = "/_fake/listing"

// MailPath serves the mail the demo's SMTP server received.
const MailPath = "/demo/mail/"

// The demo's inquiry addresses: the practice's, and the dietician's own.
var demoInquiryRcpt = []string{"inquiries@demo.example", "dietician@demo.example"}

// demo is the world -demo runs the server in: the mock provider, the
// fake Carepatron and an SMTP server that keeps what it receives, each on
// its own loopback port, and a directory holding the demo's SMART key and
// database.
type demo struct {
	dir    string
	php    *mockphp.Server
	phpSrv *http.Server
	cp     *carepatrontest.Server
	cpSrv  *http.Server
	cpURL  string
	// mail receives the server's email; mailURL lists it.
	mail    *mailtest.Server
	mailSrv *http.Server
	mailURL string
	log     *slog.Logger
}

// startDemo starts the mock provider and the fake Carepatron and points
// cfg at them: the provider's FHIR base, a SMART client whose key it
// writes, a webhook secret, Carepatron's URL, key and workspace, and a
// fresh SQLite file unless -demo-database names a database. A fresh
// database matters: the fake Carepatron starts empty each run, so an old
// database's "already delivered" would keep documents from it; and the
// demo's synthetic patients must never land in a production database,
// which is why DATABASE_URL is refused with -demo.
func startDemo(cfg *Config, log *slog.Logger) (_ *demo, err error) {
	d := &demo{log: log}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	if d.dir, err = os.MkdirTemp("", "healthcare-records-demo-"); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}

	key, err := mockphp.NewClientKey("ES384")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	pemBytes, err := key.PrivatePEM()
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	keyFile := filepath.Join(d.dir, "smart-client-key.pem")
	if err := os.WriteFile(keyFile, pemBytes, 0o600); err != nil {
		return nil, fmt.Errorf("demo: write key: %w", err)
	}

	d.php, err = mockphp.New(mockphp.Config{
		Seed: cfg.DemoSeed, Patients: cfg.DemoPatients, DocsPerPatient: cfg.DemoDocs,
		RequireAuth: true, Clients: []mockphp.Client{{ID: demoClientID, JWKS: key.JWKS()}},
		Webhooks: mockphp.WebhookConfig{MaxAttempts: 10},
		Logger:   log, // it names itself "mockphp"
	})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	phpURL, err := d.serve(&d.phpSrv, d.php)
	if err != nil {
		return nil, err
	}
	d.php.SetPublicURL(phpURL)

	d.cp = carepatrontest.NewServer(carepatrontest.Config{Logger: log.With("component", "fake-carepatron")})
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+ListingPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_ = d.cp.WriteListing(w)
	})
	mux.Handle("/", d.cp)
	if d.cpURL, err = d.serve(&d.cpSrv, mux); err != nil {
		return nil, err
	}

	if d.mail, err = mailtest.Start(); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	mailMux := http.NewServeMux()
	mailMux.Handle(MailPath, d.mail.Handler())
	origin, err := d.serve(&d.mailSrv, mailMux)
	if err != nil {
		return nil, err
	}
	d.mailURL = origin + MailPath

	cfg.SMTPURL, cfg.SMTPFrom = d.mail.URL(), "notifications@demo.example"
	if !cfg.explicit["PRACTICE_NAME"] {
		cfg.PracticeName = "Demo Nutrition Practice"
	}
	cfg.InquirySMTPAddr, cfg.InquirySMTPRcpt = "127.0.0.1:0", demoInquiryRcpt
	cfg.FHIRBaseURL = d.php.BaseURL()
	cfg.SMARTClient, cfg.SMARTKeyFile, cfg.SMARTKeyID = demoClientID, keyFile, key.Kid
	cfg.SMARTToken, cfg.BearerToken = "", ""
	cfg.WebhookFormat = string(webhook.FormatStandardWebhooks)
	cfg.WebhookSecrets = []string{mockphp.NewWebhookSecret()}
	cfg.CarepatronURL, cfg.CarepatronKey = d.cpURL, carepatrontest.DefaultAPIKey
	cfg.CarepatronProviderID = carepatrontest.DefaultProviderID
	// LoadConfig refused DATABASE_URL: only -demo-database names another.
	cfg.DatabaseURL = cfg.DemoDatabase
	if cfg.DatabaseURL == "" {
		cfg.DatabaseURL = filepath.Join(d.dir, "demo.db")
	}
	if !cfg.explicit["POLL_INTERVAL"] {
		cfg.PollInterval = 30 * time.Second
	}
	return d, nil
}

// serve serves h on a new loopback port and returns its origin.
func (d *demo) serve(dst **http.Server, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("demo: listen: %w", err)
	}
	srv := newHTTPServer(h, d.log)
	*dst = srv
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("demo server stopped", "err", err)
		}
	}()
	return "http://" + ln.Addr().String(), nil
}

// connect subscribes the server's receiver to the mock provider's
// notifications of patients and DocumentReferences (the resources the sync
// delivers) and starts sending them.
func (d *demo) connect(ctx context.Context, hookURL string, secrets []string) error {
	_, err := d.php.Subscribe(mockphp.Endpoint{
		URL: hookURL, Format: mockphp.FormatStandardWebhooks, Secrets: secrets,
		ResourceTypes: []string{"Patient", "DocumentReference"},
	})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := d.php.Start(ctx); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// patients lists the mock provider's patient ids.
func (d *demo) patients() []string {
	var ids []string
	for _, p := range d.php.Patients() {
		ids = append(ids, p.ID)
	}
	return ids
}

// touch makes one change at the mock provider every interval until ctx
// ends, as a busy practice would: documents amended, added, deleted,
// patients updated. Each change reaches the server as a webhook.
func (d *demo) touch(ctx context.Context, every time.Duration) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			changes, err := d.php.Touch(1)
			if err != nil {
				d.log.WarnContext(ctx, "demo: mock provider change failed", "err", err)
				continue
			}
			for _, c := range changes {
				d.log.InfoContext(ctx, "demo: mock provider changed a resource", "change", c.Type,
					"resource", c.ResourceType, "id", c.ID, "version", c.VersionID)
			}
		}
	}
}

// printBanner tells a person what runs and where to look; inquiries is
// the inquiry listener's address.
func (d *demo) printBanner(w io.Writer, server string, cfg *Config, inquiries string) {
	var b strings.Builder
	fmt.Fprintf(&b, "healthcare-records webhook server: demo\n\n")
	fmt.Fprintf(&b, "  server:            %s\n", server)
	fmt.Fprintf(&b, "  webhooks:          %s/webhooks/%s (%s, from the mock provider)\n", server, cfg.Source, cfg.WebhookFormat)
	fmt.Fprintf(&b, "  health:            %s/healthz   readiness: %s/readyz\n", server, server)
	fmt.Fprintf(&b, "  metrics:           %s/metrics\n", server)
	fmt.Fprintf(&b, "  mock provider:     %s (FHIR R4, SMART client %s)\n", d.php.BaseURL(), demoClientID)
	fmt.Fprintf(&b, "  fake Carepatron:   %s\n", d.cpURL)
	fmt.Fprintf(&b, "    listing:         %s%s\n", d.cpURL, ListingPath)
	fmt.Fprintf(&b, "    state:           %s%s\n", d.cpURL, carepatrontest.StatePath)
	fmt.Fprintf(&b, "  database:          %s\n", storeurl.Redact(cfg.DatabaseURL))
	fmt.Fprintf(&b, "  mail received:     %s (the in-process SMTP server, %s)\n", d.mailURL, strings.TrimSuffix(d.mail.URL(), "?starttls=none"))
	fmt.Fprintf(&b, "  inquiries by SMTP: %s (for %s)\n", inquiries, strings.Join(cfg.InquirySMTPRcpt, ", "))
	fmt.Fprintf(&b, "\n%d patients with %d documents each are syncing now; the mock provider changes\n", cfg.DemoPatients, cfg.DemoDocs)
	fmt.Fprintf(&b, "something every %s and tells the server by webhook. Logs (JSON) go to stderr.\n", cfg.DemoTouchEvery)
	fmt.Fprintf(&b, "Watch the listing fill:  curl -s %s%s\n", d.cpURL, ListingPath)
	fmt.Fprintf(&b, "Stop with Ctrl-C.\n")
	_, _ = io.WriteString(w, b.String())
}

// stopChanges stops the mock provider's notifications and changes; its
// FHIR API keeps answering so that running jobs can finish.
func (d *demo) stopChanges() {
	if d.php != nil {
		_ = d.php.Close()
	}
}

// close stops both servers and removes the demo's directory (its key and,
// unless -demo-database named another, its database). Call it after the
// store is closed.
func (d *demo) close() {
	d.stopChanges()
	if d.mail != nil {
		_ = d.mail.Close()
	}
	for _, s := range []*http.Server{d.phpSrv, d.cpSrv, d.mailSrv} {
		if s != nil {
			_ = s.Close()
		}
	}
	if d.dir != "" {
		_ = os.RemoveAll(d.dir)
	}
}
