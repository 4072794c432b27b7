package api_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

// The world of the matrix's role rows. Its people:
//
//	admin                 signs in as the admin
//	dietician (D1)        owns P1 and P1b; the dietician rows sign in as D1
//	other dietician (D2)  owns P2
//	practitioner (R)      gp@example.com; D1 shared X, a document of P1, with R
//	practitioner (R2)     D1 shared Y with R2, D2 shared W with R2
//	patient (U)           P1's own user
//	victim (V)            a practitioner with no records, for deleteUser
//
// and the inquiries I1 (addressed to D1), I2 (to D2) and I3 (to no one:
// any dietician's, so "unrelated" to a dietician reads it too), each by
// email with one attachment
//
// and its records: P1 (synced: provider documents X and Y, uploads Z and
// Z2 by D1, a run, log entries, a document request), P1b (unlinked, for
// archivePatient), P2 (synced: document W, a run, log entries, a
// request), the shares S1 (D1 to R, on X), S1b (D1 to R2, on Y) and S2
// (D2 to R2, on W).
type worldIDs struct {
	admin, d1, d2, r, r2, u, v int64
	p1, p1b, p2                int64
	x, y, z, z2, w             int64
	s1, s1b, s2                int64
	i1, i2, i3                 int64
	// att holds each inquiry's attachment id.
	att        map[int64]int64
	log1, log2 int64
	run1, run2 string
	tokens     map[practice.Role]string
	emails     map[practice.Role]string

	// notes are a notification of each user, by user id.
	notes map[int64]int64
}

const worldPassword = "a long enough password"

