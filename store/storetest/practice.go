package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
	"github.com/healthcare-records/healthcare-records/store"
)

// PracticeStore is what the practice's cases need of a store: the
// practice's persistence, and SQL of the test's own for the rows the
// cases need beside it (users) and for what the store must refuse.
type PracticeStore interface {
	Store
	practice.Store
	SQL(ctx context.Context, fn func(store.Querier) error) error
}

// testPractice holds every store to practice.Store's contract.
func testPractice(t *testing.T, open Opener) {
	for _, c := range []struct {
		name string
		test func(*testing.T, PracticeStore)
	}{
		{"Patients", testPracticePatients},
		{"PatientListing", testPatientListing},
		{"DuplicatePatients", testDuplicatePatients},
		{"Relink", testRelink},
		{"CarepatronPatientID", testCarepatronPatientID},
		{"Documents", testPracticeDocuments},
		{"Logs", testPracticeLogs},
		{"Shares", testShares},
		{"DocumentRequests", testDocumentRequests},
		{"Inquiries", testInquiries},
		{"Audit", testAudit},
		{"Read", testRead},
		{"Notifications", testNotifications},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.test(t, practiceStore(t, open))
		})
	}
}

func write(t *testing.T, s practice.Store, fn func(practice.Tx) error) {
	t.Helper()
	require.NoError(t, s.Write(context.Background(), fn))
}

func read(t *testing.T, s practice.Store, fn func(practice.Tx) error) {
	t.Helper()
	require.NoError(t, s.Read(context.Background(), fn))
}

// addUser inserts a user (the auth methods' business) and returns its id.
func addUser(t *testing.T, s PracticeStore, email string, role practice.Role) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	require.NoError(t, s.SQL(ctx, func(q store.Querier) error {
		return q.QueryRow(ctx, `INSERT INTO users (email, name, type) VALUES ($1, $2, $3) RETURNING id`,
			email, email, string(role)).Scan(&id)
	}))
	return id
}

// at is a time the databases keep exactly (PostgreSQL to the
// microsecond).
func at(day, hour int) time.Time { return time.Date(2025, 3, day, hour, 0, 0, 0, time.UTC) }

func patientRef(id string) connector.Ref {
	return connector.Ref{System: "php", Type: connector.PatientType, ID: id}
}

func newPatient(id, name, email string) practice.Patient {
	return practice.Patient{Patient: connector.Patient{Ref: patientRef(id), Name: name, Email: email}, Link: practice.Linked}
}

// createPatients creates ps and returns them with their ids.
func createPatients(t *testing.T, s practice.Store, ps ...practice.Patient) []practice.Patient {
	t.Helper()
	ctx := context.Background()
	write(t, s, func(tx practice.Tx) error {
		for i := range ps {
			var err error
			ps[i].ID, err = tx.CreatePatient(ctx, ps[i])
			require.NoError(t, err, ps[i].Ref.ID)
		}
		return nil
	})
	return ps
}

