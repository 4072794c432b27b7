// Command mock-php runs the mock Primary Healthcare Provider on its own: a
// FHIR R4 server with synthetic patients and documents, a SMART Backend
// Services token endpoint, webhooks and fault injection (see package
// adapters/mockphp).
//
//	go run ./examples/mock-php -patients 50 -seed 1 -addr 127.0.0.1:8091
//
// It prints its FHIR base URL, the SMART client id, and where the client's
// private key (PKCS #8 PEM) and public JWKS were written. Steer it through
// the admin endpoints, for example:
//
//	curl -X PUT localhost:8091/admin/faults -d '{"error_rate":0.1,"latency":{"*":"50ms"}}'
//	curl -X POST 'localhost:8091/admin/touch?n=5'
//	curl -X POST localhost:8091/admin/documents/{id}/update
//
// -strict makes it serve FHIR as strictly as real servers may (see
// mockphp.ServerBehaviour); -typed-references, -uuid-versions,
// -offset-paging, -ignore-count, -no-capability-statement,
// -require-if-match and -no-tombstones turn on one behaviour each.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/healthcare-records/healthcare-records/adapters/mockphp"
	"github.com/healthcare-records/healthcare-records/internal/httpstop"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mock-php:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		addr       = flag.String("addr", "127.0.0.1:8091", "listen address")
		patients   = flag.Int("patients", 50, "number of patients")
		docs       = flag.Int("docs", 10, "documents per patient")
		seed       = flag.Int64("seed", 1, "seed of the synthetic data and of fault decisions")
		basePath   = flag.String("base", mockphp.DefaultBasePath, "FHIR base path")
		clientID   = flag.String("client-id", "healthcare-records", "SMART client id to register")
		keyDir     = flag.String("key-dir", "", "where to write the client's key pair (default: a new temporary directory)")
		jwksFile   = flag.String("jwks", "", "register this public JWKS file for -client-id instead of generating a key")
		noAuth     = flag.Bool("no-auth", false, "serve FHIR routes without bearer tokens")
		adminToken = flag.String("admin-token", "", "bearer token the admin endpoints require (default: none)")
		taskDelay  = flag.Duration("task-delay", mockphp.DefaultTaskDelay, "how long document requests take")
		touchEvery = flag.Duration("touch-every", 0, "make a random change this often (0: never)")
		hookURL    = flag.String("webhook-url", "", "register this webhook endpoint at start")
		hookFormat = flag.String("webhook-format", string(mockphp.FormatStandardWebhooks), "standard-webhooks, fhir-subscription (or its old name fhir-backport) or medplum")
		hookSecret = flag.String("webhook-secret", "", "webhook secret (standard-webhooks: whsec_…; default: a new one, printed)")
	)
	behaviour := behaviourFlags(flag.CommandLine)
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	client := mockphp.Client{ID: *clientID}
	var keyPath, jwksPath string
	if *jwksFile != "" {
		b, err := os.ReadFile(*jwksFile)
		if err != nil {
			return fmt.Errorf("read jwks: %w", err)
		}
		client.JWKS, jwksPath = b, *jwksFile
	} else {
		key, err := mockphp.NewClientKey("ES384")
		if err != nil {
			return err
		}
		dir := *keyDir
		if dir == "" {
			if dir, err = os.MkdirTemp("", "mock-php-"); err != nil {
				return fmt.Errorf("key dir: %w", err)
			}
		} else if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("key dir: %w", err)
		}
		pemBytes, err := key.PrivatePEM()
		if err != nil {
			return err
		}
		keyPath, jwksPath = filepath.Join(dir, "client-private-key.pem"), filepath.Join(dir, "client-jwks.json")
		if err := os.WriteFile(keyPath, pemBytes, 0o600); err != nil {
			return fmt.Errorf("write key: %w", err)
		}
		if err := os.WriteFile(jwksPath, key.JWKS(), 0o644); err != nil { //nolint:gosec // a public key
			return fmt.Errorf("write jwks: %w", err)
		}
		client.JWKS = key.JWKS()
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	origin := "http://" + ln.Addr().String()
	t0 := time.Now()
	srv, err := mockphp.New(mockphp.Config{
		Seed: *seed, Patients: *patients, DocsPerPatient: *docs, BasePath: *basePath, PublicURL: origin,
		Clients: []mockphp.Client{client}, RequireAuth: !*noAuth, AdminToken: *adminToken,
		TaskDelay: *taskDelay, Logger: log, Server: behaviour(),
	})
	if err != nil {
		return err
	}
	log.Info("data generated", "patients", *patients, "documents", len(srv.Documents("")), "took_ms", time.Since(t0).Milliseconds())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Start(ctx); err != nil {
		return err
	}
	defer srv.Close()

	if *hookURL != "" {
		ep := mockphp.Endpoint{URL: *hookURL, Format: mockphp.Format(*hookFormat)}
		secret := *hookSecret
		if secret == "" && ep.Format == mockphp.FormatStandardWebhooks {
			secret = mockphp.NewWebhookSecret()
		}
		if secret != "" {
			ep.Secrets = []string{secret}
		}
		id, err := srv.Subscribe(ep)
		if err != nil {
			return err
		}
		fmt.Printf("webhook:        %s (%s, endpoint %s, secret %s)\n", ep.URL, ep.Format, id, secret)
	}

	fmt.Printf("FHIR base URL:  %s\n", srv.BaseURL())
	fmt.Printf("token URL:      %s\n", srv.TokenURL())
	fmt.Printf("client id:      %s\n", *clientID)
	if keyPath != "" {
		fmt.Printf("private key:    %s (PKCS #8 PEM, ES384)\n", keyPath)
	}
	fmt.Printf("public JWKS:    %s\n", jwksPath)
	fmt.Printf("admin:          %s/admin/patients (and faults, subscriptions, touch, changes, documents)\n", origin)
	if b := behaviour(); b != (mockphp.ServerBehaviour{}) {
		fmt.Printf("behaviour:      %+v\n", b)
	}

	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()

	var tick <-chan time.Time
	if *touchEvery > 0 {
		t := time.NewTicker(*touchEvery)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-tick:
			if _, err := srv.Touch(1); err != nil {
				log.Warn("touch failed", "error", err)
			}
		case err := <-errc:
			if errors.Is(err, http.ErrServerClosed) {
				return nil
			}
			return fmt.Errorf("serve: %w", err)
		case <-ctx.Done():
			log.Info("shutting down")
			if err := httpstop.Stop(hs, time.Second); err != nil {
				return fmt.Errorf("shutdown: %w", err)
			}
			return nil
		}
	}
}

