package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcare-records/healthcare-records/connector"
)

// Ingester durably records an event and the work it asks for. It is what a
// Receiver hands every verified, normalized event to; *connector.Engine
// satisfies it.
//
// The contract a Receiver relies on: when Ingest returns nil the event id and
// its ops are committed together, and a repeated event id reports
// IngestResult.Duplicate and commits nothing. An error wrapping
// connector.ErrInvalid means the event itself is refused (the sender gets
// 400); any other error means nothing was committed and the sender should
// retry (503). Ingest is called concurrently.
type Ingester interface {
	Ingest(ctx context.Context, ev connector.Event) (connector.IngestResult, error)
}

// Format is the wire format a Receiver accepts.
type Format string

// The formats a Receiver understands.
const (
	// FormatStandardWebhooks: the Standard Webhooks signature scheme
	// (webhook-id, webhook-timestamp, webhook-signature headers, HMAC-SHA256
	// with whsec_ secrets) around this package's change event body; see
	// StandardEvent.
	FormatStandardWebhooks Format = "standard-webhooks"
	// FormatFHIRSubscription: FHIR Subscriptions R5 Backport (R4 Parameters
	// or R4B SubscriptionStatus) rest-hook notification Bundles, authenticated
	// by the header the Subscription's channel.header sets.
	FormatFHIRSubscription Format = "fhir-subscription"
	// FormatMedplum: a Medplum-style rest-hook whose body is the changed
	// resource and whose X-Signature header is the hex HMAC-SHA256 of the
	// body.
	FormatMedplum Format = "medplum"
)

// Defaults of the zero Config fields.
const (
	DefaultTolerance   = 5 * time.Minute
	DefaultMaxBody     = 1 << 20
	DefaultMaxBuffered = 32 << 20
	DefaultRetryAfter  = 5 * time.Second
	// DefaultAuthHeader is the header FormatFHIRSubscription compares against
	// Config.Secrets when Config.Header is empty.
	DefaultAuthHeader = "Authorization"
)

