package console

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"

	"github.com/healthcare-records/healthcare-records/practice"
)

// The inquiries inbox: prospective patients' inquiries the actor may see
// (the practice decides: an admin every one, a dietician theirs and the
// unaddressed), one inquiry with its attachments as downloads, and its
// two ends: "Create patient" (the new-patient form prefilled from it) and
// "Dismiss".

var inquiryStatuses = []practice.InquiryStatus{practice.InquiryNew, practice.InquiryConverted, practice.InquiryDismissed}

type inquiriesView struct {
	Items          []practice.Inquiry
	Status         string
	Statuses       []practice.InquiryStatus
	Cursor, Next   string
	First, NextURL string
}

// inquiries lists the inquiries, newest first, by status (new by
// default), 25 a page.
func (c *Console) inquiries(w http.ResponseWriter, r *http.Request, rq *request) error {
	q := r.URL.Query()
	status := q.Get("status")
	if !q.Has("status") {
		status = string(practice.InquiryNew)
	}
	in := practice.InquiryList{Status: practice.InquiryStatus(status), Cursor: q.Get("cursor"), Limit: pageSize}
	list, err := c.svc.Inquiries(r.Context(), rq.actor, in)
	if err != nil {
		return err
	}
	v := inquiriesView{Items: list.Items, Status: status, Statuses: inquiryStatuses, Cursor: in.Cursor, Next: list.Next}
	// An empty status is a choice ("any"), kept in the links.
	links := url.Values{"status": {status}}
	v.First = c.path("inquiries") + "?" + links.Encode()
	links.Set("cursor", list.Next)
	v.NextURL = c.path("inquiries") + "?" + links.Encode()
	c.render(w, r, rq, http.StatusOK, "inquiries", "Inquiries", v)
	return nil
}

type inquiryView struct {
	Q         practice.Inquiry
	CanCreate bool
	Dismissed bool
}

// inquiry shows one inquiry; reading it is audited by the practice.
func (c *Console) inquiry(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	q, err := c.svc.Inquiry(r.Context(), rq.actor, id)
	if err != nil {
		return err
	}
	v := inquiryView{Q: q, Dismissed: r.URL.Query().Get("dismissed") == "1",
		CanCreate: practice.Can(rq.actor, practice.ActionConvertInquiry, practice.Resource{Inquiry: true, AddressedTo: q.DieticianID}) == nil}
	c.render(w, r, rq, http.StatusOK, "inquiry", "Inquiry", v)
	return nil
}

// dismissInquiry marks a new inquiry dismissed and shows it again.
func (c *Console) dismissInquiry(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := c.svc.DismissInquiry(r.Context(), rq.actor, id); err != nil {
		return err
	}
	http.Redirect(w, r, c.path("inquiries", id)+query("dismissed", "1"), http.StatusSeeOther)
	return nil
}

// inquiryAttachment downloads a file an email inquiry carried: always an
// attachment, never shown by the browser as a page.
func (c *Console) inquiryAttachment(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	att, err := pathID(r, "att")
	if err != nil {
		return err
	}
	a, err := c.svc.InquiryAttachment(r.Context(), rq.actor, id, att)
	if err != nil {
		return err
	}
	serveAttachment(w, r, a.ContentType, a.Name, int64(len(a.Data)), bytes.NewReader(a.Data))
	return nil
}

// serveAttachment sends bytes that are not the console's (a patient's
// document, a stranger's file) as a download: Content-Disposition
// attachment, no sniffing, and a sandboxing CSP of their own, so that
// nothing of theirs runs even if a browser were made to render them. A
// content type that does not parse is sent as application/octet-stream.
func serveAttachment(w http.ResponseWriter, r *http.Request, contentType, name string, size int64, body io.Reader) {
	if _, _, err := mime.ParseMediaType(contentType); err != nil {
		contentType = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": name})
	if disposition == "" {
		disposition = "attachment"
	}
	h.Set("Content-Disposition", disposition)
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if r.Method == http.MethodHead {
		return
	}
	_, _ = io.Copy(w, body)
}

// inquiryNote is the inquiry a new patient is made from, as the
// new-patient form shows it beside its fields.
type inquiryNote struct {
	ID               int64
	Subject, Message string
}

// prefill reads the inquiry of the new-patient form's ?inquiry= or
// posted inquiry field; nil without one.
func (c *Console) prefill(r *http.Request, rq *request, raw string) (*inquiryNote, practice.Inquiry, error) {
	if raw == "" {
		return nil, practice.Inquiry{}, nil
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return nil, practice.Inquiry{}, practice.ErrNotFound
	}
	q, err := c.svc.Inquiry(r.Context(), rq.actor, id)
	if err != nil {
		return nil, practice.Inquiry{}, err
	}
	return &inquiryNote{ID: q.ID, Subject: q.Subject, Message: q.Message}, q, nil
}
