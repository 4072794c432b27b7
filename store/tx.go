package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

// tx implements connector.Tx with SQL both backends accept.
type tx struct {
	q   Querier
	now func() time.Time
	// searcher matches document text; nil when the database cannot.
	searcher Searcher
	// carepatronSink is Config.CarepatronSink.
	carepatronSink string
	// enqueued holds the ops to insert as jobs when the transaction
	// commits, so that they go in as batches.
	enqueued []connector.Op
	// emails holds the outbox's email jobs to insert when the
	// transaction commits.
	emails []practice.Email
	// readOnly marks a read's transaction, which inserts no jobs.
	readOnly bool
	// owners is the store's cache of patients' dieticians.
	owners *ownerCache
	// read runs a read-only transaction of its own: the content of a
	// document read here is read through it later, in chunks.
	read func(ctx context.Context, fn func(Querier) error) error
}

var _ connector.Tx = (*tx)(nil)

func notFound(err error, what string) error {
	if errors.Is(err, ErrNoRows) {
		return fmt.Errorf("%s: %w", what, connector.ErrNotFound)
	}
	return err
}

func (t *tx) RecordEvent(ctx context.Context, source, id string) (bool, error) {
	n, err := t.q.Exec(ctx, `INSERT INTO ingested_events (source, event_id, received_at) VALUES ($1, $2, $3)
		ON CONFLICT (source, event_id) DO NOTHING`, source, id, t.now().UTC())
	return n == 1, err
}

func (t *tx) Enqueue(ctx context.Context, ops ...connector.Op) (int, error) {
	skipped := 0
	for _, op := range ops {
		if _, err := queueOf(op); err != nil {
			return 0, err
		}
		n, err := t.q.Exec(ctx, `INSERT INTO op_keys (key, done, created_at) VALUES ($1, FALSE, $2)
			ON CONFLICT (key) DO NOTHING`, op.UniqueKey(), t.now().UTC())
		if err != nil {
			return 0, err
		}
		if n == 0 {
			skipped++
			continue
		}
		t.enqueued = append(t.enqueued, op)
	}
	return skipped, nil
}

const patientColumns = `id, source, source_id, name, email, contact_details, medical_history, dietary_preferences,
	identifiers, version, updated_at, fingerprint`

// scanPatient reads a row of patientColumns, then into extra the columns
// that follow them.
func scanPatient(r Row, extra ...any) (connector.StoredPatient, error) {
	var (
		p                                       connector.StoredPatient
		src, id, email, contact, history, diet  nullString
		name, identifiers, version, fingerprint nullString
		updated                                 nullTime
	)
	err := r.Scan(append([]any{&p.ID, &src, &id, &name, &email, &contact, &history, &diet, &identifiers, &version,
		&updated, &fingerprint}, extra...)...)
	if err != nil {
		return p, err
	}
	p.Ref = connector.Ref{System: string(src), Type: connector.PatientType, ID: string(id)}
	p.Name, p.Email, p.ContactDetails = string(name), string(email), string(contact)
	p.MedicalHistory, p.DietaryPreferences = string(history), string(diet)
	p.Version, p.UpdatedAt, p.Fingerprint = string(version), updated.Time, string(fingerprint)
	if identifiers != "" {
		if err := json.Unmarshal([]byte(identifiers), &p.Identifiers); err != nil {
			return p, fmt.Errorf("patient %d identifiers: %w", p.ID, err)
		}
	}
	return p, nil
}

func (t *tx) Patient(ctx context.Context, ref connector.Ref) (connector.StoredPatient, error) {
	p, err := scanPatient(t.q.QueryRow(ctx, `SELECT `+patientColumns+` FROM patients WHERE source = $1 AND source_id = $2`, ref.System, ref.ID))
	return p, notFound(err, "patient "+ref.String())
}

func (t *tx) PatientByID(ctx context.Context, id int64) (connector.StoredPatient, error) {
	p, err := scanPatient(t.q.QueryRow(ctx, `SELECT `+patientColumns+` FROM patients WHERE id = $1`, id))
	return p, notFound(err, fmt.Sprintf("patient %d", id))
}

