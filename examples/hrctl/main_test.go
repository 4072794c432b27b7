package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

// refusing fails every document write for good while refuse is set, with
// an error longer than a line and of more than one line.
type refusing struct {
	*connectortest.Sink
	refuse bool
}

var refusal = "the platform refused the document: " + strings.Repeat("detail ", 25)

func (r *refusing) PutDocument(ctx context.Context, w connector.DocumentWrite) (string, error) {
	if r.refuse {
		return "", fmt.Errorf("%w: %s\nresponse body: {\"code\":\"rejected\"}", connector.ErrPermanent, refusal)
	}
	return r.Sink.PutDocument(ctx, w)
}

// serve runs a server on the database at db until it is idle and done
// holds, then stops it: a server's life between two runs of hrctl. during,
// if set, runs while the server does.
func serve(t *testing.T, db string, src connector.Source, sink connector.Sink, during func(*connector.Engine), done func() bool) {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, db, storetest.FastConfig())
	require.NoError(t, err)
	defer s.Close()
	e, err := connector.New(connector.Config{Store: s, Sources: map[string]connector.Source{"php": src},
		Sinks: map[string]connector.Sink{"cp": sink}, Retry: storetest.FastRetry, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	require.NoError(t, s.Start(ctx, e))
	defer s.Stop(ctx)
	if during != nil {
		during(e)
	}
	storetest.WaitIdle(t, s, 30*time.Second, done)
}

// withDeadLetter returns a database whose one delivery died, and the
// source and sink of its server.
func withDeadLetter(t *testing.T) (string, *connectortest.Source, *refusing) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "hr.db")
	src := connectortest.NewSource(connectortest.SourceConfig{Name: "php"})
	_, err := src.Fill(1, 1)
	require.NoError(t, err)
	doc := src.Documents()[0]
	sink := &refusing{Sink: connectortest.NewSink(connectortest.SinkConfig{}), refuse: true}
	serve(t, db, src, sink, func(e *connector.Engine) { ingest(t, e, src, doc) }, nil)
	return db, src, sink
}

// ingest tells the engine of changes to docs.
func ingest(t *testing.T, e *connector.Engine, src *connectortest.Source, docs ...connector.Document) {
	t.Helper()
	ev := connector.Event{ID: "e1", Source: "php"}
	for _, d := range docs {
		ev.Changes = append(ev.Changes, connector.Change{Kind: connector.ChangeUpsert, Ref: src.DocumentRef(d.Ref.ID), Version: d.Version})
	}
	_, err := e.Ingest(context.Background(), ev)
	require.NoError(t, err)
}

// hrctl runs the command line and returns its exit code, stdout and stderr.
func hrctl(args ...string) (int, string, string) {
	var out, errs bytes.Buffer
	code := run(context.Background(), args, &out, &errs)
	return code, out.String(), errs.String()
}

// onlyJob is the job id of a listing's one row.
func onlyJob(t *testing.T, listing string) string {
	t.Helper()
	lines := strings.Split(listing, "\n")
	require.Greater(t, len(lines), 2, listing)
	job := strings.Fields(lines[1])[0]
	_, err := strconv.ParseInt(job, 10, 64)
	require.NoError(t, err, listing)
	return job
}

func TestDeadLettersListing(t *testing.T) {
	db, src, _ := withDeadLetter(t)
	doc := src.Documents()[0]

	code, out, errs := hrctl("-database-url", db, "dead-letters")
	require.Equal(t, 0, code, errs)
	lines := strings.Split(out, "\n")
	assert.Regexp(t, `^JOB +KIND +SINK +OPS +ATTEMPTS +FAILED +ERROR$`, lines[0])
	assert.Regexp(t, `^\d+ +deliver +cp +2 +1 +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +`, lines[1], "our op kind, not River's")
	assert.NotContains(t, out, "hr_deliver")
	assert.NotContains(t, out, "JobCancelError")
	assert.Contains(t, lines[1], strings.TrimSpace(refusal)+" …", "the first line whole, and a mark of more")
	assert.NotContains(t, out, "response body", "one line a job")
	assert.NotContains(t, out, doc.Title, "ids and errors only")
	job := onlyJob(t, out)

	code, out, errs = hrctl("-database-url", db, "dead-letters", "show", job)
	require.Equal(t, 0, code, errs)
	for _, want := range []string{
		"job " + job + ": deliver to sink cp, cancelled\n",
		"after 1 attempt\n",
		"ops:      2\n",
		"last error:\n  deliver php/DocumentReference/" + doc.Ref.ID + " to cp: permanent failure: " + refusal + "\n  response body: {\"code\":\"rejected\"}\n",
		"attempts:\n  1  ",
		`"id": "` + doc.Ref.ID + `"`,
		`"version": "` + doc.Version + `"`,
	} {
		assert.Contains(t, out, want)
	}
	assert.Regexp(t, regexp.MustCompile(`(?m)^  1  \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n     deliver php/DocumentReference/doc-1 to cp: permanent failure: the platform refused`), out, "each attempt with its time")
	assert.NotContains(t, out, doc.Title, "ids and versions only")
	assert.NotContains(t, out, "hr_deliver")
	assert.NotContains(t, out, "JobCancelError", "our error, not River's type name")

	code, _, errs = hrctl("-database-url", db, "dead-letters", "show", "999999")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "job 999999: not found")
}