func testPracticePatients(t *testing.T, s PracticeStore) {
	ctx := context.Background()
	owner := addUser(t, s, "dee@example.org", practice.RoleDietician)
	other := addUser(t, s, "dan@example.org", practice.RoleDietician)
	p := practice.Patient{
		Patient: connector.Patient{
			Ref: patientRef("p1"), Name: "Ada Example", Email: "ada@example.org", ContactDetails: "+1 555 0100",
			MedicalHistory: "type 2 diabetes", DietaryPreferences: "no peanuts",
			Identifiers: []connector.Identifier{{System: "urn:mrn", Value: "42"}}, Version: "3", UpdatedAt: at(1, 9),
		},
		OwnerID: owner, Link: practice.Linked, CreatedAt: at(1, 10), EditedAt: at(2, 8),
		WriteBack: practice.WriteBack{Status: practice.WriteBackPending, Base: "3", Detail: "waiting", At: at(2, 9)},
	}
	p = createPatients(t, s, p)[0]
	read(t, s, func(tx practice.Tx) error {
		got, err := tx.PracticePatient(ctx, p.ID)
		require.NoError(t, err)
		assert.Equal(t, p, got)
		synced, err := tx.PatientByID(ctx, p.ID)
		require.NoError(t, err)
		assert.Equal(t, p.Patient.Fingerprint(), synced.Fingerprint, "a new patient is delivered as it is")

		_, err = tx.PracticePatient(ctx, p.ID+100)
		assert.ErrorIs(t, err, practice.ErrNotFound)

		owner, err := tx.PatientOwner(ctx, p.ID)
		require.NoError(t, err)
		assert.Equal(t, p.OwnerID, owner)
		_, err = tx.PatientOwner(ctx, p.ID+100)
		assert.ErrorIs(t, err, practice.ErrNotFound)
		return nil
	})

	err := s.Write(ctx, func(tx practice.Tx) error {
		_, err := tx.CreatePatient(ctx, newPatient("p1", "Someone Else", ""))
		return err
	})
	assert.ErrorIs(t, err, practice.ErrConflict, "a ref already known")
	err = s.Write(ctx, func(tx practice.Tx) error {
		_, err := tx.CreatePatient(ctx, practice.Patient{Patient: connector.Patient{
			Ref: connector.Ref{System: "php", Type: "DocumentReference", ID: "d1"}}})
		return err
	})
	assert.ErrorIs(t, err, connector.ErrInvalid, "a ref that is not a patient's")

	// A dietician, once set, does not change (PatientOwner's cache relies
	// on it), neither to another nor to none.
	for _, to := range []int64{other, 0} {
		moved := p
		moved.OwnerID = to
		err := s.Write(ctx, func(tx practice.Tx) error { return tx.SetPatientPractice(ctx, moved) })
		assert.ErrorIs(t, err, practice.ErrConflict, "owner %d", to)
	}

	// The practice fields change; the synced ones and the write-back
	// (the engine's) stay.
	wb := practice.WriteBack{Status: practice.WriteBackConflict, Base: "4", Detail: "changed there", At: at(5, 10)}
	write(t, s, func(tx practice.Tx) error { return tx.SaveWriteBack(ctx, p.ID, wb) })
	p.WriteBack = wb
	changed := p
	changed.ArchivedAt, changed.EditedAt = at(5, 12), at(5, 11)
	changed.WriteBack = practice.WriteBack{Status: practice.WriteBackWritten}
	changed.Name, changed.Version = "Not Saved", "9"
	write(t, s, func(tx practice.Tx) error { return tx.SetPatientPractice(ctx, changed) })
	read(t, s, func(tx practice.Tx) error {
		got, err := tx.PracticePatient(ctx, p.ID)
		require.NoError(t, err)
		want := changed
		want.Patient, want.WriteBack = p.Patient, wb
		assert.Equal(t, want, got)
		return nil
	})
	var refs []connector.Ref
	update(t, s.(Store), func(tx connector.Tx) (err error) {
		refs, err = tx.PatientRefs(ctx, "php")
		return err
	})
	assert.NotContains(t, refs, p.Ref, "an archived patient no longer syncs")
	// Not archived again.
	write(t, s, func(tx practice.Tx) error { return tx.SetPatientPractice(ctx, p) })
	read(t, s, func(tx practice.Tx) error {
		got, err := tx.PracticePatient(ctx, p.ID)
		require.NoError(t, err)
		assert.Equal(t, p, got)
		return nil
	})
	err = s.Write(ctx, func(tx practice.Tx) error { return tx.SetPatientPractice(ctx, practice.Patient{ID: p.ID + 100}) })
	assert.ErrorIs(t, err, practice.ErrNotFound)

	// A patient without a dietician gets one: what reads saw before, and
	// what a write that rolled back saw, does not hide it.
	orphan := newPatient("p2", "Orphan Example", "")
	orphan = createPatients(t, s, orphan)[0]
	owners := func() (owner int64) {
		read(t, s, func(tx practice.Tx) (err error) {
			owner, err = tx.PatientOwner(ctx, orphan.ID)
			return err
		})
		return owner
	}
	assert.Zero(t, owners())
	adopted := orphan
	adopted.OwnerID = other
	errUndo := errors.New("undo")
	err = s.Write(ctx, func(tx practice.Tx) error {
		if err := tx.SetPatientPractice(ctx, adopted); err != nil {
			return err
		}
		owner, err := tx.PatientOwner(ctx, orphan.ID)
		require.NoError(t, err)
		assert.Equal(t, other, owner, "in the write")
		return errUndo
	})
	require.ErrorIs(t, err, errUndo)
	assert.Zero(t, owners(), "rolled back")
	write(t, s, func(tx practice.Tx) error { return tx.SetPatientPractice(ctx, adopted) })
	assert.Equal(t, other, owners())
	assert.Equal(t, other, owners(), "read again")
}

