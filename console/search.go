package console

import (
	"net/http"
	"strings"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

type searchView struct {
	Q         string
	Searched  bool
	Patients  []practice.Patient
	Logs      []connector.LogEntry
	Documents []practice.Document
}

// searchLimit is how many hits of each kind the search page shows.
const searchLimit = 10

// search looks for the text where the actor may look: patients and the
// sync log for staff who own or run patients, the documents shared with a
// practitioner, a patient's own documents. Each kind is one practice
// listing with its text filter; the policy decides what each returns.
func (c *Console) search(w http.ResponseWriter, r *http.Request, rq *request) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	v := searchView{Q: q, Searched: q != ""}
	if q == "" {
		c.render(w, r, rq, http.StatusOK, "search", "Search", v)
		return nil
	}
	ctx := r.Context()
	switch rq.actor.Role {
	case practice.RoleAdmin, practice.RoleDietician:
		patients, err := c.svc.Patients(ctx, rq.actor, practice.PatientList{Text: q, Limit: searchLimit})
		if err != nil {
			return err
		}
		logs, err := c.svc.Logs(ctx, rq.actor, practice.LogList{Text: q, Limit: searchLimit})
		if err != nil {
			return err
		}
		v.Patients, v.Logs = patients.Items, logs.Items
	case practice.RolePractitioner:
		shares, err := c.svc.Shares(ctx, rq.actor, practice.ShareList{Direction: "received"})
		if err != nil {
			return err
		}
		now, low := c.cfg.Now(), strings.ToLower(q)
		for _, s := range shares {
			if !s.Live(now) || len(v.Documents) == searchLimit {
				continue
			}
			d, err := c.svc.Document(ctx, rq.actor, s.DocumentID)
			if hidden(err) || isNotFound(err) {
				continue
			}
			if err != nil {
				return err
			}
			if strings.Contains(strings.ToLower(d.Title), low) {
				v.Documents = append(v.Documents, d)
			}
		}
	case practice.RolePatient:
		docs, err := c.svc.Documents(ctx, rq.actor, rq.actor.PatientID, practice.DocumentList{Text: q, Limit: searchLimit})
		if err != nil {
			return err
		}
		v.Documents = docs.Items
	}
	c.render(w, r, rq, http.StatusOK, "search", "Search", v)
	return nil
}
