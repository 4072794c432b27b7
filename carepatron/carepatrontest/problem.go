package carepatrontest

import (
	"encoding/json"
	"net/http"
	"time"
)

// problem is an error answer; handlers return it as their error and the
// fake writes it as application/problem+json.
type problem struct {
	status     int
	code       string
	detail     string
	existingID string
	errors     []FieldError
	retryAfter time.Duration
}

func (p *problem) Error() string { return p.code + ": " + p.detail }

func badRequest(detail string) *problem {
	return &problem{status: http.StatusBadRequest, code: "bad_request", detail: detail}
}

func notFound(what string) *problem {
	return &problem{status: http.StatusNotFound, code: "not_found", detail: what + " not found"}
}

func unprocessable(field, msg string) *problem {
	return &problem{status: http.StatusUnprocessableEntity, code: "validation_failed",
		detail: field + ": " + msg, errors: []FieldError{{Field: field, Message: msg}}}
}

func duplicate(what, id string) *problem {
	return &problem{status: http.StatusConflict, code: "duplicate_external_reference",
		detail: "another " + what + " holds this external reference", existingID: id}
}

func writeProblem(w http.ResponseWriter, p *problem) {
	if p.status == http.StatusTooManyRequests || p.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfterSeconds(p.retryAfter))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.status)
	_ = json.NewEncoder(w).Encode(Problem{
		Type:       "about:blank",
		Title:      http.StatusText(p.status),
		Status:     p.status,
		Detail:     p.detail,
		Code:       p.code,
		ExistingId: p.existingID,
		Errors:     p.errors,
	})
}