// behaviourFlags defines on fs the flags that select the server's strict
// behaviours, and returns what they selected once fs is parsed: -strict
// turns every one on, the others one each.
func behaviourFlags(fs *flag.FlagSet) func() mockphp.ServerBehaviour {
	strict := fs.Bool("strict", false, "serve FHIR as strictly as real servers may: every behaviour below")
	var b mockphp.ServerBehaviour
	fs.BoolVar(&b.TypedReferences, "typed-references", false, "reference searches match only Patient/<id>; a bare id matches nothing")
	fs.BoolVar(&b.UUIDVersions, "uuid-versions", false, "meta.versionId is an opaque UUID, not 1, 2, 3")
	fs.BoolVar(&b.OffsetPaging, "offset-paging", false, "searches carry no Bundle.link; page with _count and _offset")
	fs.BoolVar(&b.IgnoreCount, "ignore-count", false, fmt.Sprintf("ignore _count; pages hold %d entries", mockphp.IgnoredCountPageSize))
	fs.BoolVar(&b.NoCapabilityStatement, "no-capability-statement", false, "GET metadata answers 404")
	fs.BoolVar(&b.RequireIfMatch, "require-if-match", false, "a Patient update without If-Match answers 428")
	fs.BoolVar(&b.NoTombstones, "no-tombstones", false, "a deleted resource reads 404 and has no history")
	return func() mockphp.ServerBehaviour {
		if *strict {
			return mockphp.StrictAll()
		}
		return b
	}
}
