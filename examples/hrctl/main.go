// Command hrctl is the operator's tool for a healthcare-records database:
// it lists the dead letters (batches of ops that failed for good) and
// replays them once their cause is fixed.
//
//	hrctl [-database-url URL] dead-letters [-limit N]
//	hrctl [-database-url URL] replay JOB_ID...
//
// The database URL defaults to $DATABASE_URL, then to the example server's
// default SQLite file. It prints ids, kinds, errors and the ops' refs and
// versions: no patient data.
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
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/storeurl"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// errUsage marks a command line hrctl cannot run.
var errUsage = errors.New("usage: hrctl [-database-url URL] dead-letters [-limit N] | replay JOB_ID...")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hrctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbURL := fs.String("database-url", envOr("DATABASE_URL", "./healthcare-records.db"), "database: "+storeurl.Accepted)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, errUsage)
		return 2
	}
	quiet := slog.New(slog.DiscardHandler)
	s, err := storeurl.Open(ctx, *dbURL, store.Config{Logger: quiet})
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
	default:
		err = fmt.Errorf("unknown command %q: %w", cmd, errUsage)
	}
	switch {
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, "hrctl:", err)
		return 2
	case err != nil:
		fmt.Fprintln(stderr, "hrctl:", err)
		return 1
	}
	return 0
}

func deadLetters(ctx context.Context, s storeurl.Store, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dead-letters", flag.ContinueOnError)
	fs.SetOutput(stderr)
	limit := fs.Int("limit", 50, "how many, newest first")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	dead, err := s.DeadLetters(ctx, *limit)
	if err != nil {
		return err
	}
	if len(dead) == 0 {
		fmt.Fprintln(stdout, "no dead letters")
		return nil
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "JOB\tKIND\tATTEMPTS\tFAILED\tERROR\tOPS")
	for _, d := range dead {
		fmt.Fprintf(w, "%d\t%s\t%d\t%s\t%s\t%s\n", d.JobID, d.Kind, d.Attempts,
			d.FailedAt.UTC().Format(time.RFC3339), oneLine(d.Error, 120), d.Args)
	}
	return w.Flush()
}

func replay(ctx context.Context, s storeurl.Store, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	for _, a := range args {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			return fmt.Errorf("job id %q: %w", a, errUsage)
		}
		if err := s.Replay(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "job %d queued again\n", id)
	}
	return nil
}

func oneLine(s string, most int) string {
	r := []rune(s)
	for i, c := range r {
		if c == '\n' || c == '\t' {
			r[i] = ' '
		}
	}
	if len(r) > most {
		return string(r[:most-1]) + "…"
	}
	return string(r)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
