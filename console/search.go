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

// search looks for the text where the actor may look: the documents of
// every patient they may see documents of, and, for staff who own or run
// patients, the patients and the sync log. Each kind is one practice
// listing with its text filter; the policy decides what each returns.
func (c *Console) search(w http.ResponseWriter, r *http.Request, rq *request) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	v := searchView{Q: q, Searched: q != ""}
	if q == "" {
		c.render(w, r, rq, http.StatusOK, "search", "Search", v)
		return nil
	}
	ctx := r.Context()
	docs, err := c.svc.SearchDocuments(ctx, rq.actor, practice.DocumentList{Text: q, Limit: searchLimit})
	if err != nil {
		return err
	}
	v.Documents = docs.Items
	if rq.actor.Role == practice.RoleAdmin || rq.actor.Role == practice.RoleDietician {
		patients, err := c.svc.Patients(ctx, rq.actor, practice.PatientList{Text: q, Limit: searchLimit})
		if err != nil {
			return err
		}
		logs, err := c.svc.Logs(ctx, rq.actor, practice.LogList{Text: q, Limit: searchLimit})
		if err != nil {
			return err
		}
		v.Patients, v.Logs = patients.Items, logs.Items
	}
	c.render(w, r, rq, http.StatusOK, "search", "Search", v)
	return nil
}