func TestReplay(t *testing.T) {
	db, src, sink := withDeadLetter(t)
	_, out, _ := hrctl("-database-url", db, "dead-letters")
	job := onlyJob(t, out)

	code, out, errs := hrctl("-database-url", db, "replay", job)
	require.Equal(t, 0, code, errs)
	assert.Equal(t, "job "+job+" queued again\n", out)

	// The server comes back with the cause fixed and delivers.
	sink.refuse = false
	serve(t, db, src, sink, nil, func() bool { return len(sink.Documents()) == 1 })
	code, out, _ = hrctl("-database-url", db, "dead-letters")
	require.Equal(t, 0, code)
	assert.Equal(t, "no dead letters\n", out)

	// The job completed: replaying it again would deliver again.
	code, out, errs = hrctl("-database-url", db, "replay", job)
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	assert.Contains(t, errs, "job "+job+" is not a dead letter (state completed)")
	code, _, errs = hrctl("-database-url", db, "dead-letters", "show", job)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "job "+job+" is not a dead letter (state completed)")
}

func TestRedeliver(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hr.db")
	src := connectortest.NewSource(connectortest.SourceConfig{Name: "php"})
	patients, err := src.Fill(2, 2)
	require.NoError(t, err)
	first := connectortest.NewSink(connectortest.SinkConfig{})
	serve(t, db, src, first, func(e *connector.Engine) { ingest(t, e, src, src.Documents()...) },
		func() bool { return len(first.Documents()) == 4 })

	// The database is reused with an empty sink: the server alone never
	// writes to it, since its mapping says the sink holds everything.
	empty := connectortest.NewSink(connectortest.SinkConfig{})
	serve(t, db, src, empty, nil, nil)
	require.Empty(t, empty.Documents())

	serve(t, db, src, empty, func(*connector.Engine) {
		code, out, errs := hrctl("-database-url", db, "redeliver", "--sink", "cp", "--patient", patients[0].Ref.ID)
		require.Equal(t, 0, code, errs)
		assert.Equal(t, "3 deliveries to sink cp enqueued: a running server with sink cp performs them\n", out)
	}, func() bool { return len(empty.Documents()) == 2 && len(empty.Patients()) == 1 })

	serve(t, db, src, empty, func(*connector.Engine) {
		code, out, errs := hrctl("-database-url", db, "redeliver", "-sink", "cp")
		require.Equal(t, 0, code, errs)
		assert.Equal(t, "6 deliveries to sink cp enqueued: a running server with sink cp performs them\n", out)
	}, func() bool { return len(empty.Documents()) == 4 && len(empty.Patients()) == 2 })
	require.NoError(t, empty.Check())

	code, out, errs := hrctl("-database-url", db, "redeliver", "-sink", "cp", "-source", "elsewhere")
	assert.Equal(t, 0, code, errs)
	assert.Equal(t, "nothing to redeliver: this database holds no patient of source elsewhere\n", out)
	code, _, errs = hrctl("-database-url", db, "redeliver", "-sink", "cp", "-patient", "nobody")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "no patient nobody of source php")
}

// TestMissingDatabase: hrctl never creates a database; it names the file
// it did not find.
func TestMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("DATABASE_URL", "")
	missing := filepath.Join(dir, "nope.db")
	for _, c := range []struct {
		args []string
		path string
	}{
		{[]string{"dead-letters"}, "./healthcare-records.db"},
		{[]string{"-database-url", missing, "dead-letters"}, missing},
		{[]string{"-database-url", "sqlite://" + missing, "replay", "1"}, missing},
		{[]string{"-database-url", missing, "redeliver", "-sink", "cp"}, missing},
	} {
		code, out, errs := hrctl(c.args...)
		assert.Equal(t, 1, code, "%v", c.args)
		assert.Empty(t, out, "%v", c.args)
		assert.Contains(t, errs, "no database at "+c.path+": set -database-url or DATABASE_URL", "%v", c.args)
	}
	t.Setenv("DATABASE_URL", missing)
	code, _, errs := hrctl("dead-letters")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "no database at "+missing)

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "no database created")
}

func TestBadCommandLines(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hr.db")
	s, err := sqlite.Open(context.Background(), db, storetest.FastConfig())
	require.NoError(t, err)
	require.NoError(t, s.Close())
	for _, args := range [][]string{
		{"-database-url", db},
		{"-database-url", db, "explode"},
		{"-database-url", db, "replay"},
		{"-database-url", db, "replay", "not-a-number"},
		{"-database-url", db, "dead-letters", "extra"},
		{"-database-url", db, "dead-letters", "show"},
		{"-database-url", db, "dead-letters", "show", "x"},
		{"-database-url", db, "redeliver"},
		{"-database-url", db, "redeliver", "-source", "php"},
	} {
		code, _, errs := hrctl(args...)
		assert.Equal(t, 2, code, "%v", args)
		assert.Contains(t, errs, "usage: hrctl", "%v", args)
		for _, cmd := range []string{"dead-letters [-limit N]", "dead-letters show JOB_ID", "replay JOB_ID...", "redeliver -sink NAME"} {
			assert.Contains(t, errs, cmd, "usage lists every command: %v", args)
		}
	}
	code, _, errs := hrctl("-database-url", "mysql://u:secret@h/db", "dead-letters")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "unsupported database url")
	assert.NotContains(t, errs, "secret")
}
