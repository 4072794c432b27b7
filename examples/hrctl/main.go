// Command hrctl is the operator's tool for a healthcare-records database:
// it lists the dead letters (batches of ops that failed for good), shows
// one in full, replays them once their cause is fixed, and asks for a
// source's records to be delivered to a sink again.
//
//	hrctl [-database-url URL] dead-letters [-limit N]
//	hrctl [-database-url URL] dead-letters show JOB_ID
//	hrctl [-database-url URL] replay JOB_ID...
//	hrctl [-database-url URL] redeliver -sink NAME [-source NAME] [-patient ID]
//	hrctl [-database-url URL] users create -role ROLE -email EMAIL -name NAME [-patient-id ID]
//
// Flags take one dash or two (-sink or --sink).
//
// The database URL defaults to $DATABASE_URL, then to the example server's
// default SQLite file. hrctl opens only a database a server made: a SQLite
// file that does not exist, or a database without the store, is an error,
// never created.
//
// dead-letters lists job ids, op kinds (pull, deliver, reconcile), the sink
// of a delivery, attempts, when the job failed and the first line of its
// last error. dead-letters show prints one job's whole last error, every
// attempt's error with its time, and its ops. Both print ids, versions and
// errors: no patient data.
//
// replay runs dead letters again, with a full set of attempts; any other
// job (waiting, running or completed) is refused, so that work done is
// never repeated by mistake. Fix the cause first: a replay that meets the
// same permanent error is dead again at once.
//
// redeliver is for a database reused with a sink that lost what it held:
// a new, empty Carepatron workspace, or a sink restored from an older
// backup. The engine trusts its record of what each sink holds, so without
// it those records are never written again. It enqueues one delivery of
// each patient of the source (or of one patient with -patient) and of
// their live documents to the sink, written even where the record says the
// sink has them; a running server configured with that sink (the example
// server's is named carepatron) performs them. hrctl itself writes nothing
// to the sink. It is not needed after restoring the database itself: the
// engine's reconcile repairs that.
//
// users create makes a user of the practice service without anyone
// signed in: the first admin of a new database. The password is read from
// standard input, at a prompt that does not echo it on a terminal, or as
// the first line of a pipe or file; never from the command line. See
// docs/auth.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"

	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/storeurl"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// defaultDatabase is the example server's default SQLite file.
const defaultDatabase = "./healthcare-records.db"

// errUsage marks a command line hrctl cannot run.
var errUsage = errors.New("usage: hrctl [-database-url URL] COMMAND")

const usage = `usage: hrctl [-database-url URL] COMMAND

commands:
  dead-letters [-limit N]     list the dead letters, newest first
  dead-letters show JOB_ID    show one dead letter: every attempt's error, its ops
  replay JOB_ID...            run dead letters again once their cause is fixed
  redeliver -sink NAME [-source NAME] [-patient ID]
                              deliver a source's records to a sink again, for a
                              sink that is empty or restored; a running server
                              performs the deliveries
  users create -role ROLE -email EMAIL -name NAME [-patient-id ID]
                              create a user (the first admin); the password is
                              read from standard input

flags:
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hrctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	// The default is resolved after parsing, so that help never shows
	// DATABASE_URL and the password in it.
	dbURL := fs.String("database-url", "", "database: "+storeurl.Accepted+
		" (default $DATABASE_URL, then "+defaultDatabase+")")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dbURL == "" {
		*dbURL = envOr("DATABASE_URL", defaultDatabase)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	quiet := slog.New(slog.DiscardHandler)
	s, err := storeurl.OpenExisting(ctx, *dbURL, store.Config{Logger: quiet})
	if errors.Is(err, storeurl.ErrNoDatabase) {
		err = fmt.Errorf("%w: set -database-url or DATABASE_URL", err)
	}
	if err != nil {
		fmt.Fprintln(stderr, "hrctl:", err)
		return 1
	}
	defer s.Close()

	switch cmd, rest := fs.Arg(0), fs.Args()[1:]; cmd {
	case "dead-letters":
		err = deadLetters(ctx, s, rest, stdout, stderr)
	case "replay":
		err = replay(ctx, s, rest, stdout)
	case "redeliver":
		err = redeliver(ctx, s, rest, stdout, stderr)
	case "users":
		err = users(ctx, s, rest, stdin, stdout, stderr)
	default:
		err = fmt.Errorf("unknown command %q: %w", cmd, errUsage)
	}
	switch {
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, "hrctl:", err)
		fs.Usage()
		return 2
	case err != nil:
		fmt.Fprintln(stderr, "hrctl:", err)
		return 1
	}
	return 0
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