func testPatientListing(t *testing.T, s PracticeStore) {
	ctx := context.Background()
	dee := addUser(t, s, "dee@example.org", practice.RoleDietician)
	dan := addUser(t, s, "dan@example.org", practice.RoleDietician)
	pia := addUser(t, s, "pia@example.org", practice.RolePractitioner)
	now := at(10, 12)

	type row struct {
		id, name, email string
		owner           int64
		created, update time.Time
		archived        bool
	}
	rows := []row{
		{"bob", "Bob Brown", "bob@mail.example", dee, at(2, 0), at(9, 0), false},
		{"alice", "alice Adams", "a.adams@example.org", dee, at(3, 0), at(7, 0), false},
		{"dave", "Dave Davis", "dd@example.org", dan, at(1, 0), at(8, 0), false},
		{"carol", "carol Clark", "carol@example.org", dee, at(4, 0), time.Time{}, false},
		{"eve1", "Eve Evans", "eve@example.org", dan, at(5, 0), at(6, 0), false},
		{"eve2", "Eve Evans", "eve2@example.org", dan, at(5, 0), at(6, 0), false},
		{"gone", "Gus Gone", "gus@example.org", dee, at(6, 0), at(6, 0), true},
	}
	ids := map[string]int64{}
	names := map[int64]string{}
	var docs []int64
	write(t, s, func(tx practice.Tx) error {
		for _, r := range rows {
			p := newPatient(r.id, r.name, r.email)
			p.OwnerID, p.CreatedAt, p.UpdatedAt = r.owner, r.created, r.update
			if r.archived {
				p.ArchivedAt = at(7, 0)
			}
			id, err := tx.CreatePatient(ctx, p)
			require.NoError(t, err)
			ids[r.id], names[id] = id, r.id
			doc, err := tx.SaveDocument(ctx, connector.StoredDocument{PatientID: id, Document: connector.Document{
				Ref: connector.Ref{System: "php", Type: "DocumentReference", ID: "d-" + r.id}, Patient: patientRef(r.id)}})
			require.NoError(t, err)
			docs = append(docs, doc)
		}
		// Pia has a live share of bob's document and of the archived
		// patient's; one of carol's expired, one of dave's was revoked,
		// one of eve1's expires after now.
		for _, sh := range []practice.Share{
			{DocumentID: docs[0], PatientID: ids["bob"]},
			{DocumentID: docs[6], PatientID: ids["gone"]},
			{DocumentID: docs[3], PatientID: ids["carol"], ExpiresAt: now},
			{DocumentID: docs[2], PatientID: ids["dave"], RevokedAt: at(9, 0), RevokedBy: dan},
			{DocumentID: docs[4], PatientID: ids["eve1"], ExpiresAt: now.Add(time.Second)},
		} {
			sh.SharedBy, sh.SharedWith = dee, pia
			_, err := tx.CreateShare(ctx, sh)
			require.NoError(t, err)
		}
		return nil
	})

	for _, c := range []struct {
		name string
		q    practice.PatientQuery
		want []string
	}{
		{"by name, any case, archived left out", practice.PatientQuery{}, []string{"alice", "bob", "carol", "dave", "eve1", "eve2"}},
		{"by name descending, ties by id", practice.PatientQuery{Desc: true}, []string{"eve1", "eve2", "dave", "carol", "bob", "alice"}},
		{"with the archived", practice.PatientQuery{IncludeArchived: true}, []string{"alice", "bob", "carol", "dave", "eve1", "eve2", "gone"}},
		{"one owner's", practice.PatientQuery{OwnerID: dee}, []string{"alice", "bob", "carol"}},
		{"another owner's", practice.PatientQuery{OwnerID: dan}, []string{"dave", "eve1", "eve2"}},
		{"one patient", practice.PatientQuery{ID: ids["dave"]}, []string{"dave"}},
		{"one patient, archived", practice.PatientQuery{ID: ids["gone"]}, nil},
		{"name substring, any case", practice.PatientQuery{Text: "EVANS"}, []string{"eve1", "eve2"}},
		{"email substring", practice.PatientQuery{Text: "mail.exa"}, []string{"bob"}},
		{"text is no pattern", practice.PatientQuery{Text: "a_a"}, nil},
		{"text is no pattern, %", practice.PatientQuery{Text: "%"}, nil},
		{"live shares", practice.PatientQuery{SharedWith: pia, Now: now}, []string{"bob", "eve1"}},
		{"live shares, later", practice.PatientQuery{SharedWith: pia, Now: now.Add(time.Second)}, []string{"bob"}},
		{"live shares, archived too", practice.PatientQuery{SharedWith: pia, Now: now, IncludeArchived: true}, []string{"bob", "eve1", "gone"}},
		{"shares to no one else", practice.PatientQuery{SharedWith: dan, Now: now}, nil},
		{"created", practice.PatientQuery{Sort: practice.SortCreated}, []string{"dave", "bob", "alice", "carol", "eve1", "eve2"}},
		{"created descending", practice.PatientQuery{Sort: practice.SortCreated, Desc: true}, []string{"eve1", "eve2", "carol", "alice", "bob", "dave"}},
		{"updated, none last", practice.PatientQuery{Sort: practice.SortUpdated}, []string{"eve1", "eve2", "alice", "dave", "bob", "carol"}},
		{"updated descending, none last", practice.PatientQuery{Sort: practice.SortUpdated, Desc: true}, []string{"bob", "dave", "alice", "eve1", "eve2", "carol"}},
		{"limit", practice.PatientQuery{Page: practice.Page{Limit: 2}}, []string{"alice", "bob"}},
		{"offset", practice.PatientQuery{Page: practice.Page{Limit: 2, Offset: 2}}, []string{"carol", "dave"}},
		{"past the end", practice.PatientQuery{Page: practice.Page{Offset: 6}}, nil},
		{"filters together", practice.PatientQuery{OwnerID: dee, Text: "ar", Sort: practice.SortCreated, Desc: true}, []string{"carol"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			read(t, s, func(tx practice.Tx) error {
				got, err := tx.Patients(ctx, c.q)
				require.NoError(t, err)
				assert.Equal(t, c.want, namesOf(got, patientID, names))
				return nil
			})
		})
	}

	read(t, s, func(tx practice.Tx) error {
		got, err := tx.Patients(ctx, practice.PatientQuery{ID: ids["bob"]})
		require.NoError(t, err)
		require.Len(t, got, 1)
		one, err := tx.PracticePatient(ctx, ids["bob"])
		require.NoError(t, err)
		assert.Equal(t, one, got[0], "a listing shows what PracticePatient does")
		return nil
	})
}