func (t *tx) SavePatient(ctx context.Context, p connector.StoredPatient) (int64, error) {
	if p.Ref.Type != connector.PatientType {
		return 0, fmt.Errorf("%w: patient ref %s is not of type %s", connector.ErrInvalid, p.Ref, connector.PatientType)
	}
	identifiers, err := json.Marshal(p.Identifiers)
	if err != nil {
		return 0, err
	}
	var id int64
	err = t.q.QueryRow(ctx, `INSERT INTO patients (source, source_id, name, email, contact_details, medical_history,
			dietary_preferences, identifiers, version, updated_at, fingerprint, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (source, source_id) DO UPDATE SET name = excluded.name, email = excluded.email,
			contact_details = excluded.contact_details, medical_history = excluded.medical_history,
			dietary_preferences = excluded.dietary_preferences, identifiers = excluded.identifiers,
			version = excluded.version, updated_at = excluded.updated_at, fingerprint = excluded.fingerprint
		RETURNING id`,
		p.Ref.System, p.Ref.ID, p.Name, p.Email, p.ContactDetails, p.MedicalHistory, p.DietaryPreferences,
		string(identifiers), p.Version, timeArg(p.UpdatedAt), p.Fingerprint, t.now().UTC()).Scan(&id)
	return id, err
}

func (t *tx) PatientRefs(ctx context.Context, source string) ([]connector.Ref, error) {
	rows, err := t.q.Query(ctx, `SELECT source_id FROM patients WHERE source = $1 AND archived_at IS NULL ORDER BY id`, source)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var refs []connector.Ref
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		refs = append(refs, connector.Ref{System: source, Type: connector.PatientType, ID: id})
	}
	return refs, rows.Err()
}

// documentColumns are read from healthcare_documents d joined with the
// document's patient p: a document made here (connector.Engine.SaveLocal)
// lives in another system than its patient.
const documentColumns = `d.id, d.patient_id, d.source_system, d.source_type, d.source_id, p.source, d.patient_ref, d.type,
	d.title, d.date, d.author, d.source, d.content_type, d.content, d.size, d.content_hash, d.version, d.updated_at, d.raw,
	d.deleted, d.fingerprint, d.extracted_text, ` + chunkedColumn

// scanDocument reads a row of documentColumns. Content kept in chunks
// comes as a Body that reads them through read.
func (t *tx) scanDocument(r Row) (connector.StoredDocument, error) {
	var (
		d                                                connector.StoredDocument
		system, typ, id, patientRef, title, author, src  nullString
		contentType, hash, version, fingerprint, docType nullString
		patientSystem, text                              nullString
		date, updated                                    nullTime
		content, raw                                     []byte
		chunked                                          bool
	)
	err := r.Scan(&d.ID, &d.PatientID, &system, &typ, &id, &patientSystem, &patientRef, &docType, &title, &date, &author,
		&src, &contentType, &content, &d.Size, &hash, &version, &updated, &raw, &d.Deleted, &fingerprint, &text, &chunked)
	if err != nil {
		return d, err
	}
	if patientSystem == "" {
		patientSystem = system
	}
	d.Ref = connector.Ref{System: string(system), Type: string(typ), ID: string(id)}
	d.Patient = connector.Ref{System: string(patientSystem), Type: connector.PatientType, ID: string(patientRef)}
	d.Type, d.Title, d.Date, d.Author = connector.DocumentType(docType), string(title), date.Time, string(author)
	d.Source, d.ContentType, d.Content, d.ContentHash = string(src), string(contentType), content, string(hash)
	d.Version, d.UpdatedAt, d.Raw, d.Fingerprint = string(version), updated.Time, raw, string(fingerprint)
	d.Text = string(text)
	if chunked {
		d.Body = chunks{read: t.read, id: d.ID, hash: d.ContentHash, size: d.Size}
	}
	return d, nil
}

func (t *tx) Document(ctx context.Context, ref connector.Ref) (connector.StoredDocument, error) {
	d, err := t.scanDocument(t.q.QueryRow(ctx, `SELECT `+documentColumns+` FROM healthcare_documents d
			LEFT JOIN patients p ON p.id = d.patient_id
		WHERE d.source_system = $1 AND d.source_type = $2 AND d.source_id = $3`, ref.System, ref.Type, ref.ID))
	return d, notFound(err, "document "+ref.String())
}

