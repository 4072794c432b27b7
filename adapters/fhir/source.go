package fhir

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/provider"
)

// Config configures a Source. Only Client is required.
type Config struct {
	// Client talks to the provider's FHIR server.
	Client *provider.Client
	// Name is shown to the dietician as where a document came from, when
	// the document names no custodian. Default "Primary Healthcare
	// Provider".
	Name string
	// Overlap is how far before the cursor an incremental listing starts
	// again (_lastUpdated=gt<cursor − Overlap>), to pick up resources
	// committed late or stamped by a skewed clock. Default 5 minutes.
	Overlap time.Duration
	// TypeCodes adds document type mappings, keyed "system|code" (for
	// example "http://loinc.org|11488-4"), to the built-in LOINC ones.
	TypeCodes map[string]connector.DocumentType
	// SequentialVersions declares that the server's meta.versionIds are
	// decimal numbers that grow with every change of a resource, so the
	// engine may order versions by them (connector.SequentialVersions).
	// False, the default, keeps them opaque, as FHIR defines them: only
	// equal or different, ordered by meta.lastUpdated. Set it only for a
	// server known to number versions so (HAPI and many others do, but
	// FHIR does not require it).
	SequentialVersions bool
	// MaxPages bounds the pages one phase of a listing follows (the
	// DocumentReferences, then the DiagnosticReports of one patient), so
	// that a server whose next links never end fails the listing, logged,
	// instead of growing it without bound. Default 1,000.
	MaxPages int
	// TaskIdentifierSystem is the identifier system of the Tasks that
	// RequestDocuments creates; the request key is the value. Default
	// "urn:healthcare-records:document-request".
	TaskIdentifierSystem string
	// Logger receives ids only. Nil means slog.Default().
	Logger *slog.Logger
}

// Source is a connector.Source over a FHIR R4 server. It also implements
// connector.PatientWriter, connector.DocumentRequester, connector.Router
// and connector.SequentialVersions. It is safe for concurrent use.
type Source struct {
	c   *provider.Client
	cfg Config
	log *slog.Logger
	now func() time.Time
	// listed remembers the patient a DiagnosticReport without a subject
	// reference was listed under.
	listed *memo
	// reports remembers the DiagnosticReport a listed Observation is a
	// result of (ListObservations).
	reports *memo
}

var (
	_ connector.Source             = (*Source)(nil)
	_ connector.PatientWriter      = (*Source)(nil)
	_ connector.DocumentRequester  = (*Source)(nil)
	_ connector.SequentialVersions = (*Source)(nil)
)

// SequentialVersions implements connector.SequentialVersions: it reports
// Config.SequentialVersions.
func (s *Source) SequentialVersions() bool { return s.cfg.SequentialVersions }

// New returns a Source over cfg.Client.
func New(cfg Config) (*Source, error) {
	if cfg.Client == nil {
		return nil, errors.New("fhir source: client is required")
	}
	if cfg.Name == "" {
		cfg.Name = "Primary Healthcare Provider"
	}
	if cfg.Overlap <= 0 {
		cfg.Overlap = 5 * time.Minute
	}
	if cfg.MaxPages <= 0 {
		cfg.MaxPages = 1000
	}
	if cfg.TaskIdentifierSystem == "" {
		cfg.TaskIdentifierSystem = "urn:healthcare-records:document-request"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Source{c: cfg.Client, cfg: cfg, log: cfg.Logger, now: time.Now, listed: newMemo(10_000), reports: newMemo(50_000)}, nil
}

// The document resource types the Source lists and fetches.
const (
	typeDocumentReference = "DocumentReference"
	typeDiagnosticReport  = "DiagnosticReport"
)

// FetchDocument reads a DocumentReference or DiagnosticReport and its
// content. A DiagnosticReport without a presented form gets a plain-text
// rendering of its result Observations as content. A resource marked
// entered-in-error comes back Deleted, without content.
//
// connector.ErrNotFound means the FHIR server confirmed the resource is
// deleted (see classifyRead); the engine then deletes it at every sink. A
// 404 that is not the FHIR server's, or of its attachment, is retried.
func (s *Source) FetchDocument(ctx context.Context, ref connector.Ref) (*connector.Document, error) {
	var (
		doc *connector.Document
		err error
	)
	switch ref.Type {
	case typeDocumentReference:
		doc, err = s.fetchDocumentReference(ctx, ref.ID)
	case typeDiagnosticReport:
		doc, err = s.fetchDiagnosticReport(ctx, ref.ID)
	default:
		return nil, fmt.Errorf("%w: fhir source has no documents of type %q", connector.ErrInvalid, ref.Type)
	}
	if err != nil {
		// Already classified: only the read of the resource itself may
		// say it is deleted (classifyRead).
		return nil, fmt.Errorf("fetch %s/%s: %w", ref.Type, ref.ID, err)
	}
	doc.Ref.System = ref.System
	doc.Patient.System = ref.System
	doc.Seal()
	return doc, nil
}

// classify wraps a provider error with the kernel's error class: 409 and
// 412 are ErrConflict, a 429 or 503 with Retry-After a RetryAfter, refused
// credentials, other 4xx answers, refused URLs, oversized content and an
// attachment whose bytes do not match its hash ErrPermanent; anything
// else stays retryable. A 404 or 410 stays retryable here: only the read
// of a resource itself can confirm its deletion (classifyRead), not a
// search, an attachment or a history.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var se *provider.StatusError
	if errors.As(err, &se) {
		switch code := se.StatusCode; {
		case code == 404 || code == 410:
			return err
		case code == 409 || code == 412:
			return fmt.Errorf("%w: %w", connector.ErrConflict, err)
		case code == 429 || code == 503:
			if se.RetryAfter > 0 {
				return connector.RetryAfter(se.RetryAfter, err)
			}
			return err
		case code == 408:
			return err
		case code >= 400 && code < 500:
			return fmt.Errorf("%w: %w", connector.ErrPermanent, err)
		}
		return err
	}
	for _, perm := range []error{provider.ErrAuth, provider.ErrOrigin, provider.ErrTooLarge, provider.ErrHashMismatch} {
		if errors.Is(err, perm) {
			return fmt.Errorf("%w: %w", connector.ErrPermanent, err)
		}
	}
	return err
}