func testDuplicatePatients(t *testing.T, s PracticeStore) {
	ctx := context.Background()
	mrn := func(v string) connector.Identifier { return connector.Identifier{System: "urn:mrn", Value: v} }
	ps := []practice.Patient{
		newPatient("a", "Ann", "Ann.Lee@Example.org"),
		newPatient("b", "Ben", "ben@example.org"),
		newPatient("c", "Cy", ""),
		newPatient("gone", "Old Ann", "ann.lee@example.org"),
	}
	ps[1].Identifiers = []connector.Identifier{mrn("7"), {System: "urn:ssn", Value: `50%_"x"`}}
	ps[2].Identifiers = []connector.Identifier{mrn("70")}
	ps[3].ArchivedAt = at(1, 0)
	ps = createPatients(t, s, ps...)
	names := map[int64]string{}
	for _, p := range ps {
		names[p.ID] = p.Ref.ID
	}

	for _, c := range []struct {
		name  string
		email string
		ids   []connector.Identifier
		want  []string
	}{
		{"email, any case, archived left out", "ann.lee@EXAMPLE.org", nil, []string{"a"}},
		{"identifier", "", []connector.Identifier{mrn("7")}, []string{"b"}},
		{"identifier, whole value", "", []connector.Identifier{mrn("0")}, nil},
		{"identifier, exact system", "", []connector.Identifier{{System: "URN:MRN", Value: "7"}}, nil},
		{"identifier with pattern characters", "", []connector.Identifier{{System: "urn:ssn", Value: `50%_"x"`}}, []string{"b"}},
		{"either", "ann.lee@example.org", []connector.Identifier{mrn("x"), mrn("70")}, []string{"a", "c"}},
		{"email and identifier of one", "ben@example.org", []connector.Identifier{mrn("7")}, []string{"b"}},
		{"nothing to match", "", nil, nil},
		{"no match", "nobody@example.org", []connector.Identifier{mrn("1")}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			read(t, s, func(tx practice.Tx) error {
				got, err := tx.DuplicatePatients(ctx, c.email, c.ids)
				require.NoError(t, err)
				assert.Equal(t, c.want, namesOf(got, patientID, names))
				return nil
			})
		})
	}
}

