package console

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
)

type syncView struct {
	PatientID int64
	Run       string
	Progress  connector.Progress
	Events    string
}

// startSync starts a manual sync of the patient. An htmx request gets the
// progress bar that follows the run's events; a plain form post goes back
// to the patient's page, which shows the same bar.
func (c *Console) startSync(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	run, err := c.svc.StartSync(r.Context(), rq.actor, id)
	if err != nil {
		return err
	}
	if r.Header.Get("HX-Request") == "" {
		http.Redirect(w, r, c.path("patients", id)+query("run", run), http.StatusSeeOther)
		return nil
	}
	p, err := c.svc.Run(r.Context(), rq.actor, run)
	if err != nil {
		return err
	}
	c.fragment(w, r, "patient", "sync", syncView{PatientID: id, Run: run, Progress: p, Events: c.path("syncs", run, "events")})
	return nil
}

// syncEvents streams a run's progress as server-sent events for htmx's
// SSE extension: each "progress" event's data is the progress bar's HTML,
// and an "end" event, on which the extension closes the stream, follows
// the last. The stream does not renew the session's idle timer.
func (c *Console) syncEvents(w http.ResponseWriter, r *http.Request, rq *request) error {
	run := r.PathValue("run")
	events, err := c.svc.WatchRun(r.Context(), rq.actor, run)
	if err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if rc.Flush() != nil {
		return nil
	}
	tick := time.NewTicker(c.cfg.Heartbeat)
	defer tick.Stop()
	var last connector.Progress
	for {
		select {
		case p, ok := <-events:
			if !ok {
				_ = c.writeProgress(w, rc, r, "end", last)
				return nil
			}
			last = p
			if c.writeProgress(w, rc, r, "progress", p) != nil {
				return nil
			}
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": heartbeat\n\n"); err != nil || rc.Flush() != nil {
				return nil
			}
		case <-r.Context().Done():
			return nil
		}
	}
}

// writeProgress writes one event whose data is the progress bar, one data
// line per line of HTML.
func (c *Console) writeProgress(w http.ResponseWriter, rc *http.ResponseController, r *http.Request, event string, p connector.Progress) error {
	var buf bytes.Buffer
	if err := c.pages.byName["patient"].ExecuteTemplate(&buf, "progress", p); err != nil {
		c.log.ErrorContext(r.Context(), "rendering progress failed", "err", err)
		return err
	}
	var out strings.Builder
	fmt.Fprintf(&out, "event: %s\n", event)
	for _, line := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
		fmt.Fprintf(&out, "data: %s\n", line)
	}
	out.WriteString("\n")
	if _, err := w.Write([]byte(out.String())); err != nil {
		return err
	}
	return rc.Flush()
}
