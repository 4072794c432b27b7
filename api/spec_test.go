package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/api"
	"github.com/healthcare-records/healthcare-records/practice"
)

// The operations the spec must have, by the names clients and tests use.
var wantOperations = []string{
	"createToken", "refreshToken", "logout",
	"listUsers", "createUser", "getMe", "getUser", "updateUser", "deleteUser",
	"listPatients", "createPatient", "getPatient", "updatePatient", "archivePatient", "linkPatient", "retryWriteBack",
	"listDocuments", "searchDocuments", "uploadDocument", "getDocument", "getDocumentContent", "getDocumentView",
	"listDocumentVersions", "getDocumentVersion", "getDocumentVersionContent", "diffDocumentVersions", "updateDocument", "deleteDocument", "shareDocument",
	"listObservations", "getLabSummary",
	"listSharedDocuments", "listShares", "revokeShare",
	"listPatientLogs", "listLogs", "getLog",
	"startSync", "getSync", "syncEvents",
	"requestDocuments", "listDocumentRequests",
	"listAudit",
	"listNotifications", "markNotificationRead", "markAllNotificationsRead", "notificationEvents",
	"getNotificationPreferences", "setNotificationPreferences",
	"createInquiry", "listInquiries", "getInquiry", "getInquiryAttachment", "dismissInquiry",
	"getOpenAPI",
}

func TestSpecLoadsAndValidates(t *testing.T) {
	t.Parallel()
	doc := loadSpecFile(t)
	assert.Equal(t, "/api/v1", doc.Servers[0].URL)
	assert.True(t, strings.HasPrefix(doc.OpenAPI, "3.0."), doc.OpenAPI)

	embedded, err := api.Spec()
	require.NoError(t, err, "the embedded spec: run go generate ./api/")
	assert.Equal(t, len(doc.Paths.Map()), len(embedded.Paths.Map()), "the embedded spec is stale: run go generate ./api/")

	var ids []string
	for _, op := range operations(t) {
		ids = append(ids, op.ID)
	}
	assert.ElementsMatch(t, wantOperations, ids)
}

func TestSpecSecurity(t *testing.T) {
	t.Parallel()
	doc := loadSpecFile(t)
	require.Len(t, doc.Security, 1)
	assert.Contains(t, doc.Security[0], "bearerAuth")
	scheme := doc.Components.SecuritySchemes["bearerAuth"].Value
	assert.Equal(t, "http", scheme.Type)
	assert.Equal(t, "bearer", scheme.Scheme)
	assert.Equal(t, "JWT", scheme.BearerFormat)

	var anonymous []string
	for _, op := range operations(t) {
		if op.Anonymous {
			anonymous = append(anonymous, op.Method+" "+op.Path)
		}
	}
	assert.ElementsMatch(t, []string{"POST /auth/token", "POST /auth/refresh", "GET /openapi.yaml", "POST /inquiries"}, anonymous)
}

// TestSpecBounds checks the rules every request schema keeps: each object
// refuses unknown members, each string is bounded, and each error answer
// is a Problem.
func TestSpecBounds(t *testing.T) {
	t.Parallel()
	doc := loadSpecFile(t)
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		for method, op := range item.Operations() {
			where := method + " " + path
			for _, p := range append(slices.Clone(item.Parameters), op.Parameters...) {
				checkRequestSchema(t, where+" parameter "+p.Value.Name, p.Value.Schema, false)
			}
			if op.RequestBody != nil {
				for mt, c := range op.RequestBody.Value.Content {
					checkRequestSchema(t, where+" body "+mt, c.Schema, true)
				}
			}
			for code, res := range op.Responses.Map() {
				if code != "default" && code[0] != '4' && code[0] != '5' {
					continue
				}
				if res.Value.Content == nil && code == "416" {
					continue // written by http.ServeContent, turned into a problem
				}
				c := res.Value.Content.Get("application/problem+json")
				if assert.NotNil(t, c, "%s %s is not a problem", where, code) {
					assert.Equal(t, "#/components/schemas/Problem", c.Schema.Ref, "%s %s", where, code)
				}
				assert.Len(t, res.Value.Content, 1, "%s %s", where, code)
			}
		}
	}
}

// checkRequestSchema walks a schema of a request: each string must have a
// maxLength (a file excepted) and, in a body, each object must refuse
// unknown members.
func checkRequestSchema(t *testing.T, where string, ref *openapi3.SchemaRef, body bool) {
	t.Helper()
	seen := map[*openapi3.Schema]bool{}
	var walk func(where string, ref *openapi3.SchemaRef)
	walk = func(where string, ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		for _, sub := range s.AllOf {
			walk(where, sub)
		}
		switch {
		case s.Type.Is("string") && s.Format != "binary" && s.Format != "date-time" && len(s.Enum) == 0:
			inherited := false
			for _, sub := range s.AllOf {
				inherited = inherited || sub.Value.MaxLength != nil
			}
			assert.True(t, s.MaxLength != nil || inherited, "%s: a string without maxLength", where)
		case s.Type.Is("object"):
			if body {
				assert.True(t, s.AdditionalProperties.Has != nil && !*s.AdditionalProperties.Has,
					"%s: an object without additionalProperties: false", where)
			}
			for name, p := range s.Properties {
				walk(where+"."+name, p)
			}
		case s.Type.Is("array"):
			walk(where+"[]", s.Items)
		}
	}
	walk(where, ref)
}

