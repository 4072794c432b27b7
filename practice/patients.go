package practice

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/healthcare-records/healthcare-records/connector"
)

// NewPatient is a patient to create.
type NewPatient struct {
	Name, Email                                        string
	ContactDetails, MedicalHistory, DietaryPreferences string
	Identifiers                                        []connector.Identifier
	// ConfirmDistinctFrom confirms that the patient is another person
	// than the existing patient of that id, whose email it shares.
	ConfirmDistinctFrom int64
	// Inquiry is the prospective patient's inquiry the patient is made
	// from: it is marked converted with the patient's creation.
	Inquiry int64
}

// PatientUpdate changes a patient; nil fields stay.
type PatientUpdate struct {
	Name, Email, ContactDetails, MedicalHistory, DietaryPreferences *string
}

// PatientList selects patients.
type PatientList struct {
	Text            string
	Sort            PatientSort
	Desc            bool
	IncludeArchived bool
	// LastSyncs also reads, in the same read, each listed patient's
	// newest sync-log entry, for callers who may read the log across
	// patients (admins and dieticians; for others it is ignored).
	LastSyncs bool
	Cursor    string
	Limit     int
}

// PatientPage is a page of patients with, when the list asked for them,
// the newest sync-log entry of each patient that has one, by patient id:
// what a list of patients shows beside each.
type PatientPage struct {
	List[Patient]
	LastSyncs map[int64]connector.LogEntry
}

// Patients lists the patients a may see: a dietician's own, every patient
// for an admin, those with documents shared to a practitioner (name and
// email only), a patient's own record.
func (s *Service) Patients(ctx context.Context, a Actor, in PatientList) (PatientPage, error) {
	if err := s.check(ctx, a, ActionListPatients, Resource{}, 0); err != nil {
		return PatientPage{}, err
	}
	q := PatientQuery{Text: in.Text, Sort: in.Sort, Desc: in.Desc, IncludeArchived: in.IncludeArchived, Now: s.now()}
	switch q.Sort {
	case "":
		q.Sort = SortName
	case SortName, SortCreated, SortUpdated:
	default:
		return PatientPage{}, invalid("sort", "must be one of name, created, updated")
	}
	if err := checkText("q", in.Text, maxName, true); err != nil {
		return PatientPage{}, err
	}
	page, err := offsetPage(in.Cursor, in.Limit)
	if err != nil {
		return PatientPage{}, err
	}
	q.Page = page
	switch a.Role {
	case RoleDietician:
		q.OwnerID = a.UserID
	case RolePractitioner:
		q.SharedWith = a.UserID
	case RolePatient:
		q.ID = a.PatientID
	}
	withLogs := in.LastSyncs && Can(a, ActionListAllLogs, Resource{}) == nil
	var out PatientPage
	err = s.cfg.Store.Read(ctx, func(tx Tx) error {
		found, err := tx.Patients(ctx, q)
		if err != nil {
			return err
		}
		out.List = pageOf(found, page)
		if withLogs {
			out.LastSyncs, err = s.lastSyncs(ctx, tx, a, out.Items)
		}
		return err
	})
	if err != nil {
		return PatientPage{}, fmt.Errorf("list patients: %w", err)
	}
	if a.Role == RolePractitioner {
		for i := range out.Items {
			out.Items[i] = sharedView(out.Items[i])
		}
	}
	s.record(ctx, a, ActionListPatients, OutcomeSuccess, 0, 0, "", strconv.Itoa(len(out.Items))+" patients")
	if withLogs {
		s.record(ctx, a, ActionListAllLogs, OutcomeSuccess, 0, 0, "", "last entry of "+strconv.Itoa(len(out.LastSyncs))+" patients")
	}
	return out, nil
}

// lastSyncs reads the newest sync-log entry of each of ps, narrowed as
// the log across patients is for a (see logScope).
func (s *Service) lastSyncs(ctx context.Context, tx Tx, a Actor, ps []Patient) (map[int64]connector.LogEntry, error) {
	q := LogQuery{PatientIDs: make([]int64, len(ps)), Latest: true, Limit: max(len(ps), 1)}
	for i, p := range ps {
		q.PatientIDs[i] = p.ID
	}
	if err := s.logScope(ctx, tx, a, 0, &q); err != nil {
		return nil, err
	}
	entries, err := tx.Logs(ctx, q)
	if err != nil {
		return nil, err
	}
	last := make(map[int64]connector.LogEntry, len(entries))
	for _, e := range entries {
		last[e.PatientID] = e
	}
	return last, nil
}

// sharedView is what a practitioner sees of a patient whose documents are
// shared with them: who the patient is, nothing of their record.
func sharedView(p Patient) Patient {
	return Patient{ID: p.ID, Patient: connector.Patient{Name: p.Name, Email: p.Email}, Link: p.Link, CreatedAt: p.CreatedAt}
}

