package fhir

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/provider"
)

// ListDocuments lists one page of the patient's DocumentReferences, then
// of their DiagnosticReports, changed since cursor (with the configured
// overlap). Pages follow the server's next links unchanged; without a next
// link while the Bundle's total says more, the next page is searched with
// _offset (provider.Paging). A phase ends at a page without a next link
// when the total says nothing more, an empty page or a repeated link. A
// phase that follows more than Config.MaxPages pages, pages that add
// nothing while the total says more, or a cursor that would exceed a few
// KiB fail the listing, logged, rather than loop or truncate it.
//
// Items are deduplicated by (type, id, meta.versionId) within a pass and
// against the overlap of the previous pass. A DiagnosticReport whose every
// presentedForm URL is also a DocumentReference attachment URL (US Core
// exposes one scanned report both ways) is not listed: the
// DocumentReference delivers it.
func (s *Source) ListDocuments(ctx context.Context, patient connector.Ref, cur string) (connector.Page, error) {
	if patient.ID == "" {
		return connector.Page{}, fmt.Errorf("%w: list documents: patient ref has no id", connector.ErrInvalid)
	}
	c, err := decodeCursor(cur)
	if errors.Is(err, errCursorTooLarge) {
		// Only an earlier version wrote such cursors: listing again from
		// the beginning costs requests, and the engine ignores versions it
		// already has.
		s.log.ErrorContext(ctx, "fhir listing cursor too large; listing the patient again from the beginning",
			"patient", patient.ID, "bytes", len(cur), "error", err)
		c, err = cursor{}, nil
	}
	if err != nil {
		return connector.Page{}, err
	}
	typ := typeDocumentReference
	if c.Phase == 1 {
		typ = typeDiagnosticReport
	}
	var b *provider.Bundle
	if c.Next != "" {
		b, err = s.c.Page(ctx, c.Next)
	} else {
		q := s.searchParams(patient.ID, c)
		if c.Offset > 0 {
			q.Set("_offset", strconv.Itoa(c.Offset))
		}
		b, err = s.c.Search(ctx, typ, q)
	}
	if err != nil {
		return connector.Page{}, classify(fmt.Errorf("list %s: %w", typ, err))
	}

	items, err := s.pageItems(ctx, patient.ID, typ, b, &c)
	if err != nil {
		return connector.Page{}, classify(fmt.Errorf("list %s: %w", typ, err))
	}
	if len(c.Seen) > maxSeen {
		if m, err := time.Parse(time.RFC3339Nano, c.Max); err == nil {
			// No entry older than this survives the pass's final prune.
			c.prune(m.Add(-s.cfg.Overlap))
		}
	}

	paging := provider.Paging{Received: c.Received, Sig: c.Sig}
	step, err := paging.Next(b, c.visit)
	if err != nil {
		s.log.ErrorContext(ctx, "fhir listing pages do not add up; failing the listing",
			"type", typ, "patient", patient.ID, "pages", c.Pages+1, "received", paging.Received)
		return connector.Page{}, fmt.Errorf("list %s: %w", typ, err)
	}
	if step.Looped {
		s.log.WarnContext(ctx, "fhir search repeats a next link", "type", typ, "patient", patient.ID, "done", step.Done)
	}
	if !step.Done {
		c.Pages++
		if c.Pages >= s.cfg.MaxPages {
			s.log.ErrorContext(ctx, "fhir listing page limit reached; failing the listing",
				"type", typ, "patient", patient.ID, "pages", c.Pages)
			return connector.Page{}, fmt.Errorf("%w: list %s: more than %d pages in one listing (Config.MaxPages); the server's paging does not end",
				connector.ErrPermanent, typ, s.cfg.MaxPages)
		}
		c.Next, c.Offset = step.Link, step.Offset
		c.Received, c.Sig = paging.Received, paging.Sig
		return s.page(ctx, patient, typ, items, c, true)
	}
	// The phase is done.
	c.endPhase()
	if c.Phase == 0 {
		c.Phase = 1
		return s.page(ctx, patient, typ, items, c, true)
	}
	c.Phase = 0
	if c.Max != "" {
		if m, err := time.Parse(time.RFC3339Nano, c.Max); err == nil {
			if since, ok := c.since(); !ok || m.After(since) {
				c.Since = c.Max
			}
		}
	}
	c.Max = ""
	if since, ok := c.since(); ok {
		c.prune(since.Add(-s.cfg.Overlap))
	}
	return s.page(ctx, patient, typ, items, c, false)
}

