package console

import (
	"net/http"
	"strings"

	"github.com/healthcare-records/healthcare-records/practice"
)

type shareView struct {
	Document practice.Document
	Shares   []practice.SharedDocument
	With     string
	Expires  string
	Note     string
	Errors   map[string]string
}

// shareForm shows the share form with the document's current shares.
func (c *Console) shareForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	v, err := c.shareView(r, rq, id)
	if err != nil {
		return err
	}
	c.render(w, r, rq, http.StatusOK, "share", "Share "+v.Document.Title, v)
	return nil
}

func (c *Console) shareView(r *http.Request, rq *request, id int64) (shareView, error) {
	d, err := c.svc.Document(r.Context(), rq.actor, id)
	if err != nil {
		return shareView{}, err
	}
	all, err := c.svc.SharedDocuments(r.Context(), rq.actor, d.PatientID)
	if err != nil {
		return shareView{}, err
	}
	v := shareView{Document: d}
	for _, s := range all {
		if s.DocumentID == id {
			v.Shares = append(v.Shares, s)
		}
	}
	return v, nil
}

// share gives a practitioner (named by email) the document.
func (c *Console) share(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := readForm(w, r, 64<<10); err != nil {
		return err
	}
	in := practice.ShareInput{WithEmail: strings.TrimSpace(r.PostForm.Get("with")), Note: strings.TrimSpace(r.PostForm.Get("note"))}
	exp, err := formDate(r.PostForm.Get("expires"), "expires_at")
	if err == nil && !exp.IsZero() {
		in.ExpiresAt = exp.AddDate(0, 0, 1) // through the day named
	}
	if err == nil {
		_, err = c.svc.ShareDocument(r.Context(), rq.actor, id, in)
	}
	if err != nil {
		fe := fieldErrors(err)
		if fe == nil {
			return err
		}
		v, verr := c.shareView(r, rq, id)
		if verr != nil {
			return verr
		}
		v.With, v.Expires, v.Note, v.Errors = in.WithEmail, r.PostForm.Get("expires"), in.Note, fe
		c.render(w, r, rq, http.StatusUnprocessableEntity, "share", "Share "+v.Document.Title, v)
		return nil
	}
	http.Redirect(w, r, c.path("documents", id, "share")+"#shares", http.StatusSeeOther)
	return nil
}

// revoke ends a share at once.
func (c *Console) revoke(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := c.svc.RevokeShare(r.Context(), rq.actor, id); err != nil {
		return err
	}
	to := c.safeNext(r.FormValue("back"))
	if to == "" {
		to = c.path()
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

type sharedRow struct {
	Share    practice.Share
	Document practice.Document
}

// sharedWithMe lists the documents shared with a practitioner now.
func (c *Console) sharedWithMe(w http.ResponseWriter, r *http.Request, rq *request) error {
	shares, err := c.svc.Shares(r.Context(), rq.actor, practice.ShareList{Direction: "received"})
	if err != nil {
		return err
	}
	now := c.cfg.Now()
	var rows []sharedRow
	for _, s := range shares {
		if !s.Live(now) {
			continue
		}
		d, err := c.svc.Document(r.Context(), rq.actor, s.DocumentID)
		if err != nil {
			if hidden(err) || isNotFound(err) {
				continue
			}
			return err
		}
		rows = append(rows, sharedRow{Share: s, Document: d})
	}
	c.render(w, r, rq, http.StatusOK, "shared", "Shared with me", rows)
	return nil
}
