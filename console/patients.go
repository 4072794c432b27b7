package console

import (
	"html/template"
	"net/http"
	"strconv"

	"github.com/healthcare-records/healthcare-records/practice"
)

// pageSize is how many rows a list shows at once.
const pageSize = 25

type patientsView struct {
	// Rows are the table's rows, built in Go (see rows).
	Rows            template.HTML
	Q, Sort, Desc   string
	Cursor, Next    string
	First, NextURL  string
	CanCreate       bool
	SortLinks       map[string]string
	SortedBy, Order string
}

// patients lists the patients the actor may see, with search, sorting
// and pages, and each one's last sync.
func (c *Console) patients(w http.ResponseWriter, r *http.Request, rq *request) error {
	q := r.URL.Query()
	in := practice.PatientList{Text: q.Get("q"), Sort: practice.PatientSort(q.Get("sort")), Desc: q.Get("desc") == "1",
		Cursor: q.Get("cursor"), Limit: pageSize, LastSyncs: true}
	list, err := c.svc.Patients(r.Context(), rq.actor, in)
	if err != nil {
		return err
	}
	v := patientsView{Q: in.Text, Sort: string(in.Sort), Desc: q.Get("desc"), Cursor: in.Cursor, Next: list.Next,
		CanCreate: practice.Can(rq.actor, practice.ActionCreatePatient, practice.Resource{}) == nil,
		SortLinks: map[string]string{}}
	if v.Sort == "" {
		v.Sort = string(practice.SortName)
	}
	for _, s := range []string{"name", "created", "updated"} {
		desc := ""
		if s == v.Sort && v.Desc != "1" {
			desc = "1"
		}
		v.SortLinks[s] = c.path("patients") + query("q", v.Q, "sort", s, "desc", desc)
	}
	v.Order = "ascending"
	if v.Desc == "1" {
		v.Order = "descending"
	}
	v.First = c.path("patients") + query("q", v.Q, "sort", v.Sort, "desc", v.Desc)
	v.NextURL = c.path("patients") + query("q", v.Q, "sort", v.Sort, "desc", v.Desc, "cursor", list.Next)
	var rw rows
	for _, p := range list.Items {
		rw.raw("<tr>\n<td>")
		rw.link(c.path("patients", p.ID), p.Name)
		rw.raw("</td>\n")
		rw.cell(p.Email)
		rw.raw("\n")
		if p.Link == practice.Linked {
			rw.cell(p.Ref.System)
		} else {
			rw.cell("not linked")
		}
		rw.raw("\n<td>")
		if e, ok := list.LastSyncs[p.ID]; ok {
			rw.text(formatDateTime(e.Timestamp) + " ")
			rw.open("span", "class", "status-"+string(e.Status))
			rw.text(string(e.Status))
			rw.close("span")
		} else {
			rw.raw("—")
		}
		rw.raw("</td>\n")
		rw.cell(formatDate(p.CreatedAt))
		rw.raw("\n</tr>")
	}
	v.Rows = rw.html()
	c.render(w, r, rq, http.StatusOK, "patients", "Patients", v)
	return nil
}

// pathID reads the {name} segment as a positive id; anything else is a
// record that does not exist.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, practice.ErrNotFound
	}
	return id, nil
}
