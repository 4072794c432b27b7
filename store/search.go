package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

// SearchQuery selects documents. A zero field does not filter.
type SearchQuery struct {
	// PatientID is the local patient id.
	PatientID int64
	Type      connector.DocumentType
	// From and To bound the document's (clinical) Date: From <= Date < To.
	// A bound excludes documents without a date.
	From, To time.Time
	// Text holds keywords matched against the title and, for text/*
	// content, the content. Every keyword must be present as a word or the
	// start of one, whatever its case; anything but letters and digits
	// separates keywords.
	Text string
	// Limit caps the results: default 50, at most 500. Offset skips that
	// many first results, for paging.
	Limit, Offset int
}

// Search limits.
const (
	DefaultSearchLimit = 50
	MaxSearchLimit     = 500
	maxSearchTerms     = 32
)

// DocumentSummary is a document as a search lists it: what a list shows,
// without the content.
type DocumentSummary struct {
	ID, PatientID int64
	Ref           connector.Ref
	Type          connector.DocumentType
	Title         string
	Date          time.Time
	Author        string
	Source        string
	ContentType   string
	Size          int64
	Version       string
	UpdatedAt     time.Time
}

// Searcher is implemented by a Backend whose database indexes the text of
// documents (PostgreSQL's tsvector, SQLite's FTS5). Everything else about a
// search is shared SQL.
type Searcher interface {
	// MatchText returns an SQL condition on healthcare_documents, aliased
	// d, that holds when the document's indexed text holds every term as a
	// word or the start of one, and the one argument the condition binds
	// at placeholder param. Terms are lower-case runs of letters and
	// digits. A patientID other than 0 is the patient every candidate
	// document is of (the query says so in another condition), for a
	// database that indexes words by patient.
	MatchText(terms []string, patientID int64, param string) (cond string, arg any)
}

// ErrNoTextSearch means the database cannot search document text.
var ErrNoTextSearch = errors.New("store: the database has no text search")

