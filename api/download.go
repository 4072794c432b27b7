package api

import (
	"mime"
	"net/http"
	"strconv"

	"github.com/healthcare-records/healthcare-records/practice"
)

// download answers GET /documents/{id}/content with http.ServeContent,
// which gives it ranges (206), conditional requests (304, 412) and HEAD.
type download struct {
	r *http.Request
	c practice.Content
}

func (d download) VisitGetDocumentContentResponse(w http.ResponseWriter) error {
	h := w.Header()
	ct := d.c.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", contentDisposition(d.c.FileName))
	if d.c.ContentHash != "" {
		h.Set("ETag", strconv.Quote(d.c.ContentHash))
	}
	// Kept, but asked again each time: every download is authorized and
	// audited, and a 304 spares the bytes.
	h.Set("Cache-Control", "private, no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	// Opened in a browser, the document runs no script.
	h.Set("Content-Security-Policy", "sandbox")
	http.ServeContent(&problemOnError{ResponseWriter: w, r: d.r}, d.r, "", d.c.UpdatedAt, d.c.Body)
	return nil
}

// contentDisposition is an attachment header naming the file; a name
// outside ASCII is encoded by RFC 2231 (filename*=utf-8”…).
func contentDisposition(name string) string {
	if name == "" {
		return "attachment"
	}
	if v := mime.FormatMediaType("attachment", map[string]string{"filename": name}); v != "" {
		return v
	}
	return "attachment"
}

// problemOnError turns the plain-text errors http.ServeContent writes (416
// for a range outside the content, 412 for a failed If-Match) into
// problems, so that every error of the API is one.
type problemOnError struct {
	http.ResponseWriter
	r      *http.Request
	failed bool
}

func (w *problemOnError) WriteHeader(code int) {
	if code < 400 {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.failed = true
	detail := "the range asked for is outside the content"
	if code != http.StatusRequestedRangeNotSatisfiable {
		detail = "the request's preconditions do not hold for this content"
	}
	// Content-Range (bytes */size, with a 416) stays set.
	w.Header().Del("Content-Length")
	writeProblem(w.ResponseWriter, w.r, &problem{Status: code, Detail: detail})
}

func (w *problemOnError) Write(b []byte) (int, error) {
	if w.failed {
		return len(b), nil // ServeContent's own text, replaced by the problem
	}
	return w.ResponseWriter.Write(b)
}

func (w *problemOnError) Unwrap() http.ResponseWriter { return w.ResponseWriter }