// Config configures one Receiver: one Source, one format. Zero values of the
// optional fields take the documented defaults.
type Config struct {
	// Source names the connector.Source the changes belong to: it becomes
	// Event.Source and every Change's Ref.System. Required.
	Source string
	// Format is the wire format accepted. Required.
	Format Format
	// Secrets are the credentials currently accepted; a request verified by
	// any one of them is authentic, so a secret is rotated by adding the new
	// one, moving the sender over, then removing the old one. At least one is
	// required. What a secret is depends on the Format:
	//   - FormatStandardWebhooks: a signing secret, "whsec_" followed by the
	//     key in standard base64, padded or not (the prefix is optional).
	//   - FormatFHIRSubscription: a whole value of Header as the
	//     Subscription's channel.header sets it, such as "Bearer s3cr3t".
	//   - FormatMedplum: the subscription-secret string used as HMAC key.
	Secrets []string
	// Header is the request header FormatFHIRSubscription authenticates.
	// Default "Authorization". Ignored by the other formats.
	Header string
	// Tolerance bounds how far webhook-timestamp may be from Now, either
	// way, for FormatStandardWebhooks. For FormatMedplum it is the window
	// within which a deletion with a "{}" body, which carries nothing that
	// tells one deletion from the next, is taken for a resend of the same
	// one. Default 5 minutes.
	Tolerance time.Duration
	// MaxBody bounds a request body in bytes; a larger one is refused with
	// 413. Default 1 MiB.
	MaxBody int64
	// MaxBuffered bounds the bytes of request bodies the Receiver holds at
	// once, across all its connections, from the first byte read to the
	// answer. A request takes its Content-Length (MaxBody when the sender
	// sends none) from it before reading the body, and when that is not
	// left it is answered 503 with Retry-After at once, its body unread, so
	// that many slow senders cannot make memory grow. Default 32 MiB, or
	// MaxBody when that is larger; set, it must be at least MaxBody.
	MaxBuffered int64
	// HeartbeatPeriod is the heartbeat period of the source's FHIR
	// subscriptions. A subscription silent for more than twice this long has
	// missed a heartbeat and triggers a reconcile (see Receiver.Run). Zero
	// disables the check. Only FormatFHIRSubscription.
	HeartbeatPeriod time.Duration
	// RetryAfter is the delay a 503 asks the sender to wait when the
	// Ingester gave none (connector.RetryAfter), or when MaxBuffered is
	// spent. Default 5 seconds.
	RetryAfter time.Duration
	// Logger receives one entry per request with the outcome and, once the
	// request is verified, the event id (cut to 64 bytes); never the body,
	// nor a header the Receiver did not verify. Default slog.Default().
	Logger *slog.Logger
	// Metrics, when set, registers the package's Prometheus collectors on
	// it. Several Receivers may share one Registerer. Nil: no metrics.
	Metrics prometheus.Registerer
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Receiver is an http.Handler that verifies, normalizes and durably hands
// inbound change events of one Source to an Ingester. It answers 2xx only
// after the Ingester committed the event (or found it a duplicate, or it
// needed nothing). It is safe for concurrent use.
type Receiver struct {
	cfg      Config
	ing      Ingester
	log      *slog.Logger
	format   wireFormat
	buffered *budget
	metrics  *metrics
	subs     *subscriptions // FormatFHIRSubscription only
}

// wireFormat is how one Format authenticates and decodes a request.
type wireFormat struct {
	// headers checks, before the body is read, whatever of the request's
	// authentication does not need the body; its errors wrap
	// ErrUnauthenticated or ErrStale. For a format authenticated by a
	// header alone that is all of it.
	headers func(req *http.Request) error
	// decode verifies the rest with the body and normalizes it.
	decode func(req *http.Request, body []byte) (decoded, error)
}

// New checks cfg and returns a Receiver handing its events to ing.
func New(ing Ingester, cfg Config) (*Receiver, error) {
	if ing == nil {
		return nil, errors.New("webhook: no ingester")
	}
	if cfg.Source == "" {
		return nil, errors.New("webhook: config has no source")
	}
	if len(cfg.Secrets) == 0 {
		return nil, fmt.Errorf("webhook: source %q has no secret", cfg.Source)
	}
	for i, s := range cfg.Secrets {
		if s == "" {
			return nil, fmt.Errorf("webhook: source %q secret %d is empty", cfg.Source, i)
		}
	}
	if cfg.Tolerance <= 0 {
		cfg.Tolerance = DefaultTolerance
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxBuffered <= 0 {
		cfg.MaxBuffered = max(DefaultMaxBuffered, cfg.MaxBody)
	}
	if cfg.MaxBuffered < cfg.MaxBody {
		return nil, fmt.Errorf("webhook: source %q: max buffered %d is below max body %d, so a body of the maximum size is never read", cfg.Source, cfg.MaxBuffered, cfg.MaxBody)
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = DefaultRetryAfter
	}
	if cfg.Header == "" {
		cfg.Header = DefaultAuthHeader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &Receiver{cfg: cfg, ing: ing}
	r.log = cfg.Logger.With("source", cfg.Source, "format", string(cfg.Format))
	switch cfg.Format {
	case FormatStandardWebhooks:
		v, err := NewVerifier(cfg.Secrets, cfg.Tolerance)
		if err != nil {
			return nil, fmt.Errorf("webhook: source %q: %w", cfg.Source, err)
		}
		r.format = r.standardFormat(v)
	case FormatFHIRSubscription:
		r.subs = newSubscriptions()
		r.format = r.fhirFormat()
	case FormatMedplum:
		r.format = r.medplumFormat()
	default:
		return nil, fmt.Errorf("webhook: source %q has unknown format %q", cfg.Source, cfg.Format)
	}
	m, err := newMetrics(cfg.Metrics)
	if err != nil {
		return nil, fmt.Errorf("webhook: source %q: %w", cfg.Source, err)
	}
	r.metrics = m
	r.buffered = newBudget(cfg.MaxBuffered, func(n int64) { m.observeBuffered(cfg.Source, n) })
	return r, nil
}

// Source returns the name of the Source the receiver ingests for.
func (r *Receiver) Source() string { return r.cfg.Source }

// decoded is what a format makes of a verified request.
type decoded struct {
	// id identifies the notification in logs: the event id when there is
	// an event, else what the sender calls it. It is set only once the
	// request is verified.
	id string
	// event is nil when there is nothing to ingest; outcome then says why.
	event   *connector.Event
	outcome outcome
	// commit, when set, runs after the event was ingested (or found a
	// duplicate), or at once when there is no event.
	commit func()
}

// Bounds of what a log entry takes from a request.
const (
	maxLoggedID  = 64
	maxLoggedErr = 512
)

// ServeHTTP implements http.Handler.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	start := time.Now()
	d, res, err := r.serve(w, req)
	elapsed := time.Since(start)

	out := d.outcome
	var p *problem
	if errors.As(err, &p) {
		out = p.outcome
	}
	r.metrics.observe(r.cfg.Source, r.cfg.Format, out, elapsed)

	// Only what the Receiver verified or made itself is logged, and each
	// string that came with the request is cut short: a log entry costs
	// the same whatever the sender sends.
	attrs := []any{"outcome", string(out), "duration_ms", elapsed.Milliseconds()}
	if d.id != "" {
		attrs = append(attrs, "event", clip(d.id, maxLoggedID))
	}
	switch {
	case p != nil && p.status >= 500 && p.cause != nil:
		r.log.ErrorContext(req.Context(), "webhook not ingested", append(attrs, "status", p.status, "err", clip(p.cause.Error(), maxLoggedErr))...)
	case p != nil:
		r.log.WarnContext(req.Context(), "webhook refused", append(attrs, "status", p.status, "err", clip(p.Error(), maxLoggedErr))...)
	case out == outcomeIgnored:
		r.log.InfoContext(req.Context(), "webhook ignored", attrs...)
	case out == outcomeDuplicate:
		r.log.InfoContext(req.Context(), "webhook duplicate", attrs...)
	case d.event != nil:
		r.log.InfoContext(req.Context(), "webhook ingested", append(attrs, "changes", len(d.event.Changes), "reconcile", d.event.Reconcile, "enqueued", res.Enqueued)...)
	default:
		r.log.DebugContext(req.Context(), "webhook acknowledged", attrs...)
	}
}

// serve does the work of ServeHTTP and writes the response; it returns what
// happened for the log and the metrics.
//
// Everything that can be refused without the body is refused before a byte
// of it is read: the method, the content type, the headers that
// authenticate it (all of them for a format authenticated by a header), the
// declared size, and the room left in Config.MaxBuffered.
func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) (decoded, connector.IngestResult, error) {
	var res connector.IngestResult
	hold, err := r.admit(w, req)
	if err != nil {
		if req.ContentLength != 0 {
			// Else net/http reads up to 256 KiB of the body, at the
			// sender's pace, before it sends the answer.
			w.Header().Set("Connection", "close")
		}
		return decoded{}, res, writeProblem(w, err)
	}
	defer r.buffered.give(hold)
	body, err := readBody(w, req, r.cfg.MaxBody)
	if err != nil {
		return decoded{}, res, writeProblem(w, err)
	}
	d, err := r.format.decode(req, body)
	if err != nil {
		if p, ok := err.(*problem); ok && p.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", r.challenge())
		}
		return d, res, writeProblem(w, err)
	}
	if d.event == nil {
		if d.commit != nil {
			d.commit()
		}
		writeAck(w, http.StatusOK, d.id, d.outcome, 0)
		return d, res, nil
	}
	d.event.Source = r.cfg.Source
	d.event.Action = connector.ActionWebhook
	res, err = r.ing.Ingest(req.Context(), *d.event)
	switch {
	case errors.Is(err, connector.ErrInvalid):
		return d, res, writeProblem(w, wrapProblem(http.StatusBadRequest, outcomeInvalid, "the event was refused", err))
	case err != nil:
		delay := r.cfg.RetryAfter
		if dl, ok := connector.RetryDelay(err); ok && dl > 0 {
			delay = dl
		}
		w.Header().Set("Retry-After", retryAfter(delay))
		// The store's error stays in our log, not in the answer.
		p := &problem{status: http.StatusServiceUnavailable, outcome: outcomeUnavailable, detail: "the event could not be stored; retry later", cause: err}
		return d, res, writeProblem(w, p)
	}
	if d.commit != nil {
		d.commit()
	}
	if res.Duplicate {
		d.outcome = outcomeDuplicate
		writeAck(w, http.StatusOK, d.id, d.outcome, 0)
		return d, res, nil
	}
	d.outcome = outcomeAccepted
	writeAck(w, http.StatusAccepted, d.id, d.outcome, res.Enqueued)
	return d, res, nil
}

