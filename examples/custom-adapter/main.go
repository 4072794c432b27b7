// Command custom-adapter syncs a folder of FHIR JSON files into another
// folder through the engine on SQLite, using the adapter of package
// folder (examples/custom-adapter/folder), wired the way a service wires
// any Source and Sink. It prints what it did.
//
//	go run ./examples/custom-adapter                  # the bundled testdata into a new temporary folder
//	go run ./examples/custom-adapter -from DIR -to DIR
//
// The -to folder holds the engine's database (engine.db) and the Sink's
// folder (sink/). Run it again with the same -to after changing a file in
// -from (a newer meta.versionId and meta.lastUpdated) and only that file is
// listed, pulled and written; run it again with nothing changed and the
// Sink sees no write at all.
package main

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/examples/custom-adapter/folder"
	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
)

//go:embed testdata/*.json
var bundled embed.FS

func main() {
	from := flag.String("from", "", "folder of FHIR JSON files, one resource per file (default: the bundled testdata)")
	to := flag.String("to", "", "folder for the engine's database and the sink's files (default: a new temporary folder)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := start(ctx, *from, *to); err != nil {
		fmt.Fprintln(os.Stderr, "custom-adapter:", err)
		os.Exit(1)
	}
}

func start(ctx context.Context, from, to string) error {
	provider, err := fs.Sub(bundled, "testdata")
	if err != nil {
		return err
	}
	if from != "" {
		// An os.Root's FS cannot be led outside the folder, not even by a
		// symbolic link.
		root, err := os.OpenRoot(from)
		if err != nil {
			return fmt.Errorf("-from: %w", err)
		}
		defer root.Close()
		provider = root.FS()
	}
	if to == "" {
		if to, err = os.MkdirTemp("", "custom-adapter-"); err != nil {
			return fmt.Errorf("-to: %w", err)
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := run(ctx, os.Stdout, provider, to, log); err != nil {
		return err
	}
	fmt.Printf("the sink's files are in %s\n", filepath.Join(to, "sink"))
	return nil
}

// Names the adapters are registered under: the Source's name is the
// System of every Ref it produces.
const (
	sourceName = "files"
	sinkName   = "folder"
)

// run syncs the FHIR files in provider into dir/sink through an engine on
// dir/engine.db, and reports each step to w.
func run(ctx context.Context, w io.Writer, provider fs.FS, dir string, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()

	st, err := sqlite.Open(ctx, filepath.Join(dir, "engine.db"), store.Config{FetchPollInterval: 10 * time.Millisecond, Logger: log})
	if err != nil {
		return err
	}
	defer st.Close()

	src := folder.NewSource(provider, folder.SourceConfig{Name: "Example Clinic", PageSize: 2})
	sink, err := folder.OpenSink(filepath.Join(dir, "sink"))
	if err != nil {
		return err
	}
	defer sink.Close()

	engine, err := connector.New(connector.Config{
		Store:   st,
		Sources: map[string]connector.Source{sourceName: src},
		Sinks:   map[string]connector.Sink{sinkName: sink},
		Logger:  log,
		Retry:   connector.Backoff{Initial: 100 * time.Millisecond, Max: 2 * time.Second},
	})
	if err != nil {
		return err
	}
	if err := st.Start(ctx, engine); err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		st.Stop(stopCtx)
	}()

	// A provider's first webhook would announce its patients; here the
	// Source lists them. Ingest returns once the pulls are durable.
	patients, err := src.Patients(ctx)
	if err != nil {
		return err
	}
	ev := connector.Event{ID: "announce-patients", Source: sourceName, Action: connector.ActionWebhook}
	for _, p := range patients {
		p.System = sourceName
		ev.Changes = append(ev.Changes, connector.Change{Kind: connector.ChangeUpsert, Ref: p})
	}
	res, err := engine.Ingest(ctx, ev)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "ingested event %s: %d patients, %d pulls enqueued (duplicate: %t)\n", ev.ID, len(patients), res.Enqueued, res.Duplicate)
	if err := waitIdle(ctx, st); err != nil {
		return err
	}
	fmt.Fprintf(w, "sink writes: %d\n", sink.Writes())

	// Sync each patient: list what changed since the saved cursor, pull
	// it, deliver it. Then once more, to show that nothing is written twice.
	for _, round := range []string{"synced", "synced again"} {
		before := sink.Writes()
		for _, p := range patients {
			prog, err := syncPatient(ctx, engine, p.ID)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%s patient %s: %d of %d listed documents pulled, %d failed\n", round, p.ID, prog.Done, prog.Total, prog.Errors)
		}
		if err := waitIdle(ctx, st); err != nil {
			return err
		}
		fmt.Fprintf(w, "sink writes: %d\n", sink.Writes()-before)
	}

	docs, err := sink.Documents()
	if err != nil {
		return err
	}
	slices.SortFunc(docs, func(a, b folder.Document) int { return cmp.Compare(a.Ref.ID, b.Ref.ID) })
	fmt.Fprintf(w, "the sink holds %d documents:\n", len(docs))
	for _, d := range docs {
		fmt.Fprintf(w, "  %s/%s version %s: %s, %s, %d bytes\n", d.Ref.Type, d.Ref.ID, d.Version, d.Type, d.ContentType, d.Size)
	}
	dead, err := st.DeadLetters(ctx, 10)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "dead letters: %d\n", len(dead))
	return nil
}

// syncPatient enqueues a reconcile of one patient and waits for its
// progress to reach PhaseDone.
func syncPatient(ctx context.Context, engine *connector.Engine, patient string) (connector.Progress, error) {
	progress, stop := engine.Progress().Subscribe(0)
	defer stop()
	run, err := engine.Sync(ctx, sourceName, patient, connector.ActionManualSync, false)
	if err != nil {
		return connector.Progress{}, err
	}
	for {
		select {
		case p := <-progress:
			if p.Run == run && p.Phase == connector.PhaseDone {
				return p, nil
			}
		case <-ctx.Done():
			return connector.Progress{}, fmt.Errorf("sync patient %s: %w", patient, ctx.Err())
		}
	}
}

// waitIdle waits until no op is queued or running: every pull and
// delivery the last step caused is done.
func waitIdle(ctx context.Context, st *sqlite.Store) error {
	for {
		idle, err := st.Idle(ctx)
		if err != nil || idle {
			return err
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			return errors.New("waiting for the engine to finish: " + ctx.Err().Error())
		}
	}
}