// Patient returns a patient's record.
func (s *Service) Patient(ctx context.Context, a Actor, id int64) (Patient, error) {
	p, err := s.allowedPatient(ctx, a, ActionReadPatient, id)
	if err != nil {
		return Patient{}, fmt.Errorf("patient %d: %w", id, err)
	}
	s.record(ctx, a, ActionReadPatient, OutcomeSuccess, id, 0, "", "")
	return p, nil
}

// CreatePatient creates a dietician's patient. A patient already on
// record with the same identifier, or the same email (whatever its case),
// is a *DuplicateError naming it; a shared email may be confirmed as
// another person with ConfirmDistinctFrom, an identifier may not. The
// patient is then matched at the provider, by identifier, then by email:
// a match is enrolled and its first sync starts at once (its run id is
// returned); no match leaves the patient unlinked, kept here only, until
// LinkPatient finds it.
func (s *Service) CreatePatient(ctx context.Context, a Actor, in NewPatient) (Patient, string, error) {
	if err := s.check(ctx, a, ActionCreatePatient, Resource{}, 0); err != nil {
		return Patient{}, "", err
	}
	if err := checkNewPatient(in); err != nil {
		return Patient{}, "", err
	}
	if in.Inquiry != 0 {
		if err := s.checkConvert(ctx, a, in.Inquiry); err != nil {
			return Patient{}, "", err
		}
	}
	if err := s.checkDuplicates(ctx, in); err != nil {
		return Patient{}, "", err
	}
	match, err := s.match(ctx, in)
	if err != nil {
		return Patient{}, "", err
	}
	p := Patient{
		Patient: connector.Patient{Name: in.Name, Email: in.Email, ContactDetails: in.ContactDetails,
			MedicalHistory: in.MedicalHistory, DietaryPreferences: in.DietaryPreferences, Identifiers: in.Identifiers},
		OwnerID: a.UserID, CreatedAt: s.now(), EditedAt: s.now(),
	}
	var run string
	create := func(tx Tx) error {
		if match == nil {
			p.Ref = connector.Ref{System: LocalSource, Type: connector.PatientType, ID: uuid.NewString()}
			p.Link = Unlinked
			var err error
			p.ID, err = tx.CreatePatient(ctx, p)
			return err
		}
		p.Ref, p.Link, p.Version = match.Ref, Linked, match.Version
		known, err := tx.Patient(ctx, match.Ref)
		switch {
		case errors.Is(err, ErrNotFound):
			if p.ID, err = tx.CreatePatient(ctx, p); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			// Synced already without a dietician (enrolled by the
			// server's configuration): the dietician takes it on.
			if p, err = s.adopt(ctx, tx, a, known.ID, in); err != nil {
				return err
			}
		}
		run, err = s.cfg.Engine.Enroll(ctx, tx, match.Ref, connector.ActionManualSync)
		return err
	}
	err = s.cfg.Store.Write(ctx, func(tx Tx) error {
		if err := create(tx); err != nil || in.Inquiry == 0 {
			return err
		}
		return s.convertInquiry(ctx, tx, in.Inquiry, p.ID)
	})
	if err != nil {
		return Patient{}, "", fmt.Errorf("create patient: %w", err)
	}
	s.record(ctx, a, ActionCreatePatient, OutcomeSuccess, p.ID, 0, "", string(p.Link))
	return p, run, nil
}

// adopt gives a synced patient without a dietician to a, keeping what the
// dietician entered that the provider does not hold.
func (s *Service) adopt(ctx context.Context, tx Tx, a Actor, id int64, in NewPatient) (Patient, error) {
	p, err := tx.PracticePatient(ctx, id)
	if err != nil {
		return Patient{}, err
	}
	if p.OwnerID != 0 && p.OwnerID != a.UserID {
		return Patient{}, &DuplicateError{Existing: p.ID, Field: "identifier"}
	}
	p.OwnerID, p.EditedAt, p.ArchivedAt = a.UserID, s.now(), time.Time{}
	if err := tx.SetPatientPractice(ctx, p); err != nil {
		return Patient{}, err
	}
	sp, err := tx.PatientByID(ctx, id)
	if err != nil {
		return Patient{}, err
	}
	if in.MedicalHistory != "" || in.DietaryPreferences != "" {
		sp.MedicalHistory, sp.DietaryPreferences = in.MedicalHistory, in.DietaryPreferences
		if _, err := tx.SavePatient(ctx, sp); err != nil {
			return Patient{}, err
		}
	}
	return tx.PracticePatient(ctx, id)
}

