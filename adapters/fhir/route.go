package fhir

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/provider"
)

var _ connector.Router = (*Source)(nil)

// Routed reports whether changes of resources of type typ are routed to
// the documents they affect: every type but the documents the Source
// fetches (DocumentReference, DiagnosticReport) and Patient, which the
// engine reads with FindPatient.
func (s *Source) Routed(typ string) bool {
	switch typ {
	case typeDocumentReference, typeDiagnosticReport, connector.PatientType:
		return false
	}
	return true
}

// Route returns the documents a change of ref affects:
//
//   - a Binary: the DocumentReferences whose attachment is it, searched
//     with DocumentReference?location= in both the relative (Binary/<id>)
//     and the absolute (<base>/Binary/<id>) form and checked by the
//     Source, as a server may ignore the parameter. FHIR has no search
//     for a DiagnosticReport's presentedForm: a lab report this project
//     links to a DocumentReference (context.related) is delivered by that
//     DocumentReference, which the search finds. When none names the
//     Binary, its securityContext, if it is a DocumentReference or a
//     DiagnosticReport that presents the Binary, is the document;
//   - an Observation: the DiagnosticReports listing it as a result
//     (DiagnosticReport?result=Observation/<id>), but not those delivered
//     as a DocumentReference;
//   - anything else: none, which the engine records as ignored.
//
// A server that answers more than a few pages to such a search ignores
// its parameter; that fails with connector.ErrPermanent rather than
// walking the whole server.
func (s *Source) Route(ctx context.Context, ref connector.Ref) ([]connector.Ref, error) {
	if ref.ID == "" {
		return nil, fmt.Errorf("%w: route %s: no id", connector.ErrInvalid, ref)
	}
	var (
		refs []connector.Ref
		err  error
	)
	switch ref.Type {
	case "Binary":
		refs, err = s.routeBinary(ctx, ref.ID)
	case "Observation":
		refs, err = s.routeObservation(ctx, ref.ID)
	default:
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("route %s/%s: %w", ref.Type, ref.ID, err)
	}
	var out []connector.Ref
	for _, r := range refs {
		r.System = ref.System
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	refs = out
	s.log.DebugContext(ctx, "fhir change routed", "type", ref.Type, "id", ref.ID, "documents", len(refs))
	return refs, nil
}

// maxRoutePages bounds a routing search.
const maxRoutePages = 10

// routeSearch runs a routing search, bounded by maxRoutePages.
func (s *Source) routeSearch(ctx context.Context, typ string, q url.Values, fn func(provider.Resource)) error {
	pages := 0
	err := s.c.SearchAll(ctx, typ, q, func(b *provider.Bundle) error {
		if pages++; pages > maxRoutePages {
			return fmt.Errorf("%w: more than %d pages of %s; the server seems to ignore the search parameter", connector.ErrPermanent, maxRoutePages, typ)
		}
		rs, _ := b.Matches()
		for _, r := range rs {
			fn(r)
		}
		return nil
	})
	if err != nil {
		s.log.WarnContext(ctx, "fhir routing search failed", "type", typ, "pages", pages, "error", err)
		return classify(err)
	}
	return nil
}

func (s *Source) routeBinary(ctx context.Context, id string) ([]connector.Ref, error) {
	abs := s.normalizeURL("Binary/" + id)
	var forms []string
	for _, f := range s.urlForms(abs) {
		forms = append(forms, escapeSearchValue(f))
	}
	var refs []connector.Ref
	err := s.routeSearch(ctx, typeDocumentReference, url.Values{"location": {strings.Join(forms, ",")}}, func(r provider.Resource) {
		if d, ok := r.(*provider.DocumentReference); ok && s.attaches(d, abs) {
			refs = append(refs, connector.Ref{Type: typeDocumentReference, ID: d.ID})
		}
	})
	if err != nil || len(refs) > 0 {
		return refs, err
	}
	return s.routeSecurityContext(ctx, id, abs)
}

// attaches reports whether one of d's attachments is the content at abs.
func (s *Source) attaches(d *provider.DocumentReference, abs string) bool {
	for _, c := range d.Content {
		if c.Attachment.URL != "" && s.normalizeURL(c.Attachment.URL) == abs {
			return true
		}
	}
	return false
}

// presents reports whether one of r's presented forms is the content at
// abs.
func (s *Source) presents(r *provider.DiagnosticReport, abs string) bool {
	for _, a := range r.PresentedForm {
		if a.URL != "" && s.normalizeURL(a.URL) == abs {
			return true
		}
	}
	return false
}

// routeSecurityContext places a Binary no DocumentReference attaches by
// its securityContext: the resource it belongs to, by FHIR's definition.
func (s *Source) routeSecurityContext(ctx context.Context, id, abs string) ([]connector.Ref, error) {
	r, err := s.c.Read(ctx, "Binary", id)
	if err != nil {
		if errors.Is(s.classifyRead(ctx, "Binary", id, err), connector.ErrNotFound) {
			return nil, nil // gone, and no document names it
		}
		return nil, classify(fmt.Errorf("binary: %w", err))
	}
	bin, ok := r.(*provider.Binary)
	if !ok || bin.SecurityContext == nil {
		return nil, nil
	}
	typ, owner, ok := bin.SecurityContext.TypeID()
	if !ok {
		return nil, nil
	}
	switch typ {
	case typeDocumentReference:
		d, err := s.c.ReadDocumentReference(ctx, owner)
		if err != nil {
			return nil, classify(fmt.Errorf("security context: %w", err))
		}
		if s.attaches(d, abs) {
			return []connector.Ref{{Type: typeDocumentReference, ID: d.ID}}, nil
		}
	case typeDiagnosticReport:
		dr, err := s.c.ReadDiagnosticReport(ctx, owner)
		if err != nil {
			return nil, classify(fmt.Errorf("security context: %w", err))
		}
		if !s.presents(dr, abs) {
			return nil, nil
		}
		return s.undelivered(ctx, []*provider.DiagnosticReport{dr})
	}
	return nil, nil
}

func (s *Source) routeObservation(ctx context.Context, id string) ([]connector.Ref, error) {
	var reports []*provider.DiagnosticReport
	err := s.routeSearch(ctx, typeDiagnosticReport, url.Values{"result": {"Observation/" + id}}, func(r provider.Resource) {
		dr, ok := r.(*provider.DiagnosticReport)
		if !ok {
			return
		}
		for _, res := range dr.Result {
			if typ, rid, ok := res.TypeID(); ok && typ == "Observation" && rid == id {
				reports = append(reports, dr)
				return
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return s.undelivered(ctx, reports)
}

// undelivered returns the refs of the reports that are documents of their
// own: not the presentation of a DocumentReference, which ListDocuments
// leaves out too (pageItems).
func (s *Source) undelivered(ctx context.Context, reports []*provider.DiagnosticReport) ([]connector.Ref, error) {
	byPatient := map[string][]provider.Resource{}
	for _, dr := range reports {
		if p := patientRef(dr.Subject); p.ID != "" {
			byPatient[p.ID] = append(byPatient[p.ID], dr)
		}
	}
	dups := map[string]bool{}
	for patient, rs := range byPatient {
		presented, err := s.presentedDuplicates(ctx, patient, rs)
		if err != nil {
			return nil, classify(err)
		}
		related, err := s.relatedDuplicates(ctx, patient, rs)
		if err != nil {
			return nil, classify(err)
		}
		for id := range presented {
			dups[id] = dups[id] || presented[id]
		}
		for id := range related {
			dups[id] = dups[id] || related[id]
		}
	}
	var refs []connector.Ref
	for _, dr := range reports {
		if !dups[dr.ID] {
			refs = append(refs, connector.Ref{Type: typeDiagnosticReport, ID: dr.ID})
		}
	}
	return refs, nil
}
