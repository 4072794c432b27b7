package console

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
	"github.com/healthcare-records/healthcare-records/present"
)

type viewerView struct {
	practice.DocumentView
	Patient  practice.Patient
	Content  string
	CanShare bool
	// CanEdit: the document is an upload of the actor's (its source).
	CanEdit bool
	Types   []connector.DocumentType
	History historyView
	Errors  map[string]string
	IsPDF   bool
	IsImage bool
	IsHTML  bool
	IsText  bool
}

// viewer shows a document: a PDF drawn by pdf.js from the download URL,
// text as text, HTML and C-CDA as the practice sanitized them, an image
// by its sniffed type, with the metadata; anything else as a download
// with the practice's reason.
func (c *Console) viewer(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	dv, err := c.svc.View(r.Context(), rq.actor, id)
	if err != nil {
		return err
	}
	v := viewerView{DocumentView: dv, Content: c.path("documents", id, "content")}
	switch dv.Kind {
	case present.KindPDF:
		v.IsPDF = true
	case present.KindImage:
		v.IsImage = true
	case present.KindHTML:
		v.IsHTML = true
	case present.KindText:
		v.IsText = true
	}
	if p, err := c.svc.Patient(r.Context(), rq.actor, dv.Document.PatientID); err == nil {
		v.Patient = p
		res := practice.Resource{PatientID: p.ID, OwnerID: p.OwnerID}
		v.CanShare = practice.Can(rq.actor, practice.ActionShareDocument, res) == nil
		res.Uploaded, res.UploadedBy = dv.Document.Uploaded(), dv.Document.UploadedBy
		v.CanEdit = practice.Can(rq.actor, practice.ActionUpdateDocument, res) == nil
	}
	v.Types = documentTypes
	if v.History, err = c.history(r.Context(), rq.actor, id); err != nil {
		return err
	}
	c.render(w, r, rq, http.StatusOK, "viewer", dv.Document.Title, v)
	return nil
}

// editDocument changes an uploaded document's title, type or date: only
// its source may, as the practice decides.
func (c *Console) editDocument(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := readForm(w, r, 16<<10); err != nil {
		return err
	}
	f := r.PostForm
	title, typ := strings.TrimSpace(f.Get("title")), connector.DocumentType(f.Get("type"))
	in := practice.DocumentUpdate{Title: &title, Type: &typ}
	if date, err := formDate(f.Get("date"), "date"); err != nil {
		return err
	} else if !date.IsZero() {
		in.Date = &date
	}
	if _, err := c.svc.UpdateDocument(r.Context(), rq.actor, id, in); err != nil {
		return err
	}
	http.Redirect(w, r, c.path("documents", id), http.StatusSeeOther)
	return nil
}

// download sends the document's bytes as an attachment, never shown by
// the browser as a page: pdf.js and <img> read the same URL.
func (c *Console) download(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ct, err := c.svc.Content(r.Context(), rq.actor, id)
	if err != nil {
		return err
	}
	sendContent(w, r, ct)
	return nil
}

// sendContent writes a document's content as an attachment.
func sendContent(w http.ResponseWriter, r *http.Request, ct practice.Content) {
	serveAttachment(w, r, ct.ContentType, ct.FileName, ct.Size, ct.Body)
}

// SafeHTML is the document's HTML as the practice sanitized it
// (present.Render), trusted as markup for that reason only.
func (v viewerView) SafeHTML() template.HTML { return template.HTML(v.HTML) } //nolint:gosec // sanitized by present