func buildWorld(t *testing.T, h *harness) *world {
	t.Helper()
	ctx := context.Background()
	var ids worldIDs
	boot := func(role practice.Role, email string, patient int64) int64 {
		u, err := practice.Bootstrap(ctx, h.st, practice.NewUser{Email: email, Name: "World " + string(role),
			Role: role, Password: worldPassword, PatientID: patient}, time.Now())
		require.NoError(t, err)
		return u.ID
	}
	ids.admin = boot(practice.RoleAdmin, "admin@example.com", 0)
	ids.d1 = boot(practice.RoleDietician, "d1@example.com", 0)
	ids.d2 = boot(practice.RoleDietician, "d2@example.com", 0)
	ids.r = boot(practice.RolePractitioner, "gp@example.com", 0)
	ids.r2 = boot(practice.RolePractitioner, "r2@example.com", 0)
	ids.v = boot(practice.RolePractitioner, "victim@example.com", 0)
	d1 := practice.Actor{UserID: ids.d1, Role: practice.RoleDietician}
	d2 := practice.Actor{UserID: ids.d2, Role: practice.RoleDietician}

	provider, err := h.php.Fill(2, 2)
	require.NoError(t, err)
	p1, run1, err := h.svc.CreatePatient(ctx, d1, practice.NewPatient{Name: provider[0].Name, Email: provider[0].Email})
	require.NoError(t, err)
	require.Equal(t, int64(1), p1.ID, "listLogs' sample names patient 1")
	p2, run2, err := h.svc.CreatePatient(ctx, d2, practice.NewPatient{Name: provider[1].Name, Email: provider[1].Email})
	require.NoError(t, err)
	p1b, _, err := h.svc.CreatePatient(ctx, d1, practice.NewPatient{Name: "Not At The Provider", Email: "nobody@example.org"})
	require.NoError(t, err)
	ids.p1, ids.p2, ids.p1b, ids.run1, ids.run2 = p1.ID, p2.ID, p1b.ID, run1, run2
	ids.u = boot(practice.RolePatient, "u@example.com", p1.ID)

	docs := func(a practice.Actor, patient int64) []practice.Document {
		var out []practice.Document
		require.Eventually(t, func() bool {
			page, err := h.svc.Documents(ctx, a, patient, practice.DocumentList{Sort: practice.SortTitle, Asc: true})
			require.NoError(t, err)
			out = page.Items
			return len(out) == 2
		}, 30*time.Second, 20*time.Millisecond, "the provider's documents of patient %d", patient)
		return out
	}
	p1docs, p2docs := docs(d1, p1.ID), docs(d2, p2.ID)
	ids.x, ids.y, ids.w = p1docs[0].ID, p1docs[1].ID, p2docs[0].ID
	upload := func(title string) int64 {
		d, err := h.svc.Upload(ctx, d1, p1.ID, practice.Upload{FileName: title + ".txt", Type: connector.DocumentProgressNote,
			Title: title, Data: []byte("a note of the dietician")})
		require.NoError(t, err)
		return d.ID
	}
	ids.z, ids.z2 = upload("Upload Z"), upload("Upload Z2")
	share := func(a practice.Actor, doc int64, with string) int64 {
		s, err := h.svc.ShareDocument(ctx, a, doc, practice.ShareInput{WithEmail: with})
		require.NoError(t, err)
		return s.ID
	}
	ids.s1, ids.s1b, ids.s2 = share(d1, ids.x, "gp@example.com"), share(d1, ids.y, "r2@example.com"), share(d2, ids.w, "r2@example.com")
	for _, r := range []struct {
		a  practice.Actor
		id int64
	}{{d1, p1.ID}, {d2, p2.ID}} {
		_, err := h.svc.RequestDocuments(ctx, r.a, r.id, practice.RequestInput{What: "the latest lab results"})
		require.NoError(t, err)
	}
	admin := practice.Actor{UserID: ids.admin, Role: practice.RoleAdmin}
	logOf := func(patient int64) int64 {
		var id int64
		require.Eventually(t, func() bool {
			l, err := h.svc.Logs(ctx, admin, practice.LogList{PatientID: patient, Limit: 1})
			require.NoError(t, err)
			if len(l.Items) > 0 {
				id = l.Items[0].ID
			}
			return id != 0
		}, 30*time.Second, 20*time.Millisecond)
		return id
	}
	ids.log1, ids.log2 = logOf(p1.ID), logOf(p2.ID)
	ids.att = map[int64]int64{}
	inquiry := func(email string, dietician int64) int64 {
		q, err := h.svc.ReceiveInquiry(ctx, practice.Client{}, practice.NewInquiry{Name: "Prospect", Email: email,
			Message: "I would like an appointment.", DieticianID: dietician, Channel: practice.InquiryEmail,
			MessageID: email + "-1", Attachments: []practice.InquiryAttachment{{Name: "labs.pdf",
				ContentType: "application/pdf", Data: []byte("%PDF-1.4")}}})
		require.NoError(t, err)
		q, err = h.svc.Inquiry(ctx, practice.Actor{UserID: ids.admin, Role: practice.RoleAdmin}, q.ID)
		require.NoError(t, err)
		ids.att[q.ID] = q.Attachments[0].ID
		return q.ID
	}
	ids.i1, ids.i2, ids.i3 = inquiry("i1@example.org", ids.d1), inquiry("i2@example.org", ids.d2), inquiry("i3@example.org", 0)

	ids.notes = map[int64]int64{}
	for _, user := range []int64{ids.admin, ids.d1, ids.d2, ids.r, ids.u} {
		require.NoError(t, h.st.Write(ctx, func(tx practice.Tx) error {
			id, _, err := tx.AddNotification(ctx, practice.Notification{UserID: user, Kind: practice.KindSyncFinished,
				Severity: practice.SeverityInfo, Title: "Sync finished", Body: "The sync brought 1 new note.",
				Delivery: practice.DeliverInApp})
			ids.notes[user] = id
			return err
		}))
	}

	ids.emails = map[practice.Role]string{
		practice.RoleAdmin: "admin@example.com", practice.RoleDietician: "d1@example.com",
		practice.RolePractitioner: "gp@example.com", practice.RolePatient: "u@example.com",
	}
	ids.tokens = map[practice.Role]string{}
	for role, email := range ids.emails {
		ids.tokens[role] = signIn(t, h, email, worldPassword).AccessToken
	}
	return &world{
		token: func(op string, role practice.Role) string {
			if op == "logout" {
				// A session of its own, so that signing out ends no
				// other row's.
				return signIn(t, h, ids.emails[role], worldPassword).AccessToken
			}
			return ids.tokens[role]
		},
		params: ids.params,
		ids:    ids,
	}
}

