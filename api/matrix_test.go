package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/practice"
)

// The authorization matrix: who may call each operation on which record,
// through the API, against the real service. It is the API's side of the
// practice's policy table: the policy test proves Can decides right, this
// one that every operation asks it and answers its decision with the right
// status.

// relation is how the record an operation acts on stands to the caller.
type relation string

// The relations.
const (
	// relOwn: the caller's own record: a dietician's patient (and its
	// documents, logs, runs, requests), a patient's own record, a user's
	// own account, a share the caller gave, a document they uploaded.
	relOwn relation = "own"
	// relOthers: a record of another dietician's patient.
	relOthers relation = "another dietician's"
	// relShared: a document shared with the caller (a practitioner), its
	// patient, or a share the caller received.
	relShared relation = "shared with me"
	// relUnrelated: a record the caller has no tie to.
	relUnrelated relation = "unrelated"
	// relAnonymous: no token at all; the row's role is "".
	relAnonymous relation = "anonymous"
)

// relations lists every relation, for checking the rows.
var relations = []relation{relOwn, relOthers, relShared, relUnrelated, relAnonymous}

// matrixRow says what status an operation answers a role for a record in
// a relation to the caller.
type matrixRow struct {
	op   string
	role practice.Role
	rel  relation
	want int
}

func (r matrixRow) String() string {
	role := string(r.role)
	if role == "" {
		role = "nobody"
	}
	return fmt.Sprintf("%s/%s/%s", r.op, role, r.rel)
}

// matrix is the table. Every operation of the spec has at least one row
// (TestMatrixCoversEveryOperation). The anonymous rows are complete: the
// API decides them alone, from the spec's security, except for signing in
// and refreshing, which the service refuses.
//
// The rows for the roles, against the records of the world, are the
// practice's policy as the API answers it: a hidden record is 404, a
// refusal 403, a success the operation's own status.
var matrix = append(anonymousRows(), roleRows...)

// roleRows are the rows for signed-in callers, of each role and relation,
// run in the world buildWorld makes (see its people and records). A cell
// is role/relation=status: a(dmin), d(ietician), r (practitioner),
// p(atient); o(wn), x (another dietician's), s(hared with me),
// u(nrelated). For an operation on no record (a listing, a creation),
// "own" is the caller's own scope. Cells that change the world come last
// in their line.
var roleRows = rows(`
logout               a/o=204 d/o=204 r/o=204 p/o=204
listUsers            a/o=200 d/o=403 r/o=403 p/o=403
createUser           d/o=403 r/o=403 p/o=403 a/o=201
getMe                a/o=200 d/o=200 r/o=200 p/o=200
getUser              a/o=200 a/x=200 a/u=200 d/o=200 d/x=404 d/u=404 r/o=200 r/x=404 p/o=200 p/x=404
updateUser           a/o=200 a/x=200 d/o=200 d/x=404 r/o=200 r/u=404 p/o=200 p/x=404
deleteUser           a/o=403 a/x=409 d/o=403 d/x=404 r/o=403 p/o=403 a/u=204
listPatients         a/o=200 d/o=200 r/o=200 p/o=200
createPatient        a/o=403 r/o=403 p/o=403 d/o=201
getPatient           a/o=200 a/x=200 d/o=200 d/x=404 r/s=404 r/u=404 p/o=200 p/x=404
updatePatient        a/o=403 d/x=404 r/s=404 p/o=403 p/x=404 d/o=200
archivePatient       a/x=403 d/x=404 r/s=404 p/o=403 d/o=204
linkPatient          a/x=403 d/x=404 r/s=404 p/o=403 d/o=409
retryWriteBack       a/x=403 d/x=404 r/s=404 p/o=403 d/o=409
listDocuments        a/o=200 a/x=200 d/o=200 d/x=404 r/s=404 p/o=200 p/x=404
searchDocuments      a/o=200 d/o=200 r/o=200 p/o=200
uploadDocument       a/x=403 d/x=404 r/s=404 p/o=403 d/o=201
getDocument          a/x=200 d/o=200 d/x=404 r/s=200 r/u=404 r/x=404 p/o=200 p/x=404
getDocumentContent   a/x=206 d/o=206 d/x=404 r/s=206 r/u=404 r/x=404 p/o=206 p/x=404
getDocumentView      a/x=200 d/o=200 d/x=404 r/s=200 r/u=404 r/x=404 p/o=200 p/x=404
listDocumentVersions a/x=200 d/o=200 d/x=404 r/s=403 r/u=404 r/x=404 p/o=200 p/x=404
getDocumentVersion   a/x=200 d/o=200 d/x=404 r/s=403 r/u=404 r/x=404 p/o=200 p/x=404
getDocumentVersionContent a/x=206 d/o=206 d/x=404 r/s=403 r/u=404 r/x=404 p/o=206 p/x=404
diffDocumentVersions a/x=200 d/o=200 d/x=404 r/s=403 r/u=404 r/x=404 p/o=200 p/x=404
updateDocument       a/x=403 d/x=404 r/s=403 p/o=403 d/o=200
deleteDocument       a/x=403 d/x=404 r/s=403 p/o=403 d/o=204
shareDocument        a/x=403 d/x=404 r/s=403 p/o=403 d/o=201
listObservations     a/o=200 a/x=200 d/o=200 d/x=404 r/s=404 r/u=404 p/o=200 p/x=404
getLabSummary        a/o=200 a/x=200 d/o=200 d/x=404 r/s=404 r/u=404 p/o=200 p/x=404
listSharedDocuments  a/x=200 d/o=200 d/x=404 r/s=200 r/u=404 p/o=403
listShares           a/o=200 d/o=200 r/o=200 p/o=200
revokeShare          r/s=403 r/u=404 d/x=404 p/x=404 d/o=204 a/x=204
listPatientLogs      a/x=200 d/o=200 d/x=404 r/s=404 p/o=403
listLogs             a/o=200 d/o=200 r/o=404 p/o=403
getLog               a/x=200 d/o=200 d/x=404 r/u=404 p/o=403
startSync            a/x=403 d/x=404 r/s=404 p/o=403 d/o=202
getSync              a/x=200 d/o=200 d/x=404 r/u=404 p/o=403
syncEvents           a/x=200 d/o=200 d/x=404 p/o=403
requestDocuments     a/x=403 d/x=404 r/s=404 p/o=403 d/o=202
listDocumentRequests a/x=200 d/o=200 d/x=404 r/s=404 p/o=403
listAudit            d/o=403 r/o=403 p/o=403 a/o=200
createInquiry        a/o=202
listInquiries        a/o=200 d/o=200 r/o=403 p/o=403
getInquiry           a/x=200 d/o=200 d/x=404 d/u=200 r/u=404 p/u=404
getInquiryAttachment a/x=200 d/o=200 d/x=404 d/u=200 r/u=404 p/u=404
dismissInquiry       d/x=404 r/u=404 p/u=404 a/x=200 d/o=200
getOpenAPI           a/o=200
listNotifications          a/o=200 d/o=200 r/o=200 p/o=200
markNotificationRead       a/x=404 d/x=404 r/x=404 p/x=404 a/o=204 d/o=204 r/o=204 p/o=204
markAllNotificationsRead   a/o=200 d/o=200 r/o=200 p/o=200
notificationEvents         a/o=200 d/o=200 r/o=200 p/o=200
getNotificationPreferences a/o=200 d/o=200 r/o=200 p/o=200
setNotificationPreferences a/o=200 d/o=200 r/o=200 p/o=200
`)

