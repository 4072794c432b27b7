package present

import (
	"errors"
	"fmt"
)

// The error classes. Every error of this package but a context's wraps one
// of them, inside an *[Error] that names the format and the reason.
var (
	// ErrTooLarge: the document, its text, its depth or its element count
	// is over a [Limits] bound.
	ErrTooLarge = errors.New("document over a presentation limit")
	// ErrMalformed: the document is not what its type says, or cannot be
	// parsed.
	ErrMalformed = errors.New("malformed document")
	// ErrNoText: the document's type carries no text this package can
	// extract (an image, an archive…). Callers indexing text ignore it.
	ErrNoText = errors.New("no extractable text")
)

// Error is a refusal to present or extract one document. Reason is a
// sentence for a person ("element depth over 100"), without content of
// the document, so the API may show it and a log may hold it.
type Error struct {
	Format string // "pdf", "cda", "html", "text", "image"
	Reason string
	Class  error // ErrTooLarge, ErrMalformed or ErrNoText
	Err    error // the underlying error, if any
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Format, e.Reason, e.Err)
	}
	return e.Format + ": " + e.Reason
}

// Unwrap returns the class and the underlying error, for errors.Is.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Class}
	}
	return []error{e.Class, e.Err}
}

func tooLarge(format, reason string) error {
	return &Error{Format: format, Reason: reason, Class: ErrTooLarge}
}

func malformed(format, reason string, err error) error {
	return &Error{Format: format, Reason: reason, Class: ErrMalformed, Err: err}
}
