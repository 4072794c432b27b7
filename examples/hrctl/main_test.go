package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
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

// refusing fails every document write for good while refuse is set.
type refusing struct {
	*connectortest.Sink
	refuse bool
}

func (r *refusing) PutDocument(ctx context.Context, w connector.DocumentWrite) (string, error) {
	if r.refuse {
		return "", fmt.Errorf("%w: the platform refused the document", connector.ErrPermanent)
	}
	return r.Sink.PutDocument(ctx, w)
}

func TestDeadLettersAndReplay(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "hr.db")
	src := connectortest.NewSource(connectortest.SourceConfig{Name: "php"})
	_, err := src.Fill(1, 1)
	require.NoError(t, err)
	doc := src.Documents()[0]
	sink := &refusing{Sink: connectortest.NewSink(connectortest.SinkConfig{}), refuse: true}

	// A server's life: the delivery dies, then the engine is stopped.
	s, err := sqlite.Open(ctx, db, storetest.FastConfig())
	require.NoError(t, err)
	e, err := connector.New(connector.Config{Store: s, Sources: map[string]connector.Source{"php": src},
		Sinks: map[string]connector.Sink{"cp": sink}, Retry: storetest.FastRetry})
	require.NoError(t, err)
	require.NoError(t, s.Start(ctx, e))
	_, err = e.Ingest(ctx, connector.Event{ID: "e1", Source: "php", Changes: []connector.Change{
		{Kind: connector.ChangeUpsert, Ref: src.DocumentRef(doc.Ref.ID), Version: doc.Version}}})
	require.NoError(t, err)
	storetest.WaitIdle(t, s, 30*time.Second, nil)
	require.NoError(t, s.Stop(ctx))
	require.NoError(t, s.Close())

	var out, errs bytes.Buffer
	code := run(ctx, []string{"-database-url", db, "dead-letters"}, &out, &errs)
	require.Equal(t, 0, code, errs.String())
	assert.Contains(t, out.String(), "hr_deliver")
	assert.Contains(t, out.String(), "the platform refused the document")
	assert.NotContains(t, out.String(), doc.Title, "ids and errors only")
	jobID := strings.Fields(strings.Split(out.String(), "\n")[1])[0]
	_, err = strconv.ParseInt(jobID, 10, 64)
	require.NoError(t, err)

	out.Reset()
	require.Equal(t, 0, run(ctx, []string{"-database-url", db, "replay", jobID}, &out, &errs), errs.String())
	assert.Contains(t, out.String(), "job "+jobID+" queued again")

	// The server comes back with the cause fixed and delivers.
	sink.refuse = false
	s, err = sqlite.Open(ctx, db, storetest.FastConfig())
	require.NoError(t, err)
	defer s.Close()
	e, err = connector.New(connector.Config{Store: s, Sources: map[string]connector.Source{"php": src},
		Sinks: map[string]connector.Sink{"cp": sink}, Retry: storetest.FastRetry})
	require.NoError(t, err)
	require.NoError(t, s.Start(ctx, e))
	defer s.Stop(ctx)
	storetest.WaitIdle(t, s, 30*time.Second, func() bool { return len(sink.Documents()) == 1 })

	out.Reset()
	require.Equal(t, 0, run(ctx, []string{"-database-url", db, "dead-letters"}, &out, &errs))
	assert.Equal(t, "no dead letters\n", out.String())
}

func TestBadCommandLines(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hr.db")
	for _, args := range [][]string{
		{"-database-url", db},
		{"-database-url", db, "explode"},
		{"-database-url", db, "replay"},
		{"-database-url", db, "replay", "not-a-number"},
	} {
		var out, errs bytes.Buffer
		assert.Equal(t, 2, run(context.Background(), args, &out, &errs), "%v", args)
		assert.Contains(t, errs.String(), "usage: hrctl", "%v", args)
	}
	var out, errs bytes.Buffer
	assert.Equal(t, 1, run(context.Background(), []string{"-database-url", "mysql://u:secret@h/db", "dead-letters"}, &out, &errs))
	assert.Contains(t, errs.String(), "unsupported database url")
	assert.NotContains(t, errs.String(), "secret")
}