func checkNewPatient(in NewPatient) error {
	if err := checkName("name", in.Name); err != nil {
		return err
	}
	if err := checkEmail("email", in.Email, false); err != nil {
		return err
	}
	if err := checkText("contact_details", in.ContactDetails, maxText, false); err != nil {
		return err
	}
	if err := checkText("medical_history", in.MedicalHistory, maxText, false); err != nil {
		return err
	}
	if err := checkText("dietary_preferences", in.DietaryPreferences, maxText, false); err != nil {
		return err
	}
	if in.Email == "" && len(in.Identifiers) == 0 {
		return invalid("email", "is required unless an identifier is given: the provider's record is found by one of them")
	}
	return checkIdentifiers("identifiers", in.Identifiers)
}

// checkDuplicates refuses a patient already on record.
func (s *Service) checkDuplicates(ctx context.Context, in NewPatient) error {
	var dups []Patient
	err := s.cfg.Store.Read(ctx, func(tx Tx) (err error) {
		dups, err = tx.DuplicatePatients(ctx, in.Email, in.Identifiers)
		return err
	})
	if err != nil {
		return fmt.Errorf("find duplicates: %w", err)
	}
	for _, d := range dups {
		if sharesIdentifier(d, in.Identifiers) {
			return &DuplicateError{Existing: d.ID, Field: "identifier"}
		}
	}
	for _, d := range dups {
		if d.ID != in.ConfirmDistinctFrom {
			return &DuplicateError{Existing: d.ID, Field: "email"}
		}
	}
	return nil
}

func sharesIdentifier(p Patient, ids []connector.Identifier) bool {
	for _, have := range p.Identifiers {
		for _, id := range ids {
			if have.Value == id.Value && strings.EqualFold(have.System, id.System) {
				return true
			}
		}
	}
	return false
}

// match finds the patient at the provider: by each identifier, then by
// email. Nil means no match.
func (s *Service) match(ctx context.Context, in NewPatient) (*connector.Patient, error) {
	queries := make([]connector.PatientQuery, 0, len(in.Identifiers)+1)
	for _, id := range in.Identifiers {
		queries = append(queries, connector.PatientQuery{Identifier: id})
	}
	if in.Email != "" {
		queries = append(queries, connector.PatientQuery{Email: in.Email})
	}
	for _, q := range queries {
		p, err := s.cfg.ProviderSource.FindPatient(ctx, q)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if errors.Is(err, connector.ErrAmbiguous) {
			what := "this email"
			if q.Email == "" {
				what = "this identifier"
			}
			return nil, fmt.Errorf("find the patient at the provider: %w", &Refusal{Class: ErrConflict, Reason: "more than one patient at the provider has " + what + ": give the patient's identifier at the provider (such as the MRN) so that the right one is linked; nothing was saved", cause: err})
		}
		if err != nil {
			return nil, fmt.Errorf("find the patient at the provider: %w", &Refusal{Class: ErrUnavailable, Reason: "the provider could not be searched for the patient; nothing was saved: try again in a moment", cause: err})
		}
		p.Ref.System = s.cfg.Provider
		return p, nil
	}
	return nil, nil
}