// selfID is the user id the role's rows sign in as.
func (w worldIDs) selfID(role practice.Role) int64 {
	return map[practice.Role]int64{practice.RoleAdmin: w.admin, practice.RoleDietician: w.d1,
		practice.RolePractitioner: w.r, practice.RolePatient: w.u}[role]
}

// params names the record of op in the relation to the role's user.
func (w worldIDs) params(op operation, role practice.Role, rel relation) map[string]string {
	id := func(n int64) map[string]string { return map[string]string{"id": strconv.FormatInt(n, 10)} }
	patient := func(n int64) map[string]string { return map[string]string{"patient_id": strconv.FormatInt(n, 10)} }
	pick := func(own, others, shared, unrelated int64) int64 {
		return map[relation]int64{relOwn: own, relOthers: others, relShared: shared, relUnrelated: unrelated}[rel]
	}
	var n int64
	switch {
	case strings.HasPrefix(op.Path, "/users/{id}"):
		unrelated := w.r2
		if op.ID == "deleteUser" {
			unrelated = w.v
		}
		n = pick(w.selfID(role), w.d2, 0, unrelated)
	case strings.HasPrefix(op.Path, "/patients/{id}"):
		own := w.p1
		if op.ID == "archivePatient" && role == practice.RoleDietician {
			own = w.p1b
		}
		n = pick(own, w.p2, w.p1, w.p2)
	case strings.HasPrefix(op.Path, "/patients/{patient_id}"):
		if n = pick(w.p1, w.p2, w.p1, w.p2); n != 0 {
			return patient(n)
		}
		return nil
	case strings.HasPrefix(op.Path, "/documents/{id}"):
		own := w.x
		switch op.ID {
		case "updateDocument":
			own = w.z
		case "deleteDocument":
			own = w.z2
		}
		n = pick(own, w.w, w.x, w.y)
	case strings.HasPrefix(op.Path, "/shares/{id}"):
		n = pick(w.s1b, w.s2, w.s1, w.s2)
	case strings.HasPrefix(op.Path, "/notifications/{id}"):
		n = pick(w.notes[w.selfID(role)], w.notes[w.d2], 0, 0)
	case strings.HasPrefix(op.Path, "/inquiries/{id}"):
		unrelated := w.i2
		if role == practice.RoleDietician {
			unrelated = w.i3
		}
		n = pick(w.i1, w.i2, 0, unrelated)
		if n != 0 && op.ID == "getInquiryAttachment" {
			return map[string]string{"id": strconv.FormatInt(n, 10), "attachment_id": strconv.FormatInt(w.att[n], 10)}
		}
	case strings.HasPrefix(op.Path, "/logs/{id}"):
		n = pick(w.log1, w.log2, 0, w.log2)
	case strings.HasPrefix(op.Path, "/syncs/{run}"):
		if run := map[relation]string{relOwn: w.run1, relOthers: w.run2, relUnrelated: w.run2}[rel]; run != "" {
			return map[string]string{"run": run}
		}
		return nil
	default:
		return map[string]string{} // no record in the path
	}
	if n == 0 {
		return nil
	}
	return id(n)
}

// rows reads the role rows from a table: each line is an operation and
// its cells, "role/relation=status", where role is a(dmin), d(ietician),
// r (practitioner) or p(atient), and relation o(wn), x (another
// dietician's), s(hared with me) or u(nrelated).
func rows(table string) []matrixRow {
	roles := map[string]practice.Role{"a": practice.RoleAdmin, "d": practice.RoleDietician,
		"r": practice.RolePractitioner, "p": practice.RolePatient}
	rels := map[string]relation{"o": relOwn, "x": relOthers, "s": relShared, "u": relUnrelated}
	var out []matrixRow
	for line := range strings.Lines(table) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		for _, cell := range fields[1:] {
			var role, rel string
			var want int
			who, status, ok := strings.Cut(cell, "=")
			if ok {
				role, rel, ok = strings.Cut(who, "/")
			}
			if _, err := fmt.Sscan(status, &want); err != nil || !ok || roles[role] == "" || rels[rel] == "" {
				panic("matrix: bad cell " + cell + " of " + fields[0])
			}
			out = append(out, matrixRow{op: fields[0], role: roles[role], rel: rels[rel], want: want})
		}
	}
	return out
}
