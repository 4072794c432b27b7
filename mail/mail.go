package mail

import "context"

// Message is one email the service sends: a text and an HTML alternative
// of the same content, to one recipient.
type Message struct {
	// To is the recipient's address.
	To string
	// Subject carries no patient data unless the practice opted in.
	Subject string
	// Text and HTML are the two alternatives; HTML may be empty.
	Text, HTML string
	// MessageID is stable for one notification, so that a retried send
	// is recognisable as the same message: "<id@host>" without the
	// angle brackets.
	MessageID string
}

// Sender sends a message. An error is transient unless it wraps
// ErrRejected: the caller (the outbox job) retries a transient failure
// with backoff. Send must be safe for concurrent use.
type Sender interface {
	Send(ctx context.Context, m Message) error
}
