package connector

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Error classes. Adapters wrap their errors with one of these (fmt.Errorf
// with %w) so the engine knows what to do; an error of no class is retried
// with backoff.
var (
	// ErrPermanent: retrying cannot help (bad credentials, a rejected
	// payload). The operation becomes a dead letter at once.
	ErrPermanent = errors.New("permanent failure")
	// ErrNotFound: the resource does not exist (any more). Fetching a
	// document that is not found deletes the local copy and the sinks'
	// copies, so a Source returns it only on its own word that the
	// resource is gone (for FHIR, a 404 or 410 with an OperationOutcome),
	// never for an error page of a proxy in between.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the write lost a race (an If-Match precondition, an
	// idempotency key reused with another body). Retried: the next attempt
	// reads the current state first.
	ErrConflict = errors.New("conflict")
)

// ErrAmbiguous: a query meant to find one resource matched several, as
// FindPatient's by an email two patients share. It is permanent (retrying
// finds the same); only a narrower query, such as an identifier, tells
// which.
var ErrAmbiguous = fmt.Errorf("%w: more than one match", ErrPermanent)

// RetryAfterError is a retryable error carrying the delay the server asked
// for (HTTP 429 or 503 with Retry-After). The engine waits at least Delay
// before the next attempt.
type RetryAfterError struct {
	Delay time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("retry after %s: %v", e.Delay, e.Err)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter wraps err so that the engine waits at least delay before
// retrying.
func RetryAfter(delay time.Duration, err error) error {
	return &RetryAfterError{Delay: delay, Err: err}
}

// IsPermanent reports whether err must not be retried: ErrPermanent or
// ErrInvalid anywhere in its chain.
func IsPermanent(err error) bool {
	return errors.Is(err, ErrPermanent) || errors.Is(err, ErrInvalid)
}

// RetryDelay returns the server-requested delay carried by err, if any.
func RetryDelay(err error) (time.Duration, bool) {
	var ra *RetryAfterError
	if errors.As(err, &ra) {
		return ra.Delay, true
	}
	return 0, false
}

// ErrBusy means another job holds the patient or document for the moment;
// the job runner tries again shortly without counting an attempt.
var ErrBusy = errors.New("busy: another job holds the resource")

// Class names the class of err for logs and metrics: "permanent",
// "not_found", "conflict", "retry_after", "busy", "timeout" or, for an
// error of no class, "transient". It never reveals the error's text.
func Class(err error) string {
	switch {
	case IsPermanent(err):
		return "permanent"
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrConflict):
		return "conflict"
	case errors.Is(err, ErrBusy):
		return "busy"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, errUnsettled):
		return "timeout"
	}
	if _, ok := RetryDelay(err); ok {
		return "retry_after"
	}
	return "transient"
}