// page returns a listing page with c encoded; a cursor over its bound
// fails the listing, logged.
func (s *Source) page(ctx context.Context, patient connector.Ref, typ string, items []connector.Item, c cursor, more bool) (connector.Page, error) {
	enc, err := c.encode()
	if err != nil {
		s.log.ErrorContext(ctx, "fhir listing cursor too large; failing the listing",
			"type", typ, "patient", patient.ID, "next_link_bytes", len(c.Next), "error", err)
		return connector.Page{}, fmt.Errorf("%w: list %s: %w", connector.ErrPermanent, typ, err)
	}
	return connector.Page{Items: items, Cursor: enc, More: more}, nil
}

func (s *Source) searchParams(patientID string, c cursor) url.Values {
	q := url.Values{"patient": {patientParam(patientID)}}
	if since, ok := c.since(); ok {
		q.Set("_lastUpdated", "gt"+since.Add(-s.cfg.Overlap).UTC().Format(time.RFC3339Nano))
	}
	return q
}

// pageItems turns a page's matches into items, skipping repeats and
// DiagnosticReports that duplicate a DocumentReference: by a shared
// presentedForm URL, or named in its context.related.
func (s *Source) pageItems(ctx context.Context, patientID, typ string, b *provider.Bundle, c *cursor) ([]connector.Item, error) {
	rs, errs := b.Matches()
	for _, err := range errs {
		// One undecodable entry must not hide the rest of the page; it is
		// found again by a later pass if the server fixes it.
		s.log.WarnContext(ctx, "fhir search entry skipped", "type", typ, "error", err)
	}
	prev := c.Seen
	prevSeen := func(key string) bool { _, ok := prev[seenKey(key)]; return ok }
	var dups map[string]bool
	if typ == typeDiagnosticReport {
		var err error
		if dups, err = s.presentedDuplicates(ctx, patientID, rs); err != nil {
			return nil, err
		}
		related, err := s.relatedDuplicates(ctx, patientID, rs)
		if err != nil {
			return nil, err
		}
		for id, dup := range related {
			if dups == nil {
				dups = map[string]bool{}
			}
			dups[id] = dups[id] || dup
		}
	}
	items := []connector.Item{}
	for _, r := range rs {
		var (
			id, version, status string
			updated             time.Time
		)
		switch v := r.(type) {
		case *provider.DocumentReference:
			id, version, status, updated = v.ID, v.Meta.VersionID, v.Status, firstTime(v.Meta.LastUpdated)
		case *provider.DiagnosticReport:
			id, version, status, updated = v.ID, v.Meta.VersionID, v.Status, firstTime(v.Meta.LastUpdated)
			if dups[v.ID] {
				c.observe(itemKey(typ, id, version), updated)
				continue
			}
		default:
			continue // an OperationOutcome or include in match mode
		}
		if id == "" {
			continue
		}
		key := itemKey(typ, id, version)
		if version != "" && prevSeen(key) {
			continue
		}
		c.observe(key, updated)
		items = append(items, connector.Item{
			Ref:       connector.Ref{Type: typ, ID: id},
			Version:   version,
			UpdatedAt: updated,
			Deleted:   deleted(status),
		})
	}
	return items, nil
}

// presentedDuplicates returns the ids of the DiagnosticReports whose every
// presentedForm URL is the attachment URL of one of the patient's
// DocumentReferences. It asks the server with the DocumentReference
// "location" search parameter and compares URLs itself, so a server that
// ignores the parameter costs more requests but gives the same answer.
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
	escaped := make([]string, len(all))
	for i, u := range all {
		escaped[i] = escapeSearchValue(u)
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

// patientParam is the value of a patient reference search parameter. It is
// always typed ("Patient/123"): FHIR lets a server match a bare id, but a
// server that indexes references by their literal value matches only the
// typed form, and answers a bare id with an empty Bundle, not an error.
func patientParam(id string) string { return connector.PatientType + "/" + id }

// normalizeURL resolves a URL against the base so that relative and
// absolute forms of one URL compare equal.
func (s *Source) normalizeURL(u string) string {
	if abs, err := s.c.Resolve(u); err == nil {
		return abs
	}
	return u
}

// escapeSearchValue escapes the characters FHIR search gives a meaning
// inside a parameter value.
func escapeSearchValue(v string) string {
	return strings.NewReplacer(`\`, `\\`, `,`, `\,`, `$`, `\$`, `|`, `\|`).Replace(v)
}
