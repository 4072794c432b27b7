package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/storeurl"
)

// errorWidth bounds the error shown in a listing: the first line of an
// error is whole up to this many characters; show prints all of it.
const errorWidth = 300

func deadLetters(ctx context.Context, s storeurl.Store, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "show" {
		return showDeadLetter(ctx, s, args[1:], stdout)
	}
	fs := flag.NewFlagSet("dead-letters", flag.ContinueOnError)
	fs.SetOutput(stderr)
	limit := fs.Int("limit", 50, "how many, newest first")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return fmt.Errorf("dead-letters [-limit N] | dead-letters show JOB_ID: %w", errUsage)
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
	fmt.Fprintln(w, "JOB\tKIND\tSINK\tOPS\tATTEMPTS\tFAILED\tERROR")
	for _, d := range dead {
		fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%d\t%s\t%s\n", d.JobID, d.Op, orDash(sinkOf(d)), d.Ops, d.Attempts,
			stamp(d.FailedAt), firstLine(d.Error, errorWidth))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\nhrctl dead-letters show JOB_ID prints a job's every error and its ops.")
	return nil
}

func showDeadLetter(ctx context.Context, s storeurl.Store, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("dead-letters show JOB_ID: %w", errUsage)
	}
	id, err := jobID(args[0])
	if err != nil {
		return err
	}
	d, err := s.DeadLetter(ctx, id)
	if err != nil {
		return err
	}
	what := d.Op
	if sink := sinkOf(d); sink != "" {
		what += " to sink " + sink
	}
	fmt.Fprintf(stdout, "job %d: %s, %s\n", d.JobID, what, d.State)
	fmt.Fprintf(stdout, "failed:   %s after %s\n", stamp(d.FailedAt), plural(d.Attempts, "attempt"))
	fmt.Fprintf(stdout, "ops:      %d\n", d.Ops)
	fmt.Fprintf(stdout, "\nlast error:\n%s\n", indent(d.Error, "  "))
	fmt.Fprintln(stdout, "\nattempts:")
	for _, a := range d.Errors {
		fmt.Fprintf(stdout, "  %d  %s\n%s\n", a.Attempt, stamp(a.At), indent(a.Error, "     "))
		if a.Trace != "" {
			fmt.Fprintf(stdout, "     trace:\n%s\n", indent(a.Trace, "       "))
		}
	}
	var ops bytes.Buffer
	if json.Indent(&ops, d.Args, "  ", "  ") != nil {
		ops.Reset()
		ops.Write(d.Args)
	}
	fmt.Fprintf(stdout, "\nargs (ids and versions):\n  %s\n", ops.String())
	return nil
}

// sinkOf is the sink of a dead delivery, from its queue; empty otherwise.
func sinkOf(d store.DeadLetter) string {
	if sink, ok := strings.CutPrefix(d.Queue, store.QueueDeliver("")); ok {
		return sink
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// firstLine is s's first line, cut at most characters; an ellipsis marks
// that there is more.
func firstLine(s string, most int) string {
	line, rest, _ := strings.Cut(strings.TrimSpace(s), "\n")
	line = strings.ReplaceAll(strings.TrimSpace(line), "\t", " ")
	more := strings.TrimSpace(rest) != ""
	if r := []rune(line); len(r) > most {
		line, more = string(r[:most-1]), true
	}
	if more {
		line += " …"
	}
	return line
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
