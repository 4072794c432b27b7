package fhir

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/provider"
)

func (s *Source) fetchDocumentReference(ctx context.Context, id string) (*connector.Document, error) {
	d, err := s.c.ReadDocumentReference(ctx, id)
	if err != nil {
		return nil, s.classifyRead(ctx, typeDocumentReference, id, err)
	}
	doc := s.mapDocumentReference(d)
	if err := checkPatient(doc); err != nil {
		return nil, err
	}
	doc.Author = s.authorNames(ctx, &d.Base, d.Author)
	if d.Custodian != nil {
		if name := s.authorNames(ctx, &d.Base, []provider.Reference{*d.Custodian}); name != "" {
			doc.Source = name
		}
	}
	if doc.Deleted {
		return doc, nil
	}
	a, ok := documentAttachment(d)
	if !ok {
		return nil, fmt.Errorf("%w: document reference has no attachment with content", connector.ErrPermanent)
	}
	if err := s.content(ctx, doc, a, reread(s.c.ReadDocumentReference, id, documentAttachment)); err != nil {
		return nil, classify(err)
	}
	return doc, nil
}

func (s *Source) fetchDiagnosticReport(ctx context.Context, id string) (*connector.Document, error) {
	r, err := s.c.ReadDiagnosticReport(ctx, id)
	if err != nil {
		return nil, s.classifyRead(ctx, typeDiagnosticReport, id, err)
	}
	doc := s.mapDiagnosticReport(r)
	var obs map[string]*provider.Observation // read at most once
	if doc.Patient.ID == "" && (r.Subject == nil || r.Subject.Reference == "") {
		// A subject given only by display: the patient it was listed
		// under is its patient.
		// Not listed by this process (a change notification): the one
		// patient its result Observations name.
		p, ok := s.listed.get(r.ID)
		if !ok {
			var err error
			if obs, err = s.resultObservations(ctx, r); err != nil {
				return nil, classify(err)
			}
			p = resultsPatient(obs)
		}
		if p != "" {
			doc.Patient = connector.Ref{Type: connector.PatientType, ID: p}
		}
	}
	if err := checkPatient(doc); err != nil {
		return nil, err
	}
	if doc.Author = s.authorNames(ctx, &r.Base, r.ResultsInterpreter); doc.Author == "" {
		doc.Author = s.authorNames(ctx, &r.Base, r.Performer)
	}
	if doc.Deleted {
		return doc, nil
	}
	if a, ok := reportAttachment(r); ok {
		if err := s.content(ctx, doc, a, reread(s.c.ReadDiagnosticReport, id, reportAttachment)); err != nil {
			return nil, classify(err)
		}
		return doc, nil
	}
	if obs == nil {
		if obs, err = s.resultObservations(ctx, r); err != nil {
			return nil, classify(err)
		}
	}
	doc.Content, doc.ContentType = []byte(renderResults(r, obs)), "text/plain; charset=utf-8"
	return doc, nil
}

