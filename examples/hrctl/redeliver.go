package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/store/storeurl"
)

// redeliver enqueues deliveries of a source's records to a sink that lost
// them; the workers of a running server perform them.
func redeliver(ctx context.Context, s storeurl.Store, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("redeliver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var r connector.Redelivery
	fs.StringVar(&r.Sink, "sink", "", "the sink to write to, as the server names it (the example server's is carepatron; required)")
	fs.StringVar(&r.Source, "source", "php", "the source whose patients are redelivered")
	fs.StringVar(&r.Patient, "patient", "", "only this patient, by the source's id (default every patient)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || r.Sink == "" || r.Source == "" {
		return fmt.Errorf("redeliver -sink NAME [-source NAME] [-patient ID]: %w", errUsage)
	}
	n, err := connector.Redeliver(ctx, s, r)
	if err != nil {
		return err
	}
	if n == 0 {
		fmt.Fprintf(stdout, "nothing to redeliver: this database holds no patient of source %s\n", r.Source)
		return nil
	}
	fmt.Fprintf(stdout, "%d deliveries to sink %s enqueued: a running server with sink %s performs them\n", n, r.Sink, r.Sink)
	return nil
}