// admit checks what can be checked before the body is read and takes the
// bytes the body may need from the budget; the caller gives them back.
func (r *Receiver) admit(w http.ResponseWriter, req *http.Request) (int64, error) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return 0, newProblem(http.StatusMethodNotAllowed, outcomeMethodNotAllowed, "only POST is accepted")
	}
	if err := checkContentType(req.Header.Get("Content-Type")); err != nil {
		return 0, err
	}
	if err := r.format.headers(req); err != nil {
		w.Header().Set("WWW-Authenticate", r.challenge())
		return 0, authProblem(err)
	}
	if req.ContentLength > r.cfg.MaxBody {
		return 0, tooLarge(r.cfg.MaxBody)
	}
	// A body of unknown length may take up to MaxBody.
	hold := req.ContentLength
	if hold < 0 {
		hold = r.cfg.MaxBody
	}
	if !r.buffered.take(hold) {
		w.Header().Set("Retry-After", retryAfter(r.cfg.RetryAfter))
		return 0, newProblem(http.StatusServiceUnavailable, outcomeOverloaded, "too many requests are being received at once; retry later")
	}
	return hold, nil
}

// retryAfter is a Retry-After value: whole seconds, rounded up.
func retryAfter(d time.Duration) string {
	return fmt.Sprint(int64(math.Ceil(d.Seconds())))
}