// resultObservations reads r's result Observations in one search
// (Observation?_id=...), by id. Both the patient lookup and the rendered
// text need them; one search serves both.
func (s *Source) resultObservations(ctx context.Context, r *provider.DiagnosticReport) (map[string]*provider.Observation, error) {
	var ids []string
	for _, ref := range r.Result {
		if typ, id, ok := ref.TypeID(); ok && typ == "Observation" {
			ids = append(ids, id)
		}
	}
	obs := map[string]*provider.Observation{}
	if len(ids) == 0 {
		return obs, nil
	}
	err := s.c.SearchAll(ctx, "Observation", url.Values{"_id": {strings.Join(ids, ",")}}, func(b *provider.Bundle) error {
		rs, _ := b.Matches()
		for _, res := range rs {
			if o, ok := res.(*provider.Observation); ok && slices.Contains(ids, o.ID) {
				obs[o.ID] = o
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("result observations: %w", err)
	}
	return obs, nil
}

// resultsPatient returns the patient every result Observation names as
// its subject, or "" when they name none or more than one.
func resultsPatient(obs map[string]*provider.Observation) string {
	patients := map[string]bool{}
	for _, o := range obs {
		if p := patientRef(o.Subject); p.ID != "" {
			patients[p.ID] = true
		}
	}
	if len(patients) != 1 {
		return ""
	}
	for p := range patients {
		return p
	}
	return ""
}

func checkPatient(doc *connector.Document) error {
	if doc.Patient.ID == "" {
		return fmt.Errorf("%w: subject is not a patient reference, and the resource was not listed under a patient", connector.ErrPermanent)
	}
	return nil
}

// reread returns a function that reads resource id again and picks its
// attachment, as a fetch did, for attachment to tell a change from a
// corruption.
func reread[R any](read func(context.Context, string) (R, error), id string,
	pick func(R) (provider.Attachment, bool)) func(context.Context) (provider.Attachment, error) {
	return func(ctx context.Context) (provider.Attachment, error) {
		r, err := read(ctx, id)
		if err != nil {
			return provider.Attachment{}, err
		}
		a, _ := pick(r)
		return a, nil
	}
}

// content gives doc the attachment's content: inline data is held; what a
// URL serves is a Body, read from the response as the engine reads it
// (and spools it when it is large). The request is sent here, so that the
// answer's status and media type are the fetch's. reread reads the
// resource's attachment again (see attachment).
func (s *Source) content(ctx context.Context, doc *connector.Document, a provider.Attachment,
	reread func(context.Context) (provider.Attachment, error)) error {
	if a.URL == "" {
		c, err := s.c.Content(ctx, a)
		if err != nil {
			return err
		}
		doc.Content, doc.ContentType = c.Data, c.ContentType
		return nil
	}
	cs, err := s.c.OpenContent(ctx, a)
	if err != nil {
		return err
	}
	doc.ContentType, doc.Body = cs.ContentType, &attachment{c: s.c, a: a, reread: reread, first: cs}
	return nil
}

// attachment is the Body of content a URL serves. Its first reading is
// the response the fetch opened; another reading requests it again. It
// closes that response if it is never read (io.Closer). Errors are
// classified as the fetch's are: content too large is ErrPermanent, and
// so is content other than its hash while the resource still states that
// hash. A URL's content can change between the read of the resource and
// the read of the URL (a Binary updated with its DocumentReference, say:
// nothing in FHIR makes the two reads one), so a mismatch reads the
// resource again, and if it now states another attachment the error is
// retryable: the next fetch reads the resource as it is now.
type attachment struct {
	c      *provider.Client
	a      provider.Attachment
	reread func(context.Context) (provider.Attachment, error)

	mu    sync.Mutex
	first *provider.ContentStream
}

func (b *attachment) Open(ctx context.Context) (io.ReadCloser, error) {
	b.mu.Lock()
	cs := b.first
	b.first = nil
	b.mu.Unlock()
	if cs == nil {
		var err error
		if cs, err = b.c.OpenContent(ctx, b.a); err != nil {
			return nil, classify(err)
		}
	}
	return classified{ReadCloser: cs, ctx: ctx, b: b}, nil
}

// changed tells a read whose bytes did not match the hash why: mismatch
// when the resource still states the attachment that was read, and a
// retryable error when it states another now or cannot be read.
func (b *attachment) changed(ctx context.Context, mismatch error) error {
	cur, err := b.reread(ctx)
	switch {
	case err != nil:
		return fmt.Errorf("%w (the resource could not be read again to tell a change from a corruption: %v)", mismatch, err)
	case cur.URL != b.a.URL || cur.Hash != b.a.Hash:
		return fmt.Errorf("the resource changed while its attachment was read (it states another now): %w", mismatch)
	}
	return classify(mismatch)
}

// Close drops the response of the fetch if it was not read.
func (b *attachment) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.first == nil {
		return nil
	}
	err := b.first.Close()
	b.first = nil
	return err
}

// classified reads an attachment of b, classifying its errors. ctx is
// the Open's, for reading the resource again on a mismatch: Read has none.
type classified struct {
	io.ReadCloser
	ctx context.Context
	b   *attachment
}

func (r classified) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	switch {
	case err == nil, errors.Is(err, io.EOF):
	case errors.Is(err, provider.ErrHashMismatch):
		err = r.b.changed(r.ctx, err)
	default:
		err = classify(err)
	}
	return n, err
}

// renderResults writes a lab panel without a presented form as text: its
// title, date, conclusion and one line per result Observation (obs, by
// id).
func renderResults(r *provider.DiagnosticReport, obs map[string]*provider.Observation) string {
	var b strings.Builder
	b.WriteString(r.Code.Display())
	b.WriteString("\n")
	if t := firstTime(r.EffectiveDateTime, r.Issued); !t.IsZero() {
		fmt.Fprintf(&b, "Date: %s\n", t.Format("2006-01-02"))
	}
	b.WriteString("\n")
	for _, ref := range r.Result {
		_, id, _ := ref.TypeID()
		o := obs[id]
		name := ref.Display
		if o != nil && o.Code.Display() != "" {
			name = o.Code.Display()
		}
		if name == "" {
			name = ref.Reference
		}
		fmt.Fprintf(&b, "%s: %s\n", name, observationValue(o))
	}
	if r.Conclusion != "" {
		fmt.Fprintf(&b, "\nConclusion: %s\n", r.Conclusion)
	}
	return b.String()
}

func observationValue(o *provider.Observation) string {
	if o == nil {
		return "(not available)"
	}
	var v string
	switch {
	case o.ValueQuantity != nil && o.ValueQuantity.Value != nil:
		v = o.ValueQuantity.Comparator + strconv.FormatFloat(*o.ValueQuantity.Value, 'f', -1, 64)
		if o.ValueQuantity.Unit != "" {
			v += " " + o.ValueQuantity.Unit
		} else if o.ValueQuantity.Code != "" {
			v += " " + o.ValueQuantity.Code
		}
	case o.ValueCodeable != nil:
		v = o.ValueCodeable.Display()
	case o.ValueString != "":
		v = o.ValueString
	default:
		v = "(no value)"
	}
	for _, in := range o.Interpretation {
		if d := in.Display(); d != "" {
			v += " [" + d + "]"
		}
	}
	return v
}
