package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

// practicePatientColumns are patientColumns and the practice's own.
const practicePatientColumns = patientColumns + `, user_id, carepatron_patient_id, link_status, writeback_status,
	writeback_base, writeback_detail, writeback_at, archived_at, created_at, edited_at`

func scanPracticePatient(r Row) (practice.Patient, error) {
	var (
		p                                    practice.Patient
		owner                                *int64
		carepatron, link, status, base       nullString
		detail                               nullString
		writtenAt, archived, created, edited nullTime
	)
	sp, err := scanPatient(r, &owner, &carepatron, &link, &status, &base, &detail, &writtenAt, &archived, &created, &edited)
	if err != nil {
		return p, err
	}
	p.ID, p.Patient = sp.ID, sp.Patient
	if owner != nil {
		p.OwnerID = *owner
	}
	p.CarepatronPatientID, p.Link = string(carepatron), practice.LinkStatus(link)
	p.WriteBack = practice.WriteBack{Status: practice.WriteBackStatus(status), Base: string(base),
		Detail: string(detail), At: writtenAt.Time}
	p.ArchivedAt, p.CreatedAt, p.EditedAt = archived.Time, created.Time, edited.Time
	return p, nil
}

func (t *tx) PracticePatient(ctx context.Context, id int64) (practice.Patient, error) {
	p, err := scanPracticePatient(t.q.QueryRow(ctx, `SELECT `+practicePatientColumns+` FROM patients WHERE id = $1`, id))
	return p, notFound(err, fmt.Sprintf("patient %d", id))
}

// PatientOwner answers from the store's cache of owners where it can: a
// patient's dietician, once set, never changes (SetPatientPractice
// refuses it), so what a read saw of it holds in every process for as
// long as the patient exists, and patients are never deleted. Only a read
// transaction fills the cache, since it sees committed rows alone; a
// patient without a dietician is read each time, as one may adopt it.
func (t *tx) PatientOwner(ctx context.Context, id int64) (int64, error) {
	if owner, ok := t.owners.get(id); ok {
		return owner, nil
	}
	var owner *int64
	err := t.q.QueryRow(ctx, `SELECT user_id FROM patients WHERE id = $1`, id).Scan(&owner)
	if err != nil {
		return 0, notFound(err, fmt.Sprintf("patient %d", id))
	}
	if owner == nil {
		return 0, nil
	}
	if t.readOnly {
		t.owners.put(id, *owner)
	}
	return *owner, nil
}

// ownerCache maps patients to their dieticians, up to maxCachedOwners of
// them (then it starts over). The zero ownerCache is ready to use.
type ownerCache struct {
	mu sync.RWMutex
	m  map[int64]int64
}

// maxCachedOwners bounds ownerCache: 16 bytes a patient, about a MiB.
const maxCachedOwners = 1 << 16

func (c *ownerCache) get(id int64) (int64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	owner, ok := c.m[id]
	return owner, ok
}

func (c *ownerCache) put(id, owner int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedOwners {
		c.m = make(map[int64]int64)
	}
	c.m[id] = owner
}

// patientOrders are the ORDER BY clauses of the patient sorts, ascending
// and descending; ties go by ascending id either way. Patients without
// the time sorted by come last.
var patientOrders = map[practice.PatientSort][2]string{
	practice.SortName:    {"lower(COALESCE(name, '')), id", "lower(COALESCE(name, '')) DESC, id"},
	practice.SortCreated: {"created_at IS NULL, created_at, id", "created_at IS NULL, created_at DESC, id"},
	practice.SortUpdated: {"updated_at IS NULL, updated_at, id", "updated_at IS NULL, updated_at DESC, id"},
}

func (t *tx) Patients(ctx context.Context, q practice.PatientQuery) ([]practice.Patient, error) {
	var (
		args  params
		conds []string
	)
	conds = args.matchIDs(conds, idFilter{"user_id", q.OwnerID}, idFilter{"id", q.ID})
	if q.SharedWith != 0 {
		now := q.Now
		if now.IsZero() {
			now = t.now()
		}
		conds = append(conds, `id IN (SELECT s.patient_id FROM document_shares s WHERE s.shared_with = `+
			args.add(q.SharedWith)+` AND `+liveShare("s", args.add(now.UTC()))+`)`)
	}
	if q.Text != "" {
		conds = append(conds, "("+args.contains("name", q.Text)+" OR "+args.contains("email", q.Text)+")")
	}
	if !q.IncludeArchived {
		conds = append(conds, "archived_at IS NULL")
	}
	rows, err := t.q.Query(ctx, `SELECT `+practicePatientColumns+` FROM patients`+where(conds)+
		` ORDER BY `+orderBy(patientOrders, q.Sort, practice.SortName, q.Desc)+
		` LIMIT `+args.add(listLimit(q.Limit))+` OFFSET `+args.add(max(q.Offset, 0)), args...)
	out, err := scanAll(rows, err, scanPracticePatient)
	if err != nil {
		return nil, fmt.Errorf("store: list patients: %w", err)
	}
	return out, nil
}

// liveShare is the condition that the share aliased alias is live at the
// time bound to placeholder now.
func liveShare(alias, now string) string {
	return alias + ".revoked_at IS NULL AND (" + alias + ".expires_at IS NULL OR " + alias + ".expires_at > " + now + ")"
}