func testRelink(t *testing.T, s PracticeStore) {
	ctx := context.Background()
	local := practice.Patient{Patient: connector.Patient{
		Ref: connector.Ref{System: practice.LocalSource, Type: connector.PatientType, ID: "uuid-1"}, Name: "Una Linked"},
		Link: practice.Unlinked}
	ps := createPatients(t, s, local, newPatient("taken", "Tak En", ""))
	local, taken := ps[0], ps[1]
	// The sink had the patient under its local ref.
	var before practice.Patient
	write(t, s, func(tx practice.Tx) error {
		var err error
		before, err = tx.PracticePatient(ctx, local.ID)
		require.NoError(t, err)
		return tx.SaveMapping(ctx, connector.Mapping{Sink: "cp", Ref: local.Ref, SinkID: "cp-1", Version: "1"}, "")
	})

	err := s.Write(ctx, func(tx practice.Tx) error { return tx.RelinkPatient(ctx, local.ID, taken.Ref) })
	assert.ErrorIs(t, err, practice.ErrConflict, "a ref another patient has")
	err = s.Write(ctx, func(tx practice.Tx) error { return tx.RelinkPatient(ctx, taken.ID, patientRef("new")) })
	assert.ErrorIs(t, err, practice.ErrConflict, "a linked patient")
	err = s.Write(ctx, func(tx practice.Tx) error { return tx.RelinkPatient(ctx, taken.ID+100, patientRef("new")) })
	assert.ErrorIs(t, err, practice.ErrNotFound)

	write(t, s, func(tx practice.Tx) error { return tx.RelinkPatient(ctx, local.ID, patientRef("p9")) })
	read(t, s, func(tx practice.Tx) error {
		got, err := tx.PracticePatient(ctx, local.ID)
		require.NoError(t, err)
		want := before
		want.Ref, want.Link = patientRef("p9"), practice.Linked
		assert.Equal(t, want, got)
		_, err = tx.Patient(ctx, local.Ref)
		assert.ErrorIs(t, err, connector.ErrNotFound, "the local ref is gone")
		m, err := tx.Mapping(ctx, "cp", patientRef("p9"))
		require.NoError(t, err)
		assert.Equal(t, "cp-1", m.SinkID, "the sink keeps the patient it has")
		m, err = tx.Mapping(ctx, "cp", local.Ref)
		require.NoError(t, err)
		assert.Empty(t, m.SinkID)
		return nil
	})
}

func testCarepatronPatientID(t *testing.T, s PracticeStore) {
	ctx := context.Background()
	ps := createPatients(t, s, newPatient("p1", "Pat One", ""), newPatient("p2", "Pat Two", ""))
	cpID := func(id int64) string {
		var p practice.Patient
		read(t, s, func(tx practice.Tx) error {
			var err error
			p, err = tx.PracticePatient(ctx, id)
			return err
		})
		return p.CarepatronPatientID
	}
	assert.Empty(t, cpID(ps[0].ID), "not delivered yet")

	save := func(m connector.Mapping) {
		write(t, s, func(tx practice.Tx) error { return tx.SaveMapping(ctx, m, "") })
	}
	save(connector.Mapping{Sink: store.DefaultCarepatronSink, Ref: ps[0].Ref, SinkID: "cp-1", Version: "1"})
	assert.Equal(t, "cp-1", cpID(ps[0].ID))
	assert.Empty(t, cpID(ps[1].ID))

	save(connector.Mapping{Sink: "other", Ref: ps[1].Ref, SinkID: "o-2", Version: "1"})
	assert.Empty(t, cpID(ps[1].ID), "another sink's id")
	save(connector.Mapping{Sink: store.DefaultCarepatronSink,
		Ref: connector.Ref{System: "php", Type: "DocumentReference", ID: "p2"}, SinkID: "doc-1"})
	assert.Empty(t, cpID(ps[1].ID), "a document's id")

	save(connector.Mapping{Sink: store.DefaultCarepatronSink, Ref: ps[0].Ref, SinkID: "cp-1b", Version: "2"})
	assert.Equal(t, "cp-1b", cpID(ps[0].ID), "follows the mapping")

	// A mapping another holder leases is not saved, nor is the id.
	write(t, s, func(tx practice.Tx) error {
		_, ok, err := tx.ClaimMapping(ctx, store.DefaultCarepatronSink, ps[0].Ref, "a", time.Now().Add(time.Minute))
		require.NoError(t, err)
		require.True(t, ok)
		return nil
	})
	err := s.Write(ctx, func(tx practice.Tx) error {
		return tx.SaveMapping(ctx, connector.Mapping{Sink: store.DefaultCarepatronSink, Ref: ps[0].Ref, SinkID: "cp-x"}, "b")
	})
	require.ErrorIs(t, err, connector.ErrBusy)
	assert.Equal(t, "cp-1b", cpID(ps[0].ID))
}

func patientID(p practice.Patient) int64 { return p.ID }

// namesOf names listed items by the names a case gave their ids, and an
// item the case did not name by its id.
func namesOf[T any](items []T, id func(T) int64, names map[int64]string) []string {
	var out []string
	for _, it := range items {
		n, ok := names[id(it)]
		if !ok {
			n = fmt.Sprint(id(it))
		}
		out = append(out, n)
	}
	return out
}
