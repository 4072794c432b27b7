package console

import (
	"net/http"
	"strconv"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

type logsView struct {
	Items                   []connector.LogEntry
	Action, Status, Patient string
	From, To, Q             string
	Cursor, Next            string
	First, NextURL          string
	Actions                 []connector.Action
	Statuses                []connector.Status
	Chart                   logChartView
}

var logActions = []connector.Action{connector.ActionWebhook, connector.ActionPoll, connector.ActionManualSync,
	connector.ActionAutomaticUpdate, connector.ActionDelivery, connector.ActionWriteBack, connector.ActionRequest}

var logStatuses = []connector.Status{connector.StatusSuccess, connector.StatusError, connector.StatusSkipped, connector.StatusIgnored}

// logs lists the sync log across the actor's patients (or one patient's),
// newest first, with filters by action, status, date range, patient and
// text.
func (c *Console) logs(w http.ResponseWriter, r *http.Request, rq *request) error {
	q := r.URL.Query()
	in := practice.LogList{Action: connector.Action(q.Get("action")), Status: connector.Status(q.Get("status")),
		Text: q.Get("q"), Cursor: q.Get("cursor"), Limit: 50}
	var err error
	if p := q.Get("patient"); p != "" {
		if in.PatientID, err = strconv.ParseInt(p, 10, 64); err != nil || in.PatientID <= 0 {
			return &practice.FieldError{Field: "patient", Reason: "is not a patient number"}
		}
	}
	if in.From, err = formDate(q.Get("from"), "from"); err != nil {
		return err
	}
	if in.To, err = formDate(q.Get("to"), "to"); err != nil {
		return err
	}
	if !in.To.IsZero() {
		in.To = in.To.AddDate(0, 0, 1)
	}
	list, err := c.svc.Logs(r.Context(), rq.actor, in)
	if err != nil {
		return err
	}
	v := logsView{Items: list.Items, Action: q.Get("action"), Status: q.Get("status"), Patient: q.Get("patient"),
		From: q.Get("from"), To: q.Get("to"), Q: in.Text, Cursor: in.Cursor, Next: list.Next,
		Actions: logActions, Statuses: logStatuses}
	if v.Chart, err = c.logChart(r.Context(), rq.actor, in, c.cfg.Now()); err != nil {
		return err
	}
	filters := []string{"action", v.Action, "status", v.Status, "patient", v.Patient, "from", v.From, "to", v.To, "q", v.Q}
	v.First = c.path("logs") + query(filters...)
	v.NextURL = c.path("logs") + query(append(filters, "cursor", list.Next)...)
	c.render(w, r, rq, http.StatusOK, "logs", "Sync log", v)
	return nil
}