// SearchDocuments lists the documents q selects that the source has not
// deleted, newest (by Date) first, documents without a date last, then by
// descending id: the same order on every database. It reads in a
// read-only transaction (see Reader), with the query practice.Tx's
// Documents runs.
func (s *Store[TTx]) SearchDocuments(ctx context.Context, q SearchQuery) ([]DocumentSummary, error) {
	var docs []practice.Document
	err := s.inReadTx(ctx, func(t *tx) error {
		var err error
		docs, err = t.listDocuments(ctx, practice.DocumentQuery{PatientID: q.PatientID, Type: q.Type, From: q.From,
			To: q.To, Text: q.Text, Page: practice.Page{Limit: q.Limit, Offset: q.Offset}})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: search documents: %w", err)
	}
	out := make([]DocumentSummary, len(docs))
	for i, d := range docs {
		out[i] = DocumentSummary{ID: d.ID, PatientID: d.PatientID, Ref: d.Ref, Type: d.Type, Title: d.Title,
			Date: d.Date, Author: d.Author, Source: d.Source, ContentType: d.ContentType, Size: d.Size,
			Version: d.Version, UpdatedAt: d.UpdatedAt}
	}
	return out, nil
}

// documentConditions returns the WHERE conditions on healthcare_documents,
// aliased d, that select q's documents the source has not deleted, binding
// their arguments in args. Every document listing shares them.
func documentConditions(q practice.DocumentQuery, searcher Searcher, args *params) ([]string, error) {
	conds := []string{"d.deleted = " + args.add(false)}
	conds = args.matchIDs(conds, idFilter{"d.patient_id", q.PatientID})
	if q.OwnerID != 0 {
		conds = append(conds, "d.patient_id IN (SELECT id FROM patients WHERE user_id = "+args.add(q.OwnerID)+")")
	}
	if q.Type != "" {
		conds = append(conds, "d.type = "+args.add(string(q.Type)))
	}
	if !q.From.IsZero() {
		conds = append(conds, "d.date >= "+args.add(q.From.UTC()))
	}
	if !q.To.IsZero() {
		conds = append(conds, "d.date < "+args.add(q.To.UTC()))
	}
	if q.Source != "" {
		conds = append(conds, "d.source = "+args.add(q.Source))
	}
	if q.Author != "" {
		conds = append(conds, args.contains("d.author", q.Author))
	}
	if q.IDs != nil {
		conds = append(conds, args.in("d.id", q.IDs))
	}
	if terms := SearchTerms(q.Text); len(terms) > maxSearchTerms {
		return nil, fmt.Errorf("%w: more than %d search terms", connector.ErrInvalid, maxSearchTerms)
	} else if len(terms) > 0 {
		if searcher == nil {
			return nil, ErrNoTextSearch
		}
		*args = append(*args, nil)
		cond, v := searcher.MatchText(terms, q.PatientID, "$"+strconv.Itoa(len(*args)))
		(*args)[len(*args)-1] = v
		conds = append(conds, cond)
	}
	return conds, nil
}

// documentOrders are the ORDER BY clauses of the document sorts,
// descending and ascending. Documents without a date come last either
// way; ties go by descending id.
var documentOrders = map[practice.DocumentSort][2]string{
	practice.SortDate:  {"d.date IS NULL, d.date DESC, d.id DESC", "d.date IS NULL, d.date, d.id DESC"},
	practice.SortTitle: {"lower(COALESCE(d.title, '')) DESC, d.id DESC", "lower(COALESCE(d.title, '')), d.id DESC"},
	practice.SortType:  {"COALESCE(d.type, '') DESC, d.id DESC", "COALESCE(d.type, ''), d.id DESC"},
}

// listedDocumentColumns are what a listing shows of a document: never its
// content.
const listedDocumentColumns = `d.id, d.patient_id, d.source_system, d.source_type, d.source_id, d.type, d.title,
	d.date, d.author, d.source, d.content_type, d.size, d.content_hash, d.version, d.updated_at, d.uploaded_by,
	d.deleted`

func scanListedDocument(r Row) (practice.Document, error) {
	var (
		d                                         practice.Document
		patientID, uploadedBy                     *int64
		system, typ, id, docType, title, author   nullString
		source, contentType, contentHash, version nullString
		date, updated                             nullTime
	)
	err := r.Scan(&d.ID, &patientID, &system, &typ, &id, &docType, &title, &date, &author, &source, &contentType,
		&d.Size, &contentHash, &version, &updated, &uploadedBy, &d.Deleted)
	if err != nil {
		return d, err
	}
	if patientID != nil {
		d.PatientID = *patientID
	}
	if uploadedBy != nil {
		d.UploadedBy = *uploadedBy
	}
	d.Ref = connector.Ref{System: string(system), Type: string(typ), ID: string(id)}
	d.Type, d.Title, d.Date, d.Author = connector.DocumentType(docType), string(title), date.Time, string(author)
	d.Source, d.ContentType, d.ContentHash = string(source), string(contentType), string(contentHash)
	d.Version, d.UpdatedAt = string(version), updated.Time
	return d, nil
}

// listDocuments lists q's documents in q's order, a page of them.
func (t *tx) listDocuments(ctx context.Context, q practice.DocumentQuery) ([]practice.Document, error) {
	var args params
	conds, err := documentConditions(q, t.searcher, &args)
	if err != nil {
		return nil, err
	}
	rows, err := t.q.Query(ctx, `SELECT `+listedDocumentColumns+` FROM healthcare_documents d`+where(conds)+
		` ORDER BY `+orderBy(documentOrders, q.Sort, practice.SortDate, q.Asc)+
		` LIMIT `+args.add(listLimit(q.Limit))+` OFFSET `+args.add(max(q.Offset, 0)), args...)
	return scanAll(rows, err, scanListedDocument)
}

// SearchTerms splits text into the lower-case terms a search matches:
// runs of letters and digits. Both databases index words the same way for
// such terms, which is what keeps their results equal.
func SearchTerms(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}