// UpdatePatient saves an edit of the patient's record. A linked patient's
// edit is delivered to the sinks and written back to the provider (see
// WriteBack on the patient for how that went).
func (s *Service) UpdatePatient(ctx context.Context, a Actor, id int64, in PatientUpdate) (Patient, error) {
	var p Patient
	err := s.cfg.Store.Write(ctx, func(tx Tx) error {
		r, err := s.patientAccess(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := s.check(ctx, a, ActionUpdatePatient, r, 0); err != nil {
			return err
		}
		sp, err := tx.PatientByID(ctx, id)
		if err != nil {
			return err
		}
		if err := applyPatientUpdate(&sp.Patient, in); err != nil {
			return err
		}
		pp, err := tx.PracticePatient(ctx, id)
		if err != nil {
			return err
		}
		if pp.Archived() {
			return refuse(ErrConflict, "the patient is archived")
		}
		pp.EditedAt = s.now()
		if err := tx.SetPatientPractice(ctx, pp); err != nil {
			return err
		}
		if pp.Link == Linked {
			err = s.cfg.Engine.EditPatient(ctx, tx, sp)
		} else {
			_, err = tx.SavePatient(ctx, sp)
		}
		if err != nil {
			return err
		}
		p, err = tx.PracticePatient(ctx, id)
		return err
	})
	if err != nil {
		return Patient{}, fmt.Errorf("update patient %d: %w", id, err)
	}
	s.record(ctx, a, ActionUpdatePatient, OutcomeSuccess, id, 0, "", "")
	return p, nil
}

func applyPatientUpdate(p *connector.Patient, in PatientUpdate) error {
	if in.Name != nil {
		if err := checkName("name", *in.Name); err != nil {
			return err
		}
		p.Name = *in.Name
	}
	if in.Email != nil {
		if err := checkEmail("email", *in.Email, false); err != nil {
			return err
		}
		p.Email = *in.Email
	}
	for _, f := range []struct {
		name string
		in   *string
		out  *string
	}{
		{"contact_details", in.ContactDetails, &p.ContactDetails},
		{"medical_history", in.MedicalHistory, &p.MedicalHistory},
		{"dietary_preferences", in.DietaryPreferences, &p.DietaryPreferences},
	} {
		if f.in == nil {
			continue
		}
		if err := checkText(f.name, *f.in, maxText, false); err != nil {
			return err
		}
		*f.out = *f.in
	}
	return nil
}

// ArchivePatient archives a patient: it stays readable here, its
// reconciles, sweeps and manual syncs stop, and nothing is deleted,
// neither at the provider (never) nor at the sinks, where the practice's
// record of the patient stays as it was. A change the provider announces
// by webhook is still kept and delivered.
func (s *Service) ArchivePatient(ctx context.Context, a Actor, id int64) error {
	err := s.cfg.Store.Write(ctx, func(tx Tx) error {
		p, r, err := s.patientFacts(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := s.check(ctx, a, ActionArchivePatient, r, 0); err != nil {
			return err
		}
		if p.Archived() {
			return nil
		}
		p.ArchivedAt = s.now()
		return tx.SetPatientPractice(ctx, p)
	})
	if err != nil {
		return fmt.Errorf("archive patient %d: %w", id, err)
	}
	s.record(ctx, a, ActionArchivePatient, OutcomeSuccess, id, 0, "", "")
	return nil
}

// LinkPatient links an unlinked patient to the provider's record with
// that identifier and starts its first sync, whose run id it returns.
func (s *Service) LinkPatient(ctx context.Context, a Actor, id int64, ident connector.Identifier) (Patient, string, error) {
	p, err := s.allowedPatient(ctx, a, ActionUpdatePatient, id)
	if err != nil {
		return Patient{}, "", fmt.Errorf("link patient %d: %w", id, err)
	}
	if p.Link == Linked {
		return Patient{}, "", fmt.Errorf("link patient %d: %w", id, refuse(ErrConflict, "the patient is linked already"))
	}
	if err := checkIdentifiers("identifier", []connector.Identifier{ident}); err != nil {
		return Patient{}, "", err
	}
	match, err := s.match(ctx, NewPatient{Identifiers: []connector.Identifier{ident}})
	if err != nil {
		return Patient{}, "", err
	}
	if match == nil {
		return Patient{}, "", invalid("identifier", "matches no patient at the provider")
	}
	var run string
	err = s.cfg.Store.Write(ctx, func(tx Tx) error {
		if other, err := tx.Patient(ctx, match.Ref); err == nil {
			return &DuplicateError{Existing: other.ID, Field: "identifier"}
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := tx.RelinkPatient(ctx, id, match.Ref); err != nil {
			return err
		}
		p.Ref, p.Link, p.EditedAt = match.Ref, Linked, s.now()
		if err := tx.SetPatientPractice(ctx, p); err != nil {
			return err
		}
		var err error
		if run, err = s.cfg.Engine.Enroll(ctx, tx, match.Ref, connector.ActionManualSync); err != nil {
			return err
		}
		p, err = tx.PracticePatient(ctx, id)
		return err
	})
	if err != nil {
		return Patient{}, "", fmt.Errorf("link patient %d: %w", id, err)
	}
	s.record(ctx, a, ActionUpdatePatient, OutcomeSuccess, id, 0, "", "linked")
	return p, run, nil
}

// RetryWriteBack writes the patient's last edit again, over the
// provider's current version, after a conflict or a failure.
func (s *Service) RetryWriteBack(ctx context.Context, a Actor, id int64) (Patient, error) {
	p, err := s.allowedPatient(ctx, a, ActionUpdatePatient, id)
	if err != nil {
		return Patient{}, fmt.Errorf("retry write-back of patient %d: %w", id, err)
	}
	switch p.WriteBack.Status {
	case WriteBackConflict, WriteBackFailed:
	default:
		return Patient{}, fmt.Errorf("retry write-back of patient %d: %w", id, refuse(ErrConflict, "there is no failed write-back to retry"))
	}
	if err := s.cfg.Engine.RetryWriteBack(ctx, id); err != nil {
		return Patient{}, fmt.Errorf("retry write-back of patient %d: %w", id, err)
	}
	s.record(ctx, a, ActionUpdatePatient, OutcomeSuccess, id, 0, "", "write-back retried")
	return s.Patient(ctx, a, id)
}