func (t *tx) DuplicatePatients(ctx context.Context, email string, ids []connector.Identifier) ([]practice.Patient, error) {
	var (
		args  params
		match []string
	)
	if email != "" {
		match = append(match, "lower(email) = lower("+args.add(email)+")")
	}
	// Identifiers are kept as the JSON of the list, each element written
	// alike: an element's JSON is in the list's. LIKE narrows (SQLite's
	// ignores case), and the check below decides.
	for _, id := range ids {
		elem, err := json.Marshal(id)
		if err != nil {
			return nil, err
		}
		match = append(match, args.contains("identifiers", string(elem)))
	}
	if len(match) == 0 {
		return nil, nil
	}
	rows, err := t.q.Query(ctx, `SELECT `+practicePatientColumns+` FROM patients WHERE archived_at IS NULL AND (`+
		strings.Join(match, " OR ")+`) ORDER BY id`, args...)
	found, err := scanAll(rows, err, scanPracticePatient)
	if err != nil {
		return nil, fmt.Errorf("store: find duplicate patients: %w", err)
	}
	return slices.DeleteFunc(found, func(p practice.Patient) bool {
		return !(email != "" && strings.EqualFold(p.Email, email)) &&
			!slices.ContainsFunc(p.Identifiers, func(have connector.Identifier) bool { return slices.Contains(ids, have) })
	}), nil
}

func (t *tx) CreatePatient(ctx context.Context, p practice.Patient) (int64, error) {
	if p.Ref.Type != connector.PatientType {
		return 0, fmt.Errorf("%w: patient ref %s is not of type %s", connector.ErrInvalid, p.Ref, connector.PatientType)
	}
	identifiers, err := json.Marshal(p.Identifiers)
	if err != nil {
		return 0, err
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = t.now()
	}
	var id int64
	err = t.q.QueryRow(ctx, `INSERT INTO patients (source, source_id, name, email, contact_details, medical_history,
			dietary_preferences, identifiers, version, updated_at, fingerprint, created_at, user_id, link_status,
			writeback_status, writeback_base, writeback_detail, writeback_at, archived_at, edited_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
		RETURNING id`,
		p.Ref.System, p.Ref.ID, p.Name, p.Email, p.ContactDetails, p.MedicalHistory, p.DietaryPreferences,
		string(identifiers), p.Version, timeArg(p.UpdatedAt), p.Patient.Fingerprint(), timeArg(p.CreatedAt),
		nullID(p.OwnerID), string(linkOf(p)), nullText(string(p.WriteBack.Status)), nullText(p.WriteBack.Base),
		nullText(p.WriteBack.Detail), timeArg(p.WriteBack.At), timeArg(p.ArchivedAt), timeArg(p.EditedAt)).Scan(&id)
	return id, conflict(err, "patient "+p.Ref.String())
}

// linkOf is p's link status; a patient is linked unless it says not.
func linkOf(p practice.Patient) practice.LinkStatus {
	if p.Link == "" {
		return practice.Linked
	}
	return p.Link
}

// SetPatientPractice leaves the write-back columns alone: the engine
// keeps them (connector.Tx.SaveWriteBack). It refuses to change a
// dietician once set, which PatientOwner's cache relies on.
func (t *tx) SetPatientPractice(ctx context.Context, p practice.Patient) error {
	what := fmt.Sprintf("patient %d", p.ID)
	n, err := t.q.Exec(ctx, `UPDATE patients SET user_id = $1, link_status = $2, archived_at = $3, edited_at = $4
		WHERE id = $5 AND (user_id IS NULL OR user_id = $1)`,
		nullID(p.OwnerID), string(linkOf(p)), timeArg(p.ArchivedAt), timeArg(p.EditedAt), p.ID)
	if err == nil && n == 0 {
		if _, err := t.PatientOwner(ctx, p.ID); err != nil {
			return err
		}
		return fmt.Errorf("%s has a dietician, who does not change: %w", what, practice.ErrConflict)
	}
	return mustChange(n, err, what)
}

// RelinkPatient moves the patient's row, and what each sink holds of it,
// to the provider's ref, so that a sink that has the patient under its
// local ref keeps it rather than getting it again.
func (t *tx) RelinkPatient(ctx context.Context, id int64, ref connector.Ref) error {
	what := fmt.Sprintf("patient %d", id)
	if ref.Type != connector.PatientType {
		return fmt.Errorf("%w: patient ref %s is not of type %s", connector.ErrInvalid, ref, connector.PatientType)
	}
	old, err := t.PracticePatient(ctx, id)
	if err != nil {
		return err
	}
	if old.Link != practice.Unlinked {
		return fmt.Errorf("%s is linked already: %w", what, practice.ErrConflict)
	}
	_, err = t.q.Exec(ctx, `UPDATE patients SET source = $1, source_id = $2, link_status = $3 WHERE id = $4`,
		ref.System, ref.ID, string(practice.Linked), id)
	if err != nil {
		return conflict(err, what)
	}
	_, err = t.q.Exec(ctx, `UPDATE sink_mappings SET ref_system = $1, ref_id = $2
		WHERE ref_system = $3 AND ref_type = $4 AND ref_id = $5`,
		ref.System, ref.ID, old.Ref.System, connector.PatientType, old.Ref.ID)
	return conflict(err, what+" mappings")
}
