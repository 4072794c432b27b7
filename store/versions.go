package store

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

// keepVersion copies the document's row as it is, and its content parts
// when chunked, into document_versions under the next number, before the
// row is overwritten by a new version.
func (t *tx) keepVersion(ctx context.Context, id int64, chunked bool) error {
	var seq int64
	err := t.q.QueryRow(ctx, `INSERT INTO document_versions (document_id, seq, version, type, title, date, author,
			source, content_type, content, size, content_hash, extracted_text, deleted, updated_at, synced_at)
		SELECT d.id, (SELECT COALESCE(MAX(v.seq), 0) + 1 FROM document_versions v WHERE v.document_id = d.id),
			d.version, d.type, d.title, d.date, d.author, d.source, d.content_type, d.content, d.size, d.content_hash,
			d.extracted_text, d.deleted, d.updated_at, d.synced_at
		FROM healthcare_documents d WHERE d.id = $1
		RETURNING seq`, id).Scan(&seq)
	if err != nil {
		return fmt.Errorf("keep the version document %d replaces: %w", id, err)
	}
	if !chunked {
		return nil
	}
	if _, err := t.q.Exec(ctx, `INSERT INTO document_version_chunks (document_id, version_seq, seq, data)
		SELECT c.document_id, $2, c.seq, c.data FROM content_chunks c WHERE c.document_id = $1`, id, seq); err != nil {
		return fmt.Errorf("keep the content of version %d of document %d: %w", seq, id, err)
	}
	return nil
}

// versionColumns are read from document_versions v by scanVersion; the
// document's own row gives the same columns (see DocumentVersions).
const versionColumns = `v.seq, v.version, v.type, v.title, v.date, v.author, v.source, v.content_type, v.size,
	v.content_hash, v.deleted, v.updated_at, v.synced_at`

func scanVersion(r Row) (practice.DocumentVersion, error) {
	var (
		v                                                   practice.DocumentVersion
		version, typ, title, author, src, contentType, hash nullString
		date, updated, saved                                nullTime
	)
	err := r.Scan(&v.Number, &version, &typ, &title, &date, &author, &src, &contentType, &v.Size, &hash, &v.Deleted,
		&updated, &saved)
	v.Version, v.Type, v.Title, v.Author, v.Source = string(version), connector.DocumentType(typ), string(title), string(author), string(src)
	v.ContentType, v.ContentHash, v.Date, v.UpdatedAt, v.SavedAt = string(contentType), string(hash), date.Time, updated.Time, saved.Time
	return v, err
}

// DocumentVersions lists the kept versions and, last, the current one,
// numbered one more than the last kept.
func (t *tx) DocumentVersions(ctx context.Context, documentID int64) ([]practice.DocumentVersion, error) {
	rows, err := t.q.Query(ctx, `SELECT `+versionColumns+` FROM document_versions v WHERE v.document_id = $1
		UNION ALL
		SELECT (SELECT COALESCE(MAX(k.seq), 0) + 1 FROM document_versions k WHERE k.document_id = v.id), v.version,
			v.type, v.title, v.date, v.author, v.source, v.content_type, v.size, v.content_hash, v.deleted, v.updated_at,
			v.synced_at
		FROM healthcare_documents v WHERE v.id = $1
		ORDER BY 1`, documentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []practice.DocumentVersion
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("document %d: %w", documentID, practice.ErrNotFound)
	}
	out[len(out)-1].Current = true
	return out, nil
}

// DocumentVersionContent reads a version's content and its extracted
// text: a kept version's from document_versions, the current one's as
// DocumentContent does.
func (t *tx) DocumentVersionContent(ctx context.Context, documentID int64, number int) (io.ReadSeeker, practice.DocumentVersion, error) {
	versions, err := t.DocumentVersions(ctx, documentID)
	if err != nil {
		return nil, practice.DocumentVersion{}, err
	}
	if number < 1 || number > len(versions) {
		return nil, practice.DocumentVersion{}, fmt.Errorf("version %d of document %d: %w", number, documentID, practice.ErrNotFound)
	}
	v := versions[number-1]
	var text nullString
	if v.Current {
		if err := t.q.QueryRow(ctx, `SELECT extracted_text FROM healthcare_documents WHERE id = $1`, documentID).Scan(&text); err != nil {
			return nil, v, notFound(err, fmt.Sprintf("document %d", documentID))
		}
		v.Text = string(text)
		r, err := t.DocumentContent(ctx, documentID)
		return r, v, err
	}
	var (
		content []byte
		chunked bool
	)
	err = t.q.QueryRow(ctx, `SELECT v.content, v.extracted_text, EXISTS (SELECT 1 FROM document_version_chunks c
			WHERE c.document_id = v.document_id AND c.version_seq = v.seq)
		FROM document_versions v WHERE v.document_id = $1 AND v.seq = $2`, documentID, number).Scan(&content, &text, &chunked)
	if err != nil {
		return nil, v, notFound(err, fmt.Sprintf("version %d of document %d", number, documentID))
	}
	v.Text = string(text)
	if chunked {
		return chunks{read: t.read, id: documentID, version: number, hash: v.ContentHash, size: v.Size}.reader(ctx), v, nil
	}
	return bytes.NewReader(content), v, nil
}
