package practice

import (
	"errors"
	"fmt"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
)

// The error classes of the service. Every error it returns wraps one, so
// that the API and the console map it to a status and a sentence.
var (
	// ErrNotFound: no such record, or one the actor may not know exists.
	ErrNotFound = connector.ErrNotFound
	// ErrConflict: the change collides with the record's state.
	ErrConflict = connector.ErrConflict
	// ErrUnauthenticated: no valid credentials.
	ErrUnauthenticated = errors.New("not signed in")
	// ErrForbidden: the actor may see the record but not do this to it.
	ErrForbidden = errors.New("forbidden")
	// ErrInvalid: input the service refuses; see FieldError.
	ErrInvalid = connector.ErrInvalid
	// ErrRateLimited: too many attempts; see RateLimitError.
	ErrRateLimited = errors.New("too many requests")
	// ErrTooLarge: an upload over the size limit.
	ErrTooLarge = errors.New("too large")
	// ErrUnsupportedType: content of a type the service does not accept.
	ErrUnsupportedType = errors.New("unsupported content type")
	// ErrUnavailable: a system the operation needs (the provider) did not
	// answer; nothing was changed, and trying again later may work.
	ErrUnavailable = errors.New("unavailable")
)

// FieldError names the input field that was refused, and why.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Reason) }

// Unwrap makes a FieldError an ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// invalid returns a FieldError.
func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// DenyError is a refusal by the policy, with the reason a person reads.
type DenyError struct {
	Action Action
	Reason string
	// Hidden: the record is not the actor's to know of, answered as not
	// found.
	Hidden bool
}

func (e *DenyError) Error() string {
	if e.Hidden {
		return "not found"
	}
	return fmt.Sprintf("%s: %s", e.Action, e.Reason)
}

// Unwrap makes a hidden denial ErrNotFound and any other ErrForbidden.
func (e *DenyError) Unwrap() error {
	if e.Hidden {
		return ErrNotFound
	}
	return ErrForbidden
}

// DuplicateError refuses a new patient whose email or identifier an
// existing patient has.
type DuplicateError struct {
	Existing int64
	// Field is what matched: "email" or "identifier".
	Field string
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("a patient with this %s exists: patient %d", e.Field, e.Existing)
}

// Unwrap makes a DuplicateError an ErrConflict.
func (e *DuplicateError) Unwrap() error { return ErrConflict }

// RateLimitError says when to try again.
type RateLimitError struct {
	RetryAfter time.Duration
	What       string
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("too many %s; try again in %s", e.What, e.RetryAfter.Round(time.Second))
}

// Unwrap makes a RateLimitError an ErrRateLimited.
func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// Refusal is an error the service explains: Reason is a sentence for the
// person who asked (what stands in the way, and what to do), safe to show
// them. It wraps its class (ErrConflict, ErrTooLarge, ...) and, where one
// caused it, the underlying error, which is for logs only.
type Refusal struct {
	Class  error
	Reason string
	cause  error
}

func (e *Refusal) Error() string {
	if e.cause != nil {
		return e.Class.Error() + ": " + e.Reason + ": " + e.cause.Error()
	}
	return e.Class.Error() + ": " + e.Reason
}

// Unwrap makes a Refusal its class and its cause.
func (e *Refusal) Unwrap() []error {
	if e.cause != nil {
		return []error{e.Class, e.cause}
	}
	return []error{e.Class}
}

// refuse returns a Refusal of class with the reason.
func refuse(class error, format string, args ...any) error {
	return &Refusal{Class: class, Reason: fmt.Sprintf(format, args...)}
}