func TestSpecEnums(t *testing.T) {
	t.Parallel()
	doc := loadSpecFile(t)
	actions := make([]any, len(practice.Actions))
	for i, a := range practice.Actions {
		actions[i] = string(a)
	}
	for name, want := range map[string][]any{
		"AuditAction":   actions,
		"Role":          {"admin", "dietician", "practitioner", "patient"},
		"DocumentType":  {"lab_result", "progress_note", "physical_assessment", "other"},
		"PatientSort":   {"name", "created", "updated"},
		"DocumentSort":  {"date", "title", "type"},
		"Order":         {"asc", "desc"},
		"LogStatus":     {"success", "error", "skipped", "ignored"},
		"RequestStatus": {"pending", "requested", "in_progress", "completed", "rejected", "cancelled", "failed"},
		"AuditOutcome":  {"success", "denied", "failure"},
	} {
		s := doc.Components.Schemas[name]
		if assert.NotNil(t, s, name) {
			assert.ElementsMatch(t, want, s.Value.Enum, name)
		}
	}
}

// TestEveryOperationHasAHandler checks the generated server has a method
// for each operation and routes each to it: a valid request with a token
// reaches a handler (whatever the service then answers), not the
// validator's 404 or 405.
func TestEveryOperationHasAHandler(t *testing.T) {
	t.Parallel()
	iface := reflect.TypeFor[api.StrictServerInterface]()
	var methods []string
	for i := range iface.NumMethod() {
		methods = append(methods, iface.Method(i).Name)
	}
	ops := operations(t)
	var want []string
	for _, op := range ops {
		want = append(want, string(unicode.ToUpper(rune(op.ID[0])))+op.ID[1:])
	}
	assert.ElementsMatch(t, want, methods)

	h := newHarness(t, withTokens)
	for _, op := range ops {
		t.Run(op.ID, func(t *testing.T) {
			s, ok := samples[op.ID]
			require.True(t, ok, "no sample request of %s in samples", op.ID)
			res := h.do(t, s.request(op, "admin-token"))
			assert.NotEqual(t, http.StatusMethodNotAllowed, res.Status, "%s", res.Body)
			if !op.Anonymous {
				// Signing in with the sample's wrong credentials is the
				// service's 401; any other operation has a valid token.
				assert.NotEqual(t, http.StatusUnauthorized, res.Status, "%s", res.Body)
			}
			if res.Status == http.StatusNotFound {
				assert.NotEqual(t, "nothing is served at this path", res.problem(t).Detail)
			}
		})
	}
}

// TestSamplesKeepTheSpec checks the sample requests against the spec
// itself, so that a test sending one knows the validator lets it through.
func TestSamplesKeepTheSpec(t *testing.T) {
	t.Parallel()
	doc := loadSpecFile(t)
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	require.NoError(t, err)
	for _, op := range operations(t) {
		s := samples[op.ID]
		r := s.request(op, "")
		var body io.Reader
		switch b := r.Body.(type) {
		case nil:
		case []byte:
			body = bytes.NewReader(b)
		default:
			j, err := json.Marshal(b)
			require.NoError(t, err)
			body = bytes.NewReader(j)
			r.ContentType = "application/json"
		}
		req := httptest.NewRequest(r.Method, r.Path, body)
		if r.ContentType != "" {
			req.Header.Set("Content-Type", r.ContentType)
		}
		for k, v := range r.Header {
			req.Header.Set(k, v)
		}
		route, params, err := router.FindRoute(req)
		require.NoError(t, err, op.ID)
		assert.Equal(t, op.ID, route.Operation.OperationID)
		err = openapi3filter.ValidateRequest(t.Context(), &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
		})
		assert.NoError(t, err, "the sample of %s breaks the spec", op.ID)
	}
}

// TestServedSpec checks GET /openapi.yaml serves the contract, anonymous.
func TestServedSpec(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	res := h.do(t, request{Method: http.MethodGet, Path: "/openapi.yaml"})
	require.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, "application/yaml", res.Header.Get("Content-Type"))
	served, err := openapi3.NewLoader().LoadFromData(res.Body)
	require.NoError(t, err)
	require.NoError(t, served.Validate(t.Context()))
	assert.Equal(t, "/api/v1", served.Servers[0].URL)
	file := loadSpecFile(t)
	for _, path := range file.Paths.InMatchingOrder() {
		for method, op := range file.Paths.Value(path).Operations() {
			got := served.Paths.Find(path)
			if assert.NotNil(t, got, path) {
				assert.Equal(t, op.OperationID, got.GetOperation(method).OperationID)
			}
		}
	}
}
