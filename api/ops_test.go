package api_test

import (
	"bytes"
	"mime/multipart"
	"net/textproto"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"
)

// specFile is the contract, read from the repository as a client would.
const specFile = "../openapi/api.yaml"

// loadSpecFile loads and validates openapi/api.yaml.
func loadSpecFile(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(specFile)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(t.Context()))
	return doc
}

// operation is one operation of the spec.
type operation struct {
	Method, Path, ID string
	// Anonymous: the operation needs no token (security: []).
	Anonymous bool
}

// operations lists every operation of openapi/api.yaml, by path and
// method.
func operations(t *testing.T) []operation {
	t.Helper()
	doc := loadSpecFile(t)
	var ops []operation
	for _, path := range doc.Paths.InMatchingOrder() {
		for method, op := range doc.Paths.Value(path).Operations() {
			require.NotEmpty(t, op.OperationID, "%s %s has no operationId", method, path)
			ops = append(ops, operation{
				Method:    method,
				Path:      path,
				ID:        op.OperationID,
				Anonymous: op.Security != nil && len(*op.Security) == 0,
			})
		}
	}
	slices.SortFunc(ops, func(a, b operation) int { return strings.Compare(a.ID, b.ID) })
	return ops
}

// sample is a request to an operation that keeps the contract.
type sample struct {
	// Params fill the path's parameters; those left out are id=1,
	// patient_id=1 and a run id.
	Params map[string]string
	Query  string
	// Body is JSON (or, with ContentType, as it is).
	Body        any
	ContentType string
	Header      map[string]string
}

// sampleRun is a well-formed run id.
const sampleRun = "0b6c9a52-5d1e-4c3a-9f1e-2a3b4c5d6e7f"

// samples holds a request of every operation that keeps the contract.
var samples = map[string]sample{
	"createToken":               {Body: map[string]any{"email": "nobody@example.com", "password": "not the password"}},
	"refreshToken":              {Body: map[string]any{"refresh_token": "not-a-refresh-token"}},
	"logout":                    {},
	"listUsers":                 {Query: "role=dietician&q=ann&limit=10"},
	"createUser":                {Body: map[string]any{"email": "new@example.com", "name": "New User", "role": "practitioner", "password": "a long enough password"}},
	"getMe":                     {},
	"getUser":                   {},
	"updateUser":                {Body: map[string]any{"name": "Renamed"}},
	"deleteUser":                {},
	"listPatients":              {Query: "q=ann&sort=name&order=asc&include_archived=true&limit=10"},
	"createPatient":             {Body: map[string]any{"name": "Ann Example", "email": "ann@example.com", "identifiers": []any{map[string]any{"system": "urn:mrn", "value": "1"}}}},
	"getPatient":                {},
	"updatePatient":             {Body: map[string]any{"dietary_preferences": "no nuts"}},
	"archivePatient":            {},
	"linkPatient":               {Body: map[string]any{"identifier": map[string]any{"system": "urn:mrn", "value": "1"}}},
	"retryWriteBack":            {},
	"listDocuments":             {Query: "type=lab_result&from=2024-01-01T00:00:00Z&sort=date&order=desc&limit=10"},
	"searchDocuments":           {Query: "q=note&type=progress_note&sort=title&order=asc&limit=10"},
	"uploadDocument":            uploadSample("note.txt", []byte("a note"), map[string]string{"type": "progress_note", "title": "A note"}),
	"getDocument":               {},
	"getDocumentContent":        {Header: map[string]string{"Range": "bytes=0-1"}},
	"getDocumentView":           {},
	"listDocumentVersions":      {},
	"getDocumentVersion":        {},
	"getDocumentVersionContent": {Header: map[string]string{"Range": "bytes=0-1"}},
	"diffDocumentVersions":      {Query: "from=1&to=1"},
	"updateDocument":            {Body: map[string]any{"title": "Retitled"}},
	"deleteDocument":            {},
	"shareDocument":             {Body: map[string]any{"practitioner_email": "gp@example.com", "note": "for the review"}},
	"listObservations":          {Query: "analyte=glucose&from=2020-01-01T00:00:00Z&to=2030-01-01T00:00:00Z&limit=10"},
	"getLabSummary":             {},
	"listSharedDocuments":       {},
	"listShares":                {Query: "direction=given"},
	"revokeShare":               {},
	"listPatientLogs":           {Query: "action=manual_sync&status=error"},
	"listLogs":                  {Query: "patient_id=1&limit=10"},
	"getLog":                    {},
	"startSync":                 {},
	"getSync":                   {},
	"syncEvents":                {},
	"requestDocuments":          {Body: map[string]any{"what": "the latest lab results", "types": []any{"lab_result"}}, Header: map[string]string{"Idempotency-Key": "req-1"}},
	"listDocumentRequests":      {},
	"listAudit":                 {Query: "outcome=denied&action=document.read&limit=10"},
	"getOpenAPI":                {},

	// Notifications.
	"listNotifications":          {Query: "unread=true&limit=10"},
	"markNotificationRead":       {},
	"markAllNotificationsRead":   {},
	"notificationEvents":         {Query: "wait=1"},
	"getNotificationPreferences": {},
	"setNotificationPreferences": {Body: map[string]any{"items": []any{map[string]any{"kind": "sync_finished", "delivery": "digest_daily"}}}},

	// Inquiries.
	"createInquiry":        {Body: map[string]any{"name": "Ann Prospect", "email": "prospect@example.org", "message": "I would like an appointment."}},
	"listInquiries":        {Query: "status=new&limit=10"},
	"getInquiry":           {},
	"dismissInquiry":       {},
	"getInquiryAttachment": {},
}

// path fills op's path with the sample's parameters and query.
func (s sample) path(op operation) string {
	p := op.Path
	for name, def := range map[string]string{"id": "1", "patient_id": "1", "run": sampleRun, "version": "1", "attachment_id": "1"} {
		v, ok := s.Params[name]
		if !ok {
			v = def
		}
		p = strings.ReplaceAll(p, "{"+name+"}", v)
	}
	if s.Query != "" {
		p += "?" + s.Query
	}
	return p
}

// request is the sample as a request of op, with token.
func (s sample) request(op operation, token string) request {
	return request{Method: op.Method, Path: s.path(op), Body: s.Body, ContentType: s.ContentType, Token: token, Header: s.Header}
}

// uploadSample is an upload of a file with the form's other fields.
func uploadSample(name string, data []byte, fields map[string]string) sample {
	body, ct := multipartBody(name, data, fields)
	return sample{Body: body, ContentType: ct}
}

// multipartBody is a multipart/form-data body holding a file part and
// fields, and its Content-Type.
func multipartBody(name string, data []byte, fields map[string]string) ([]byte, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range fields {
			if !yield(k) {
				return
			}
		}
	}) {
		_ = mw.WriteField(k, fields[k])
	}
	if name != "" {
		h := make(textproto.MIMEHeader)
		h.Set("Content-Disposition", `form-data; name="file"; filename="`+name+`"`)
		h.Set("Content-Type", "application/octet-stream")
		w, _ := mw.CreatePart(h)
		_, _ = w.Write(data)
	}
	_ = mw.Close()
	return b.Bytes(), mw.FormDataContentType()
}
