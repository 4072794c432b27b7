package console

import (
	"errors"
	"html/template"
	"io"
	"net/http"
	"strings"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

type documentsView struct {
	Patient practice.Patient
	// Items are the table's rows, built in Go (see rows).
	Items          template.HTML
	Counts         []typeSummary
	Type, Q        string
	From, To       string
	Sort, Asc      string
	Cursor, Next   string
	First, NextURL string
	SortLinks      map[string]string
	Order          string
	CanUpload      bool
	CanShare       bool
	Types          []connector.DocumentType
}

var documentTypes = []connector.DocumentType{connector.DocumentLabResult, connector.DocumentProgressNote,
	connector.DocumentPhysicalAssessment, connector.DocumentOther}

// documents lists a patient's documents by type, with filters (type, date
// range, keyword), sorting and pages.
func (c *Console) documents(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	in := practice.DocumentList{Type: connector.DocumentType(q.Get("type")), Text: q.Get("q"),
		Sort: practice.DocumentSort(q.Get("sort")), Asc: q.Get("asc") == "1", Cursor: q.Get("cursor"), Limit: pageSize}
	if in.From, err = formDate(q.Get("from"), "from"); err != nil {
		return err
	}
	if in.To, err = formDate(q.Get("to"), "to"); err != nil {
		return err
	}
	if !in.To.IsZero() {
		in.To = in.To.AddDate(0, 0, 1) // the whole day named
	}
	in.WithPatient = true
	page, err := c.svc.Documents(r.Context(), rq.actor, id, in)
	if err != nil {
		return err
	}
	p := page.Patient
	res := practice.Resource{PatientID: p.ID, OwnerID: p.OwnerID}
	v := documentsView{Patient: p, Counts: summarize(page), Type: q.Get("type"), Q: in.Text,
		From: q.Get("from"), To: q.Get("to"), Sort: string(in.Sort), Asc: q.Get("asc"), Cursor: in.Cursor, Next: page.Next,
		CanUpload: practice.Can(rq.actor, practice.ActionUploadDocument, res) == nil,
		CanShare:  practice.Can(rq.actor, practice.ActionShareDocument, res) == nil,
		Types:     documentTypes, SortLinks: map[string]string{}}
	var rw rows
	for _, d := range page.Items {
		u := c.path("documents", d.ID)
		rw.open("tr", "data-type", string(d.Type))
		rw.raw("\n<td>")
		rw.link(u, d.Title)
		rw.raw("</td>\n")
		rw.cell(typeName(d.Type))
		rw.raw("\n")
		rw.cell(formatDate(d.Date))
		rw.raw("\n")
		rw.cell(d.Source)
		rw.raw("\n<td class=\"actions\">")
		rw.link(u, "View")
		rw.raw(" ")
		rw.link(u+"/content", "Download", "download", "")
		if v.CanShare {
			rw.raw(" ")
			rw.link(u+"/share", "Share")
		}
		rw.raw("</td>\n</tr>")
	}
	v.Items = rw.html()
	if v.Sort == "" {
		v.Sort = string(practice.SortDate)
	}
	base := c.path("patients", id, "documents")
	for _, s := range []string{"date", "title", "type"} {
		asc := ""
		if s == v.Sort && v.Asc != "1" {
			asc = "1"
		}
		v.SortLinks[s] = base + query("type", v.Type, "q", v.Q, "from", v.From, "to", v.To, "sort", s, "asc", asc)
	}
	v.Order = "descending"
	if v.Asc == "1" {
		v.Order = "ascending"
	}
	v.First = base + query("type", v.Type, "q", v.Q, "from", v.From, "to", v.To, "sort", v.Sort, "asc", v.Asc)
	v.NextURL = base + query("type", v.Type, "q", v.Q, "from", v.From, "to", v.To, "sort", v.Sort, "asc", v.Asc, "cursor", page.Next)
	c.render(w, r, rq, http.StatusOK, "documents", "Documents of "+p.Name, v)
	return nil
}

type uploadView struct {
	Patient practice.Patient
	Types   []connector.DocumentType
	Title   string
	Type    string
	Date    string
	Errors  map[string]string
}

func (c *Console) uploadForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := c.svc.Patient(r.Context(), rq.actor, id)
	if err != nil {
		return err
	}
	if err := practice.Can(rq.actor, practice.ActionUploadDocument, practice.Resource{PatientID: p.ID, OwnerID: p.OwnerID}); err != nil {
		return err
	}
	c.render(w, r, rq, http.StatusOK, "upload", "Upload a document", uploadView{Patient: p, Types: documentTypes})
	return nil
}

// upload stores a file as the patient's document; the practice sniffs
// its type and refuses what it does not keep.
func (c *Console) upload(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, c.cfg.MaxUpload+64<<10)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return practice.ErrTooLarge
		}
		return &practice.FieldError{Field: "file", Reason: "could not be read"}
	}
	defer r.MultipartForm.RemoveAll()
	f, hdr, err := r.FormFile("file")
	if err != nil {
		return c.uploadAgain(w, r, rq, id, map[string]string{"file": "choose a file"})
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, c.cfg.MaxUpload+1))
	if err != nil {
		return err
	}
	in := practice.Upload{FileName: hdr.Filename, Type: connector.DocumentType(r.FormValue("type")), Title: strings.TrimSpace(r.FormValue("title")), Data: data}
	if in.Date, err = formDate(r.FormValue("date"), "date"); err != nil {
		return c.uploadAgain(w, r, rq, id, fieldErrors(err))
	}
	d, err := c.svc.Upload(r.Context(), rq.actor, id, in)
	if err != nil {
		if fe := fieldErrors(err); fe != nil {
			return c.uploadAgain(w, r, rq, id, fe)
		}
		return err
	}
	http.Redirect(w, r, c.path("documents", d.ID), http.StatusSeeOther)
	return nil
}

func (c *Console) uploadAgain(w http.ResponseWriter, r *http.Request, rq *request, id int64, errs map[string]string) error {
	p, err := c.svc.Patient(r.Context(), rq.actor, id)
	if err != nil {
		return err
	}
	c.render(w, r, rq, http.StatusUnprocessableEntity, "upload", "Upload a document", uploadView{Patient: p, Types: documentTypes,
		Title: r.FormValue("title"), Type: r.FormValue("type"), Date: r.FormValue("date"), Errors: errs})
	return nil
}
