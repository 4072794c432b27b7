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
	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/storeurl"
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
// order: changes and HTTP first, then the workers within the deadline,
// then the database.
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

	src, err := newSource(cfg, log)
	if err != nil {
		return configError{err}
	}
	sink, err := newSink(cfg, log)
	if err != nil {
		return configError{err}
	}
	reg, metrics := newMetrics()
	// River logs job counts every few seconds at info: keep them for
	// LOG_LEVEL=debug.
	storeLevel := max(cfg.LogLevel, slog.LevelWarn)
	if cfg.LogLevel <= slog.LevelDebug {
		storeLevel = cfg.LogLevel
	}
	db, err := openStore(ctx, cfg.DatabaseURL, store.Config{
		PullWorkers: cfg.PullWorkers, DeliverWorkers: cfg.DeliverWorkers,
		JobTimeout: cfg.JobTimeout, RescueAfter: cfg.RescueAfter,
		Periodic:  periodicTasks(cfg, metrics, log),
		Retention: retention(cfg.Retention),
		Logger:    quieter(log, storeLevel),
	})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close database: %w", cerr)
		}
	}()
	log.Info("database open", "kind", db.kind, "database", describeDatabase(cfg.DatabaseURL))

	engine, err := connector.New(connector.Config{
		Store:    db,
		Progress: storeurl.Progress(db.Store),
		Sources:  map[string]connector.Source{cfg.Source: src},
		Sinks:    map[string]connector.Sink{sinkName: sink},
		Logger:   log.With("component", "engine"),
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

	if err := db.Start(context.WithoutCancel(ctx), engine); err != nil {
		return err
	}
	stopWorkers := func() error {
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		return db.Stop(sctx)
	}
	workersStopped := false
	defer func() {
		if !workersStopped {
			_ = stopWorkers()
		}
	}()
	metrics.workers.Set(1)

	srv := newHTTPServer(newHandler(db, receivers, reg, metrics, log), log)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "source", cfg.Source,
		"webhook_format", cfg.WebhookFormat, "poll_interval", cfg.PollInterval.String(),
		"sweep_interval", cfg.SweepInterval.String(), "retention", cfg.Retention.String(), "demo", cfg.Demo)

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
		dm.printBanner(stdout, origin, cfg)
	}
	wg.Go(func() {
		if err := enroll(bg, engine, db, cfg.Source, patients, enrollTimeout, log); err != nil && bg.Err() == nil {
			log.Error("enrolling patients failed", "err", err)
		}
	})

	select {
	case <-ctx.Done():
		log.Info("shutting down", "deadline", cfg.ShutdownTimeout.String())
	case err := <-serveErr:
		return fmt.Errorf("http server: %w", err)
	}

	// Stop making and accepting changes, then let the workers finish what
	// they hold within the deadline; what they do not finish is retried on
	// the next start.
	cancelBG()
	if dm != nil {
		dm.stopChanges()
	}
	hctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(hctx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	wg.Wait()
	workersStopped = true
	if err := stopWorkers(); err != nil {
		return fmt.Errorf("stop workers: %w", err)
	}
	log.Info("stopped cleanly")
	return nil
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