// SaveDocument keeps d; content that is a Body is kept in chunks (see
// saveContent), in this transaction. The version d replaces is kept in
// document_versions first when what a sink shows of it differs (see
// keepVersion).
func (t *tx) SaveDocument(ctx context.Context, d connector.StoredDocument) (int64, error) {
	var (
		prior       int64      // the document's id, 0 if it is new
		kept        nullString // the content hash the document's chunks hold
		fingerprint nullString
		chunked     bool
	)
	err := t.q.QueryRow(ctx, `SELECT d.id, d.content_hash, d.fingerprint, `+chunkedColumn+` FROM healthcare_documents d
		WHERE d.source_system = $1 AND d.source_type = $2 AND d.source_id = $3`,
		d.Ref.System, d.Ref.Type, d.Ref.ID).Scan(&prior, &kept, &fingerprint, &chunked)
	if err != nil && !errors.Is(err, ErrNoRows) {
		return 0, err
	}
	if !chunked {
		kept = ""
	}
	if prior != 0 && string(fingerprint) != d.Fingerprint {
		if err := t.keepVersion(ctx, prior, chunked); err != nil {
			return 0, err
		}
	}
	content := d.Content
	if d.Body != nil {
		content = nil
	}
	var id int64
	err = t.q.QueryRow(ctx, `INSERT INTO healthcare_documents (patient_id, source_system, source_type, source_id,
			patient_ref, type, title, date, author, source, content_type, content, size, content_hash, version,
			updated_at, raw, deleted, fingerprint, synced_at, extracted_text)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
		ON CONFLICT (source_system, source_type, source_id) DO UPDATE SET patient_id = excluded.patient_id,
			patient_ref = excluded.patient_ref, type = excluded.type, title = excluded.title, date = excluded.date,
			author = excluded.author, source = excluded.source, content_type = excluded.content_type,
			content = excluded.content, size = excluded.size, content_hash = excluded.content_hash,
			version = excluded.version, updated_at = excluded.updated_at, raw = excluded.raw,
			deleted = excluded.deleted, fingerprint = excluded.fingerprint, synced_at = excluded.synced_at,
			extracted_text = excluded.extracted_text
		RETURNING id`,
		d.PatientID, d.Ref.System, d.Ref.Type, d.Ref.ID, d.Patient.ID, string(d.Type), d.Title, timeArg(d.Date),
		d.Author, d.Source, d.ContentType, content, d.Size, d.ContentHash, d.Version, timeArg(d.UpdatedAt),
		d.Raw, d.Deleted, d.Fingerprint, t.now().UTC(), nullText(d.Text)).Scan(&id)
	if err != nil {
		return 0, err
	}
	if kept != "" || d.Body != nil {
		if err := t.saveContent(ctx, id, &d.Document, string(kept)); err != nil {
			return 0, err
		}
	}
	return id, nil
}

func (t *tx) LiveDocuments(ctx context.Context, patient connector.Ref) ([]connector.Copy, error) {
	rows, err := t.q.Query(ctx, `SELECT d.source_system, d.source_type, d.source_id, d.version, d.fingerprint, d.deleted,
			d.synced_at
		FROM patients p JOIN healthcare_documents d ON d.patient_id = p.id
		WHERE p.source = $1 AND p.source_id = $2 AND NOT d.deleted`, patient.System, patient.ID)
	if err != nil {
		return nil, err
	}
	return scanCopies(rows)
}

