package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/present"
	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/storeurl"
	"github.com/healthcare-records/healthcare-records/webhook"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // the server could not start, or failed while running
	exitConfig = 2 // a setting is missing or invalid
)

// enrollTimeout bounds how long start-up enrollment waits for the
// patients to be pulled from the provider.
const enrollTimeout = 2 * time.Minute

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr))
}

// configError marks a failure a person fixes by changing a setting.
type configError struct{ err error }

func (e configError) Error() string { return e.err.Error() }
func (e configError) Unwrap() error { return e.err }

// run is the whole program; it returns the exit code. Start-up errors are
// printed to stderr as one plain line per problem; once the logger exists
// everything is logged as JSON too.
func run(ctx context.Context, args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) int {
	cfg, err := LoadConfig(args, lookup, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err == nil && !cfg.Demo {
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintf(stderr, "webhook-server: invalid configuration:\n  %s\n", indent(err))
		return exitConfig
	}
	log := newLogger(stderr, cfg.LogLevel)
	slog.SetDefault(log)

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, cfg, log, stdout); err != nil {
		log.Error("server failed", "err", err)
		var ce configError
		if errors.As(err, &ce) {
			fmt.Fprintf(stderr, "webhook-server: invalid configuration:\n  %s\n", indent(ce.err))
			return exitConfig
		}
		fmt.Fprintf(stderr, "webhook-server: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// serve starts everything, serves until ctx ends, then shuts down in
// order within one SHUTDOWN_TIMEOUT: changes and HTTP first, then the
// workers with what time is left, then the database.
func serve(ctx context.Context, cfg *Config, log *slog.Logger, stdout io.Writer) (err error) {
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return configError{fmt.Errorf("%s: %w", settingName("LISTEN_ADDR"), err)}
	}
	defer ln.Close()
	origin := "http://" + loopbackAddr(ln.Addr())

	var dm *demo
	if cfg.Demo {
		if dm, err = startDemo(cfg, log); err != nil {
			return err
		}
		defer dm.close()
		if err := cfg.Validate(); err != nil {
			return fmt.Errorf("demo configuration: %w", err)
		}
	}
	for _, w := range cfg.Warnings() {
		log.Warn("configuration: " + w)
	}

	src, err := newSource(cfg, log)
	if err != nil {
		return configError{err}
	}
	sink, err := newSink(cfg, log)
	if err != nil {
		return configError{err}
	}
	probes, err := newProbes(cfg, log.With("component", "readiness"))
	if err != nil {
		return configError{err}
	}
	reg, metrics := newMetrics()
	// River logs job counts every few seconds at info: keep them for
	// LOG_LEVEL=debug. It logs a failure in a loop while the database is
	// down: thin the repeats.
	storeLevel := max(cfg.LogLevel, slog.LevelWarn)
	if cfg.LogLevel <= slog.LevelDebug {
		storeLevel = cfg.LogLevel
	}
	sender, err := newSMTPSender(cfg, log)
	if err != nil {
		return configError{err}
	}
	notes := newNotifications(cfg, sender, log)
	db, err := openStore(ctx, cfg.DatabaseURL, store.Config{
		PullWorkers: cfg.PullWorkers, DeliverWorkers: cfg.DeliverWorkers,
		JobTimeout: cfg.JobTimeout, RescueAfter: cfg.RescueAfter,
		Periodic:  append(periodicTasks(cfg, metrics, log), notes.periodic()...),
		Email:     notes.email,
		Retention: retention(cfg.Retention),
		Logger:    rateLimited(quieter(log, storeLevel), cfg.LogRepeatInterval, nil),
	})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close database: %w", cerr)
		}
	}()
	log.Info("database open", "kind", db.kind, "database", storeurl.Redact(cfg.DatabaseURL))
	reg.MustRegister(newBacklogCollector(db.Backlog,
		[]string{store.QueuePull, store.QueueReconcile, store.QueuePeriodic, store.QueueProvider, store.QueueDeliver(sinkName)}, log))

	engine, err := connector.New(connector.Config{
		Store:    db,
		Progress: storeurl.Progress(db.Store),
		Sources:  map[string]connector.Source{cfg.Source: src},
		Sinks:    map[string]connector.Sink{sinkName: sink},
		// Every op that dies is logged: thin them when a sink refuses all.
		Observer:    newObserver(reg, rateLimited(log.With("component", "engine"), cfg.LogRepeatInterval, nil)),
		Logger:      log.With("component", "engine"),
		StreamAbove: cfg.StreamAbove,
		SpoolDir:    cfg.SpoolDir,
		// A PDF's and a C-CDA narrative's words are searchable too.
		ExtractText: present.Extractor(present.Limits{}),
		// Runs done, failures, write-backs and significant changes
		// notify, in the transactions that record them.
		Notifier: notes.engineNotifier(),
	})
	if err != nil {
		return err
	}
	// Webhooks ingest through the store's grouped Ingester: concurrent
	// requests share one commit, so intake grows with the senders'
	// concurrency instead of being capped by commits per second.
	receivers, err := newReceivers(cfg, storeurl.NewIngester(db.Store, engine), reg, log)
	if err != nil {
		return configError{err}
	}

	// Background work stops when bg is cancelled, before the workers stop.
	bg, cancelBG := context.WithCancel(ctx)
	defer cancelBG()
	var wg sync.WaitGroup
	wg.Go(func() { logProgress(bg, engine, metrics, log) })

	if err := notes.open(db, origin); err != nil {
		return err
	}
	if err := db.Start(context.WithoutCancel(ctx), engine); err != nil {
		return err
	}
	workersStopped := false
	defer func() {
		if !workersStopped {
			sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
			defer cancel()
			_ = db.Stop(sctx)
		}
	}()
	metrics.workers.Set(1)

	// Credentials and the database are checked before the first request,
	// so that /readyz and the log tell at once what is wrong; then again
	// in the background.
	ready := newReadiness(reg, log.With("component", "readiness"), workersCheck(db, metrics),
		append([]probe{databaseProbe(db.CheckWritable)}, probes...)...)
	ready.checkAll(ctx)
	wg.Go(func() { ready.run(bg) })

	prod, err := newProduct(cfg, db, engine, src, notes.notifier, log)
	if err != nil {
		return err
	}
	defer prod.svc.Close()
	if err := firstAdmin(ctx, cfg, db, log); err != nil {
		return err
	}
	mails, err := startMail(cfg, prod.svc, log)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		if serr := mails.stop(sctx); serr != nil {
			log.Warn("inquiry listener shutdown", "err", serr)
		}
	}()

	srv := newHTTPServer(newHandler(ready, receivers, reg, prod), log)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(webhook.LimitListener(ln, cfg.MaxConns)) }()
	log.Info("listening", "addr", ln.Addr().String(), "source", cfg.Source,
		"webhook_format", cfg.WebhookFormat, "poll_interval_ms", cfg.PollInterval.Milliseconds(),
		"sweep_interval_ms", cfg.SweepInterval.Milliseconds(), "retention_ms", cfg.Retention.Milliseconds(), "demo", cfg.Demo)

	for _, r := range receivers {
		wg.Go(func() { _ = r.Run(bg) })
	}

	patients := cfg.SyncPatients
	if dm != nil {
		if err := dm.connect(bg, origin+"/webhooks/"+cfg.Source, cfg.WebhookSecrets); err != nil {
			return err
		}
		patients = append(patients, dm.patients()...)
		wg.Go(func() { dm.touch(bg, cfg.DemoTouchEvery) })
		dm.printBanner(stdout, origin, cfg, mails.addr)
	}
	wg.Go(func() {
		if err := enroll(bg, engine, db, cfg.Source, patients, enrollTimeout, log); err != nil && bg.Err() == nil {
			log.Error("enrolling patients failed", "err", err)
		}
		if dm == nil || bg.Err() != nil {
			return
		}
		// The demo's users, once its patients are known: the dietician
		// takes them on, and the first becomes the patient user's.
		users, err := demoUsers(bg, db, time.Now())
		if err != nil {
			log.Error("demo users failed", "err", err)
			return
		}
		printUsers(stdout, origin, users)
		// Mailed once the dietician exists, whose notification and
		// email it makes: the demo's mail listing shows that email.
		if err := mails.seedInquiry(demoInquiryRcpt[0]); err != nil {
			log.Error("demo inquiry failed", "err", err)
		}
	})

	select {
	case <-ctx.Done():
		log.Info("shutting down", "deadline_ms", cfg.ShutdownTimeout.Milliseconds())
	case err := <-serveErr:
		return fmt.Errorf("http server: %w", err)
	}

	// Stop making and accepting changes, then let the workers finish what
	// they hold within what is left of the deadline; what they do not
	// finish is retried on the next start.
	start := time.Now()
	cancelBG()
	if dm != nil {
		dm.stopChanges()
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	workersStopped = true
	httpErr, workersErr := drain(sctx, srv.Shutdown, wg.Wait, db.Stop)
	if httpErr != nil {
		log.Warn("http shutdown", "err", httpErr)
	}
	if workersErr != nil {
		return fmt.Errorf("stop workers: %w", workersErr)
	}
	log.Info("stopped cleanly", "took_ms", time.Since(start).Milliseconds())
	return nil
}

// drain stops HTTP, waits for the background work, then stops the
// workers, all within ctx's one deadline: the workers get what HTTP left,
// not a deadline of their own, so shutdown never takes longer than
// SHUTDOWN_TIMEOUT. Workers still running at the deadline are cancelled
// (their jobs are retried on the next start).
func drain(ctx context.Context, stopHTTP func(context.Context) error, wait func(), stopWorkers func(context.Context) error) (httpErr, workersErr error) {
	httpErr = stopHTTP(ctx)
	wait()
	return httpErr, stopWorkers(ctx)
}

// loopbackAddr is addr as this host reaches it: an unspecified IP (":8080")
// becomes the loopback address.
func loopbackAddr(addr net.Addr) string {
	ta, ok := addr.(*net.TCPAddr)
	if !ok || !ta.IP.IsUnspecified() {
		return addr.String()
	}
	return net.JoinHostPort("127.0.0.1", fmt.Sprint(ta.Port))
}

// indent puts each error of a joined error on its own indented line.
func indent(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "\n  ")
}
