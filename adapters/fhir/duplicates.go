package fhir

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/healthcare-records/healthcare-records/provider"
)

// presentedDuplicates returns the ids of the DiagnosticReports whose every
// presentedForm URL is the attachment URL of one of the patient's
// DocumentReferences. It asks the server with the DocumentReference
// "location" search parameter, naming each URL both absolute and relative
// to the base (a server matches the form it stored), and compares URLs
// itself, so a server that ignores the parameter costs more requests but
// gives the same answer.
func (s *Source) presentedDuplicates(ctx context.Context, patientID string, rs []provider.Resource) (map[string]bool, error) {
	byReport := map[string][]string{}
	var all []string
	for _, r := range rs {
		dr, ok := r.(*provider.DiagnosticReport)
		if !ok || len(dr.PresentedForm) == 0 {
			continue
		}
		var urls []string
		for _, a := range dr.PresentedForm {
			if a.URL == "" {
				urls = nil // inline content cannot be a shared URL
				break
			}
			urls = append(urls, s.normalizeURL(a.URL))
		}
		if len(urls) > 0 {
			byReport[dr.ID] = urls
			all = append(all, urls...)
		}
	}
	if len(all) == 0 {
		return nil, nil
	}
	var escaped []string
	for _, u := range all {
		for _, f := range s.urlForms(u) {
			escaped = append(escaped, escapeSearchValue(f))
		}
	}
	known := map[string]bool{}
	q := url.Values{"patient": {patientParam(patientID)}, "location": {strings.Join(escaped, ",")}}
	err := s.c.SearchAll(ctx, typeDocumentReference, q, func(b *provider.Bundle) error {
		rs, _ := b.Matches()
		for _, r := range rs {
			if d, ok := r.(*provider.DocumentReference); ok {
				for _, ct := range d.Content {
					if ct.Attachment.URL != "" {
						known[s.normalizeURL(ct.Attachment.URL)] = true
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("document references by location: %w", err)
	}
	dups := map[string]bool{}
	for id, urls := range byReport {
		dup := true
		for _, u := range urls {
			dup = dup && known[u]
		}
		dups[id] = dup
	}
	return dups, nil
}

// relatedDuplicates returns the ids of the DiagnosticReports that one of the
// patient's DocumentReferences names in context.related: the document is
// the report's presentation, delivered in its place. It asks the server with
// the "related" search parameter and checks the references itself.
func (s *Source) relatedDuplicates(ctx context.Context, patientID string, rs []provider.Resource) (map[string]bool, error) {
	reports := map[string]bool{}
	var refs []string
	for _, r := range rs {
		if dr, ok := r.(*provider.DiagnosticReport); ok && dr.ID != "" {
			reports[dr.ID] = false
			refs = append(refs, escapeSearchValue(typeDiagnosticReport+"/"+dr.ID))
		}
	}
	if len(refs) == 0 {
		return nil, nil
	}
	q := url.Values{"patient": {patientParam(patientID)}, "related": {strings.Join(refs, ",")}}
	err := s.c.SearchAll(ctx, typeDocumentReference, q, func(b *provider.Bundle) error {
		rs, _ := b.Matches()
		for _, r := range rs {
			d, ok := r.(*provider.DocumentReference)
			if !ok || d.Context == nil {
				continue
			}
			for _, rel := range d.Context.Related {
				typ, id, ok := rel.TypeID()
				if _, listed := reports[id]; ok && listed && typ == typeDiagnosticReport {
					reports[id] = true
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("document references by related report: %w", err)
	}
	return reports, nil
}