// Undelivered, like LiveDocuments, finds the patient's documents by the
// patient's local id: documents made here live in another system than
// their patient's.
func (t *tx) Undelivered(ctx context.Context, sink string, patient connector.Ref, keptBefore time.Time) ([]connector.Copy, error) {
	rows, err := t.q.Query(ctx, `SELECT p.source, CAST($4 AS TEXT), p.source_id, p.version, p.fingerprint, FALSE, p.created_at
			FROM patients p
			LEFT JOIN sink_mappings m ON m.sink = $1 AND m.ref_system = p.source AND m.ref_type = $4 AND m.ref_id = p.source_id
		WHERE p.source = $2 AND p.source_id = $3 AND COALESCE(m.fingerprint, '') <> COALESCE(p.fingerprint, '')
			AND (p.created_at IS NULL OR p.created_at < $5)
		UNION ALL
		SELECT d.source_system, d.source_type, d.source_id, d.version, d.fingerprint, d.deleted, d.synced_at
			FROM patients p JOIN healthcare_documents d ON d.patient_id = p.id
			LEFT JOIN sink_mappings m ON m.sink = $1 AND m.ref_system = d.source_system AND m.ref_type = d.source_type
				AND m.ref_id = d.source_id
		WHERE p.source = $2 AND p.source_id = $3 AND COALESCE(m.fingerprint, '') <> COALESCE(d.fingerprint, '')
			AND NOT (d.deleted AND COALESCE(m.sink_id, '') = '')
			AND (d.synced_at IS NULL OR d.synced_at < $5)`,
		sink, patient.System, patient.ID, connector.PatientType, keptBefore.UTC())
	if err != nil {
		return nil, err
	}
	return scanCopies(rows)
}

// scanCopies reads rows of (system, type, id, version, fingerprint,
// deleted, saved).
func scanCopies(rows Rows) ([]connector.Copy, error) {
	defer rows.Close()
	var out []connector.Copy
	for rows.Next() {
		var c connector.Copy
		var version, fingerprint nullString
		var saved nullTime
		if err := rows.Scan(&c.Ref.System, &c.Ref.Type, &c.Ref.ID, &version, &fingerprint, &c.Deleted, &saved); err != nil {
			return nil, err
		}
		c.Version, c.Fingerprint, c.Saved = string(version), string(fingerprint), saved.Time
		out = append(out, c)
	}
	return out, rows.Err()
}

const mappingColumns = `sink_id, version, fingerprint, deleted`

func scanMapping(r Row, m *connector.Mapping) error {
	var sinkID, version, fingerprint nullString
	var deleted *bool
	if err := r.Scan(&sinkID, &version, &fingerprint, &deleted); err != nil {
		return err
	}
	m.SinkID, m.Version, m.Fingerprint = string(sinkID), string(version), string(fingerprint)
	m.Deleted = deleted != nil && *deleted
	return nil
}

func (t *tx) Mapping(ctx context.Context, sink string, ref connector.Ref) (connector.Mapping, error) {
	m := connector.Mapping{Sink: sink, Ref: ref}
	err := scanMapping(t.q.QueryRow(ctx, `SELECT `+mappingColumns+` FROM sink_mappings
		WHERE sink = $1 AND ref_system = $2 AND ref_type = $3 AND ref_id = $4`, sink, ref.System, ref.Type, ref.ID), &m)
	if errors.Is(err, ErrNoRows) {
		err = nil
	}
	return m, err
}

// ClaimMapping takes the lease when it is free, expired or already held by
// holder, in one statement: the conditional upsert returns no row when
// another holder's lease is live.
func (t *tx) ClaimMapping(ctx context.Context, sink string, ref connector.Ref, holder string, until time.Time) (connector.Mapping, bool, error) {
	m := connector.Mapping{Sink: sink, Ref: ref}
	err := scanMapping(t.q.QueryRow(ctx, `INSERT INTO sink_mappings (sink, ref_system, ref_type, ref_id, lease_holder, lease_until)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (sink, ref_system, ref_type, ref_id) DO UPDATE
			SET lease_holder = excluded.lease_holder, lease_until = excluded.lease_until
			WHERE sink_mappings.lease_holder IS NULL OR sink_mappings.lease_holder = excluded.lease_holder
				OR sink_mappings.lease_until < $7
		RETURNING `+mappingColumns,
		sink, ref.System, ref.Type, ref.ID, holder, until.UnixMilli(), t.now().UnixMilli()), &m)
	if errors.Is(err, ErrNoRows) {
		return m, false, nil
	}
	return m, err == nil, err
}

