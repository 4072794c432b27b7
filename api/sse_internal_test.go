package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
)

// sseEvent is one event (or comment) as a client reads it.
type sseEvent struct {
	id, event, data, comment string
}

// readEvents reads the events of a stream until it ends, sending each as
// it completes.
func readEvents(t *testing.T, sc *bufio.Scanner, out chan<- sseEvent) {
	defer close(out)
	var e sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			out <- e
			e = sseEvent{}
		case strings.HasPrefix(line, ":"):
			e.comment = strings.TrimSpace(line[1:])
		case strings.HasPrefix(line, "id: "):
			e.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			e.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			e.data = line[6:]
		default:
			t.Errorf("unexpected line %q", line)
		}
	}
}

func TestEventStream(t *testing.T) {
	s := testServer(t)
	ch := make(chan connector.Progress)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stream := eventStream{events: ch, heartbeat: 50 * time.Millisecond, render: s.runOut}
		assert.NoError(t, stream.VisitSyncEventsResponse(w))
	}))
	// The server's writes have a deadline; a stream lifts it.
	srv.Config.WriteTimeout = 100 * time.Millisecond
	srv.Start()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))

	events := make(chan sseEvent)
	go readEvents(t, bufio.NewScanner(res.Body), events)
	next := func() sseEvent {
		t.Helper()
		select {
		case e, ok := <-events:
			require.True(t, ok, "the stream ended")
			return e
		case <-ctx.Done():
			t.Fatal("no event")
		}
		return sseEvent{}
	}

	send := func(p connector.Progress) {
		t.Helper()
		select {
		case ch <- p:
		case <-ctx.Done():
			t.Fatal("the stream took no snapshot")
		}
	}

	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	send(connector.Progress{Run: "r-1", PatientID: 7, Phase: connector.PhaseListing, Total: 0, UpdatedAt: at})
	e := next()
	assert.Equal(t, "1", e.id)
	assert.Equal(t, "progress", e.event)
	var run SyncRun
	require.NoError(t, json.Unmarshal([]byte(e.data), &run))
	assert.Equal(t, SyncRun{Id: "r-1", PatientId: 7, Phase: SyncPhaseListing, UpdatedAt: at, Url: "/api/v1/syncs/r-1"}, run)

	// Idle for longer than the heartbeat, and the write timeout.
	e = next()
	assert.Equal(t, "heartbeat", e.comment)
	assert.Empty(t, e.event)
	time.Sleep(150 * time.Millisecond)

	send(connector.Progress{Run: "r-1", PatientID: 7, Phase: connector.PhaseFetching, Done: 1, Total: 3, Errors: 1})
	for e = next(); e.comment != ""; e = next() {
	}
	assert.Equal(t, "2", e.id)
	require.NoError(t, json.Unmarshal([]byte(e.data), &run))
	assert.Equal(t, 1, run.Done)
	assert.Equal(t, 3, run.Total)
	assert.Equal(t, 1, run.Errors)
	assert.False(t, run.Finished)

	send(connector.Progress{Run: "r-1", PatientID: 7, Phase: connector.PhaseDone, Done: 2, Total: 3, Errors: 1, DeliveryErrors: 2})
	for e = next(); e.comment != ""; e = next() {
	}
	require.NoError(t, json.Unmarshal([]byte(e.data), &run))
	assert.True(t, run.Finished)
	assert.Equal(t, 2, run.DeliveryErrors)

	close(ch)
	for e = next(); e.comment != ""; e = next() {
	}
	assert.Equal(t, "end", e.event)
	assert.Equal(t, "4", e.id)
	require.NoError(t, json.Unmarshal([]byte(e.data), &run))
	assert.True(t, run.Finished, "the end event carries the last snapshot")

	select {
	case e, ok := <-events:
		assert.False(t, ok, "the stream goes on after its end: %+v", e)
	case <-ctx.Done():
		t.Fatal("the stream did not end")
	}
}

// TestEventStreamClientLeaves checks the stream stops when its client
// leaves (the channel then closing, as WatchRun's does with the request's
// context).
func TestEventStreamClientLeaves(t *testing.T) {
	s := testServer(t)
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		ch := make(chan connector.Progress)
		go func() {
			defer close(ch)
			select {
			case ch <- connector.Progress{Run: "r-2"}:
			case <-r.Context().Done():
				return
			}
			<-r.Context().Done()
		}()
		_ = eventStream{events: ch, heartbeat: 20 * time.Millisecond, render: s.runOut}.VisitSyncEventsResponse(w)
	}))
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "id: 1\n", line)
	cancel()
	res.Body.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not stop after its client left")
	}
}
