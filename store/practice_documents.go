package store

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

func (t *tx) PracticeDocument(ctx context.Context, id int64) (practice.Document, error) {
	d, err := scanListedDocument(t.q.QueryRow(ctx, `SELECT `+listedDocumentColumns+` FROM healthcare_documents d
		WHERE d.id = $1`, id))
	return d, notFound(err, fmt.Sprintf("document %d", id))
}

func (t *tx) Documents(ctx context.Context, q practice.DocumentQuery) ([]practice.Document, error) {
	docs, err := t.listDocuments(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("store: list documents: %w", err)
	}
	return docs, nil
}

func (t *tx) DocumentsCounted(ctx context.Context, q practice.DocumentQuery) ([]practice.Document, map[connector.DocumentType]int, error) {
	var (
		docs   []practice.Document
		counts map[connector.DocumentType]int
		err    error
	)
	if q.Text == "" {
		docs, err = t.listDocuments(ctx, q)
		if err == nil {
			counts, err = t.countDocuments(ctx, q)
		}
	} else {
		docs, counts, err = t.searchDocuments(ctx, q)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("store: list and count documents: %w", err)
	}
	return docs, counts, nil
}

// countDocuments counts q's documents per type, ignoring q.Type.
func (t *tx) countDocuments(ctx context.Context, q practice.DocumentQuery) (map[connector.DocumentType]int, error) {
	q.Type = ""
	var args params
	conds, err := documentConditions(q, t.searcher, &args)
	if err != nil {
		return nil, err
	}
	rows, err := t.q.Query(ctx, `SELECT d.type, count(*) FROM healthcare_documents d`+where(conds)+` GROUP BY d.type`,
		args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counts := map[connector.DocumentType]int{}
	for rows.Next() {
		var typ nullString
		var n int
		if err := rows.Scan(&typ, &n); err != nil {
			return nil, err
		}
		counts[connector.DocumentType(typ)] += n
	}
	return counts, rows.Err()
}

// searchDocuments is DocumentsCounted for a query with text. Matching
// text is the costly part of a search (each candidate's text is read and
// tested), so it is done once: the ids and types of every match, in the
// page's order, give the counts and the page's ids, whose rows are then
// read by id.
func (t *tx) searchDocuments(ctx context.Context, q practice.DocumentQuery) ([]practice.Document, map[connector.DocumentType]int, error) {
	all := q
	all.Type = ""
	var args params
	conds, err := documentConditions(all, t.searcher, &args)
	if err != nil {
		return nil, nil, err
	}
	rows, err := t.q.Query(ctx, `SELECT d.id, d.type FROM healthcare_documents d`+where(conds)+
		` ORDER BY `+orderBy(documentOrders, q.Sort, practice.SortDate, q.Asc), args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var (
		counts = map[connector.DocumentType]int{}
		ids    []int64
	)
	for rows.Next() {
		var (
			id  int64
			typ nullString
		)
		if err := rows.Scan(&id, &typ); err != nil {
			return nil, nil, err
		}
		counts[connector.DocumentType(typ)]++
		if q.Type == "" || q.Type == connector.DocumentType(typ) {
			ids = append(ids, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	from := min(max(q.Offset, 0), len(ids))
	page := ids[from:min(from+listLimit(q.Limit), len(ids))]
	if len(page) == 0 {
		return nil, counts, nil
	}
	docs, err := t.listDocuments(ctx, practice.DocumentQuery{IDs: page, Sort: q.Sort, Asc: q.Asc,
		Page: practice.Page{Limit: len(page)}})
	return docs, counts, err
}

func (t *tx) DocumentContent(ctx context.Context, id int64) (io.ReadSeeker, error) {
	var (
		content []byte
		hash    nullString
		size    int64
		chunked bool
	)
	err := t.q.QueryRow(ctx, `SELECT d.content, d.content_hash, d.size, `+chunkedColumn+`
		FROM healthcare_documents d WHERE d.id = $1`, id).Scan(&content, &hash, &size, &chunked)
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("document %d", id))
	}
	if chunked {
		return chunks{read: t.read, id: id, hash: string(hash), size: size}.reader(ctx), nil
	}
	return bytes.NewReader(content), nil
}

func (t *tx) SetDocumentUploader(ctx context.Context, id, userID int64) error {
	n, err := t.q.Exec(ctx, `UPDATE healthcare_documents SET uploaded_by = $1 WHERE id = $2`, nullID(userID), id)
	return mustChange(n, err, fmt.Sprintf("document %d", id))
}