// checkContentType accepts JSON and FHIR JSON, with any parameters. The
// header is not quoted back: it is not verified, and it is logged.
func checkContentType(ct string) error {
	if ct == "" {
		return newProblem(http.StatusUnsupportedMediaType, outcomeUnsupportedMedia, "Content-Type is missing; send application/json or application/fhir+json")
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return newProblem(http.StatusUnsupportedMediaType, outcomeUnsupportedMedia, "Content-Type cannot be parsed; send application/json or application/fhir+json")
	}
	switch mt {
	case "application/json", "application/fhir+json":
		return nil
	}
	return newProblem(http.StatusUnsupportedMediaType, outcomeUnsupportedMedia, "Content-Type is not accepted; send application/json or application/fhir+json")
}

func tooLarge(limit int64) *problem {
	return newProblem(http.StatusRequestEntityTooLarge, outcomeTooLarge, fmt.Sprintf("the body exceeds %d bytes", limit))
}

// readBody reads the whole body through http.MaxBytesReader, so that an
// oversized body is cut off at the limit rather than buffered. The buffer
// never grows past what the caller took from the budget: the
// Content-Length when there is one, else limit.
func readBody(w http.ResponseWriter, req *http.Request, limit int64) ([]byte, error) {
	rd := http.MaxBytesReader(w, req.Body, limit)
	defer rd.Close()
	var body []byte
	var err error
	if req.ContentLength >= 0 {
		// The server stops the body at its Content-Length.
		body = make([]byte, req.ContentLength)
		_, err = io.ReadFull(rd, body)
	} else {
		body, err = readAtMost(rd, limit)
	}
	var max *http.MaxBytesError
	switch {
	case errors.As(err, &max):
		return nil, tooLarge(limit)
	case err != nil:
		// The cause (a timeout, a reset) is logged, not answered.
		return nil, &problem{status: http.StatusBadRequest, outcome: outcomeMalformed, detail: "the body could not be read whole", cause: err}
	}
	return body, nil
}

// readAtMost reads rd to its end into a buffer that doubles as it fills
// but never holds more than limit+1 bytes, where io.ReadAll could reach
// twice the body.
func readAtMost(rd io.Reader, limit int64) ([]byte, error) {
	buf := make([]byte, 0, min(limit+1, 4096))
	for {
		if int64(len(buf)) > limit {
			return nil, &http.MaxBytesError{Limit: limit}
		}
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(2*int64(cap(buf)), limit+1))
			copy(grown, buf)
			buf = grown
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// challenge is the WWW-Authenticate value a 401 carries.
func (r *Receiver) challenge() string {
	switch r.cfg.Format {
	case FormatStandardWebhooks:
		return `Signature realm="webhook", headers="webhook-id webhook-timestamp webhook-signature"`
	case FormatMedplum:
		return `Signature realm="webhook", headers="x-signature"`
	}
	if strings.EqualFold(r.cfg.Header, "Authorization") {
		return `Bearer realm="webhook"`
	}
	return `Header realm="webhook", header="` + strings.ToLower(r.cfg.Header) + `"`
}
