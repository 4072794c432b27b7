package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/healthcare-records/healthcare-records/practice"
)

// problemOf maps an error of the service (or of a handler) to the problem
// to answer. It is the one place that decides statuses:
//
//	*problem                               as it is
//	ErrNotFound, a hidden *DenyError       404
//	*DenyError                             403, its reason as the detail
//	ErrForbidden                           403
//	ErrUnauthenticated                     401, WWW-Authenticate: Bearer
//	*DuplicateError                        409 duplicate-patient, existing, Location
//	*FieldError, ErrInvalid                400 invalid, the fields in errors
//	ErrConflict                            409
//	*RateLimitError, ErrRateLimited        429, Retry-After
//	ErrTooLarge                            413
//	ErrUnsupportedType                     415
//	ErrUnavailable                         503, Retry-After
//	the request's context ended            503
//	anything else                          500, a generic detail
//
// A refused value is 400 whether the spec or the service refused it: the
// API makes no 400/422 distinction, so a client has one status to handle
// and reads errors for the fields. Only the texts the service writes for
// people (a FieldError's reason, a DenyError's reason, a RateLimitError)
// reach the answer; the message of any other error stays in the log.
func (s *server) problemOf(err error) *problem {
	var (
		p   *problem
		de  *practice.DenyError
		dup *practice.DuplicateError
		rl  *practice.RateLimitError
	)
	switch {
	case errors.As(err, &p):
		return p
	case errors.As(err, &de) && !de.Hidden && de.Reason != "":
		return &problem{Status: http.StatusForbidden, Detail: de.Reason}
	case errors.Is(err, practice.ErrNotFound):
		return &problem{Status: http.StatusNotFound, Detail: "there is no such record, or none you may see"}
	case errors.Is(err, practice.ErrForbidden):
		return &problem{Status: http.StatusForbidden, Detail: "you may not do this"}
	case errors.Is(err, practice.ErrUnauthenticated):
		return unauthenticated("the credentials are missing, wrong or expired", challengeInvalid)
	case errors.As(err, &dup):
		url := s.url("patients", dup.Existing)
		what, member := "email", "email"
		detail := fmt.Sprintf("a patient with this email exists: open it, or if this is another person send the request again with confirm_distinct_from set to %d", dup.Existing)
		if dup.Field == "identifier" {
			what, member = "identifier", "identifiers"
			detail = "a patient with this identifier exists: open it"
		}
		return (&problem{
			Status:     http.StatusConflict,
			Type:       TypeDuplicatePatient,
			Detail:     detail,
			Errors:     []FieldProblem{{Field: member, Reason: "an existing patient has this " + what}},
			Existing:   url,
			ExistingID: dup.Existing,
		}).with("Location", url)
	case errors.Is(err, practice.ErrInvalid):
		fields := fieldErrors(err)
		if len(fields) == 0 {
			return invalid("the service refused the request as invalid")
		}
		detail := fields[0].Field + ": " + fields[0].Reason
		if len(fields) > 1 {
			detail = fmt.Sprintf("%s (and %d more)", detail, len(fields)-1)
		}
		return invalid(detail, fields...)
	case errors.Is(err, practice.ErrConflict):
		return &problem{Status: http.StatusConflict, Detail: reason(err, "the change collides with the record's current state: read it again, then retry")}
	case errors.As(err, &rl):
		return (&problem{Status: http.StatusTooManyRequests, Detail: rl.Error()}).with("Retry-After", retryAfter(rl.RetryAfter))
	case errors.Is(err, practice.ErrRateLimited):
		return (&problem{Status: http.StatusTooManyRequests, Detail: "too many requests: try again later"}).with("Retry-After", "1")
	case errors.Is(err, practice.ErrTooLarge):
		return &problem{Status: http.StatusRequestEntityTooLarge, Detail: reason(err, fmt.Sprintf("the file is over the practice's limit of %d bytes", s.cfg.MaxUpload))}
	case errors.Is(err, practice.ErrUnsupportedType):
		return &problem{Status: http.StatusUnsupportedMediaType, Detail: reason(err, "the practice does not keep files of this type")}
	case errors.Is(err, practice.ErrUnavailable):
		return (&problem{Status: http.StatusServiceUnavailable, Detail: reason(err, "a system the service needs did not answer: try again later")}).with("Retry-After", "5")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &problem{Status: http.StatusServiceUnavailable, Detail: "the request ended before the service answered"}
	}
	return &problem{Status: http.StatusInternalServerError, Detail: "the server failed; quote the request_id when you report it"}
}

// reason is the sentence a *practice.Refusal in err gives the person who
// asked, or otherwise the generic one: other errors may hold what only
// the logs should.
func reason(err error, otherwise string) string {
	var r *practice.Refusal
	if errors.As(err, &r) {
		return r.Reason
	}
	return otherwise
}

// fieldErrors collects every *practice.FieldError in err's tree, in order,
// so that a service that joins several refusals has each one named.
func fieldErrors(err error) []FieldProblem {
	var out []FieldProblem
	var walk func(error)
	walk = func(err error) {
		var fe *practice.FieldError
		switch e := err.(type) {
		case nil:
			return
		case interface{ Unwrap() []error }:
			for _, err := range e.Unwrap() {
				walk(err)
			}
			return
		}
		if errors.As(err, &fe) {
			out = append(out, FieldProblem{Field: fe.Field, Reason: fe.Reason})
			return
		}
		walk(errors.Unwrap(err))
	}
	walk(err)
	return out
}

// retryAfter renders a delay as Retry-After's whole seconds, at least 1.
func retryAfter(d time.Duration) string {
	secs := math.Ceil(d.Seconds())
	if secs < 1 {
		secs = 1
	}
	return strconv.FormatInt(int64(secs), 10)
}

// unauthenticated is a 401 with the WWW-Authenticate challenge (RFC 6750).
func unauthenticated(detail, challenge string) *problem {
	return (&problem{Status: http.StatusUnauthorized, Detail: detail}).with("WWW-Authenticate", challenge)
}

// fail answers err: the mapped problem, logged with the request id when
// it is the server's fault.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	p := s.problemOf(err)
	if p.Status >= 500 {
		s.log.ErrorContext(r.Context(), "api: request failed",
			"request_id", requestIDOf(r.Context()), "method", r.Method, "path", r.URL.Path,
			"status", p.Status, "err", err)
	}
	s.writeProblem(w, r, p)
}

// responseError answers the error a strict handler returned.
func (s *server) responseError(w http.ResponseWriter, r *http.Request, err error) {
	s.fail(w, r, err)
}

// requestError answers a request the generated code could not bind. The
// validator refuses what breaks the spec first, so this is rare. The
// binding error's text names Go types, so only the parameter's name
// reaches the answer.
func (s *server) requestError(w http.ResponseWriter, r *http.Request, err error) {
	field, reason := "body", "could not be read"
	var (
		format   *InvalidParamFormatError
		unmarsh  *UnmarshalingParamError
		required *RequiredParamError
		header   *RequiredHeaderError
		many     *TooManyValuesForParamError
	)
	switch {
	case errors.As(err, &format):
		field, reason = format.ParamName, "does not have the expected format"
	case errors.As(err, &unmarsh):
		field, reason = unmarsh.ParamName, "does not have the expected format"
	case errors.As(err, &required):
		field, reason = required.ParamName, "is required"
	case errors.As(err, &header):
		field, reason = header.ParamName, "is required"
	case errors.As(err, &many):
		field, reason = many.ParamName, "is given more than once"
	}
	s.writeProblem(w, r, invalid(field+": "+reason, FieldProblem{Field: field, Reason: reason}))
}
