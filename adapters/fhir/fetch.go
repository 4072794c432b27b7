package fhir

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

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
	if doc.Deleted {
		return doc, nil
	}
	a, ok := documentAttachment(d)
	if !ok {
		return nil, fmt.Errorf("%w: document reference has no attachment with content", connector.ErrPermanent)
	}
	if err := s.content(ctx, doc, a); err != nil {
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
	if err := checkPatient(doc); err != nil {
		return nil, err
	}
	if doc.Deleted {
		return doc, nil
	}
	if a, ok := reportAttachment(r); ok {
		if err := s.content(ctx, doc, a); err != nil {
			return nil, classify(err)
		}
		return doc, nil
	}
	text, err := s.renderResults(ctx, r)
	if err != nil {
		return nil, classify(err)
	}
	doc.Content, doc.ContentType = []byte(text), "text/plain; charset=utf-8"
	return doc, nil
}

func checkPatient(doc *connector.Document) error {
	if doc.Patient.ID == "" {
		return fmt.Errorf("%w: subject is not a patient reference", connector.ErrPermanent)
	}
	return nil
}

func (s *Source) content(ctx context.Context, doc *connector.Document, a provider.Attachment) error {
	c, err := s.c.Content(ctx, a)
	if err != nil {
		return err
	}
	doc.Content, doc.ContentType = c.Data, c.ContentType
	return nil
}

// renderResults writes a lab panel without a presented form as text: its
// title, date, conclusion and one line per result Observation, read in
// one search (Observation?_id=...).
func (s *Source) renderResults(ctx context.Context, r *provider.DiagnosticReport) (string, error) {
	var b strings.Builder
	b.WriteString(r.Code.Display())
	b.WriteString("\n")
	if t := firstTime(r.EffectiveDateTime, r.Issued); !t.IsZero() {
		fmt.Fprintf(&b, "Date: %s\n", t.Format("2006-01-02"))
	}
	var ids []string
	for _, ref := range r.Result {
		if typ, id, ok := ref.TypeID(); ok && typ == "Observation" {
			ids = append(ids, id)
		}
	}
	obs := map[string]*provider.Observation{}
	if len(ids) > 0 {
		err := s.c.SearchAll(ctx, "Observation", url.Values{"_id": {strings.Join(ids, ",")}}, func(bd *provider.Bundle) error {
			rs, _ := bd.Matches()
			for _, res := range rs {
				if o, ok := res.(*provider.Observation); ok {
					obs[o.ID] = o
				}
			}
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("result observations: %w", err)
		}
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
	return b.String(), nil
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
