package api

import (
	"encoding/json"
	"net/http"
	"unicode/utf8"
)

// The problem types beyond about:blank, for the problems that carry
// members a client acts on. They are tag URIs: names, not pages to fetch;
// docs/api.md describes each.
const (
	// TypeInvalid: the request breaks the contract, or the service refused
	// a value; errors names each field at fault.
	TypeInvalid = "tag:healthcare-records,2026:problem/invalid"
	// TypeDuplicatePatient: a patient with the email or identifier exists;
	// existing (and Location) is that patient.
	TypeDuplicatePatient = "tag:healthcare-records,2026:problem/duplicate-patient"
)

// titles of the problem types that are not about:blank, whose title is the
// status text.
var titles = map[string]string{
	TypeInvalid:          "Invalid request",
	TypeDuplicatePatient: "Duplicate patient",
}

// problem is an answer of status 4xx or 5xx: what the handlers, the
// middleware and the error mapper return, written by writeProblem as an
// RFC 9457 application/problem+json body.
type problem struct {
	Status int
	// Type is "" for about:blank.
	Type       string
	Detail     string
	Errors     []FieldProblem
	Existing   string
	ExistingID int64
	// Header holds headers to answer with: Allow, Location, Retry-After,
	// WWW-Authenticate.
	Header http.Header
}

func (p *problem) Error() string { return http.StatusText(p.Status) + ": " + p.Detail }

// with returns p with the header set.
func (p *problem) with(key, value string) *problem {
	if p.Header == nil {
		p.Header = make(http.Header)
	}
	p.Header.Set(key, value)
	return p
}

// invalid is a 400 naming the fields at fault.
func invalid(detail string, fields ...FieldProblem) *problem {
	return &problem{Status: http.StatusBadRequest, Type: TypeInvalid, Detail: detail, Errors: fields}
}

// Bounds of what a problem quotes.
const (
	maxDetail = 1024
	maxReason = 512
	maxField  = 256
	maxErrors = 50
)

// writeProblem answers p. The body is the generated Problem, so it keeps
// the spec's schema; the request id and the path it names come from r.
func (s *server) writeProblem(w http.ResponseWriter, r *http.Request, p *problem) {
	writeProblem(w, r, p)
}

func writeProblem(w http.ResponseWriter, r *http.Request, p *problem) {
	body := Problem{
		Type:       p.Type,
		Title:      titles[p.Type],
		Status:     p.Status,
		Detail:     clip(p.Detail, maxDetail),
		Instance:   clip(r.URL.Path, 2048),
		RequestId:  requestIDOf(r.Context()),
		Existing:   p.Existing,
		ExistingId: p.ExistingID,
	}
	if body.Type == "" {
		body.Type = "about:blank"
	}
	if body.Title == "" {
		body.Title = http.StatusText(p.Status)
	}
	for i, f := range p.Errors {
		if i == maxErrors {
			break
		}
		body.Errors = append(body.Errors, FieldProblem{Field: clip(f.Field, maxField), Reason: clip(f.Reason, maxReason)})
	}
	h := w.Header()
	for k, v := range p.Header {
		h[k] = v
	}
	// A problem replaces whatever the handler meant to send.
	h.Del("Content-Disposition")
	h.Del("ETag")
	h.Del("Last-Modified")
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(body)
}

// clip bounds a string before it goes into an answer: at most n bytes, cut
// at a rune boundary, with an ellipsis when cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
