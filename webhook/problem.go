package webhook

import (
	"encoding/json"
	"net/http"
)

// outcome is what became of one request: the label of the requests counter
// and the "outcome" of every log entry and response body.
type outcome string

// The outcomes, one per way a request can end.
const (
	outcomeAccepted         outcome = "accepted"  // 202: ingested and committed
	outcomeDuplicate        outcome = "duplicate" // 200: event id seen before
	outcomeIgnored          outcome = "ignored"   // 200: an event type not acted on
	outcomeHandshake        outcome = "handshake" // 200: FHIR subscription handshake
	outcomeHeartbeat        outcome = "heartbeat" // 200: FHIR heartbeat, no gap
	outcomeUnauthorized     outcome = "unauthorized"
	outcomeStale            outcome = "stale_timestamp"
	outcomeTooLarge         outcome = "too_large"
	outcomeUnsupportedMedia outcome = "unsupported_media_type"
	outcomeMalformed        outcome = "malformed"
	outcomeMethodNotAllowed outcome = "method_not_allowed"
	outcomeInvalid          outcome = "invalid"     // 400: the Ingester refused the event
	outcomeUnavailable      outcome = "unavailable" // 503: the Ingester failed
	outcomeOverloaded       outcome = "overloaded"  // 503: Config.MaxBuffered is spent
	outcomeNotFound         outcome = "unknown_source"
)

// problem is a refusal, answered as an RFC 9457 problem detail.
type problem struct {
	status  int
	outcome outcome
	detail  string
	cause   error
}

func newProblem(status int, o outcome, detail string) *problem {
	return &problem{status: status, outcome: o, detail: detail}
}

// wrapProblem puts cause's message into the detail: cause must be written
// for the sender (an ErrUnauthenticated, a bodyError, a connector.ErrInvalid)
// and carry no header value that was not verified.
func wrapProblem(status int, o outcome, detail string, cause error) *problem {
	return &problem{status: status, outcome: o, detail: detail + ": " + cause.Error(), cause: cause}
}

func (p *problem) Error() string { return p.detail }

func (p *problem) Unwrap() error { return p.cause }

// problemBody is the JSON of an RFC 9457 problem, with the outcome as an
// extension member so that a sender's logs can tell refusals apart.
type problemBody struct {
	Type    string  `json:"type"`
	Title   string  `json:"title"`
	Status  int     `json:"status"`
	Detail  string  `json:"detail,omitempty"`
	Outcome outcome `json:"outcome,omitempty"`
}

// maxDetail bounds the detail of a problem, which may quote the body.
const maxDetail = 512

// writeProblem answers err, which must be a *problem, and returns it.
func writeProblem(w http.ResponseWriter, err error) error {
	p, ok := err.(*problem)
	if !ok {
		// The error stays in the log, not in the answer.
		p = &problem{status: http.StatusInternalServerError, outcome: outcomeUnavailable, detail: "internal error", cause: err}
	}
	encodeProblem(w, p.status, p.detail, p.outcome)
	return p
}

func encodeProblem(w http.ResponseWriter, status int, detail string, o outcome) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problemBody{
		Type:    "about:blank",
		Title:   http.StatusText(status),
		Status:  status,
		Detail:  clip(detail, maxDetail),
		Outcome: o,
	})
}

// WriteProblem answers status with an RFC 9457 application/problem+json
// body of type about:blank, whose title is the status text and whose detail
// should tell the sender what to change. It is how a server that mounts
// Receivers answers its own errors in the same form as theirs; detail must
// not quote what the request sent. Headers already set on w (Allow,
// Retry-After) are kept.
func WriteProblem(w http.ResponseWriter, status int, detail string) {
	encodeProblem(w, status, detail, "")
}

// NotFoundHandler answers every request 404 as a problem. A server mounts
// it on "/" so that a path it does not serve, next to its webhook paths, is
// answered like a refusal of a Receiver rather than as text/plain:
//
//	mux.Handle("/", webhook.NotFoundHandler())
func NotFoundHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		WriteProblem(w, http.StatusNotFound, "nothing is served at this path")
	})
}

// ack is the body of a 2xx answer.
type ack struct {
	ID       string  `json:"id,omitempty"`
	Outcome  outcome `json:"outcome"`
	Enqueued int     `json:"enqueued,omitempty"`
}

// writeAck answers a 2xx. The id is cut to maxEventID bytes: a FHIR
// subscription names itself as long as it likes.
func writeAck(w http.ResponseWriter, status int, id string, o outcome, enqueued int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(ack{ID: clip(id, maxEventID), Outcome: o, Enqueued: enqueued})
}
