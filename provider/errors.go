package provider

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Errors of the client besides the decoding ones (ErrNotFHIR,
// ErrUnexpectedType). All are wrapped with detail; test with errors.Is.
var (
	// ErrOrigin: a URL (attachment, next link, redirect) points outside
	// the base URL and Config.ContentOrigins and was not fetched.
	ErrOrigin = errors.New("url outside the provider's origin")
	// ErrTooLarge: a body or attachment is larger than the configured
	// limit.
	ErrTooLarge = errors.New("content too large")
	// ErrHashMismatch: an attachment's content does not match its hash.
	ErrHashMismatch = errors.New("attachment hash mismatch")
	// ErrAuth: the provider refused the client's credentials (the token
	// endpoint answered 400 or 401, or the API answered 401 even with a
	// fresh token). Retrying without a configuration change cannot help.
	ErrAuth = errors.New("fhir authorization failed")
	// ErrNoContent: an attachment has neither data nor url.
	ErrNoContent = errors.New("attachment has no content")
)

// StatusError is an error answer of the FHIR server, with the
// OperationOutcome it sent, if any.
type StatusError struct {
	Method string
	// Path is the request's URL path. The query is left out: search
	// parameters can hold patient data (an email, an identifier).
	Path       string
	StatusCode int
	// RetryAfter is the delay the server asked for with Retry-After on a
	// 429 or 503; zero when it did not say.
	RetryAfter time.Duration
	// Outcome is the OperationOutcome the answer carried, if its body was
	// one, whatever its Content-Type.
	Outcome *OperationOutcome
	// ContentType is the media type the answer was sent as, without
	// parameters ("application/fhir+json", "text/html"); empty when the
	// answer had none.
	ContentType string

	body []byte // the start of the answer, for the token endpoint's OAuth error
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("fhir %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if s := e.Outcome.Summary(); s != "" {
		msg += ": " + s
	}
	return msg
}

// FromFHIR reports whether the error answer is the FHIR server's own: an
// OperationOutcome sent as application/fhir+json or application/json. An
// HTML page, an empty body or any other JSON is not: it may come from a
// proxy, a load balancer or a web server in front of the FHIR server, and
// says nothing about the resource.
func (e *StatusError) FromFHIR() bool {
	return e.Outcome != nil && (e.ContentType == fhirJSON || e.ContentType == "application/json")
}

// StatusCode returns the HTTP status of the *StatusError in err's chain,
// or 0.
func StatusCode(err error) int {
	var se *StatusError
	if errors.As(err, &se) {
		return se.StatusCode
	}
	return 0
}

// TokenError is an OAuth error answer of the token endpoint (RFC 6749
// section 5.2).
type TokenError struct {
	StatusCode  int
	Code        string
	Description string
}

func (e *TokenError) Error() string {
	msg := fmt.Sprintf("token endpoint: %d", e.StatusCode)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}