func (t *tx) SaveMapping(ctx context.Context, m connector.Mapping, holder string) error {
	n, err := t.q.Exec(ctx, `INSERT INTO sink_mappings (sink, ref_system, ref_type, ref_id, sink_id, version,
			fingerprint, deleted, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (sink, ref_system, ref_type, ref_id) DO UPDATE SET sink_id = excluded.sink_id,
			version = excluded.version, fingerprint = excluded.fingerprint, deleted = excluded.deleted,
			updated_at = excluded.updated_at, lease_holder = NULL, lease_until = NULL
		WHERE sink_mappings.lease_holder IS NULL OR sink_mappings.lease_holder = $10
			OR sink_mappings.lease_until < $11`,
		m.Sink, m.Ref.System, m.Ref.Type, m.Ref.ID, m.SinkID, m.Version, m.Fingerprint, m.Deleted, t.now().UTC(),
		holder, t.now().UnixMilli())
	if err == nil && n == 0 {
		err = fmt.Errorf("store: save mapping of %s in %s: %w", m.Ref, m.Sink, connector.ErrBusy)
	}
	if err == nil && m.Sink == t.carepatronSink && m.Ref.Type == connector.PatientType {
		// The practice shows the patient's id in the platform.
		_, err = t.q.Exec(ctx, `UPDATE patients SET carepatron_patient_id = $1 WHERE source = $2 AND source_id = $3`,
			nullText(m.SinkID), m.Ref.System, m.Ref.ID)
	}
	return err
}

func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (t *tx) ReleaseMapping(ctx context.Context, sink string, ref connector.Ref, holder string) error {
	_, err := t.q.Exec(ctx, `UPDATE sink_mappings SET lease_holder = NULL, lease_until = NULL
		WHERE sink = $1 AND ref_system = $2 AND ref_type = $3 AND ref_id = $4 AND lease_holder = $5`,
		sink, ref.System, ref.Type, ref.ID, holder)
	return err
}

func (t *tx) Cursor(ctx context.Context, source, patient string) (string, error) {
	var c string
	err := t.q.QueryRow(ctx, `SELECT cursor FROM source_cursors WHERE source = $1 AND patient = $2`, source, patient).Scan(&c)
	if errors.Is(err, ErrNoRows) {
		return "", nil
	}
	return c, err
}

func (t *tx) SaveCursor(ctx context.Context, source, patient, cursor string) error {
	_, err := t.q.Exec(ctx, `INSERT INTO source_cursors (source, patient, cursor, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (source, patient) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`,
		source, patient, cursor, t.now().UTC())
	return err
}

func (t *tx) AppendLog(ctx context.Context, e connector.LogEntry) error {
	if e.Timestamp.IsZero() {
		e.Timestamp = t.now()
	}
	_, err := t.q.Exec(ctx, `INSERT INTO synchronization_log (patient_id, document_id, action, timestamp, status, details)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		nullID(e.PatientID), nullID(e.DocumentID), string(e.Action), e.Timestamp.UTC(), string(e.Status), e.Details)
	return err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func (t *tx) UpdateRun(ctx context.Context, run string, patientID int64, d connector.RunDelta) (connector.Progress, error) {
	now := t.now().UTC()
	p := connector.Progress{Run: run}
	err := scanRun(t.q.QueryRow(ctx, `INSERT INTO sync_runs (id, patient_id, phase, total, done, errors, delivery_errors,
			created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $9, $7, $7)
		ON CONFLICT (id) DO UPDATE SET total = sync_runs.total + excluded.total, done = sync_runs.done + excluded.done,
			errors = sync_runs.errors + excluded.errors, delivery_errors = sync_runs.delivery_errors + excluded.delivery_errors,
			updated_at = excluded.updated_at, phase = CASE WHEN $8 = '' THEN sync_runs.phase ELSE excluded.phase END
		RETURNING `+runColumns,
		run, patientID, string(startPhase(d.Phase)), d.Total, d.Done, d.Errors, now, string(d.Phase), d.DeliveryErrors), &p)
	return p, err
}

const runColumns = `patient_id, phase, total, done, errors, delivery_errors, updated_at`

// scanRun reads a row of runColumns into p.
func scanRun(r Row, p *connector.Progress) error {
	var phase string
	var updated nullTime
	err := r.Scan(&p.PatientID, &phase, &p.Total, &p.Done, &p.Errors, &p.DeliveryErrors, &updated)
	p.Phase, p.UpdatedAt = connector.Phase(phase), updated.Time
	return err
}

// startPhase is the phase a new run starts in.
func startPhase(p connector.Phase) connector.Phase {
	if p == "" {
		return connector.PhaseListing
	}
	return p
}
