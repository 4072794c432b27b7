package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/internal/sse"
)

// eventStream answers GET /syncs/{run}/events: a text/event-stream with
// one "progress" event per snapshot of the run, whose data is the run as
// JSON (SyncRun), a comment line every heartbeat while nothing happens,
// and, once the events channel closes, an "end" event carrying the last
// snapshot, on which a browser's EventSource should close (left open, it
// would reconnect and be shown the finished run again).
type eventStream struct {
	events    <-chan connector.Progress
	heartbeat time.Duration
	render    func(connector.Progress) SyncRun
}

// VisitSyncEventsResponse writes the stream. Once it has begun, a failed
// write means the client left: the stream stops, and no error is returned,
// since no problem can follow an answer already under way.
func (e eventStream) VisitSyncEventsResponse(w http.ResponseWriter) error {
	rc, ok := sse.Start(w)
	if !ok {
		return nil
	}
	tick := time.NewTicker(e.heartbeat)
	defer tick.Stop()
	var last *SyncRun
	for seq := 1; ; {
		select {
		case p, ok := <-e.events:
			if !ok {
				_ = writeEvent(w, rc, seq, "end", last)
				return nil
			}
			run := e.render(p)
			last = &run
			if writeEvent(w, rc, seq, "progress", run) != nil {
				return nil
			}
			seq++
		case <-tick.C:
			if sse.Heartbeat(w, rc) != nil {
				return nil
			}
		}
	}
}

// writeEvent writes one event and flushes it. JSON holds no newline, so
// the data is one data line.
func writeEvent(w http.ResponseWriter, rc *http.ResponseController, id int, event string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if data == nil || string(b) == "null" {
		b = []byte("{}")
	}
	if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", id, event, b); err != nil {
		return err
	}
	return rc.Flush()
}
