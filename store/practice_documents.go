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

func (t *tx) DocumentCounts(ctx context.Context, q practice.DocumentQuery) (map[connector.DocumentType]int, error) {
	q.Type = ""
	var args params
	conds, err := documentConditions(q, t.searcher, &args)
	if err != nil {
		return nil, fmt.Errorf("store: count documents: %w", err)
	}
	rows, err := t.q.Query(ctx, `SELECT d.type, count(*) FROM healthcare_documents d`+where(conds)+` GROUP BY d.type`,
		args...)
	if err != nil {
		return nil, fmt.Errorf("store: count documents: %w", err)
	}
	defer rows.Close()
	counts := map[connector.DocumentType]int{}
	for rows.Next() {
		var typ nullString
		var n int
		if err := rows.Scan(&typ, &n); err != nil {
			return nil, fmt.Errorf("store: count documents: %w", err)
		}
		counts[connector.DocumentType(typ)] += n
	}
	return counts, rows.Err()
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
