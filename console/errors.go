package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/healthcare-records/healthcare-records/practice"
)

// problem is an error as the error page shows it.
type problem struct {
	Status  int
	Heading string
	Detail  string
	// Steps are what the reader can do about it.
	Steps []string
	// Retry offers to load the page again.
	Retry bool
	// Link, when set, leads to a record the problem names.
	Link, LinkText string
	// Inline: shown in a page's messages, under no heading of its own.
	Inline bool
}

// problemOf maps an error of the practice to the page to show. It is the
// console's one place that decides statuses, as api's problemOf is the
// API's: a hidden record is a 404 like a missing one, a refusal a 403
// with the policy's reason, and only the texts the practice writes for
// people reach the page.
func (c *Console) problemOf(err error) problem {
	var (
		de  *practice.DenyError
		dup *practice.DuplicateError
		rl  *practice.RateLimitError
		fe  *practice.FieldError
		ref *practice.Refusal
	)
	switch {
	case errors.As(err, &de) && !de.Hidden && de.Reason != "":
		return problem{Status: http.StatusForbidden, Heading: "Not allowed", Detail: "You may not do this: " + de.Reason + ".",
			Steps: []string{"If you need it, ask an administrator or the patient's dietician."}}
	case errors.Is(err, practice.ErrNotFound):
		return problem{Status: http.StatusNotFound, Heading: "Not found", Detail: "There is no such record, or none you may see.",
			Steps: []string{"Check the address, or go back to the list and open the record from there."}}
	case errors.Is(err, practice.ErrForbidden):
		return problem{Status: http.StatusForbidden, Heading: "Not allowed", Detail: "You may not do this."}
	case errors.As(err, &dup):
		return problem{Status: http.StatusConflict, Heading: "This patient exists already",
			Detail: "A patient with this " + dup.Field + " is on record.", Link: c.path("patients", dup.Existing), LinkText: "Open the existing patient"}
	case errors.As(err, &fe):
		return problem{Status: http.StatusBadRequest, Heading: "Please check the form", Detail: fe.Field + ": " + fe.Reason + "."}
	case errors.As(err, &rl):
		return problem{Status: http.StatusTooManyRequests, Heading: "Please wait", Detail: rl.Error() + ".", Retry: true}
	case errors.Is(err, practice.ErrRateLimited):
		return problem{Status: http.StatusTooManyRequests, Heading: "Please wait", Detail: "Too many requests: try again in a moment.", Retry: true}
	case errors.Is(err, practice.ErrTooLarge):
		return problem{Status: http.StatusRequestEntityTooLarge, Heading: "File too large",
			Detail: fmt.Sprintf("The file is over the practice's limit of %s.", humanSize(c.cfg.MaxUpload))}
	case errors.Is(err, practice.ErrUnsupportedType):
		return problem{Status: http.StatusUnsupportedMediaType, Heading: "File type not accepted",
			Detail: reasonOf(err, "The practice does not keep files of this type."), Steps: []string{"Upload a PDF, PNG, JPEG or plain text file."}}
	case errors.Is(err, practice.ErrConflict) && errors.As(err, &ref):
		return problem{Status: http.StatusConflict, Heading: "Not possible now", Detail: ref.Reason + "."}
	case errors.Is(err, practice.ErrConflict):
		return problem{Status: http.StatusConflict, Heading: "The record changed", Detail: "The record changed meanwhile.",
			Steps: []string{"Load the page again and repeat the change."}, Retry: true}
	case errors.Is(err, practice.ErrInvalid):
		return problem{Status: http.StatusBadRequest, Heading: "Please check the form", Detail: reasonOf(err, "The practice refused the input.")}
	case errors.Is(err, practice.ErrUnavailable):
		return problem{Status: http.StatusServiceUnavailable, Heading: "Try again later",
			Detail: reasonOf(err, "A system the practice needs did not answer; nothing was changed."), Retry: true}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return problem{Status: http.StatusServiceUnavailable, Heading: "Try again", Detail: "The request ended before the practice answered.", Retry: true}
	}
	return problem{Status: http.StatusInternalServerError, Heading: "Something went wrong",
		Detail: "The console failed to do this. It has been logged.", Retry: true,
		Steps: []string{"Try again; if it fails again, tell your administrator the time it happened."}}
}

func reasonOf(err error, otherwise string) string {
	var r *practice.Refusal
	if errors.As(err, &r) {
		return r.Reason + "."
	}
	return otherwise
}

// fail answers a handler's error with the error page (or, for an htmx
// request, the message alone, swapped where the request's target is).
func (c *Console) fail(w http.ResponseWriter, r *http.Request, rq *request, err error) {
	p := c.problemOf(err)
	if p.Status >= 500 {
		uid := int64(0)
		if rq != nil {
			uid = rq.actor.UserID
		}
		c.log.ErrorContext(r.Context(), "console request failed", "method", r.Method, "path", r.URL.Path, "user", uid, "err", err)
	}
	if r.Header.Get("HX-Request") != "" {
		w.Header().Set("HX-Retarget", "#messages")
		w.Header().Set("HX-Reswap", "innerHTML")
		p.Inline = true
		c.fragment(w, r, "error", "problem", p)
		return
	}
	c.render(w, r, rq, p.Status, "error", p.Heading, p)
}

// errorPage shows a problem the console found itself.
func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, rq *request, status int, heading, detail string) {
	c.render(w, r, rq, status, "error", heading, problem{Status: status, Heading: heading, Detail: detail})
}

// fieldErrors collects the practice's refusals of fields, by field, for a
// form to show beside each; nil if err refused none.
func fieldErrors(err error) map[string]string {
	out := map[string]string{}
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if fe, ok := err.(*practice.FieldError); ok {
			if _, seen := out[fe.Field]; !seen {
				out[fe.Field] = fe.Reason
			}
			return
		}
		switch e := err.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	if len(out) == 0 {
		return nil
	}
	return out
}

func isNotFound(err error) bool { return errors.Is(err, practice.ErrNotFound) }