// anonymousRows: every operation that needs a token answers 401 without
// one; getOpenAPI and createInquiry (a contact form's) answer anyone;
// signing in and refreshing with bad credentials answer 401 too, from
// the service.
func anonymousRows() []matrixRow {
	var rows []matrixRow
	for _, id := range wantOperations {
		want := http.StatusUnauthorized
		switch id {
		case "getOpenAPI":
			want = http.StatusOK
		case "createInquiry":
			want = http.StatusAccepted
		}
		rows = append(rows, matrixRow{op: id, rel: relAnonymous, want: want})
	}
	return rows
}

// world is the fixture the role rows run in: a user of each role, signed
// in, and records in each relation to each of them.
type world struct {
	// token returns the access token a row of op signs in with.
	token func(op string, role practice.Role) string
	// params returns the path parameters (id, patient_id, run) that name
	// a record of op in the relation to the role's user; nil if the
	// world has none, which skips the row.
	params func(op operation, role practice.Role, rel relation) map[string]string
	// ids are the world's people and records.
	ids worldIDs
}

// newWorld builds the world over h's service: see buildWorld.
func newWorld(t *testing.T, h *harness) *world { return buildWorld(t, h) }

func TestMatrixCoversEveryOperation(t *testing.T) {
	t.Parallel()
	ops := map[string]operation{}
	for _, op := range operations(t) {
		ops[op.ID] = op
	}
	covered := map[string]bool{}
	seen := map[string]bool{}
	for _, row := range matrix {
		_, ok := ops[row.op]
		assert.True(t, ok, "row %s: no such operation in the spec", row)
		assert.False(t, seen[row.String()], "row %s: twice", row)
		seen[row.String()] = true
		covered[row.op] = true
		assert.Contains(t, relations, row.rel, "row %s: no such relation", row)
		assert.Equal(t, row.rel == relAnonymous, row.role == "", "row %s: only anonymous rows have no role", row)
		if row.role != "" {
			assert.True(t, row.role.Valid(), "row %s: no such role", row)
		}
		assert.NotZero(t, http.StatusText(row.want), "row %s: no such status", row)
	}
	for id, op := range ops {
		assert.True(t, covered[id], "%s %s (%s) has no row in the authorization matrix", op.Method, op.Path, id)
	}
}

func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ops := map[string]operation{}
	for _, op := range operations(t) {
		ops[op.ID] = op
	}
	w := newWorld(t, h)
	for _, row := range matrix {
		t.Run(row.String(), func(t *testing.T) {
			op, ok := ops[row.op]
			require.True(t, ok)
			s := samples[op.ID]
			token := ""
			if row.rel != relAnonymous {
				token = w.token(row.op, row.role)
				params := w.params(op, row.role, row.rel)
				require.True(t, token != "" && params != nil, "the world has no %s with a record %s", row.role, row.rel)
				s.Params = params
			}
			res := h.do(t, s.request(op, token))
			assert.Equal(t, row.want, res.Status, "%s", res.Body)
			if res.Status >= 400 {
				checkProblem(t, res, row.want)
			}
			if res.Status == http.StatusUnauthorized {
				assert.NotEmpty(t, res.Header.Get("WWW-Authenticate"))
			}
		})
	}
}
