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
	// digits.
	MatchText(terms []string, param string) (cond string, arg any)
}

// ErrNoTextSearch means the database cannot search document text.
var ErrNoTextSearch = errors.New("store: the database has no text search")

// SearchDocuments lists the documents q selects that the source has not
// deleted, newest (by Date) first, documents without a date last, then by
// descending id: the same order on every database.
func (s *Store[TTx]) SearchDocuments(ctx context.Context, q SearchQuery) ([]DocumentSummary, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where = append(where, "d.deleted = "+arg(false))
	if q.PatientID != 0 {
		where = append(where, "d.patient_id = "+arg(q.PatientID))
	}
	if q.Type != "" {
		where = append(where, "d.type = "+arg(string(q.Type)))
	}
	if !q.From.IsZero() {
		where = append(where, "d.date >= "+arg(q.From.UTC()))
	}
	if !q.To.IsZero() {
		where = append(where, "d.date < "+arg(q.To.UTC()))
	}
	if terms := SearchTerms(q.Text); len(terms) > maxSearchTerms {
		return nil, fmt.Errorf("%w: more than %d search terms", connector.ErrInvalid, maxSearchTerms)
	} else if len(terms) > 0 {
		searcher, ok := s.backend.(Searcher)
		if !ok {
			return nil, ErrNoTextSearch
		}
		args = append(args, nil)
		cond, v := searcher.MatchText(terms, "$"+strconv.Itoa(len(args)))
		args[len(args)-1] = v
		where = append(where, cond)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultSearchLimit
	}
	limit = min(limit, MaxSearchLimit)
	query := `SELECT d.id, d.patient_id, d.source_system, d.source_type, d.source_id, d.type, d.title, d.date,
			d.author, d.source, d.content_type, d.size, d.version, d.updated_at
		FROM healthcare_documents d
		WHERE ` + strings.Join(where, " AND ") + `
		ORDER BY d.date IS NULL, d.date DESC, d.id DESC
		LIMIT ` + arg(limit) + ` OFFSET ` + arg(max(q.Offset, 0))

	var out []DocumentSummary
	err := s.backend.InTx(ctx, func(_ TTx, qr Querier) error {
		rows, err := qr.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				d                                    DocumentSummary
				system, typ, id, docType, title      nullString
				author, source, contentType, version nullString
				date, updated                        nullTime
			)
			if err := rows.Scan(&d.ID, &d.PatientID, &system, &typ, &id, &docType, &title, &date,
				&author, &source, &contentType, &d.Size, &version, &updated); err != nil {
				return err
			}
			d.Ref = connector.Ref{System: string(system), Type: string(typ), ID: string(id)}
			d.Type, d.Title, d.Date = connector.DocumentType(docType), string(title), date.Time
			d.Author, d.Source, d.ContentType = string(author), string(source), string(contentType)
			d.Version, d.UpdatedAt = string(version), updated.Time
			out = append(out, d)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: search documents: %w", err)
	}
	return out, nil
}

// SearchTerms splits text into the lower-case terms a search matches:
// runs of letters and digits. Both databases index words the same way for
// such terms, which is what keeps their results equal.
func SearchTerms(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}
