package console

import (
	"net/http"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/internal/sse"
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
	rc, ok := sse.Start(w)
	if !ok {
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
			if sse.Heartbeat(w, rc) != nil {
				return nil
			}
		case <-r.Context().Done():
			return nil
		}
	}
}

// writeProgress writes one event whose data is the progress bar.
func (c *Console) writeProgress(w http.ResponseWriter, rc *http.ResponseController, r *http.Request, event string, p connector.Progress) error {
	return c.writeEvent(w, rc, r, "patient", event, "progress", p)
}
